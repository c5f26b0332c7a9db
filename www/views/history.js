// The saved history: every sweep this page saved in this browser (store.js `list`), newest first,
// with its date, settings, status, epochs and size, and buttons to open it on the page, compare
// it with the sweep shown, or delete it. Renders from the sweep store; its buttons call actions.
// Must NOT: change the store other than through the actions it is given, or read storage.
import { isBusy } from '../sweep-store.js';
import { $, setText, setHidden } from './dom.js';

const STATUS = { done: 'done', stopped: 'stopped', error: 'stopped by an error', training: 'training (or cut short)', loading: 'starting', idle: 'not started' };

/** `bytes` in words: "12 kB", "1.4 MB". */
const size = (bytes) => (bytes < 1e6 ? `${Math.max(1, Math.round(bytes / 1e3))} kB` : `${(bytes / 1e6).toFixed(1)} MB`);

/**
 * Renders `store`'s saved history (`state.history`) into the `#history` section, its buttons
 * calling `actions.openSaved`, `compareSaved` and `deleteSaved`; failures are said on
 * `#history-text`. The section is hidden while nothing is saved.
 */
export function createHistory(store, actions) {
  const section = $('history');
  const body = $('history-table').tBodies[0];
  const text = $('history-text');

  /** Runs `work` (an action's promise) and says its failure on the history's line. */
  const act = (work, done) => work.then((ok) => setText(text, ok === false ? 'Not while a sweep trains on this page.' : done), (e) => setText(text, `Could not do that: ${e.message}`));

  function cell(row, content, className) {
    const td = row.insertCell();
    td.textContent = content;
    if (className) td.className = className;
    return td;
  }
  function button(td, label, title, onClick) {
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'secondary';
    b.textContent = label;
    b.title = title;
    b.addEventListener('click', onClick);
    td.append(b);
    return b;
  }

  function render(state) {
    setHidden(section, state.history.length === 0);
    body.replaceChildren();
    const busy = isBusy(state.status);
    for (const entry of state.history) {
      const row = body.insertRow();
      const shownHere = state.sweep?.id === entry.id;
      row.className = shownHere ? 'shown' : '';
      row.dataset.id = entry.id;
      cell(row, new Date(entry.savedAt).toLocaleString() + (shownHere ? ' (shown)' : ''));
      cell(row, new URLSearchParams(entry.params).toString().replace(/%2C/gi, ','), 'settings');
      cell(row, STATUS[entry.status] ?? String(entry.status));
      cell(row, String(entry.epochs));
      cell(row, size(entry.bytes));
      const td = cell(row, '', 'actions');
      button(td, 'Open', 'Show this sweep on the page', () => act(actions.openSaved(entry.id), 'Opened.')).disabled = busy || shownHere;
      button(td, 'Compare', 'Draw this sweep dashed beside the one shown', () => act(actions.compareSaved(entry.id), 'Drawn dashed beside the sweep shown.')).disabled = shownHere;
      button(td, 'Delete', 'Forget this sweep in this browser', () => act(actions.deleteSaved(entry.id), 'Deleted.')).disabled = busy && shownHere;
    }
  }

  render(store.state);
  let wasBusy = isBusy(store.state.status);
  store.subscribe((state, changes) => {
    // The buttons follow whether a sweep runs, not every progress of it.
    const busy = isBusy(state.status);
    if (changes.has('history') || changes.has('sweep') || busy !== wasBusy) render(state);
    wasBusy = busy;
  });
}
