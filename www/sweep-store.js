// The sweep store: the ONE owner of the page's state. Events — the worker's messages (see the
// header of worker.js) and the page's own (below) — go in through `apply(event)`; subscribers
// are then told what changed, as a Map of aspects:
//   status (status line, buttons), progress (the bar), notice (notice, recover buttons),
//   banner (backend banner, adapter), saved, storage, estimate (its text), keep (keep line),
//   sweep (the page's sweep replaced: records, runs, findings), comparison (the imported sweep),
//   record → the record appended, divergence → { batchSize, epoch, series }, runs, findings,
//   save (the sweep should be saved), findingsWanted (ask the trainer for findings), scaling
//   (the critical batch size fit), scalingWanted (ask the trainer for the fit alone), tuning
//   (learning-rate trials of lrpolicy=tuned), check → { batchSize, series, point } (a validation
//   check within an epoch), history (the saved sweeps' list), follower (another tab writes the
//   sweep shown).
// The page's events: startRequested {params, keep, why?, resumable?}, checkpointsDropped {error, id},
// stopRequested, startQueued {params},
// startDequeued, estimateRequested, stopped (also the
// worker's), workerFailed {message}, restored {saved}, imported {sweep, params, about},
// compared {name, sweep, about}, comparisonRemoved, cleared, storage {error}, said {text},
// held {settings} (autorun met a saved sweep), followed {saved} (the tab that writes the sweep
// shown saved it), history {list}.
// Must NOT: touch the DOM, post to the worker, read the controls or storage, or import a view.
import { HANDLERS } from './sweep-events.js';

export { isBusy, unfinished, resumable } from './sweep-state.js';

function initialState(backendBanner) {
  return {
    status: 'idle', statusText: 'Idle.', progress: 0, error: null,
    /** The notice above the controls (errors, divergences), and whether to offer to continue. */
    notice: null, recover: false,
    adapter: null, backend: null, backendReason: null,
    /** The backend banner's sentence (null: hidden) and the adapter line. */
    backendBanner, adapterText: 'GPU adapter: not started yet.',
    results: [], memory: [], runs: [], findings: [], findingsPending: false, arms: [], seedSummaries: [], scaling: null, estimate: null,
    /** batch size → its learning-rate tuning (lrpolicy=tuned): trials so far and the rate chosen. */
    tuning: new Map(), estimateText: null,
    /** While an estimate is measured: the status line to go back to, `{ status, text }`. */
    estimating: false,
    /** Whether the trainer has answered once (autorun=1 is honoured only for that answer). */
    autoran: false,
    /**
     * The sweep under way or last run: `{ id, params, settings, finished: Set, running?,
     * imported?, origin?, fresh? }`; `id`: its saved id (null when imported); `fresh`: started
     * in this tab.
     */
    sweep: null,
    /** A start sent to the worker and not yet accepted: `{ params, keep }`. */
    pending: null,
    /** Another tab writes the sweep shown (tabs.js): it is shown live and read-only here. */
    follower: false,
    /** The sweeps saved in this browser, newest first (store.js `list`). */
    history: [],
    /** Stop was pressed and the worker has not stopped yet. */
    stopping: false,
    /** Start pressed while stopping: the controls' URL parameters, started once the stop is done. */
    queuedStart: null,
    /** Batch size → label suffix of its latest restart; and restart counts. */
    reruns: new Map(), restarts: new Map(),
    /**
     * Run key (keyOf) → its checkpoint after its last finished epoch, `{ epoch, bytes }` (a
     * Uint8Array; CPU backend), while the run is under way or cut short; saved with the sweep.
     */
    checkpoints: new Map(),
    /** The storage is full: checkpoints are no longer kept (the results still are). */
    checkpointsOff: false,
    /**
     * Run key → its line label (undefined: its batch size) for the runs of a continuation that
     * go on from their checkpoints: their records keep the label their first epochs have.
     */
    resumeLabels: new Map(),
    /** The restart label's reason of the continuation under way (`why`), or null. */
    continuing: null,
    lostDevice: false, ready: false, version: null,
    /** The saved sweep the page was restored from, `{ savedAt, epochs, left }`, and the banner's text. */
    saved: null, savedText: null,
    storageError: null,
    /** An imported sweep drawn for comparison. */
    comparison: null,
    /** The keep line's text (null: the page's own). */
    keepText: null,
    /** The status line from before the trainer's download was shown on it, or null. */
    loadingText: null,
    /** Epochs per run of the sweep under way (for the status line). */
    runEpochs: 0,
    timings: { trainerReady: null, firstStep: null },
  };
}


/** The store: `{ state, apply(event), subscribe(fn) }`; `fn(state, changes, event)` runs after each event. */
export function createSweepStore({ backendBanner = null } = {}) {
  const state = initialState(backendBanner);
  const listeners = [];
  const queue = [];
  let applying = false;
  return {
    /** Read it; change it only through `apply`. */
    get state() { return state; },
    apply(event) {
      queue.push(event);
      if (applying) return; // an event applied by a subscriber waits for the current one
      applying = true;
      try {
        while (queue.length) {
          const next = queue.shift();
          const changes = new Map();
          (HANDLERS[next.type] ?? (() => {}))(state, next, changes);
          for (const listener of listeners) listener(state, changes, next);
        }
      } finally {
        applying = false;
      }
    },
    subscribe(listener) {
      listeners.push(listener);
    },
  };
}
