// The benchmark's TensorFlow.js side (a classic Web Worker: TF.js ships as UMD scripts): the same
// LeNet-5 as batchlab (src/model.rs: conv 5x5 1→6 padding 2, ReLU, max-pool 2, conv 5x5 6→16,
// ReLU, max-pool 2, dense 120, 84, 10), Adam (lr 0.001), softmax cross-entropy, the same batch
// sizes and MNIST images, timed with the same protocol as src/bench.rs: chunks of about a quarter
// of a second of steps, each ended by reading a value back (which waits for the GPU); the first
// chunk (one micro-batch: shader compilation) and a warm-up are not measured; then windows of at
// least `windowSeconds`; the median is reported. Batches above 1,024 images are one Adam step
// over gradients summed across micro-batches of 1,024, as batchlab does. Each batch is uploaded
// from JavaScript arrays, as TF.js programs usually feed data.
//   in:  { backend: 'webgl' | 'cpu' | 'webgpu' | 'wasm', batchSizes, options, trainSize }
//   out: { type: 'log', text } | { type: 'backend', backend, version } | { type: 'training', figures }
//        | { type: 'evaluation', figures } | { type: 'done' } | { type: 'error', message }
importScripts('../node_modules/@tensorflow/tfjs/dist/tf.min.js');
importScripts('../node_modules/@tensorflow/tfjs-backend-webgpu/dist/tf-backend-webgpu.min.js');
importScripts('../node_modules/@tensorflow/tfjs-backend-wasm/dist/tf-backend-wasm.min.js');
tf.wasm.setWasmPaths(new URL('../node_modules/@tensorflow/tfjs-backend-wasm/dist/', self.location.href).href);

const MICRO = 1024;
const CHUNK_SECONDS = 0.25;
const MEAN = 0.1307;
const STD = 0.3081;
const post = (message) => self.postMessage(message);
const now = () => performance.now() / 1000;

async function idx(path, header) {
  const response = await fetch(`../www/data/${path}`);
  if (!response.ok) throw new Error(`${path}: ${response.status}`);
  let bytes = new Uint8Array(await response.arrayBuffer());
  // The file is gzip'd, unless the server sent it with `Content-Encoding: gzip` (the browser
  // has then decompressed it already).
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
    const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip'));
    bytes = new Uint8Array(await new Response(stream).arrayBuffer());
  }
  return bytes.subarray(header);
}

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

function median(values) {
  const s = [...values].sort((a, b) => a - b);
  const n = s.length;
  return n === 0 ? 0 : n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/**
 * The protocol of src/bench.rs around `unit()` (does some work, returns its item count) and
 * `sync()` (resolves once the work queued so far is done). Returns `{ firstUnitSeconds, windows,
 * windowSeconds }`.
 */
async function measure(unit, sync, options) {
  const start = now();
  let chunk = 1;
  let warm = null;
  const windows = [];
  const windowSeconds = [];
  let items = 0;
  let seconds = 0;
  let firstUnitSeconds = null;
  while (windows.length < options.windows && !(now() - start > options.limitSeconds && windows.length > 0)) {
    const t0 = now();
    let done = 0;
    for (let i = 0; i < chunk; i++) done += unit();
    await sync();
    const elapsed = now() - t0;
    chunk = Math.max(1, Math.min(2 * chunk, Math.floor(CHUNK_SECONDS / (elapsed / chunk))));
    if (firstUnitSeconds === null) {
      firstUnitSeconds = now() - start;
      warm = 0;
      continue;
    }
    if (warm < options.warmupSeconds) {
      warm += elapsed;
      continue;
    }
    items += done;
    seconds += elapsed;
    if (seconds >= options.windowSeconds) {
      windows.push(items / seconds);
      windowSeconds.push(seconds);
      items = 0;
      seconds = 0;
    }
  }
  if (windows.length === 0 && items > 0) {
    windows.push(items / seconds);
    windowSeconds.push(seconds);
  }
  return { firstUnitSeconds, windows, windowSeconds };
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
    const pixels = (await idx('train-images-idx3-ubyte.gz', 16)).subarray(0, n * 784);
    const labels = (await idx('train-labels-idx1-ubyte.gz', 8)).subarray(0, n);
    const testPixels = await idx('t10k-images-idx3-ubyte.gz', 16);
    const images = Float32Array.from(pixels, (p) => (p / 255 - MEAN) / STD);
    const testImages = Float32Array.from(testPixels, (p) => (p / 255 - MEAN) / STD);

    for (const batchSize of job.batchSizes) {
      post({ type: 'log', text: `TF.js ${job.backend}, batch size ${batchSize}…` });
      const start = now();
      const model = lenet5();
      const optimizer = tf.train.adam(0.001);
      let order = tf.util.createShuffledIndices(n);
      let cursor = 0;
      let stepEnd = 0; // end of the step under way in `order`
      let batchLength = 0;
      let grads = null; // summed gradients of the step under way
      let steps = 0;
      let firstStepSeconds = null;
      let last = null; // the last loss, read by sync()
      const unit = () => {
        if (cursor >= stepEnd) {
          if (cursor + 1 > n) { order = tf.util.createShuffledIndices(n); cursor = 0; }
          stepEnd = Math.min(cursor + batchSize, n);
          batchLength = stepEnd - cursor;
        }
        const end = Math.min(cursor + MICRO, stepEnd);
        const m = end - cursor;
        const x = new Float32Array(m * 784);
        const y = new Int32Array(m);
        for (let i = 0; i < m; i++) {
          const k = order[cursor + i];
          x.set(images.subarray(k * 784, (k + 1) * 784), i * 784);
          y[i] = labels[k];
        }
        const scale = m / batchLength;
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
        cursor = end;
        if (cursor >= stepEnd) {
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
        const sps = median(m.windows);
        post({ type: 'training', figures: {
          batchSize, samplesPerSecond: sps, msPerStep: 1000 * Math.min(batchSize, n) / sps, firstStepSeconds,
          windows: m.windows, windowSeconds: m.windowSeconds, totalSeconds: now() - start,
        } });
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
