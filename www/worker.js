// The training worker: loads the wasm trainer and MNIST, and trains off the page's main thread
// so the page never freezes. It talks to main.js with plain messages:
//   in:  {type: 'parse', params}   params: URL parameters as an object of strings
//        {type: 'start', params}   parse, load what is missing, then train the sweep
//        {type: 'stop'}            end the sweep at the next chunk (a fraction of a second)
//   out: {type: 'settings', settings} | {type: 'settingsError', parameter, message}
//        {type: 'loading', message, fraction} | {type: 'adapter', adapter}
//        {type: 'progress', progress} | {type: 'epoch', record} | {type: 'diverged', batchSize, epoch}
//        {type: 'done'} | {type: 'stopped'} | {type: 'error', message}
import init, { initWebGpu, parseSettings, MnistData, Trainer } from './pkg/batchlab.js';

/** Milliseconds of training per call into wasm: bounds Stop's latency and the progress rate. */
const CHUNK_MS = 250;
/** Some browsers never answer a WebGPU adapter request instead of answering "none". */
const WEBGPU_TIMEOUT_MS = 20_000;
const FILES = [
  'train-images-idx3-ubyte',
  'train-labels-idx1-ubyte',
  't10k-images-idx3-ubyte',
  't10k-labels-idx1-ubyte',
];

let ready = null; // Promise of the wasm module's initialisation
let mnist = null; // MnistData, parsed once per worker
let stopRequested = false;
let running = false;

const post = (message) => self.postMessage(message);

/** Reads `data/<name>.gz`, gunzips it as it streams in, and reports progress. */
async function download(name, onBytes) {
  const url = `data/${name}.gz`;
  let response;
  try {
    response = await fetch(url);
  } catch (e) {
    throw new Error(`Could not download ${url}: ${e.message}`);
  }
  if (!response.ok) {
    throw new Error(`Could not download ${url}: the server answered ${response.status} ${response.statusText}`.trim());
  }
  const counter = new TransformStream({
    transform(chunk, controller) {
      onBytes(chunk.byteLength);
      controller.enqueue(chunk);
    },
  });
  try {
    const stream = response.body.pipeThrough(counter).pipeThrough(new DecompressionStream('gzip'));
    return new Uint8Array(await new Response(stream).arrayBuffer());
  } catch (e) {
    throw new Error(`${url} is not valid gzip-compressed data (${e.message}); was an error page served instead?`);
  }
}

async function loadMnist() {
  if (mnist) return mnist;
  // Compressed sizes of the four files, for the progress bar (exact values do not matter).
  const expected = 9_912_422 + 28_881 + 1_648_877 + 4_542;
  let received = 0;
  const onBytes = (n) => {
    received += n;
    post({ type: 'loading', message: 'Downloading MNIST…', fraction: Math.min(1, received / expected) });
  };
  const files = await Promise.all(FILES.map((name) => download(name, onBytes)));
  post({ type: 'loading', message: 'Checking MNIST…', fraction: 1 });
  mnist = new MnistData(...files);
  return mnist;
}

/**
 * Names the adapter for people. Inside the browser wgpu reports no adapter name, so ask WebGPU
 * itself, with the power preference wgpu uses (high performance), i.e. for the same adapter.
 */
async function describeAdapter(adapter) {
  if (adapter.name) return adapter.description;
  try {
    const gpu = await navigator.gpu.requestAdapter({ powerPreference: 'high-performance' });
    const info = gpu?.info ?? {};
    const name = [info.vendor, info.architecture, info.device, info.description].filter(Boolean).join(' · ');
    const software = info.isFallbackAdapter || gpu?.isFallbackAdapter || adapter.deviceType === 'Cpu';
    return `${name || 'unnamed WebGPU adapter'}${software ? ' (software rendering, on the CPU)' : ''}`;
  } catch {
    return adapter.description;
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

async function train(params) {
  running = true;
  stopRequested = false;
  try {
    await ready;
    const { settings, refusal } = settingsOrRefusal(params);
    if (refusal) {
      post({ type: 'settingsError', parameter: refusal.parameter, message: refusal.message });
      return;
    }
    post({ type: 'loading', message: 'Starting WebGPU…', fraction: 0 });
    const adapter = await Promise.race([
      initWebGpu(),
      new Promise((_, reject) => setTimeout(() => reject(new Error(
        `This browser did not answer a request for a WebGPU adapter within ${WEBGPU_TIMEOUT_MS / 1000} s. ` +
        'batchlab needs WebGPU to train: use a browser with WebGPU enabled, such as a recent Chrome or Edge.')), WEBGPU_TIMEOUT_MS)),
    ]);
    adapter.description = await describeAdapter(adapter);
    post({ type: 'adapter', adapter });
    const data = await loadMnist();
    let trainer;
    try {
      trainer = new Trainer(data, settings);
    } catch (e) {
      if (e && typeof e === 'object' && 'parameter' in e) {
        post({ type: 'settingsError', parameter: e.parameter, message: e.message });
        return;
      }
      throw e;
    }
    post({ type: 'loading', message: 'Preparing the GPU kernels (the first step takes longest)…', fraction: 0 });
    try {
      for (;;) {
        if (stopRequested) {
          post({ type: 'stopped' });
          return;
        }
        const event = await trainer.advance(CHUNK_MS);
        if (event.kind === 'done') break;
        if (event.kind === 'progress') post({ type: 'progress', progress: event.progress });
        else if (event.kind === 'epoch') post({ type: 'epoch', record: event.record });
        else if (event.kind === 'diverged') post({ type: 'diverged', batchSize: event.batchSize, epoch: event.epoch });
        // Let the Stop message in: a chunk on the CPU side may not have yielded.
        await new Promise((resolve) => setTimeout(resolve, 0));
      }
    } finally {
      trainer.free();
    }
    post({ type: 'done' });
  } catch (e) {
    post({ type: 'error', message: e instanceof Error ? e.message : String(e) });
  } finally {
    running = false;
  }
}

self.onmessage = async ({ data: message }) => {
  ready ??= init();
  switch (message.type) {
    case 'parse':
      try {
        await ready;
        const { settings, refusal } = settingsOrRefusal(message.params);
        // With a refusal come the defaults, so the controls are never left empty.
        post(refusal ? { type: 'settingsError', parameter: refusal.parameter, message: refusal.message, defaults: parseSettings({}) }
                     : { type: 'settings', settings });
      } catch (e) {
        post({ type: 'error', message: e instanceof Error ? e.message : String(e) });
      }
      break;
    case 'start':
      if (!running) train(message.params);
      break;
    case 'stop':
      stopRequested = true;
      break;
  }
};
