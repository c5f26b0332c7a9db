// The page: wires the modules together and defines `window.batchlab`. All training logic
// lives in Rust (worker.js → pkg/batchlab.js). Data flows one way: the worker's messages and
// the reader's actions become events (actions.js); one store applies them (sweep-store.js);
// the views render from it (views/*.js) and call actions. Modules: worker-client.js (the
// worker), controls.js (the form ↔ URL parameters), persist.js (saved in this browser,
// through store.js), wording.js (the sentences).
// Must NOT: hold state of its own, or draw anything.
//
// Public scripting interface (documented in the README; keep it stable):
//   window.batchlab.status   'idle' | 'loading' | 'training' | 'done' | 'stopped' | 'error'
//   window.batchlab.error    message (string) or null
//   window.batchlab.adapter  the WebGPU adapter in use (string), or null (none yet, or the CPU)
//   window.batchlab.backend  'webgpu' | 'cpu' | null (before the first start)
//   window.batchlab.backendReason  why that backend (the banner's sentence), or null
//   window.batchlab.results  per-epoch records so far (array of plain objects)
//   window.batchlab.runs     one summary per run so far (array of plain objects; see the README)
//   window.batchlab.findings the six findings of the last finished sweep ([] before one); with a
//                            baseline, the lrpolicy arm's; with seeds, on the means over seeds
//   window.batchlab.arms     the findings per arm ([{ lrPolicy, seeds, findings }]; [] before one)
//   window.batchlab.seedSummaries  mean and spread over seeds per batch size and arm
//                            ([{ batchSize, lrPolicy, seeds, reached, diverged, targetSteps, … }])
//   window.batchlab.estimate the last duration estimate ({ runs, totalSeconds, atMost, … }) or null
//   window.batchlab.estimateDuration()  measure a few steps and estimate the sweep in the controls
//   window.batchlab.memory   memory in use after each epoch (array of plain objects)
//   window.batchlab.stop()   end the sweep within about a second, keeping finished epochs
//   window.batchlab.continueSweep(backend)  after a lost GPU device: train the runs not finished,
//                            on 'cpu' or 'webgpu' (a new device); returns false when nothing to continue
//   window.batchlab.simulate.deviceLoss()   tests: destroy the WebGPU device mid-run
//   window.batchlab.simulate.panic(message) tests: make the trainer panic
//   window.batchlab.version  batchlab's version (string), or null before the trainer loaded
//   window.batchlab.link     the link to the controls' settings (opening it restores them)
//   window.batchlab.embedSnippet  an <iframe> that embeds the page with those settings
//   window.batchlab.exportSweep(format)  resolves to the sweep as a file's text: 'json',
//                            'epochs.csv' or 'runs.csv'; rejects when there is nothing to export
//   window.batchlab.importSweep(text, name)  reads a JSON export: shown as the page's sweep when the
//                            page has none, else drawn dashed to compare; rejects with the reason
//   window.batchlab.imported the imported sweep drawn for comparison, or null
//   window.batchlab.saved    the saved sweep this page was restored from ({ savedAt, epochs,
//                            left }), or null; cleared when a new sweep starts
//   window.batchlab.storageError  why results could not be saved in this browser, or null
//   window.batchlab.resume() train the saved sweep's unfinished runs; returns false when none
//   window.batchlab.clearSaved()  forget the saved sweep and clear the page (resolves when done)
//   window.batchlab.history  the sweeps saved in this browser for this page, newest first
//                            ([{ id, savedAt, params, status, epochs, runs, bytes }])
//   window.batchlab.openSaved(id)     show saved sweep `id` on the page (resolves false while busy)
//   window.batchlab.compareSaved(id)  draw saved sweep `id` dashed beside the page's
//   window.batchlab.deleteSaved(id)   forget saved sweep `id`; rejects while another tab shows it
//   window.batchlab.readOnly true while another tab of this page writes the sweep shown (it is
//                            followed live here; Start trains a new sweep in this tab)
//   window.batchlab.timings  start-up figures, in ms since the page was opened (performance.now()):
//                            { trainerReady, firstStep } — the trainer module compiled and running; the
//                            first sweep's first training chunk done (null until then)
import { linkFor, iframeSnippet } from './share.js';
import { createSweepStore } from './sweep-store.js';
import { createWorkerClient } from './worker-client.js';
import { createControls } from './controls.js';
import { createPersistence, saveKeyFor } from './persist.js';
import { createActions } from './actions.js';
import { createStatusView } from './views/status.js';
import { createBanners } from './views/banners.js';
import { createTables } from './views/tables.js';
import { createChartsView } from './views/charts-view.js';
import { createSharePanel } from './views/share-panel.js';
import { createHistory } from './views/history.js';

/** The URL the page was opened with; `autorun=1` is taken out of the address bar at once (a
 * reload then shows what was computed instead of starting over). */
const OPENED = new URLSearchParams(location.search);
const AUTORUN = OPENED.get('autorun') === '1';
const EMBED = OPENED.get('embed') === '1';
if (OPENED.has('autorun')) {
  const kept = Object.fromEntries([...OPENED].filter(([name]) => name !== 'autorun'));
  history.replaceState(history.state, '', linkFor(kept));
}

const store = createSweepStore({
  backendBanner: 'gpu' in navigator ? null
    : 'This browser does not offer WebGPU: batchlab will train on the CPU (slower than a GPU; a recent Chrome or Edge trains on the GPU).',
});
const client = createWorkerClient();
const controls = createControls(document.getElementById('controls'));
const persist = createPersistence(store, saveKeyFor(OPENED));
const actions = createActions({ store, client, controls, persist, embed: EMBED, autorun: AUTORUN });

// Views render from the store (in this order) and call actions.
createChartsView(store);
createTables(store);
createStatusView(store, actions);
createBanners(store, actions);
createSharePanel(store, actions, controls);
createHistory(store, actions);
controls.bind({ submit: actions.start, presetPicked: actions.presetPicked, busy: actions.busy });

const { state } = store;
const copies = (list) => list.map((x) => ({ ...x }));
window.batchlab = {
  get status() { return state.status; },
  get error() { return state.error; },
  get adapter() { return state.adapter; },
  get backend() { return state.backend; },
  get backendReason() { return state.backendReason; },
  get results() { return copies(state.results); },
  get memory() { return copies(state.memory); },
  get runs() { return copies(state.runs); },
  get findings() { return copies(state.findings); },
  get arms() { return copies(state.arms ?? []); },
  get seedSummaries() { return copies(state.seedSummaries ?? []); },
  get estimate() { return state.estimate && structuredClone(state.estimate); },
  estimateDuration: actions.estimateDuration,
  stop: actions.stop,
  continueSweep: actions.continueSweep,
  get version() { return state.version; },
  get link() { return linkFor(controls.params()); },
  get embedSnippet() { return iframeSnippet(controls.params()); },
  exportSweep: actions.exportSweep,
  importSweep: actions.importSweep,
  get imported() { return state.comparison && structuredClone(state.comparison); },
  get saved() { return state.saved && { ...state.saved }; },
  get storageError() { return state.storageError; },
  resume: actions.resume,
  clearSaved: actions.clearSaved,
  get history() { return state.history.map((h) => ({ ...h, params: { ...h.params } })); },
  openSaved: actions.openSaved,
  compareSaved: actions.compareSaved,
  deleteSaved: actions.deleteSaved,
  get readOnly() { return state.follower; },
  get timings() { return { ...state.timings }; },
  simulate: actions.simulate,
};

client.listen(actions.received);
client.renew();
persist.restore();
client.post({ type: 'parse', params: Object.fromEntries(new URLSearchParams(location.search)) });
