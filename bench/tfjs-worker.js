// The benchmark's TensorFlow.js side (a classic Web Worker: TF.js ships as UMD scripts): the same
// LeNet-5 as batchlab (src/model.rs: conv 5x5 1→6 padding 2, ReLU, max-pool 2, conv 5x5 6→16,
// ReLU, max-pool 2, dense 120, 84, 10), Adam (lr 0.001), softmax cross-entropy, the same batch
// sizes and MNIST images, timed with the same protocol as src/bench.rs: chunks of about a quarter
// of a second of steps, each ended by reading a value back (which waits for the GPU); the first
// chunk (one micro-batch: shader compilation) and a warm-up are not measured; then windows of at
// least `windowSeconds`; the median is reported (bench/protocol.js). Batches above 1,024 images are one Adam step
// over gradients summed across micro-batches of 1,024, as batchlab does. Each batch is uploaded
// from JavaScript arrays, as TF.js programs usually feed data.
//   in:  { backend: 'webgl' | 'cpu' | 'webgpu' | 'wasm', batchSizes, options, trainSize }
//   out: { type: 'log', text } | { type: 'backend', backend, version } | { type: 'training', figures }
//        | { type: 'evaluation', figures } | { type: 'done' } | { type: 'error', message }
// The WebGPU call counter first, before TF.js touches WebGPU; then the timing protocol.
importScripts('gpu-calls.js', 'protocol.js');
importScripts('../node_modules/@tensorflow/tfjs/dist/tf.min.js');
importScripts('../node_modules/@tensorflow/tfjs-backend-webgpu/dist/tf-backend-webgpu.min.js');
importScripts('../node_modules/@tensorflow/tfjs-backend-wasm/dist/tf-backend-wasm.min.js');
tf.wasm.setWasmPaths(new URL('../node_modules/@tensorflow/tfjs-backend-wasm/dist/', self.location.href).href);

const MICRO = 1024;
const { measure, median, trainingFigures, loadMnist, batches } = self.benchProtocol;
const post = (message) => self.postMessage(message);
const now = () => performance.now() / 1000;

function lenet5() {
  return tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 6, kernelSize: 5, padding: 'same', activation: 'relu' }),
      tf.layers.maxPooling2d({ poolSize: 2, strides: 2 }),
      tf.layers.conv2d({ filters: 16, kernelSize: 5, activation: 'relu' }),
      tf.layers.maxPooling2d({ poolSize: 2, strides: 2 }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 120, activation: 'relu' }),
      tf.layers.dense({ units: 84, activation: 'relu' }),
      tf.layers.dense({ units: 10 }),
    ],
  });
}

self.onmessage = async ({ data: job }) => {
  try {
    // setBackend resolves to false (it does not throw) when the backend cannot start; TF.js
    // would then quietly train on its default backend.
    if (!(await tf.setBackend(job.backend))) throw new Error(`TF.js could not start its ${job.backend} backend`);
    await tf.ready();
    if (tf.getBackend() !== job.backend) throw new Error(`TF.js runs on ${tf.getBackend()}, not ${job.backend}`);
    post({ type: 'backend', backend: tf.getBackend(), version: tf.version.tfjs });
    const n = job.trainSize;
    const { images, labels, testImages } = await loadMnist(n);

    for (const batchSize of job.batchSizes) {
      post({ type: 'log', text: `TF.js ${job.backend}, batch size ${batchSize}…` });
      const start = now();
      const model = lenet5();
      const optimizer = tf.train.adam(0.001);
      const sampler = batches(images, labels, n, batchSize, MICRO);
      let grads = null; // summed gradients of the step under way
      let steps = 0;
      let firstStepSeconds = null;
      let last = null; // the last loss, read by sync()
      const unit = () => {
        const { x, y, size: m, share: scale, endsStep } = sampler.next();
        const { value, grads: g } = tf.tidy(() => tf.variableGrads(() => {
          const logits = model.apply(tf.tensor4d(x, [m, 28, 28, 1]), { training: true });
          return tf.losses.softmaxCrossEntropy(tf.oneHot(tf.tensor1d(y, 'int32'), 10), logits).mul(scale);
        }));
        if (grads === null) grads = g;
        else {
          const summed = {};
          for (const k of Object.keys(g)) summed[k] = tf.add(grads[k], g[k]);
          tf.dispose([Object.values(grads), Object.values(g)]);
          grads = summed;
        }
        last?.dispose();
        last = value;
        if (endsStep) {
          optimizer.applyGradients(grads);
          tf.dispose(Object.values(grads));
          grads = null;
          steps++;
        }
        return m;
      };
      const sync = async () => {
        await last.data();
        if (firstStepSeconds === null && steps > 0) firstStepSeconds = now() - start;
      };
      try {
        const m = await measure(unit, sync, job.options);
        post({ type: 'training', figures: trainingFigures(batchSize, n, start, m, firstStepSeconds) });
      } catch (e) {
        post({ type: 'training', figures: { batchSize, error: e.message ?? String(e) } });
      } finally {
        last?.dispose();
        last = null;
        if (grads) tf.dispose(Object.values(grads));
        optimizer.dispose();
        model.dispose();
      }
    }

    // Evaluation: forward passes of 1,000 test images, correct answers summed on the device.
    const model = lenet5();
    let at = 0;
    let correct = null;
    const unit = () => {
      const m = Math.min(1000, 10000 - at);
      const c = tf.tidy(() => {
        const x = tf.tensor4d(testImages.subarray(at * 784, (at + m) * 784), [m, 28, 28, 1]);
        return model.predict(x).argMax(1).sum();
      });
      correct?.dispose();
      correct = c;
      at = (at + m) % 10000;
      return m;
    };
    const m = await measure(unit, () => correct.data(), job.options);
    post({ type: 'evaluation', figures: { evalBatch: 1000, imagesPerSecond: median(m.windows), windows: m.windows } });
    post({ type: 'done' });
  } catch (e) {
    post({ type: 'error', message: e.message ?? String(e) });
  }
};
