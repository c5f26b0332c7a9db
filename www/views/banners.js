// The page's banners and one-line notices: the notice (errors, diverged runs) with the buttons
// to continue after a lost GPU device, the saved-sweep banner (Resume, Clear), the storage
// notice, the backend banner and adapter line, the estimate's line and the keep line. Renders
// from the sweep store; its buttons call actions.
// Must NOT: change the store other than through the actions it is given, or post to the worker.
import { isBusy } from '../sweep-store.js';
import { storageText } from '../wording.js';
import { $, setText, setHidden } from './dom.js';

export function createBanners(store, actions) {
  const notice = $('notice');
  const recover = $('recover');
  const saved = $('saved');
  const savedText = $('saved-text');
  const resume = $('resume');
  const clearSaved = $('clear-saved-banner');
  const storage = $('storage');
  const backend = $('backend');
  const adapter = $('adapter');
  const estimate = $('estimate-text');
  const keep = $('keep-text');
  /** What the keep line says while nothing special happened. */
  const keepDefault = keep.textContent;

  resume.addEventListener('click', () => actions.resume());
  clearSaved.addEventListener('click', () => actions.clearSaved());
  $('continue-cpu').addEventListener('click', () => actions.continueSweep('cpu'));
  $('continue-gpu').addEventListener('click', () => actions.continueSweep('webgpu'));

  /** The aspects of the store (see sweep-store.js) these banners show. */
  const SHOWN = ['notice', 'saved', 'status', 'storage', 'banner', 'estimate', 'keep', 'follower'];

  function render(state) {
    // Text only: nothing from the URL is ever parsed as HTML.
    setText(notice, state.notice ?? '');
    setHidden(notice, !state.notice);
    setHidden(recover, !state.recover);
    if (state.saved) {
      setText(savedText, state.savedText ?? '');
      setHidden(resume, state.saved.left.length === 0);
    }
    setHidden(saved, !state.saved);
    const busy = isBusy(state.status);
    resume.disabled = busy || !state.ready;
    clearSaved.disabled = busy;
    // Another tab writes the sweep shown: not this tab's to clear.
    setHidden(clearSaved, state.follower);
    setText(storage, state.storageError ? storageText(state.storageError) : '');
    setHidden(storage, !state.storageError);
    if (state.backendBanner) setText(backend, state.backendBanner);
    setHidden(backend, !state.backendBanner);
    setText(adapter, state.adapterText);
    if (state.estimateText != null) setText(estimate, state.estimateText);
    setHidden(estimate, state.estimateText == null);
    setText(keep, state.keepText ?? keepDefault);
  }

  render(store.state);
  store.subscribe((state, changes) => {
    if (SHOWN.some((aspect) => changes.has(aspect))) render(state);
  });
}
