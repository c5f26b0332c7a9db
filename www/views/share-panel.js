// The "Share, embed, export" panel: the link and embed snippet that follow the controls (and
// the address bar, as the reader edits them; the embed's link back), the copy buttons, the
// downloads (JSON, CSV, each chart's PNG), the import, and the buttons that remove the imported
// sweep and clear the saved one. Its buttons call actions; their state renders from the store.
// Must NOT: change the store other than through the actions it is given, or post to the worker.
import { linkFor, reflect, iframeSnippet, copyText } from '../share.js';
import { addPngButtons, download, fileName, chosenText } from '../files.js';
import { isBusy } from '../sweep-store.js';
import { $ } from './dom.js';

export function createSharePanel(store, actions, controls) {
  const embed = new URLSearchParams(location.search).get('embed') === '1';
  const shareLink = $('share-link');
  const shareAutorun = $('share-autorun');
  const embedSnippet = $('embed-snippet');
  const feedback = $('share-feedback');
  const fullLink = $('full-link');
  const exports = { json: $('export-json'), 'epochs.csv': $('export-epochs'), 'runs.csv': $('export-runs') };
  const importInput = $('import');
  const removeImported = $('remove-imported');
  const clearSaved = $('clear-saved');

  /** The share box, the embed snippet and the embed's link back follow the controls. */
  function update(params) {
    shareLink.value = linkFor(params, { autorun: shareAutorun.checked });
    embedSnippet.value = iframeSnippet(params);
    fullLink.href = linkFor(params);
  }
  const next = $('share-next');
  /** While a sweep trains, the link and the address bar are the running sweep's (not the controls'). */
  const running = () => {
    const { status, estimating, pending, sweep } = store.state;
    // An estimate is not a sweep; a Start not yet accepted is the sweep under way.
    if (!isBusy(status) || estimating) return null;
    return pending?.params ?? (sweep && !sweep.imported ? sweep.params : null);
  };
  controls.onChange((params, { edited }) => {
    // Edits during a sweep describe the next one: the running sweep's link stays (and the page says so).
    if (running()) {
      next.hidden = !edited && next.hidden;
      return;
    }
    // The reader's edits show in the address bar (without a history entry).
    if (edited) reflect(params);
    update(params);
  });
  shareAutorun.addEventListener('change', () => update(running() ?? controls.params()));
  update(controls.params());

  /** Copies `field`'s text, or selects it for the reader to copy where the browser refuses. */
  async function copyFrom(field, what) {
    const copied = await copyText(field.value);
    if (!copied) field.select();
    feedback.textContent = copied ? `${what} copied.` : `The browser did not allow copying: the ${what.toLowerCase()} is selected, press Ctrl+C (⌘C).`;
  }
  $('copy-link').addEventListener('click', () => copyFrom(shareLink, 'Link'));
  $('copy-embed').addEventListener('click', () => copyFrom(embedSnippet, 'Snippet'));

  for (const [format, button] of Object.entries(exports)) {
    button.addEventListener('click', async () => {
      try {
        const text = await actions.exportSweep(format);
        const type = format === 'json' ? 'application/json' : 'text/csv';
        download(new Blob([text], { type: `${type};charset=utf-8` }), fileName(format === 'json' ? 'sweep.json' : format));
      } catch (e) {
        actions.say(`Could not export: ${e.message}`);
      }
    });
  }
  importInput.addEventListener('change', async () => {
    let name = importInput.files?.[0]?.name ?? 'the file';
    try {
      const file = await chosenText(importInput);
      if (!file) return;
      name = file.name;
      await actions.importSweep(file.text, file.name);
    } catch (e) {
      actions.say(`Could not import ${name}: ${e.message}`);
    }
  });
  removeImported.addEventListener('click', () => actions.removeImported());
  clearSaved.addEventListener('click', () => actions.clearSaved());
  addPngButtons(document);

  let wasBusy = false;
  store.subscribe((state, changes) => {
    const busy = isBusy(state.status) && !state.estimating;
    if (changes.has('status') && busy !== wasBusy) {
      wasBusy = busy;
      if (busy) {
        // A sweep started: its link is the one shown (the address bar got it from `start`).
        if (running()) update(running());
      } else {
        // It ended: the share box follows the controls again (and the address bar, when they
        // were edited meanwhile).
        if (!next.hidden && !embed) reflect(controls.params());
        next.hidden = true;
        update(controls.params());
      }
    } else if (busy && changes.has('sweep') && running()) update(running());
    if (!['status', 'sweep', 'runs', 'record', 'comparison', 'follower'].some((aspect) => changes.has(aspect))) return;
    // Export is possible once a sweep has a run.
    const none = !state.sweep || (state.results.length === 0 && state.runs.length === 0);
    for (const button of Object.values(exports)) button.disabled = none;
    removeImported.hidden = !state.comparison;
    // A sweep another tab writes is not this tab's to clear.
    clearSaved.disabled = isBusy(state.status) || state.follower;
  });
}
