// The benchmark's batchlab side: a module Web Worker, as on the page (www/worker.js), that loads
// the trainer and MNIST and measures training and evaluation with the trainer's own benchmark
// functions (src/bench.rs, exported as benchTraining / benchEvaluation), counting the WebGPU
// calls of the measured chunks (gpu-calls.js).
//   in:  { backend: 'webgpu' | 'cpu', batchSizes, trainSize, options, epochBatchSizes, webgpu }
//        (options as benchTraining takes them: src/bench.rs BenchOptions)
//   out: { type: 'log', text } | { type: 'backend', backend, reason, adapter }
//        | { type: 'training', figures } | { type: 'evaluation', figures }
//        | { type: 'done' } | { type: 'error', message }
// The WebGPU call counter first (module imports run in order), before the trainer touches WebGPU.
import './gpu-calls.js';
import init, { initWebGpu, chooseBackend, parseSettings, MnistData, benchTraining, benchEvaluation } from '../www/pkg/batchlab.js';
import { loadMnist } from '../www/mnist.js';

const post = (message) => self.postMessage(message);
const messageOf = (e) => (e instanceof Error ? e.message : (e?.message ?? String(e)));

self.onmessage = async ({ data: job }) => {
  try {
    await init();
    const settings = parseSettings({
      batch: '64', epochs: '1', train: String(job.trainSize), test: '10000', optimizer: 'adam', lr: '0.001',
      seed: '42', backend: job.backend,
    });
    let webgpu = {};
    if (job.backend === 'webgpu') {
      // `job.webgpu`: initWebGpu's options (e.g. `{ tasksMax }`), for an ablation.
      const adapter = await initWebGpu(job.webgpu);
      const gpu = await navigator.gpu.requestAdapter({ powerPreference: 'high-performance' });
      const info = gpu?.info ?? {};
      const software = adapter.deviceType === 'Cpu' || Boolean(info.isFallbackAdapter);
      webgpu = { adapter: [info.vendor, info.architecture, info.description].filter(Boolean).join(' · ') || adapter.description, software };
    }
    const choice = chooseBackend(job.backend, webgpu);
    post({ type: 'backend', backend: choice.backend, reason: choice.reason, adapter: webgpu.adapter ?? null });
    const data = await loadMnist(MnistData, null, job.trainSize);
    for (const batchSize of job.batchSizes) {
      post({ type: 'log', text: `batchlab ${job.backend}, batch size ${batchSize}…` });
      const options = { ...job.options, epoch: job.epochBatchSizes.includes(batchSize) };
      // The WebGPU calls of the measured chunks (the trainer tells each chunk's edges), per step.
      const calls = self.gpuCalls.tally();
      const onChunk = (edge, n) => (edge === 'start' ? calls.start() : calls.measured(n));
      try {
        const figures = await benchTraining(data, settings, batchSize, options, onChunk);
        figures.calls = calls.perStep(Math.min(batchSize, job.trainSize));
        post({ type: 'training', figures });
      } catch (e) {
        post({ type: 'training', figures: { batchSize, error: messageOf(e) } });
      }
    }
    if (!job.options.hostBatches) post({ type: 'evaluation', figures: await benchEvaluation(data, settings, job.options) });
    post({ type: 'done' });
  } catch (e) {
    post({ type: 'error', message: messageOf(e) });
  }
};
