// The page: reads the URL, wires the controls, forwards work to the training worker, and draws
// what it streams back. All training logic lives in Rust (worker.js → pkg/batchlab.js).
//
// Public scripting interface (documented in the README; keep it stable):
//   window.batchlab.status   'idle' | 'loading' | 'training' | 'done' | 'stopped' | 'error'
//   window.batchlab.error    message (string) or null
//   window.batchlab.adapter  the WebGPU adapter in use (string), or null (none yet, or the CPU)
//   window.batchlab.backend  'webgpu' | 'cpu' | null (before the first start)
//   window.batchlab.backendReason  why that backend (the banner's sentence), or null
//   window.batchlab.results  per-epoch records so far (array of plain objects)
//   window.batchlab.runs     one summary per run so far (array of plain objects; see the README)
//   window.batchlab.findings the six findings of the last finished sweep ([] before one)
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
//   window.batchlab.timings  start-up figures, in ms since the page was opened (performance.now()):
//                            { trainerReady, firstStep } — the trainer module compiled and running; the
//                            first sweep's first training chunk done (null until then)
import { createCharts } from './charts.js';
import { renderRuns, renderFindings } from './summary.js';
import { linkFor, reflect, iframeSnippet, copyText, PAGE_PARAMETERS } from './share.js';
import * as store from './store.js';
import { addPngButtons, download, fileName, chosenText } from './files.js';

/** URL parameter (and control name) → settings field (as `parseSettings` returns them), in the order shown. */
const FIELDS = {
  preset: 'preset', batch: 'batch', epochs: 'epochs', lr: 'learningRate', optimizer: 'optimizer',
  lrpolicy: 'lrPolicy', lrref: 'lrReferenceBatch', warmup: 'warmupEpochs', model: 'model', target: 'target',
  endattarget: 'endAtTarget', budget: 'runBudgetSeconds', seed: 'seed', train: 'trainSize', test: 'testSize',
  backend: 'backend',
};
/** URL parameters that describe a sweep, in the order they are shown. */
const PARAMETERS = Object.keys(FIELDS);
/** How long Stop waits for the worker to finish its chunk before ending the worker outright. */
const STOP_GRACE_MS = 1000;

/** The URL the page was opened with; `autorun=1` is taken out of the address bar at once (a
 * reload then shows what was computed instead of starting over). */
const OPENED = new URLSearchParams(location.search);
const AUTORUN = OPENED.get('autorun') === '1';
const EMBED = OPENED.get('embed') === '1';
if (OPENED.has('autorun')) {
  const kept = Object.fromEntries([...OPENED].filter(([name]) => name !== 'autorun'));
  history.replaceState(history.state, '', linkFor(kept));
}
/** Where this page's sweep is saved: the full page has one; each embedded link its own. */
const SAVE_KEY = EMBED
  ? `embed:${[...OPENED].filter(([k]) => !PAGE_PARAMETERS.includes(k)).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => `${k}=${v}`).join('&')}`
  : 'page';

const $ = (id) => document.getElementById(id);
const ui = {
  form: $('controls'),
  start: $('start'),
  stop: $('stop'),
  estimate: $('estimate'),
  estimateText: $('estimate-text'),
  runs: document.querySelector('#runs tbody'),
  findings: $('findings'),
  findingsEmpty: $('findings-empty'),
  notice: $('notice'),
  status: $('status-text'),
  progress: $('progress'),
  adapter: $('adapter'),
  backend: $('backend'),
  recover: $('recover'),
  tbody: document.querySelector('#results tbody'),
  saved: $('saved'),
  savedText: $('saved-text'),
  resume: $('resume'),
  storage: $('storage'),
  shareLink: $('share-link'),
  shareAutorun: $('share-autorun'),
  embedSnippet: $('embed-snippet'),
  shareFeedback: $('share-feedback'),
  fullLink: $('full-link'),
  exportButtons: { json: $('export-json'), 'epochs.csv': $('export-epochs'), 'runs.csv': $('export-runs') },
  importInput: $('import'),
  removeImported: $('remove-imported'),
  keepText: $('keep-text'),
};

/** What the keep line says while nothing special happened. */
const KEEP_TEXT = ui.keepText.textContent;

/** Whether two settings objects (as the trainer resolves them) train the same sweep: the
 * preset, the batch list as written and the backend aside. */
function sameSweep(a, b) {
  const trained = ({ preset, batch, backend, ...rest }) => JSON.stringify(rest);
  return trained(a ?? {}) === trained(b ?? {});
}

const state = {
  status: 'idle', error: null, adapter: null, backend: null, backendReason: null, results: [], memory: [],
  /** Run summaries (one per run; a restarted run has its own, with `series`), findings, estimate. */
  runs: [], findings: [], estimate: null,
  /** Whether the worker is measuring an estimate (not a sweep). */
  estimating: false,
  /** Whether `autorun=1` has been honoured (only once, on load). */
  autoran: false,
  /** The sweep under way or last run: `{ params, settings, finished: Set of batch sizes }`. */
  sweep: null,
  /** A start sent to the worker and not yet accepted: `{ params, keep }`. */
  pending: null,
  /** Batch size → label suffix of its latest restart after a lost device; and restart counts. */
  reruns: new Map(),
  restarts: new Map(),
  /** Whether the last sweep ended with a lost GPU device (and can be continued). */
  lostDevice: false,
  /** Whether the worker has answered with the URL's settings (Start is enabled from then on). */
  ready: false,
  /** batchlab's version, from the trainer. */
  version: null,
  /** The saved sweep the page was restored from: `{ savedAt, epochs, left }`, or null. */
  saved: null,
  /** Why the sweep could not be saved in this browser, or null. */
  storageError: null,
  /** An imported sweep drawn for comparison: `{ name, exportedAt, settings, results, runs }`, or null. */
  comparison: null,
};
/** The status line's text before the trainer's download was shown on it, or null. */
let loadingText = null;
/** Start-up figures (ms since the page was opened): see `window.batchlab.timings`. */
const timings = { trainerReady: null, firstStep: null };
/** Resolves once the saved sweep (if any) is on the page. */
let restored = Promise.resolve();
window.batchlab = {
  get status() { return state.status; },
  get error() { return state.error; },
  get adapter() { return state.adapter; },
  get backend() { return state.backend; },
  get backendReason() { return state.backendReason; },
  get results() { return state.results.map((r) => ({ ...r })); },
  get memory() { return state.memory.map((m) => ({ ...m })); },
  get runs() { return state.runs.map((r) => ({ ...r })); },
  get findings() { return state.findings.map((f) => ({ ...f })); },
  get estimate() { return state.estimate && structuredClone(state.estimate); },
  estimateDuration,
  stop,
  continueSweep,
  get version() { return state.version; },
  get link() { return linkFor(controlParams()); },
  get embedSnippet() { return iframeSnippet(controlParams()); },
  exportSweep,
  importSweep,
  get imported() { return state.comparison && structuredClone(state.comparison); },
  get saved() { return state.saved && { ...state.saved }; },
  get storageError() { return state.storageError; },
  resume,
  clearSaved,
  get timings() { return { ...timings }; },
  simulate: {
    deviceLoss: () => worker.postMessage({ type: 'loseDevice' }),
    panic: (message) => worker.postMessage({ type: 'panic', message: String(message ?? 'a test panic') }),
  },
};

const charts = createCharts({
  accuracy: $('chart-accuracy'), loss: $('chart-loss'), time: $('chart-time'), normalised: $('chart-normalised'),
  epochsToTarget: $('chart-epochs'), stepsToTarget: $('chart-steps'), timeToTarget: $('chart-target-time'),
  finalAccuracy: $('chart-final'),
});
let worker = null;
let stopTimer = null;
let epochsPerRun = 0;
/** Files asked of the worker (export, import) and not yet answered: id → { resolve, reject }. */
const files = new Map();
let lastFileId = 0;

/** Asks the worker to write or read a file; resolves to its answer, rejects with the reason. */
function fileRequest(message) {
  return new Promise((resolve, reject) => {
    const id = ++lastFileId;
    files.set(id, { resolve, reject });
    worker.postMessage({ ...message, id });
  });
}

/**
 * The page's sweep as a file: `format` 'json' (everything, importable), 'epochs.csv' or
 * 'runs.csv'. Resolves to the file's text; rejects when there is nothing to export.
 */
async function exportSweep(format = 'json') {
  if (!state.sweep || (state.results.length === 0 && state.runs.length === 0)) {
    throw new Error('Nothing to export yet: no run has started.');
  }
  const lastBackend = state.results.at(-1)?.backend ?? null;
  return fileRequest({
    type: 'export',
    format,
    sweep: {
      ...(state.sweep.origin?.batchlabVersion ? { batchlabVersion: state.sweep.origin.batchlabVersion } : {}),
      exportedAt: new Date().toISOString(),
      link: linkFor(state.sweep.params),
      userAgent: state.sweep.origin?.userAgent ?? navigator.userAgent,
      backend: state.backend ?? lastBackend,
      adapter: state.adapter,
      settings: state.sweep.settings,
      results: state.results,
      runs: state.runs,
      findings: state.findings,
    },
  });
}

/**
 * Reads a JSON export (`text`; `name` for messages). With no sweep on the page it becomes the
 * page's sweep (controls, charts, tables, findings), else it is drawn dashed next to the page's
 * sweep to compare. Resolves to 'shown' or 'compared'; rejects with the reason.
 */
async function importSweep(text, name = 'the file') {
  if (state.estimating) throw new Error('an estimate is being measured: import the file when it has finished');
  // A byte-order mark is not part of the JSON.
  const sweep = await fileRequest({ type: 'import', text: String(text).replace(/^\uFEFF/, '') });
  const when = new Date(sweep.exportedAt);
  const about = `${name} (batchlab ${sweep.batchlabVersion}, exported ${Number.isNaN(when.getTime()) ? sweep.exportedAt : when.toLocaleString('en-GB')})`;
  if (!state.sweep) {
    // The link is rebuilt from the checked settings (the file's own `link` is not trusted).
    fillControls(sweep.settings);
    const params = controlParams();
    showSweep({ ...sweep, params }, { imported: true });
    reflect(controlParams());
    updateShare();
    setStatus('idle', `Showing the imported sweep ${about}. Start trains these settings again.`);
    ui.keepText.textContent = `Showing the imported sweep ${about}; it is not saved in this browser (the file keeps it).`;
    return 'shown';
  }
  const suffix = (r) => `${r.series ?? r.batchSize} (imported)`;
  state.comparison = {
    name,
    exportedAt: sweep.exportedAt,
    batchlabVersion: sweep.batchlabVersion,
    settings: sweep.settings,
    results: sweep.results.map((r) => ({ ...r, series: suffix(r) })),
    // A run exported while it trained is not training here.
    runs: sweep.runs.map((r) => ({ ...r, series: suffix(r), status: r.status === 'running' ? 'stopped' : r.status })),
  };
  redraw();
  ui.keepText.textContent = `Comparing with the imported sweep ${about}: its lines are dashed.`;
  return 'compared';
}

/** Forgets the saved sweep and clears the page (not while a sweep runs). */
async function clearSaved() {
  if (isBusy(state.status)) return false;
  const removal = store.clear(SAVE_KEY);
  state.comparison = null;
  state.saved = null;
  state.error = null;
  state.lostDevice = false;
  ui.saved.hidden = true;
  ui.recover.hidden = true;
  notify(null);
  resetSweep(null);
  ui.keepText.textContent = 'Saved results cleared: nothing is kept in this browser until the next sweep.';
  setStatus('idle', 'Saved results cleared.');
  try {
    await removal;
  } catch (e) {
    storageProblem(store.describeStorageError(e));
  }
  return true;
}

const list = (sizes) => sizes.map((b) => b.toLocaleString('en')).join(', ');

/** Shows the sweep saved in this browser, if any, and offers to resume it. */
async function restoreSaved() {
  let saved;
  try {
    saved = await store.load(SAVE_KEY);
  } catch (e) {
    storageProblem(store.describeStorageError(e));
    return;
  }
  // Nothing saved, or a sweep started meanwhile.
  if (!saved || !(saved.results?.length || saved.runs?.length) || state.sweep || isBusy(state.status)) return;
  try {
    showSweep(saved);
  } catch (e) {
    // A damaged record (another version, a bug): left as it is, the page starts empty.
    resetSweep(null);
    storageProblem(`the sweep saved here could not be read (${e.message}); it was left as it is, and a new sweep replaces it`);
    return;
  }
  const left = unfinished();
  const epochsDone = state.results.length;
  const sizes = state.sweep.settings.batchSizes;
  const when = new Date(saved.savedAt).toLocaleString('en-GB', { dateStyle: 'medium', timeStyle: 'short' });
  state.saved = { savedAt: saved.savedAt, epochs: epochsDone, left };
  let text = `A sweep saved in this browser on ${when}: ${epochs(epochsDone)} trained, ` +
    `${sizes.length - left.length} of ${sizes.length} batch size${sizes.length === 1 ? '' : 's'} finished.`;
  if (left.length) {
    // The latest attempt at each unfinished batch size that got somewhere.
    const cut = left.map((b) => state.runs.filter((r) => r.batchSize === b).at(-1)).filter((r) => r?.epochs > 0);
    text += ` Resume trains batch size${left.length === 1 ? '' : 's'} ${list(left)} on the backend chosen in the controls` +
      (cut.length
        ? `; batch size ${list(cut.map((r) => r.batchSize))} stopped after epoch ${cut.map((r) => r.epochs).join(', ')} ` +
          `and restart${cut.length === 1 ? 's' : ''} from its first epoch (a run cannot continue mid-way: its finished epochs stay, drawn as a line of their own).`
        : '.');
  } else {
    text += ' Every run had finished.';
  }
  ui.savedText.textContent = text;
  ui.resume.hidden = left.length === 0;
  ui.saved.hidden = false;
  const finished = saved.status === 'done' && !left.length;
  setStatus(finished ? 'done' : 'stopped', `Restored from this browser: ${epochs(epochsDone)}.`);
}

const isBusy = (status) => status === 'loading' || status === 'training';

function setStatus(status, text) {
  state.status = status;
  ui.status.textContent = text;
  // A new status line is what the trainer's download progress gives back when it ends.
  loadingText = null;
  const busy = isBusy(status);
  ui.start.disabled = busy || !state.ready;
  ui.estimate.disabled = busy || !state.ready;
  ui.stop.disabled = !busy;
  ui.resume.disabled = busy || !state.ready;
  for (const id of ['clear-saved', 'clear-saved-banner']) $(id).disabled = busy;
  document.body.dataset.status = status;
  updateExports();
  if (!busy) {
    clearTimeout(stopTimer);
    stopTimer = null;
  }
}

/** Shows a message for the reader (text only: nothing from the URL is ever parsed as HTML). */
function notify(message) {
  ui.notice.hidden = !message;
  ui.notice.textContent = message ?? '';
}

function fail(message) {
  if (state.estimating) ui.estimateText.textContent = 'No estimate: the trainer failed (see above).';
  state.estimating = false;
  stopRunning();
  state.error = message;
  notify(message);
  ui.recover.hidden = true;
  setStatus('error', 'Stopped by an error; finished epochs are kept below.');
  persist();
}

const epochs = (n) => `${n} epoch${n === 1 ? '' : 's'}`;
const percent = (fraction) => `${(100 * fraction).toFixed(2)} %`;
const number = (x, digits) => x.toLocaleString('en', { maximumFractionDigits: digits, minimumFractionDigits: digits });

function addRow(r) {
  const cells = [
    r.series ? `${r.batchSize.toLocaleString('en')} ${r.series.slice(String(r.batchSize).length + 1)}` : r.batchSize.toLocaleString('en'), r.epoch, r.steps.toLocaleString('en'), r.samples.toLocaleString('en'),
    number(r.trainLoss, 4), percent(r.trainAccuracy), number(r.testLoss, 4), percent(r.testAccuracy),
    number(r.trainSeconds, 1), number(r.samplesPerSecond, 0), r.backend === 'webgpu' ? 'WebGPU' : 'CPU',
  ];
  const row = ui.tbody.insertRow();
  for (const text of cells) row.insertCell().textContent = text;
}

function fillControls(settings) {
  for (const [name, field] of Object.entries(FIELDS)) {
    const control = ui.form[name];
    if (control.type === 'checkbox') control.checked = Boolean(settings[field]);
    else control.value = settings[field];
  }
  ui.form.preset.dataset.value = settings.preset;
  epochsPerRun = settings.epochs;
  updateShare();
}

/** The share box, the embed snippet and the embed's link back follow the controls. */
function updateShare() {
  const params = controlParams();
  ui.shareLink.value = linkFor(params, { autorun: ui.shareAutorun.checked });
  ui.embedSnippet.value = iframeSnippet(params);
  ui.fullLink.href = linkFor(params);
}

/** The controls changed: the address bar and the share box show the new settings. */
function controlsChanged() {
  reflect(controlParams());
  updateShare();
}

/** The controls as URL parameters; an empty control falls back to the default. */
function controlParams() {
  const value = (control) => (control.type === 'checkbox' ? (control.checked ? '1' : '0') : control.value.trim());
  return Object.fromEntries(PARAMETERS.map((name) => [name, value(ui.form[name])]).filter(([, v]) => v !== ''));
}

/** The line label of a restarted run, e.g. "64 (restarted on the CPU)"; else undefined. */
function seriesOf(batchSize) {
  const rerun = state.reruns.get(batchSize);
  return rerun ? `${batchSize} ${rerun}` : undefined;
}

/** The run summary of `summary`'s run, replaced or added (a restarted run is keyed by its series). */
function upsertRun(summary) {
  const series = seriesOf(summary.batchSize);
  const run = series ? { ...summary, series } : { ...summary };
  const key = (r) => r.series ?? r.batchSize;
  const i = state.runs.findIndex((r) => key(r) === key(run));
  if (i >= 0) state.runs[i] = run;
  else state.runs.push(run);
  drawRuns();
  persist();
}

function drawRuns() {
  charts.setRuns(state.runs);
  renderRuns(ui.runs, [...state.runs, ...(state.comparison?.runs ?? [])]);
  updateExports();
}

/**
 * Draws every chart again from the records and run summaries kept (the current sweep's, then
 * an imported one's, dashed), in the order they were trained, so that each line has the colour
 * and points it had live.
 */
function redraw() {
  charts.reset();
  const replay = (results, runs, extra) => {
    const key = (r) => r.series ?? r.batchSize;
    const done = new Set();
    for (const k of [...runs.map(key), ...results.map(key)]) {
      if (done.has(k)) continue;
      done.add(k);
      for (const r of results) if (key(r) === k) charts.add({ ...r, ...extra }, { draw: false });
      const run = runs.find((x) => key(x) === k);
      if (run?.status === 'diverged') charts.diverged(run.batchSize, run.divergedEpoch, run.series, { imported: Boolean(extra.imported), draw: false });
    }
  };
  replay(state.results, state.runs, {});
  if (state.comparison) replay(state.comparison.results, state.comparison.runs, { imported: true });
  charts.draw();
  charts.setComparison(state.comparison?.runs ?? []);
  drawRuns();
}

/** Empties the page's sweep (records, runs, findings, tables, charts); `sweep` becomes the new one (or null). */
function resetSweep(sweep) {
  state.results = [];
  state.memory = [];
  state.runs = [];
  state.reruns = new Map();
  state.restarts = new Map();
  state.sweep = sweep;
  showFindings([]);
  ui.tbody.replaceChildren();
  redraw();
}

/** A sweep kept or imported (`{ params, settings, results, runs, findings, … }`) becomes the page's. */
function showSweep(sweep, { imported = false } = {}) {
  state.results = sweep.results.map((r) => ({ ...r }));
  state.runs = sweep.runs.map((r) => ({ ...r }));
  state.memory = (sweep.memory ?? []).map((m) => ({ ...m }));
  state.reruns = new Map(sweep.reruns ?? []);
  state.restarts = new Map(sweep.restarts ?? []);
  const finished = sweep.finished ?? state.runs.filter((r) => r.status === 'done' || r.status === 'diverged').map((r) => r.batchSize);
  state.sweep = { params: sweep.params, settings: sweep.settings, finished: new Set(finished), imported };
  // An imported sweep was trained elsewhere: its export says where, and by which version.
  if (imported) state.sweep.origin = { userAgent: sweep.userAgent, batchlabVersion: sweep.batchlabVersion };
  state.backend = sweep.backend ?? null;
  state.adapter = sweep.adapter ?? null;
  state.backendReason = sweep.backendReason ?? null;
  // A run that was training when the page closed was cut short.
  for (const run of state.runs) if (run.status === 'running') run.status = 'stopped';
  ui.tbody.replaceChildren();
  for (const r of state.results) addRow(r);
  showFindings(sweep.findings ?? [], false);
  redraw();
}

/** The page's sweep as saved: everything needed to show it again and to resume it. */
function snapshot() {
  return {
    params: state.sweep.params,
    settings: state.sweep.settings,
    finished: [...state.sweep.finished],
    status: state.status,
    results: state.results,
    runs: state.runs,
    findings: state.findings,
    memory: state.memory,
    reruns: [...state.reruns],
    restarts: [...state.restarts],
    backend: state.backend,
    adapter: state.adapter,
    backendReason: state.backendReason,
  };
}

/** Saves the page's sweep in this browser (IndexedDB). A failure is reported, never fatal. */
function persist() {
  if (!state.sweep || state.sweep.imported) return;
  store.save(SAVE_KEY, snapshot()).then(() => {
    if (state.storageError) storageProblem(null);
  }, (e) => storageProblem(store.describeStorageError(e)));
}

/** Shows (or, for null, hides) why results cannot be saved in this browser. */
function storageProblem(reason) {
  state.storageError = reason;
  ui.storage.hidden = !reason;
  ui.storage.textContent = reason
    ? `Results cannot be saved in this browser: ${reason}. They stay on this page until it is closed: download them (JSON or CSV) to keep them.`
    : '';
}

/** Export is possible once a sweep has a run. */
function updateExports() {
  const none = !state.sweep || (state.results.length === 0 && state.runs.length === 0);
  for (const button of Object.values(ui.exportButtons)) button.disabled = none;
  ui.removeImported.hidden = !state.comparison;
}

/** Marks the run under way (if any) as stopped: by the reader, or by a failure. */
function stopRunning() {
  for (const run of state.runs) if (run.status === 'running') run.status = 'stopped';
  drawRuns();
}

/** Asks the worker for the six findings of the runs so far (they arrive as a message). */
function requestFindings() {
  const finished = state.runs.filter((r) => r.status !== 'running');
  if (finished.length === 0) return;
  worker.postMessage({ type: 'findings', runs: finished, testSize: state.sweep?.settings?.testSize ?? 10_000 });
}

/** Shows the six findings; `save`: keep them with the sweep in this browser (not when the
 * findings come from a saved or imported sweep being shown: that would re-save it as it is
 * on the page mid-restore, with a new date). */
function showFindings(findings, save = true) {
  state.findings = findings;
  renderFindings(ui.findings, findings);
  ui.findingsEmpty.hidden = findings.length > 0;
  if (findings.length && save) persist();
}

const duration = (s) => (s < 90 ? `${Math.round(s)} s` : s < 5400 ? `${Math.round(s / 60)} min` : `${(s / 3600).toFixed(1)} h`);

function showEstimate(estimate) {
  state.estimate = estimate;
  const perRun = estimate.runs.map((r) => `batch size ${r.batchSize.toLocaleString('en')}: ${duration(r.seconds)}`).join(', ');
  ui.estimateText.textContent = `Estimated on this device: ${estimate.atMost ? 'at most ' : 'about '}${duration(estimate.totalSeconds)} ` +
    `(${perRun}; measured in ${estimate.measuredInSeconds.toFixed(1)} s${estimate.atMost ? '; runs end early at the target' : ''}).`;
  ui.estimateText.hidden = false;
}

/**
 * Measures a few training steps at each batch size of the controls' sweep and shows how long
 * it would take on this device (also in `window.batchlab.estimate`). Nothing already computed
 * is cleared. Returns false when busy.
 */
function estimateDuration() {
  if (isBusy(state.status) || !state.ready) return false;
  if (worker.triedWebGpu) newWorker();
  state.estimating = { status: state.status, text: ui.status.textContent };
  setStatus('loading', 'Estimating…');
  ui.estimateText.hidden = false;
  ui.estimateText.textContent = 'Measuring a few training steps at each batch size…';
  worker.postMessage({ type: 'estimate', params: controlParams() });
  return true;
}

function onMessage({ data: m }) {
  switch (m.type) {
    case 'trainerLoading':
      // Before the trainer answers, the status line shows its download, then what it showed.
      if (!state.ready && !isBusy(state.status)) {
        loadingText ??= ui.status.textContent;
        ui.status.textContent = m.message;
        ui.progress.value = m.fraction ?? 0;
      }
      break;
    case 'settings': {
      timings.trainerReady ??= performance.now();
      if (loadingText != null) {
        if (!isBusy(state.status)) ui.status.textContent = loadingText;
        ui.progress.value = 0;
        loadingText = null;
      }
      state.version = m.version;
      fillControls(m.settings);
      state.ready = true;
      setStatus(state.status, ui.status.textContent);
      // `autorun=1` is honoured once, for the URL's settings (the first answer) — unless a
      // saved sweep is on the page: a reload or a second visit must not replace it unasked.
      const autorun = !state.autoran && AUTORUN;
      state.autoran = true;
      if (autorun) {
        restored.then(() => {
          if (!state.saved) return start();
          // A saved sweep is never replaced unasked: say what the link asked for.
          const same = sameSweep(state.sweep.settings, m.settings);
          setStatus(state.status, !same
            ? 'This link starts a new sweep, but the sweep saved in this browser is shown so as not to replace it unasked: press Start to run the link’s sweep (download the saved one first to keep it).'
            : state.saved.left.length
              ? 'This link’s sweep is saved in this browser, unfinished: Resume the sweep continues it; Start trains it again from the beginning.'
              : 'This link’s sweep is saved in this browser and had finished: it is shown below. Start trains it again.');
        });
      } else if (m.estimate) {
        // A preset was picked: the address bar follows the controls it filled.
        controlsChanged();
        estimateDuration();
      }
      break;
    }
    case 'settingsError':
      timings.trainerReady ??= performance.now();
      loadingText = null;
      ui.progress.value = 0;
      state.autoran = true;
      state.version = m.version ?? state.version;
      if (state.estimating) {
        // A refused estimate: say why where the estimate goes; the sweep's state is untouched.
        const { status, text } = state.estimating;
        state.estimating = false;
        ui.estimateText.textContent = `No estimate: ${m.message}`;
        setStatus(status, text);
        ui.form[m.parameter]?.focus();
        break;
      }
      if (m.defaults) {
        // Refused on load: the defaults, then every value the URL gave (as text), so that the
        // reader can correct the refused one and keep the rest.
        fillControls(m.defaults);
        for (const [name, value] of new URLSearchParams(location.search)) {
          const control = PARAMETERS.includes(name) ? ui.form[name] : null;
          if (control?.type === 'checkbox') control.checked = value === '1' || value === 'true';
          // A select keeps its default when the URL's value is none of its options.
          else if (control?.tagName === 'SELECT') { if ([...control.options].some((o) => o.value === value)) control.value = value; }
          else if (control) control.value = value;
        }
        state.ready = true;
        updateShare();
      }
      state.pending = null;
      state.estimating = false;
      state.error = m.message;
      notify(m.message);
      setStatus('error', `The setting “${m.parameter}” was refused; nothing was started.`);
      ui.form[m.parameter]?.focus();
      break;
    case 'loading':
      setStatus('loading', m.message);
      ui.progress.value = m.fraction;
      break;
    case 'started':
      if (!state.estimating) accepted(m.settings);
      break;
    case 'estimate': {
      const { status, text } = state.estimating || { status: 'idle', text: 'Idle.' };
      state.estimating = false;
      showEstimate(m.estimate);
      setStatus(status, text);
      break;
    }
    case 'findings':
      // Findings that arrive after Clear saved results belong to nothing on the page.
      if (state.sweep) showFindings(m.findings);
      break;
    case 'file': {
      const request = files.get(m.id);
      files.delete(m.id);
      if (m.message != null) request?.reject(new Error(m.message));
      else request?.resolve(m.text ?? m.sweep);
      break;
    }
    case 'runStarted':
      upsertRun(m.summary);
      break;
    case 'backend':
      worker.triedWebGpu = m.triedWebGpu;
      // An estimate measures on the backend a sweep would use; it is not a sweep's backend.
      if (state.estimating) break;
      state.backend = m.backend;
      state.backendReason = m.reason;
      state.adapter = m.backend === 'webgpu' ? m.adapter : null;
      ui.backend.textContent = m.reason;
      ui.backend.hidden = false;
      ui.adapter.textContent = m.backend === 'webgpu' ? `GPU adapter: ${m.adapter}` : 'GPU adapter: not used (training on the CPU).';
      break;
    case 'memory':
      state.memory.push({ batchSize: m.batchSize, epoch: m.epoch, backend: state.backend, ...m.usage });
      break;
    case 'progress': {
      const p = m.progress;
      if (p.phase === 'train') timings.firstStep ??= performance.now();
      const phase = { train: 'training', probe: 'measuring the gradient noise on', test: 'testing' }[p.phase];
      const loss = p.runningLoss == null ? '' : ` · loss ${number(p.runningLoss, 3)}`;
      setStatus('training', `Batch size ${p.batchSize.toLocaleString('en')} · epoch ${p.epoch} of ${epochsPerRun} · ${phase} ${p.done.toLocaleString('en')} / ${p.total.toLocaleString('en')} images${loss}`);
      ui.progress.value = p.done / p.total;
      break;
    }
    case 'epoch': {
      const record = { ...m.record, backend: state.backend };
      const series = seriesOf(record.batchSize);
      if (series) record.series = series;
      if (m.summary.status !== 'running') state.sweep.finished.add(record.batchSize);
      state.results.push(record);
      addRow(record);
      charts.add(record);
      upsertRun(m.summary);
      break;
    }
    case 'diverged': {
      state.sweep.finished.add(m.batchSize);
      charts.diverged(m.batchSize, m.epoch, seriesOf(m.batchSize));
      upsertRun(m.summary);
      const sizes = (state.sweep.running ?? state.sweep.settings).batchSizes;
      const last = sizes.indexOf(m.batchSize) === sizes.length - 1;
      // Several runs may diverge: each keeps its line in the notice.
      notify([ui.notice.hidden ? '' : ui.notice.textContent,
        `Batch size ${m.batchSize} diverged in epoch ${m.epoch}: its loss became infinite or NaN (try a smaller learning rate).${last ? '' : ' The sweep goes on with the next batch size.'}`,
      ].filter(Boolean).join('\n'));
      break;
    }
    case 'done':
      setStatus('done', state.results.length ? `Done: ${epochs(state.results.length)} trained.` : 'Done: no epoch finished (every run diverged).');
      ui.progress.value = 1;
      requestFindings();
      persist();
      break;
    case 'stopped':
      stopped();
      break;
    case 'error':
      fail(m.message);
      // A fresh worker (a fresh wasm instance and GPU device) for the next Start.
      newWorker();
      break;
    case 'deviceLost':
      newWorker();
      deviceLost(m.reason);
      break;
    case 'panic':
      newWorker();
      fail(`The trainer crashed, a bug in batchlab: “${m.message}” (${m.location}). ` +
        `${finishedText()} Press Start to begin a new sweep.`);
      break;
  }
}

const finishedText = () => [
  'No epoch had finished.', 'The finished epoch is kept.'][state.results.length] ?? `The ${epochs(state.results.length)} finished are kept.`;

/** The batch sizes of the current sweep that have not finished all their epochs. */
const unfinished = () => (state.sweep?.settings?.batchSizes ?? []).filter((b) => !state.sweep.finished.has(b));

/** `reason`: the cause, e.g. "Destroyed: Device was destroyed". */
function deviceLost(reason) {
  const left = unfinished();
  state.lostDevice = left.length > 0;
  const message = `The GPU device was lost (${reason}). ${finishedText()}` +
    (left.length ? ` Batch size${left.length === 1 ? '' : 's'} ${left.map((b) => b.toLocaleString('en')).join(', ')} ` +
      `${left.length === 1 ? 'is' : 'are'} left: continue the sweep on the CPU or on a new GPU device (an interrupted run starts again from its first epoch).` : '');
  stopRunning();
  state.error = message;
  notify(message);
  ui.recover.hidden = left.length === 0;
  setStatus('error', 'Interrupted: the GPU device was lost; finished epochs are kept below.');
  persist();
}

/**
 * After a lost GPU device: trains the batch sizes not finished, on `backend` ('cpu', or
 * 'webgpu' for a new device), appending to the results. Returns false when nothing is left.
 */
function continueSweep(backend) {
  if (isBusy(state.status) || !state.lostDevice || !state.sweep?.settings) return false;
  if (!['cpu', 'webgpu'].includes(backend)) return false;
  return continueRuns(backend, backend === 'cpu' ? 'on the CPU' : 'on a new GPU device');
}

/**
 * Trains the sweep's unfinished runs on `backend`, appending to the results; `why` ends the
 * label of a run that restarts ("on the CPU", "after a reload"). Returns false when none is left.
 */
function continueRuns(backend, why) {
  const left = unfinished();
  if (left.length === 0) return false;
  // Epochs of a run cut short stay in the results; each restart is drawn as a line of its own.
  for (const b of left) {
    if (state.results.some((r) => r.batchSize === b)) {
      const n = (state.restarts.get(b) ?? 0) + 1;
      state.restarts.set(b, n);
      state.reruns.set(b, n === 1 ? `(restarted ${why})` : `(restart ${n}, ${why})`);
    } else {
      state.reruns.delete(b);
    }
  }
  run({ ...state.sweep.params, batch: left.join(','), backend }, { keep: true });
  return true;
}

/**
 * Trains the saved sweep's unfinished runs (a run cut short restarts from its first epoch; its
 * finished epochs stay, as a line of their own). Returns false when busy or nothing is left.
 */
function resume() {
  if (isBusy(state.status) || !state.ready || !state.sweep || state.sweep.imported) return false;
  // The backend is the reader's choice now (the saved one may be a GPU that was lost).
  return continueRuns(ui.form.backend.value || 'auto', state.saved ? 'after a reload' : 'after a stop');
}

/** Starts a training worker, replacing (and ending) the current one. Messages from a replaced
 * worker are ignored. */
function newWorker() {
  worker?.terminate();
  // Files asked of the ended worker are not coming.
  for (const request of files.values()) request.reject(new Error('the trainer was restarted; try again'));
  files.clear();
  const w = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
  w.onmessage = (e) => { if (w === worker) onMessage(e); };
  w.onerror = (e) => {
    e.preventDefault(); // reported on the page (or, from a replaced worker, no longer relevant)
    if (w !== worker) return;
    fail(`The training worker failed: ${e.message || 'it could not be loaded'}`);
    newWorker();
  };
  worker = w;
}

function start() {
  const params = controlParams();
  // An embed keeps the address it was given: it names the embed's saved sweep.
  if (!EMBED) reflect(params);
  run(params, { keep: false });
}

/**
 * Asks the worker to start a sweep of `params`; `keep` keeps the results so far (a
 * continuation). Nothing is cleared until the worker has accepted the settings (`started`): a
 * refused Start loses nothing.
 */
function run(params, { keep }) {
  if (isBusy(state.status) || !state.ready) return;
  // A worker that has started WebGPU gets replaced: its device may have been lost since (a GPU
  // reset while idle), and burn cannot start a second device in one worker.
  if (worker.triedWebGpu) newWorker();
  state.pending = { params, keep };
  setStatus('loading', 'Starting…');
  ui.progress.value = 0;
  worker.postMessage({ type: 'start', params });
}

/** The worker accepted the pending start's settings: clear what a new sweep replaces. */
function accepted(settings) {
  const { params, keep } = state.pending ?? { params: controlParams(), keep: false };
  state.pending = null;
  if (keep) {
    // The sweep keeps its full settings (for export and the next resume); these are the runs left.
    state.sweep.running = settings;
  } else {
    resetSweep({ params, settings, finished: new Set() });
    ui.keepText.textContent = KEEP_TEXT;
  }
  state.saved = null;
  ui.saved.hidden = true;
  state.error = null;
  state.lostDevice = false;
  state.backend = state.backendReason = state.adapter = null;
  notify(null);
  ui.recover.hidden = true;
  epochsPerRun = settings.epochs;
}

function stopped() {
  if (state.estimating) {
    const { status, text } = state.estimating;
    state.estimating = false;
    ui.estimateText.textContent = 'The estimate was stopped.';
    setStatus(status, text);
    return;
  }
  stopRunning();
  requestFindings();
  persist();
  const n = state.results.length;
  setStatus('stopped', n === 0 ? 'Stopped before any epoch finished.' : `Stopped: ${n === 1 ? 'the finished epoch is' : `${epochs(n)} finished are`} kept.`);
}

/** Ends the sweep within about a second; every finished epoch is kept. */
function stop() {
  if (!isBusy(state.status) || stopTimer) return;
  const stopping = worker;
  stopping.postMessage({ type: 'stop' });
  // A step can take longer than the grace period (a large batch on a slow GPU): then end the
  // worker outright and start a fresh one for the next sweep.
  stopTimer = setTimeout(() => {
    stopTimer = null;
    if (worker !== stopping || !isBusy(state.status)) return;
    newWorker();
    stopped();
  }, STOP_GRACE_MS);
}

ui.form.addEventListener('submit', (e) => {
  e.preventDefault();
  start();
});
ui.stop.addEventListener('click', stop);
ui.estimate.addEventListener('click', estimateDuration);
// Picking a preset fills every control with its settings (the worker resolves them) and
// estimates its duration; changing any other setting makes the sweep a custom one.
ui.form.preset.addEventListener('change', () => {
  const preset = ui.form.preset;
  // While a sweep or an estimate runs, the controls stay as they are.
  if (isBusy(state.status)) {
    preset.value = preset.dataset.value ?? 'custom';
    return;
  }
  preset.dataset.value = preset.value;
  // Custom keeps the values in the controls (they become the custom sweep).
  if (preset.value === 'custom') return;
  worker.postMessage({ type: 'parse', params: { preset: preset.value, backend: ui.form.backend.value }, estimate: true });
});
ui.form.addEventListener('change', (e) => {
  if (e.target !== ui.form.preset && e.target !== ui.form.backend) {
    ui.form.preset.value = 'custom';
    ui.form.preset.dataset.value = 'custom';
  }
});
ui.form.addEventListener('input', controlsChanged);
ui.form.addEventListener('change', controlsChanged);
ui.shareAutorun.addEventListener('change', updateShare);

/** Copies `text`, or selects `field` for the reader to copy where the browser refuses. */
async function copyFrom(field, what) {
  const copied = await copyText(field.value);
  if (!copied) field.select();
  ui.shareFeedback.textContent = copied ? `${what} copied.` : `The browser did not allow copying: the ${what.toLowerCase()} is selected, press Ctrl+C (⌘C).`;
}
$('copy-link').addEventListener('click', () => copyFrom(ui.shareLink, 'Link'));
$('copy-embed').addEventListener('click', () => copyFrom(ui.embedSnippet, 'Snippet'));
for (const [format, button] of Object.entries(ui.exportButtons)) {
  button.addEventListener('click', async () => {
    try {
      const text = await exportSweep(format);
      const type = format === 'json' ? 'application/json' : 'text/csv';
      download(new Blob([text], { type: `${type};charset=utf-8` }), fileName(format === 'json' ? 'sweep.json' : format));
    } catch (e) {
      ui.keepText.textContent = `Could not export: ${e.message}`;
    }
  });
}
ui.importInput.addEventListener('change', async () => {
  const file = await chosenText(ui.importInput);
  if (!file) return;
  try {
    await importSweep(file.text, file.name);
  } catch (e) {
    ui.keepText.textContent = `Could not import ${file.name}: ${e.message}`;
  }
});
ui.removeImported.addEventListener('click', () => {
  state.comparison = null;
  redraw();
  ui.keepText.textContent = 'The imported sweep was removed from the charts.';
});
ui.resume.addEventListener('click', resume);
$('clear-saved').addEventListener('click', clearSaved);
$('clear-saved-banner').addEventListener('click', clearSaved);
addPngButtons(document);

$('continue-cpu').addEventListener('click', () => continueSweep('cpu'));
$('continue-gpu').addEventListener('click', () => continueSweep('webgpu'));

newWorker();
if (!('gpu' in navigator)) {
  ui.backend.textContent = 'This browser does not offer WebGPU: batchlab will train on the CPU (slower than a GPU; a recent Chrome or Edge trains on the GPU).';
  ui.backend.hidden = false;
}
updateShare();
restored = restoreSaved();
worker.postMessage({ type: 'parse', params: Object.fromEntries(new URLSearchParams(location.search)) });
