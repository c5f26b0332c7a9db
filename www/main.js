// The page: reads the URL, wires the controls, forwards work to the training worker, and draws
// what it streams back. All training logic lives in Rust (worker.js → pkg/batchlab.js).
//
// Public scripting interface (documented in the README; keep it stable):
//   window.batchlab.status   'idle' | 'loading' | 'training' | 'done' | 'stopped' | 'error'
//   window.batchlab.error    message (string) or null
//   window.batchlab.adapter  the WebGPU adapter in use (string), or null before start
//   window.batchlab.results  per-epoch records so far (array of plain objects)
//   window.batchlab.stop()   end the sweep within about a second, keeping finished epochs
import { createCharts } from './charts.js';

/** URL parameters that describe a sweep, in the order they are shown. */
const PARAMETERS = ['batch', 'epochs', 'lr', 'optimizer', 'seed', 'train', 'test'];
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
  tbody: document.querySelector('#results tbody'),
};

const state = { status: 'idle', error: null, adapter: null, results: [] };
window.batchlab = {
  get status() { return state.status; },
  get error() { return state.error; },
  get adapter() { return state.adapter; },
  get results() { return state.results.map((r) => ({ ...r })); },
  stop,
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
  setStatus('error', 'Stopped by an error; finished epochs are kept below.');
}

const epochs = (n) => `${n} epoch${n === 1 ? '' : 's'}`;
const percent = (fraction) => `${(100 * fraction).toFixed(2)} %`;
const number = (x, digits) => x.toLocaleString('en', { maximumFractionDigits: digits, minimumFractionDigits: digits });

function addRow(r) {
  const cells = [
    r.batchSize.toLocaleString('en'), r.epoch, r.steps.toLocaleString('en'), r.samples.toLocaleString('en'),
    number(r.trainLoss, 4), percent(r.trainAccuracy), number(r.testLoss, 4), percent(r.testAccuracy),
    number(r.trainSeconds, 1), number(r.samplesPerSecond, 0),
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
    case 'adapter':
      state.adapter = m.adapter.description;
      ui.adapter.textContent = `GPU adapter: ${m.adapter.description}`;
      break;
    case 'progress': {
      const p = m.progress;
      const phase = p.phase === 'train' ? 'training' : 'testing';
      const loss = p.runningLoss == null ? '' : ` · loss ${number(p.runningLoss, 3)}`;
      setStatus('training', `Batch size ${p.batchSize.toLocaleString('en')} · epoch ${p.epoch} of ${epochsPerRun} · ${phase} ${p.done.toLocaleString('en')} / ${p.total.toLocaleString('en')} images${loss}`);
      ui.progress.value = p.done / p.total;
      break;
    }
    case 'epoch':
      state.results.push(m.record);
      addRow(m.record);
      charts.add(m.record);
      break;
    case 'diverged':
      notify(`Batch size ${m.batchSize} diverged in epoch ${m.epoch}: its loss became infinite or NaN (try a smaller learning rate). The sweep goes on with the next batch size.`);
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
  }
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
  if (state.status === 'loading' || state.status === 'training') return;
  state.error = null;
  state.results = [];
  ui.tbody.replaceChildren();
  charts.reset();
  notify(null);
  epochsPerRun = Number(ui.form.epochs.value) || epochsPerRun;
  setStatus('loading', 'Starting…');
  ui.progress.value = 0;
  worker.postMessage({ type: 'start', params: controlParams() });
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

newWorker();
if (!('gpu' in navigator)) {
  notify('This browser does not offer WebGPU, which batchlab needs to train. Use a recent Chrome or Edge, or enable WebGPU in your browser’s settings.');
}
worker.postMessage({ type: 'parse', params: Object.fromEntries(new URLSearchParams(location.search)) });
