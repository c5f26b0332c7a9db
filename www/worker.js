// The training worker: loads the wasm trainer and MNIST, and trains off the page's main thread
// so the page never freezes. It talks to main.js with plain messages:
//   in:  {type: 'parse', params, estimate}   params: URL parameters as an object of strings;
//                                  estimate: echoed back (the page then estimates the duration)
//        {type: 'start', params, finished, checkpoints}   parse, choose the backend, load what is
//                                  missing, then train (`finished`: keys of runs to skip, a
//                                  continuation's; `checkpoints`: Uint8Arrays, runs that go on
//                                  from their last finished epoch)
//        {type: 'estimate', params}   like start, but only measure a few steps per batch size
//        {type: 'findings', runs, testSize}   state the six findings from run summaries
//        {type: 'scaling', runs}              the critical batch size fit alone (scalingFit), with
//                                             the spread over seeds (seedSummaries)
//        {type: 'export', id, sweep, format}   write a sweep as a file ('json', 'epochs.csv', 'runs.csv')
//        {type: 'import', id, text}    read and check a JSON export
//        {type: 'stop'}            end the sweep at the next chunk (a fraction of a second)
//        {type: 'loseDevice'}      tests: destroy the WebGPU device, as a GPU reset would
//        {type: 'panic', message}  tests: make the trainer panic, as a bug would
//   out: {type: 'settings', settings, estimate, version} | {type: 'settingsError', parameter, message, defaults?, version?}
//        {type: 'file', id, text?, sweep?, message?}   the answer to 'export' (text) or 'import'
//                                  (sweep); message: why it failed
//        {type: 'started', settings} | {type: 'loading', message, fraction}
//        {type: 'backend', backend, reason, adapter, triedWebGpu, race}   adapter: WebGPU's name or null;
//                                  race: whether the runs go side by side on this backend
//        {type: 'resuming', keys, refused}   after `started`, before any run: the run keys that go on
//                                  from their checkpoints; refused: [{index, key, message}]
//                                  checkpoints that could not be used (index: in the `start`
//                                  message's list; those runs start from epoch 1)
//        {type: 'runStarted', summary} | {type: 'runResumed', summary, epochs}
//                                  runResumed: a run going on from its checkpoint after `epochs`
//        {type: 'progress', progress}
//                                  progress: {batchSize, epoch, phase, done, total, runningLoss} of
//                                  the run that advanced, running: the same for every run under
//                                  way (batch-size order), etaSeconds: the sweep's time left
//                                  (null until measured); trial: {number, count, learningRate}
//                                  for a learning-rate trial; check: a validation check just
//                                  finished ({steps, samples, trainSeconds, valLoss,
//                                  valAccuracy, images}). With `race` the runs take turns, chunk
//                                  by chunk: every runStarted comes first, records interleave.
//        {type: 'epoch', record, summary, checkpoint, checkpointError}
//                                  checkpoint: {epoch, bytes} (a Uint8Array, ~0.75 MB) while the
//                                  run goes on (every optimiser, CPU and WebGPU); else null. checkpointError:
//                                  why none could be written, in words (else absent)
//        {type: 'diverged', batchSize, epoch, summary}
//        {type: 'trialStarted', batchSize, series, trial} | {type: 'trial', batchSize, series, trial, tuning}
//                                  series: the run's line label with several seeds or arms (else absent)
//                                  learning-rate trials (lrpolicy=tuned): trial {number, count,
//                                  learningRate}; then the trial's outcome and the tuning so far
//        {type: 'estimate', estimate} | {type: 'findings', findings, arms, seedSummaries, scaling}
//                                  | {type: 'scaling', scaling}
//                                  arms: the findings per arm (findingsByArm), seedSummaries: mean
//                                  and spread over seeds per batch size and arm (seedSummaries)
//                                  scaling: the critical batch size fit (scalingFit)
//        {type: 'memory', batchSize, epoch, usage}     usage: {wasmBytes, deviceBytes}
//        {type: 'done'} | {type: 'stopped'} | {type: 'error', message}
//        {type: 'deviceLost', reason}                  the GPU device was lost mid-sweep
//        {type: 'panic', message, location}            posted by the wasm panic hook
//        {type: 'trainerLoading', message, fraction}   the module's download (fraction: 0–1, or
//                                  null when the size is unknown), before the first answer
import { loadMnist as fetchMnist } from './mnist.js';
import init, {
  initWebGpu, chooseBackend, settingsFor, memoryUsage, loseWebGpuDevice, panicForTest, parseSettings, MnistData, Trainer,
  estimateDuration, findings, findingsByArm, seedSummaries, scalingFit, exportSweep, importSweep, version,
} from './pkg/batchlab.js';

/** Milliseconds of training per call into wasm: bounds Stop's latency and the progress rate. */
const CHUNK_MS = 250;
/** Some browsers never answer a WebGPU adapter request instead of answering "none". */
const WEBGPU_TIMEOUT_MS = 20_000;

const MB = 1e6;

/**
 * The trainer's module, fetched with its download reported (`trainerLoading` messages, counted
 * on a clone of the response), and handed on as the fetched Response itself: the browser still
 * compiles it while it streams in (`instantiateStreaming`) and can cache the compiled code.
 */
async function fetchModule() {
  const response = await fetch(new URL('./pkg/batchlab_bg.wasm', import.meta.url));
  if (!response.ok || !response.body) return response;
  const total = Number(response.headers.get('Content-Length')) || 0;
  // A compressed transfer's length is not the length of the bytes read: then no sizes are shown.
  const sized = total > 0 && !response.headers.get('Content-Encoding');
  const reader = response.clone().body.getReader();
  (async () => {
    let received = 0;
    let shown = -1;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      received += value.byteLength;
      const percent = sized ? Math.min(100, Math.floor((100 * received) / total)) : 0;
      if (percent === shown) continue;
      shown = percent;
      post({
        type: 'trainerLoading',
        fraction: sized ? Math.min(1, received / total) : null,
        message: sized ? `Loading the trainer (${(received / MB).toFixed(1)} of ${(total / MB).toFixed(1)} MB)…` : 'Loading the trainer…',
      });
    }
  })().catch(() => {}); // a failed download is reported by the module's initialisation
  return response;
}

let ready = null; // Promise of the wasm module's initialisation
let mnist = null; // MnistData: the test set and the training parts downloaded so far
let stopRequested = false;
let running = false;

const post = (message, transfer = []) => self.postMessage(message, transfer);

let mnistLoading = Promise.resolve(); // the last download started: downloads run one at a time

/**
 * Makes sure MNIST holds `trainSize` training images (and the last part, from which `valSize`
 * validation images are held out), downloading only the parts missing.
 * Downloads run one after another (a refused sweep's download may still be running when the
 * next Start asks for more), so that no part is added twice. After a failure the next call
 * starts from nothing: a half-added download is not kept.
 */
function loadMnist(trainSize, valSize = 0) {
  const load = mnistLoading.catch(() => {}).then(async () => {
    try {
      mnist = await fetchMnist(MnistData, mnist, trainSize, (message, fraction) => post({ type: 'loading', message, fraction }), valSize);
    } catch (e) {
      mnist?.free();
      mnist = null;
      throw e;
    }
    return mnist;
  });
  mnistLoading = load;
  return load;
}

/**
 * Names the adapter for people and tells whether it is a software renderer. Inside the browser
 * wgpu reports no adapter name, so ask WebGPU itself, with the power preference wgpu uses (high
 * performance), i.e. for the same adapter.
 */
async function describeAdapter(adapter) {
  let software = adapter.deviceType === 'Cpu';
  try {
    const gpu = await navigator.gpu.requestAdapter({ powerPreference: 'high-performance' });
    const info = gpu?.info ?? {};
    software ||= Boolean(info.isFallbackAdapter || gpu?.isFallbackAdapter);
    const name = adapter.name || [info.vendor, info.architecture, info.device, info.description].filter(Boolean).join(' · ');
    return { name: `${name || 'unnamed WebGPU adapter'}${software ? ' (software rendering, on the CPU)' : ''}`, software };
  } catch {
    return { name: adapter.description, software };
  }
}

/** Starts WebGPU; resolves to `{ adapter, software }` or `{ error }` (a clause for a sentence). */
async function startWebGpu() {
  if (!('gpu' in navigator)) return { error: 'it does not offer WebGPU (navigator.gpu is missing).' };
  try {
    const adapter = await Promise.race([
      initWebGpu(),
      new Promise((_, reject) => setTimeout(() => reject(new Error(
        `it did not answer a request for a WebGPU adapter within ${WEBGPU_TIMEOUT_MS / 1000} s.`)), WEBGPU_TIMEOUT_MS)),
    ]);
    const { name, software } = await describeAdapter(adapter);
    return { adapter: name, software };
  } catch (e) {
    return { error: e instanceof Error ? e.message : String(e) };
  }
}

function settingsOrRefusal(params) {
  try {
    return { settings: parseSettings(params) };
  } catch (e) {
    if (e && typeof e === 'object' && 'parameter' in e) return { refusal: e };
    throw e;
  }
}

/** Memory in use now (bytes): the wasm memory, and burn's device memory on WebGPU (else null). */
function memorySample() {
  const { wasmBytes, deviceBytes } = memoryUsage();
  return { wasmBytes, deviceBytes: deviceBytes ?? null };
}

/**
 * Parses `params`, chooses and starts the backend, loads MNIST: what a sweep and an estimate
 * both need. Resolves to `{ settings, data, backend }`, or null after posting a refusal.
 */
async function prepare(params) {
  await ready;
  const { settings, refusal } = settingsOrRefusal(params);
  if (refusal) {
    post({ type: 'settingsError', parameter: refusal.parameter, message: refusal.message });
    return null;
  }
  post({ type: 'started', settings });
  // The download runs while WebGPU starts.
  const data = loadMnist(settings.trainSize, settings.valSize ?? 0);
  data.catch(() => {}); // awaited below; an early failure must not go unhandled meanwhile
  let webgpu = {};
  // WebGPU is started for auto and webgpu; cpu does without it, and cuda is refused in words.
  if (settings.backend === 'auto' || settings.backend === 'webgpu') {
    post({ type: 'loading', message: 'Starting WebGPU…', fraction: 0 });
    webgpu = await startWebGpu();
  }
  const choice = chooseBackend(settings.backend, webgpu);
  const { backend } = choice;
  // A link without `race`: side by side on the CPU, one after another on WebGPU (the trainer decides).
  const resolved = settingsFor(settings, backend);
  post({ type: 'backend', backend, reason: choice.reason, adapter: webgpu.adapter ?? null, triedWebGpu: settings.backend === 'auto' || settings.backend === 'webgpu', race: resolved.race });
  return { settings: resolved, data: await data, backend };
}

/** Posts a failure: a lost device, a refused setting, or any other error. */
function report(e) {
  // The trainer classifies device failures (src/train.rs, TrainError::from_read).
  if (e?.kind === 'deviceLost') post({ type: 'deviceLost', reason: e.reason });
  else if (e && typeof e === 'object' && 'parameter' in e) post({ type: 'settingsError', parameter: e.parameter, message: e.message });
  else post({ type: 'error', message: e instanceof Error ? e.message : (e?.message ?? String(e)) });
}

/**
 * The checkpoint of the run whose epoch `event` ended, while it goes on (`{ checkpoint, checkpointError }`:
 * `{ epoch, bytes }` or null).
 */
async function checkpointAfter(trainer, event) {
  if (event.summary.status !== 'running') return { checkpoint: null };
  try {
    const bytes = await trainer.checkpoint(event.record.batchSize, event.summary.series ?? undefined);
    return { checkpoint: bytes ? { epoch: event.record.epoch, bytes } : null };
  } catch (e) {
    return { checkpoint: null, checkpointError: e instanceof Error ? e.message : String(e) };
  }
}

async function train(params, finished, checkpoints) {
  running = true;
  stopRequested = false;
  try {
    const prepared = await prepare(params);
    if (!prepared) return;
    const { settings, data, backend } = prepared;
    const trainer = new Trainer(data, settings, finished ?? null, checkpoints ?? null);
    post({ type: 'resuming', ...trainer.resuming() });
    post({ type: 'loading', message: backend === 'webgpu' ? 'Preparing the GPU kernels (the first step takes longest)…' : 'Training on the CPU…', fraction: 0 });
    try {
      for (;;) {
        if (stopRequested) {
          post({ type: 'stopped' });
          return;
        }
        const event = await trainer.advance(CHUNK_MS);
        if (event.kind === 'done') break;
        if (event.kind === 'progress') post({ type: 'progress', progress: event.progress });
        else if (event.kind === 'runStarted') post({ type: 'runStarted', summary: event.summary });
        else if (event.kind === 'runResumed') post({ type: 'runResumed', summary: event.summary, epochs: event.epochs });
        else if (event.kind === 'epoch') {
          // The run's checkpoint travels with its epoch: the page saves both at once.
          const kept = await checkpointAfter(trainer, event);
          post({ type: 'epoch', record: event.record, summary: event.summary, ...kept }, kept.checkpoint ? [kept.checkpoint.bytes.buffer] : []);
          post({ type: 'memory', batchSize: event.record.batchSize, epoch: event.record.epoch, usage: memorySample() });
        } else if (event.kind === 'diverged') post({ type: 'diverged', batchSize: event.batchSize, epoch: event.epoch, summary: event.summary });
        else if (event.kind === 'trialStarted') post({ type: 'trialStarted', batchSize: event.batchSize, series: event.series, trial: event.trial });
        else if (event.kind === 'trial') post({ type: 'trial', batchSize: event.batchSize, series: event.series, trial: event.trial, tuning: event.tuning });
        // Let the Stop message in: a chunk on the CPU side may not have yielded.
        await new Promise((resolve) => setTimeout(resolve, 0));
      }
    } finally {
      trainer.free();
    }
    post({ type: 'done' });
  } catch (e) {
    report(e);
  } finally {
    running = false;
  }
}

async function estimate(params) {
  running = true;
  try {
    const prepared = await prepare(params);
    if (!prepared) return;
    post({ type: 'loading', message: 'Measuring a few steps at each batch size…', fraction: 0 });
    post({ type: 'estimate', estimate: await estimateDuration(prepared.data, prepared.settings) });
  } catch (e) {
    report(e);
  } finally {
    running = false;
  }
}

// The module starts loading as soon as the worker does, before the page's first message.
ready = init({ module_or_path: fetchModule() });
ready.catch(() => {}); // reported by the first message that awaits it

self.onmessage = async ({ data: message }) => {
  switch (message.type) {
    case 'parse':
      try {
        await ready;
        const { settings, refusal } = settingsOrRefusal(message.params);
        // With a refusal come the defaults, so the controls are never left empty.
        post(refusal ? { type: 'settingsError', parameter: refusal.parameter, message: refusal.message, defaults: parseSettings({}), version: version() }
                     : { type: 'settings', settings, estimate: Boolean(message.estimate), version: version() });
      } catch (e) {
        post({ type: 'error', message: e instanceof Error ? e.message : String(e) });
      }
      break;
    case 'start':
      if (!running) train(message.params, message.finished, message.checkpoints);
      break;
    case 'estimate':
      if (!running) estimate(message.params);
      break;
    case 'findings':
      try {
        await ready;
        post({
          type: 'findings',
          findings: findings(message.runs, message.testSize),
          arms: findingsByArm(message.runs, message.testSize),
          seedSummaries: seedSummaries(message.runs),
          scaling: scalingFit(message.runs),
        });
      } catch (e) {
        post({ type: 'error', message: e instanceof Error ? e.message : String(e) });
      }
      break;
    case 'scaling':
      try {
        await ready;
        post({ type: 'scaling', scaling: scalingFit(message.runs), seedSummaries: seedSummaries(message.runs) });
      } catch (e) {
        post({ type: 'error', message: e instanceof Error ? e.message : String(e) });
      }
      break;
    case 'export':
    case 'import':
      // Answered with the request's id; a failure is the file's, not the sweep's.
      try {
        await ready;
        post(message.type === 'export'
          ? { type: 'file', id: message.id, text: exportSweep(message.sweep, message.format) }
          : { type: 'file', id: message.id, sweep: importSweep(message.text) });
      } catch (e) {
        post({ type: 'file', id: message.id, message: e instanceof Error ? e.message : String(e) });
      }
      break;
    case 'stop':
      stopRequested = true;
      break;
    case 'loseDevice':
      await ready;
      loseWebGpuDevice();
      break;
    case 'panic':
      await ready;
      try {
        panicForTest(message.message ?? 'a test panic');
      } catch {
        // The module trapped after its panic hook posted the panic: the page already knows,
        // and replaces this worker.
      }
      break;
  }
};
