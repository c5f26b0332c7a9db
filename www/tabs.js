// One writer per saved sweep. Tabs of the page coordinate through Web Locks and a
// BroadcastChannel: the tab that shows a saved sweep holds that sweep's lock (named after its
// id) for as long as it shows it, and only the holder saves it. Another tab that opens the same
// sweep follows it: it is told of every save (and shows it again, live, read-only) and waits
// for the lock, which the browser hands over when the holder shows another sweep, reloads, is
// closed or crashes. A new sweep has a new id, so any tab may start one.
// Where a browser has no Web Locks, every tab writes (as before tabs coordinated).
// Must NOT: read or write storage, touch the DOM, or change the page's state other than through
// the callbacks it is given.

const lockName = (id) => `batchlab-sweep:${id}`;

/**
 * The tabs' coordination: `onSaved(id)` when another tab saved the sweep this tab follows;
 * `onTakeOver(id)` when this tab gets the lock of the sweep it follows (the writer is gone);
 * `onDeleted(id)` when the tab that writes it deleted the sweep this tab follows;
 * `onListChanged()` when another tab saved or deleted any sweep (the saved history changed).
 */
export function createTabs({ onSaved, onTakeOver, onDeleted, onListChanged }) {
  const locks = globalThis.navigator?.locks ?? null;
  const channel = typeof BroadcastChannel === 'function' ? new BroadcastChannel('batchlab-sweeps') : null;
  /** The sweep this tab writes: `{ id, release }` (`release` ends its lock), or null. */
  let owned = null;
  /** The sweep this tab follows: `{ id, abort }`, or null. */
  let following = null;
  /** Counts calls of `show`: an answer to an earlier call that comes late is not acted on. */
  let generation = 0;

  channel?.addEventListener('message', (e) => {
    const m = e.data ?? {};
    if (m.type === 'saved' && following?.id === m.id) onSaved(m.id);
    if (m.type === 'deleted' && following?.id === m.id) onDeleted(m.id);
    if (m.type === 'saved' || m.type === 'deleted') onListChanged();
  });

  /**
   * Asks for sweep `id`'s lock: at once (`wait: false`: resolves to null when another tab holds
   * it) or whenever it is free (`signal` aborts the wait). Resolves to the function that
   * releases it.
   */
  function acquire(id, { wait, signal }) {
    return new Promise((resolve) => {
      let release;
      const held = new Promise((r) => { release = r; });
      locks.request(lockName(id), wait ? { signal } : { ifAvailable: true }, (lock) => {
        if (!lock) {
          resolve(null);
          return undefined;
        }
        resolve(release);
        return held; // held until released
      }).catch(() => resolve(null)); // aborted
    });
  }

  /** Lets go of the sweep this tab wrote or followed. */
  function letGo() {
    owned?.release();
    owned = null;
    following?.abort();
    following = null;
  }

  return {
    /**
     * This tab shows saved sweep `id` (`fresh`: a sweep it has just started, whose id no other
     * tab knows). Resolves to 'writer' when this tab holds its lock, or 'follower' when another
     * tab does (then `onSaved` and, once that tab is gone, `onTakeOver` follow); 'stale' when
     * another sweep was shown before the answer came.
     */
    async show(id, { fresh = false } = {}) {
      letGo();
      const call = ++generation;
      if (!locks) {
        owned = { id, release: () => {} };
        return 'writer';
      }
      if (fresh) {
        // Nobody else can hold a new id's lock: this tab writes at once, and holds it when granted.
        const mine = { id, release: () => {} };
        owned = mine;
        const release = await acquire(id, { wait: false });
        if (owned === mine && release) mine.release = release;
        else release?.();
        return 'writer';
      }
      const release = await acquire(id, { wait: false });
      // Another sweep was shown meanwhile: this answer is stale.
      if (call !== generation) {
        release?.();
        return 'stale';
      }
      if (release) {
        owned = { id, release };
        return 'writer';
      }
      const controller = new AbortController();
      const mine = { id, abort: () => controller.abort() };
      following = mine;
      acquire(id, { wait: true, signal: controller.signal }).then((granted) => {
        if (!granted) return;
        if (following !== mine) {
          granted();
          return;
        }
        following = null;
        owned = { id, release: granted };
        onTakeOver(id);
      });
      return 'follower';
    },
    /** Nothing saved is shown (cleared, or an imported sweep): no lock held or awaited. */
    hide() {
      generation += 1;
      letGo();
    },
    /** Whether this tab may save sweep `id`. */
    writes: (id) => owned?.id === id,
    /** Whether another tab holds sweep `id`'s lock (it shows or trains it). */
    async heldElsewhere(id) {
      if (!locks || owned?.id === id) return false;
      const { held } = await locks.query();
      return held.some((l) => l.name === lockName(id));
    },
    /** Tells the other tabs that sweep `id` under page key `key` was saved (or `deleted`). */
    announce(type, key, id) {
      channel?.postMessage({ type, key, id });
    },
  };
}
