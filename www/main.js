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
//   window.batchlab.memory   memory in use after each epoch (array of plain objects)
//   window.batchlab.stop()   end the sweep within about a second, keeping finished epochs
//   window.batchlab.continueSweep(backend)  after a lost GPU device: train the runs not finished,
//                            on 'cpu' or 'webgpu' (a new device); returns false when nothing to continue
//   window.batchlab.simulate.deviceLoss()   tests: destroy the WebGPU device mid-run
//   window.batchlab.simulate.panic(message) tests: make the trainer panic
import { createCharts } from './charts.js';

/** URL parameters that describe a sweep, in the order they are shown. */
const PARAMETERS = ['batch', 'epochs', 'lr', 'optimizer', 'seed', 'train', 'test', 'backend'];
/** How long Stop waits for the worker to finish its chunk before ending the worker outright. */
const STOP_GRACE_MS = 1000;

const $ = (id) => document.getElementById(id);
const ui = {
  form: $('controls'),
  start: $('start'),
  stop: $('stop'),
  notice: $('notice'),
  status: $('status-text'),
  progress: $('progress'),
  adapter: $('adapter'),
  backend: $('backend'),
  recover: $('recover'),
  tbody: document.querySelector('#results tbody'),
};

const state = {
  status: 'idle', error: null, adapter: null, backend: null, backendReason: null, results: [], memory: [],
  /** The sweep under way or last run: `{ params, settings, finished: Set of batch sizes }`. */
  sweep: null,
  /** Batch size → label suffix of a run restarted after a lost device. */
  reruns: new Map(),
};
window.batchlab = {
  get status() { return state.status; },
  get error() { return state.error; },
  get adapter() { return state.adapter; },
  get backend() { return state.backend; },
  get backendReason() { return state.backendReason; },
  get results() { return state.results.map((r) => ({ ...r })); },
  get memory() { return state.memory.map((m) => ({ ...m })); },
  stop,
  continueSweep,
  simulate: {
    deviceLoss: () => worker.postMessage({ type: 'loseDevice' }),
    panic: (message) => worker.postMessage({ type: 'panic', message: String(message ?? 'a test panic') }),
  },
};

const charts = createCharts({ accuracy: $('chart-accuracy'), loss: $('chart-loss'), time: $('chart-time') });
let worker = null;
let stopTimer = null;
let epochsPerRun = 0;

const isBusy = (status) => status === 'loading' || status === 'training';

function setStatus(status, text) {
  state.status = status;
  ui.status.textContent = text;
  const busy = isBusy(status);
  ui.start.disabled = busy;
  ui.stop.disabled = !busy;
  document.body.dataset.status = status;
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
  state.error = message;
  notify(message);
  ui.recover.hidden = true;
  setStatus('error', 'Stopped by an error; finished epochs are kept below.');
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
  ui.form.batch.value = settings.batchSizes.join(',');
  ui.form.epochs.value = settings.epochs;
  ui.form.lr.value = settings.learningRate;
  ui.form.optimizer.value = settings.optimizer;
  ui.form.seed.value = settings.seed;
  ui.form.train.value = settings.trainSize;
  ui.form.test.value = settings.testSize;
  ui.form.backend.value = settings.backend;
  epochsPerRun = settings.epochs;
}

/** The controls as URL parameters; an empty control falls back to the default. */
function controlParams() {
  return Object.fromEntries(PARAMETERS.map((name) => [name, ui.form[name].value.trim()]).filter(([, v]) => v !== ''));
}

function onMessage({ data: m }) {
  switch (m.type) {
    case 'settings':
      fillControls(m.settings);
      if (new URLSearchParams(location.search).get('autorun') === '1') start();
      break;
    case 'settingsError':
      if (m.defaults) fillControls(m.defaults);
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
      state.sweep.settings = m.settings;
      epochsPerRun = m.settings.epochs;
      break;
    case 'backend':
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
      const phase = p.phase === 'train' ? 'training' : 'testing';
      const loss = p.runningLoss == null ? '' : ` · loss ${number(p.runningLoss, 3)}`;
      setStatus('training', `Batch size ${p.batchSize.toLocaleString('en')} · epoch ${p.epoch} of ${epochsPerRun} · ${phase} ${p.done.toLocaleString('en')} / ${p.total.toLocaleString('en')} images${loss}`);
      ui.progress.value = p.done / p.total;
      break;
    }
    case 'epoch': {
      const record = { ...m.record, backend: state.backend };
      const rerun = state.reruns.get(record.batchSize);
      if (rerun) record.series = `${record.batchSize} ${rerun}`;
      if (record.epoch === state.sweep.settings.epochs) state.sweep.finished.add(record.batchSize);
      state.results.push(record);
      addRow(record);
      charts.add(record);
      break;
    }
    case 'diverged':
      state.sweep.finished.add(m.batchSize);
      // Several runs may diverge: each keeps its line in the notice.
      notify([ui.notice.hidden ? '' : ui.notice.textContent,
        `Batch size ${m.batchSize} diverged in epoch ${m.epoch}: its loss became infinite or NaN (try a smaller learning rate). The sweep goes on with the next batch size.`,
      ].filter(Boolean).join('\n'));
      break;
    case 'done':
      setStatus('done', `Done: ${epochs(state.results.length)} trained.`);
      ui.progress.value = 1;
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
      deviceLost(m.message);
      break;
    case 'panic':
      newWorker();
      fail(`The trainer crashed, a bug in batchlab: “${m.message}” (${m.location}). ` +
        `${finishedText()} Press Start to begin a new sweep.`);
      break;
  }
}

const finishedText = () => (state.results.length === 1 ? 'The finished epoch is kept.'
  : `The ${epochs(state.results.length)} finished are kept.`);

/** The batch sizes of the current sweep that have not finished all their epochs. */
const unfinished = () => (state.sweep?.settings?.batchSizes ?? []).filter((b) => !state.sweep.finished.has(b));

/** `reason`: the trainer's sentence, e.g. "the GPU device was lost (Destroyed: …)". */
function deviceLost(reason) {
  const left = unfinished();
  const message = `${reason.charAt(0).toUpperCase()}${reason.slice(1)}. ${finishedText()}` +
    (left.length ? ` Batch size${left.length === 1 ? '' : 's'} ${left.map((b) => b.toLocaleString('en')).join(', ')} ` +
      `${left.length === 1 ? 'is' : 'are'} left: continue the sweep on the CPU or on a new GPU device (an interrupted run starts again from its first epoch).` : '');
  state.error = message;
  notify(message);
  ui.recover.hidden = left.length === 0;
  setStatus('error', 'Interrupted: the GPU device was lost; finished epochs are kept below.');
}

/**
 * After a lost GPU device: trains the batch sizes not finished, on `backend` ('cpu', or
 * 'webgpu' for a new device), appending to the results. Returns false when nothing is left.
 */
function continueSweep(backend) {
  if (isBusy(state.status) || !state.sweep?.settings) return false;
  const left = unfinished();
  if (left.length === 0 || !['cpu', 'webgpu'].includes(backend)) return false;
  // Epochs of a run cut short stay in the results; its restart is drawn as a line of its own.
  for (const b of left) {
    if (state.results.some((r) => r.batchSize === b && !state.reruns.has(b))) {
      state.reruns.set(b, backend === 'cpu' ? '(restarted on the CPU)' : '(restarted on a new GPU device)');
    }
  }
  run({ ...state.sweep.params, batch: left.join(','), backend }, { keep: true });
  return true;
}

/** Starts a training worker, replacing (and ending) the current one. Messages from a replaced
 * worker are ignored. */
function newWorker() {
  worker?.terminate();
  const w = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
  w.onmessage = (e) => { if (w === worker) onMessage(e); };
  w.onerror = (e) => {
    if (w !== worker) return;
    fail(`The training worker failed: ${e.message || 'it could not be loaded'}`);
    newWorker();
  };
  worker = w;
}

function start() {
  run(controlParams(), { keep: false });
}

/** Starts a sweep of `params` in the worker; `keep` keeps the results so far (a continuation). */
function run(params, { keep }) {
  if (isBusy(state.status)) return;
  state.error = null;
  if (!keep) {
    state.results = [];
    state.memory = [];
    state.reruns = new Map();
    ui.tbody.replaceChildren();
    charts.reset();
  }
  const finished = keep ? state.sweep.finished : new Set();
  state.sweep = { params: keep ? state.sweep.params : params, settings: keep ? state.sweep.settings : null, finished };
  notify(null);
  ui.recover.hidden = true;
  epochsPerRun = Number(ui.form.epochs.value) || epochsPerRun;
  setStatus('loading', 'Starting…');
  ui.progress.value = 0;
  worker.postMessage({ type: 'start', params });
}

function stopped() {
  setStatus('stopped', `Stopped: ${state.results.length === 1 ? 'the finished epoch is' : `${epochs(state.results.length)} finished are`} kept.`);
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
$('continue-cpu').addEventListener('click', () => continueSweep('cpu'));
$('continue-gpu').addEventListener('click', () => continueSweep('webgpu'));

newWorker();
if (!('gpu' in navigator)) {
  ui.backend.textContent = 'This browser does not offer WebGPU: batchlab will train on the CPU (slower than a GPU; a recent Chrome or Edge trains on the GPU).';
  ui.backend.hidden = false;
}
worker.postMessage({ type: 'parse', params: Object.fromEntries(new URLSearchParams(location.search)) });
