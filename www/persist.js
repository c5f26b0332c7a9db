// Keeping the page's sweeps in this browser: saves the sweep on the page (through store.js,
// IndexedDB) whenever the sweep store says a change should be kept — only in the tab that writes
// it (tabs.js: one writer per saved sweep) — restores the newest on load, lists the saved
// history, opens, compares and deletes saved sweeps, and follows a sweep another tab writes. A
// storage failure becomes a `storage` event (the page says so and goes on); a save that works
// again clears it.
// Must NOT: touch the DOM, post to the worker, or change the page's state other than through
// store events (`restored`, `followed`, `history`, `storage`, `cleared`).
import * as db from './store.js';
import { PAGE_PARAMETERS } from './share.js';
import { isBusy } from './sweep-store.js';
import { createTabs } from './tabs.js';

/** Where a page opened with `search` keeps its sweeps: the full page has one list; each embedded link its own. */
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
    // Each run under way or cut short: its model and optimiser after its last epoch (CPU backend).
    checkpoints: state.checkpointsOff ? [] : [...state.checkpoints],
    backend: state.backend,
    adapter: state.adapter,
    backendReason: state.backendReason,
  };
}

/**
 * Saves `store`'s sweeps under page key `key` as they change; returns `{ restore(), restored,
 * clear(), open(id), compare(id), remove(id), refresh() }`.
 */
export function createPersistence(store, key) {
  const problem = (e) => store.apply({ type: 'storage', error: db.describeStorageError(e) });
  let restored = Promise.resolve();
  /** The id of the saved sweep on the page (whose lock this tab holds or awaits), or null. */
  let shown = null;
  /** A sweep this tab got the lock of while busy (an estimate): taken over once it is not. */
  let pendingTakeOver = null;
  /** This tab's sweep survives its reload: its id is kept per tab (sessionStorage). */
  const remembered = `batchlab-shown:${key}`;
  const remember = (id) => {
    try {
      if (id == null) sessionStorage.removeItem(remembered);
      else sessionStorage.setItem(remembered, id);
    } catch { /* no session storage: the newest sweep is restored */ }
  };
  const recalled = () => {
    try {
      return sessionStorage.getItem(remembered);
    } catch {
      return null;
    }
  };

  /** The sweep shown is gone (deleted in the tab that wrote it): the page is cleared, and says why. */
  function lost() {
    shown = null;
    remember(null);
    tabs.hide();
    store.apply({ type: 'cleared' });
    store.apply({ type: 'said', text: 'The sweep shown was deleted in the tab that wrote it.' });
  }

  async function takeOver(id) {
    const saved = await db.load(key, id).catch(() => null);
    if (shown !== id) return;
    if (!saved) return lost();
    store.apply({ type: 'restored', saved, follower: false, takenOver: true });
  }

  /** Reads the saved history again (a `history` event). */
  async function refresh() {
    try {
      store.apply({ type: 'history', list: await db.list(key) });
    } catch (e) {
      problem(e);
    }
  }

  const tabs = createTabs({
    // The tab that writes the sweep this one follows saved it: shown again, as saved.
    async onSaved(id) {
      const saved = await db.load(key, id).catch(() => null);
      if (saved && shown === id && store.state.sweep?.id === id && !isBusy(store.state.status)) store.apply({ type: 'followed', saved });
    },
    // That tab is gone: this one writes the sweep now (and may resume it) — once it is not busy.
    onTakeOver(id) {
      if (isBusy(store.state.status)) pendingTakeOver = id;
      else takeOver(id);
    },
    onDeleted(id) {
      if (shown === id && !isBusy(store.state.status)) lost();
    },
    onListChanged: refresh,
  });

  store.subscribe((state, changes) => {
    const sweep = state.sweep;
    // A sweep started here: a new id, written by this tab.
    if (changes.has('sweep') && sweep?.fresh && sweep.id !== shown) {
      shown = sweep.id;
      remember(sweep.id);
      pendingTakeOver = null;
      tabs.show(sweep.id, { fresh: true });
    }
    if (pendingTakeOver != null && !isBusy(state.status)) {
      const id = pendingTakeOver;
      pendingTakeOver = null;
      if (id === shown) takeOver(id);
    }
    // An imported sweep is not this browser's to keep: the file keeps it.
    if (!changes.has('save') || !sweep || sweep.imported || !tabs.writes(sweep.id)) return;
    const saving = snapshot(state);
    db.save(key, sweep.id, saving).then((meta) => {
      if (store.state.storageError) store.apply({ type: 'storage', error: null });
      tabs.announce('saved', key, sweep.id);
      // The list, with this sweep's entry replaced (no reading back what was just written).
      const list = [meta, ...store.state.history.filter((h) => h.id !== meta.id)];
      store.apply({ type: 'history', list: list.sort(db.newestFirst) });
    }, (e) => {
      // The storage is full: the results are saved again without the checkpoints (the larger part).
      if (e?.name === 'QuotaExceededError' && saving.checkpoints.length) store.apply({ type: 'checkpointsDropped', error: db.describeStorageError(e), id: sweep.id });
      else problem(e);
    });
  });

  /** Shows saved sweep `saved` on the page: written by this tab, or followed (another tab writes it). */
  async function show(saved) {
    shown = saved.id;
    remember(saved.id);
    const role = await tabs.show(saved.id);
    if (role === 'stale' || shown !== saved.id) return; // another sweep was shown meanwhile
    store.apply({ type: 'restored', saved, follower: role === 'follower' });
  }

  async function restore() {
    let saved;
    try {
      const list = await db.list(key);
      store.apply({ type: 'history', list });
      // This tab's own sweep when it is reloaded (another tab's may be newer), else the newest.
      const mine = recalled();
      const id = list.some((h) => h.id === mine) ? mine : list[0]?.id;
      saved = id == null ? null : await db.load(key, id);
    } catch (e) {
      problem(e);
      return;
    }
    const { state } = store;
    // Nothing saved, or a sweep started meanwhile.
    if (!saved || !(saved.results?.length || saved.runs?.length) || state.sweep || isBusy(state.status)) return;
    await show(saved);
  }

  return {
    /** Shows the newest sweep saved in this browser, if any (a `restored` event). */
    restore() {
      restored = restore();
      return restored;
    },
    /** Resolves once the saved sweep (if any) is on the page. */
    get restored() { return restored; },
    /** Reads the saved history again. */
    refresh,
    /** Shows saved sweep `id` on the page. Rejects when it is not saved (any more). */
    async open(id) {
      const saved = await db.load(key, id);
      if (!saved) throw new Error('that sweep is no longer saved in this browser');
      await show(saved);
    },
    /** Resolves to saved sweep `id` as saved (to draw beside the page's). */
    async compare(id) {
      const saved = await db.load(key, id);
      if (!saved) throw new Error('that sweep is no longer saved in this browser');
      return saved;
    },
    /**
     * Deletes saved sweep `id`; the page is cleared when it showed it. Rejects, deleting
     * nothing, while another tab shows or trains it.
     */
    async remove(id) {
      if (await tabs.heldElsewhere(id)) throw new Error('another tab of this page shows or trains that sweep: close it there first');
      await db.remove(key, id);
      tabs.announce('deleted', key, id);
      if (shown === id) {
        shown = null;
        remember(null);
        tabs.hide();
        store.apply({ type: 'cleared' });
      }
      await refresh();
    },
    /** Forgets the sweep on the page (if this tab writes it) and clears the page; resolves when done. */
    async clear() {
      const id = store.state.sweep?.id;
      const mine = id != null && tabs.writes(id);
      shown = null;
      remember(null);
      // Deleted before the lock is let go: a tab waiting for it must not find it still saved.
      if (mine) {
        try {
          await db.remove(key, id);
          tabs.announce('deleted', key, id);
        } catch (e) {
          problem(e);
        }
      }
      tabs.hide();
      if (mine) await refresh();
    },
    /** The page shows a sweep that is not saved (an imported one): no lock held or awaited. */
    forget() {
      shown = null;
      remember(null);
      tabs.hide();
    },
  };
}
