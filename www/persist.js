// Keeping the page's sweep in this browser: saves it (through store.js, IndexedDB) whenever the
// sweep store says a change should be kept, restores it on load, forgets it on Clear. A storage
// failure becomes a `storage` event (the page says so and goes on); a save that works again
// clears it.
// Must NOT: touch the DOM, post to the worker, or change the page's state other than through
// store events (`restored`, `storage`).
import * as db from './store.js';
import { PAGE_PARAMETERS } from './share.js';
import { isBusy } from './sweep-store.js';

/** Where a page opened with `search` keeps its sweep: the full page has one; each embedded link its own. */
export function saveKeyFor(search) {
  const opened = new URLSearchParams(search);
  if (opened.get('embed') !== '1') return 'page';
  return `embed:${[...opened].filter(([k]) => !PAGE_PARAMETERS.includes(k)).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => `${k}=${v}`).join('&')}`;
}

/** The page's sweep as saved: everything needed to show it again and to resume it. */
function snapshot(state) {
  return {
    params: state.sweep.params,
    settings: state.sweep.settings,
    finished: [...state.sweep.finished],
    status: state.status,
    results: state.results,
    runs: state.runs,
    findings: state.findings,
    arms: state.arms,
    memory: state.memory,
    reruns: [...state.reruns],
    restarts: [...state.restarts],
    backend: state.backend,
    adapter: state.adapter,
    backendReason: state.backendReason,
  };
}

/** Saves `store`'s sweep under `key` as it changes; returns `{ restore(), restored, clear() }`. */
export function createPersistence(store, key) {
  const problem = (e) => store.apply({ type: 'storage', error: db.describeStorageError(e) });
  let restored = Promise.resolve();

  store.subscribe((state, changes) => {
    // An imported sweep is not this browser's to keep: the file keeps it.
    if (!changes.has('save') || !state.sweep || state.sweep.imported) return;
    db.save(key, snapshot(state)).then(() => {
      if (store.state.storageError) store.apply({ type: 'storage', error: null });
    }, problem);
  });

  async function restore() {
    let saved;
    try {
      saved = await db.load(key);
    } catch (e) {
      problem(e);
      return;
    }
    const { state } = store;
    // Nothing saved, or a sweep started meanwhile.
    if (!saved || !(saved.results?.length || saved.runs?.length) || state.sweep || isBusy(state.status)) return;
    store.apply({ type: 'restored', saved });
  }

  return {
    /** Shows the sweep saved in this browser, if any (a `restored` event). */
    restore() {
      restored = restore();
      return restored;
    },
    /** Resolves once the saved sweep (if any) is on the page. */
    get restored() { return restored; },
    /** Forgets the saved sweep; resolves when done (a failure becomes a `storage` event). */
    clear() {
      return db.clear(key).catch(problem);
    },
  };
}
