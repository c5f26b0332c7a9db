// The reader's actions and the worker's answers, turned into store events and worker requests:
// start, stop, resume, continue after a lost device, estimate, export, import, clear. Every
// worker message goes to the store here; what follows from one (a fresh worker after a
// failure, autorun, a preset's estimate, asking for findings) happens here too.
// Must NOT: touch the DOM (the controls aside, through controls.js), or change state other
// than by `store.apply`.
import { isBusy, unfinished, resumable } from './sweep-store.js';
import { linkFor, reflect } from './share.js';
import { aboutImport } from './wording.js';
import { tooLarge } from './files.js';
import { newSweepId } from './store.js';

/** How long Stop waits for the worker to finish its chunk before ending the worker outright. */
const STOP_GRACE_MS = 1000;

/**
 * The page's actions over `store` (sweep-store.js), `client` (worker-client.js), `controls`
 * (controls.js) and `persist` (persist.js); `embed`: the compact page (its address stays as
 * given); `autorun`: the page was opened with `autorun=1`.
 */
export function createActions({ store, client, controls, persist, embed, autorun }) {
  let stopTimer = null;
  const busy = () => isBusy(store.state.status);

  store.subscribe((state, changes) => {
    if (!isBusy(state.status) && stopTimer) {
      clearTimeout(stopTimer);
      stopTimer = null;
    }
    // A Start pressed while the stop completed: the stop is done, the sweep starts now.
    // (On the next task: a failure's handling first replaces the worker.)
    if (changes.has('status') && !isBusy(state.status) && state.queuedStart) {
      const params = state.queuedStart;
      store.apply({ type: 'startDequeued' });
      setTimeout(() => {
        if (!embed) reflect(params);
        run(params, { keep: false });
      }, 0);
    }
    if (changes.has('findingsWanted')) requestFindings(state);
    if (changes.has('scalingWanted') && state.runs.length) client.post({ type: 'scaling', runs: state.runs });
  });

  /** Asks the worker for the six findings of the runs so far (they arrive as a message). */
  function requestFindings(state) {
    const finished = state.runs.filter((r) => r.status !== 'running');
    if (finished.length === 0) return;
    client.post({ type: 'findings', runs: finished, testSize: state.sweep?.settings?.testSize ?? 10_000 });
  }

  /** A message from the current worker. */
  function received(m) {
    const { autoran, estimating } = store.state;
    store.apply(m);
    switch (m.type) {
      case 'settings':
        controls.fill(m.settings);
        // `autorun=1` is honoured once, for the URL's settings (the first answer) — unless a
        // saved sweep is on the page: a reload or a second visit must not replace it unasked.
        if (!autoran && autorun) {
          persist.restored.then(() => (store.state.saved || store.state.follower ? store.apply({ type: 'held', settings: m.settings }) : start()));
        } else if (m.estimate) {
          // A preset was picked: the address bar follows the controls it filled.
          controls.changed();
          estimateDuration();
        }
        break;
      case 'settingsError':
        if (m.defaults && !estimating) controls.fillRefused(m.defaults);
        controls.focus(m.parameter);
        break;
      case 'error':
      case 'deviceLost':
      case 'panic':
      case 'workerFailed':
        // A fresh worker (a fresh wasm instance and GPU device) for the next Start.
        client.renew();
        break;
    }
  }

  /**
   * Asks the worker to start a sweep of `params`; `keep` keeps the results so far (a
   * continuation; `why` ends the label of a run that restarts). Nothing is cleared until the
   * worker has accepted the settings (`started`): a refused Start loses nothing. `finished`:
   * the keys of runs already finished (a continuation of a sweep with several seeds or arms:
   * the trainer skips them). `checkpoints`: the keys of runs cut short that go on from their
   * checkpoints (store.state.checkpoints) instead of from their first epoch.
   */
  function run(params, { keep, why, finished, checkpoints = [] }) {
    if (busy() || !store.state.ready) return;
    // A worker that has started WebGPU gets replaced: its device may have been lost since (a GPU
    // reset while idle), and burn cannot start a second device in one worker.
    if (client.triedWebGpu) client.renew();
    // A new sweep gets a new saved id (a continuation keeps its sweep's).
    store.apply({ type: 'startRequested', params, keep, why, id: keep ? undefined : newSweepId(), resumable: checkpoints });
    // The bytes are copied to the worker: the page keeps its own until the next epoch replaces them.
    const bytes = checkpoints.map((key) => store.state.checkpoints.get(key).bytes);
    client.post({ type: 'start', params, finished, checkpoints: bytes });
  }

  /** Starts the controls' sweep; pressed while a stop completes, once it has (queued). */
  function start() {
    const params = controls.params();
    if (busy() && store.state.stopping) {
      store.apply({ type: 'startQueued', params });
      return;
    }
    // An embed keeps the address it was given: it names the embed's saved sweep.
    if (!embed) reflect(params);
    run(params, { keep: false });
  }

  /** Trains the sweep's unfinished runs on `backend`, appending to the results. False when none is left. */
  function continueRuns(backend, why) {
    const left = unfinished(store.state);
    if (left.length === 0) return false;
    const { settings, params, finished } = store.state.sweep;
    // Runs cut short after a finished epoch go on from there (their checkpoints), the others
    // start again.
    const checkpoints = resumable(store.state);
    // Several seeds or arms: every batch size's plan again, less the runs that finished.
    if ((settings.seeds ?? 1) > 1 || settings.baseline) run({ ...params, backend }, { keep: true, why, finished: [...finished], checkpoints });
    else run({ ...params, batch: left.join(','), backend }, { keep: true, why, checkpoints });
    return true;
  }

  /** After a lost GPU device: trains the batch sizes not finished, on 'cpu' or 'webgpu' (a new device). */
  function continueSweep(backend) {
    const { state } = store;
    if (busy() || !state.lostDevice || !state.sweep?.settings) return false;
    if (!['cpu', 'webgpu'].includes(backend)) return false;
    return continueRuns(backend, backend === 'cpu' ? 'on the CPU' : 'on a new GPU device');
  }

  /** Trains the page's sweep's unfinished runs (restored after a reload, or stopped). */
  function resume() {
    const { state } = store;
    // A sweep another tab writes is resumed there (or here, once that tab is gone).
    if (busy() || !state.ready || !state.sweep || state.sweep.imported || state.follower) return false;
    // The backend is the reader's choice now (the saved one may be a GPU that was lost).
    return continueRuns(controls.backend, state.saved ? 'after a reload' : 'after a stop');
  }

  /** Ends the sweep within about a second; every finished epoch is kept. */
  function stop() {
    if (!busy() || stopTimer) return;
    const generation = client.generation;
    store.apply({ type: 'stopRequested' });
    client.post({ type: 'stop' });
    // A step can take longer than the grace period (a large batch on a slow GPU): then end the
    // worker outright and start a fresh one for the next sweep.
    stopTimer = setTimeout(() => {
      stopTimer = null;
      if (client.generation !== generation || !busy()) return;
      client.renew();
      store.apply({ type: 'stopped' });
    }, STOP_GRACE_MS);
  }

  /** Measures a few steps at each batch size of the controls' sweep. False when busy. */
  function estimateDuration() {
    if (busy() || !store.state.ready) return false;
    if (client.triedWebGpu) client.renew();
    store.apply({ type: 'estimateRequested' });
    client.post({ type: 'estimate', params: controls.params() });
    return true;
  }

  /** The page's sweep as a file's text: 'json', 'epochs.csv' or 'runs.csv'. */
  async function exportSweep(format = 'json') {
    const { state } = store;
    if (!state.sweep || (state.results.length === 0 && state.runs.length === 0)) {
      throw new Error('Nothing to export yet: no run has started.');
    }
    const { origin } = state.sweep;
    return client.request({
      type: 'export',
      format,
      sweep: {
        ...(origin?.batchlabVersion ? { batchlabVersion: origin.batchlabVersion } : {}),
        exportedAt: new Date().toISOString(),
        link: linkFor(state.sweep.params),
        userAgent: origin?.userAgent ?? navigator.userAgent,
        backend: state.backend ?? state.results.at(-1)?.backend ?? null,
        adapter: state.adapter,
        settings: state.sweep.settings,
        results: state.results,
        runs: state.runs,
        findings: state.findings,
        arms: state.arms,
      },
    });
  }

  /** Reads a JSON export: the page's sweep when it has none ('shown'), else drawn to compare ('compared'). */
  async function importSweep(text, name = 'the file') {
    if (store.state.estimating) throw new Error('an estimate is being measured: import the file when it has finished');
    const why = tooLarge(String(text).length);
    if (why) throw new Error(why);
    // A byte-order mark is not part of the JSON.
    const sweep = await client.request({ type: 'import', text: String(text).replace(/^\uFEFF/, '') });
    const about = aboutImport(name, sweep);
    if (store.state.sweep) {
      store.apply({ type: 'compared', name, sweep, about });
      return 'compared';
    }
    // The link is rebuilt from the checked settings (the file's own `link` is not trusted).
    controls.fill(sweep.settings);
    persist.forget();
    store.apply({ type: 'imported', sweep, params: controls.params(), about });
    controls.changed(); // the address bar and the share box show its settings
    return 'shown';
  }

  /** Shows saved sweep `id` (from `window.batchlab.history`) on the page. False while busy. */
  async function openSaved(id) {
    if (busy() || store.state.estimating) return false;
    await persist.open(id);
    return true;
  }

  /** Draws saved sweep `id` beside the page's (dashed), as an imported file would be. */
  async function compareSaved(id) {
    const saved = await persist.compare(id);
    if (!store.state.sweep) return openSaved(id);
    const when = new Date(saved.savedAt).toLocaleString();
    store.apply({ type: 'compared', name: `saved ${when}`, sweep: saved, about: `of ${when}, kept in this browser`, from: 'saved' });
    return true;
  }

  /** Deletes saved sweep `id`; rejects while another tab shows or trains it. False while it trains here. */
  async function deleteSaved(id) {
    if (busy() && store.state.sweep?.id === id) return false;
    await persist.remove(id);
    return true;
  }

  /** Forgets the saved sweep and clears the page (not while a sweep runs). */
  async function clearSaved() {
    if (busy()) return false;
    const removal = persist.clear();
    store.apply({ type: 'cleared' });
    await removal;
    return true;
  }

  return {
    received,
    start,
    stop,
    resume,
    continueSweep,
    estimateDuration,
    exportSweep,
    importSweep,
    clearSaved,
    openSaved,
    compareSaved,
    deleteSaved,
    removeImported: () => store.apply({ type: 'comparisonRemoved' }),
    /** Says `text` on the keep line (a file that could not be written or read). */
    say: (text) => store.apply({ type: 'said', text }),
    presetPicked: (preset, backend) => client.post({ type: 'parse', params: { preset, backend }, estimate: true }),
    simulate: {
      deviceLoss: () => client.post({ type: 'loseDevice' }),
      panic: (message) => client.post({ type: 'panic', message: String(message ?? 'a test panic') }),
    },
    busy,
  };
}
