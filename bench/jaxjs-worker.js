// The benchmark's jax-js side (a module Web Worker): the same LeNet-5 as batchlab (src/model.rs:
// conv 5x5 1→6 padding 2, ReLU, max-pool 2, conv 5x5 6→16, ReLU, max-pool 2, dense 120, 84,
// 10), Adam (lr 0.001, β 0.9/0.999, ε 1e-8), softmax cross-entropy, the same batch sizes and
// MNIST images, timed with the protocol of bench/protocol.js (that of src/bench.rs). jax-js
// (`@jax-js/jax`) traces the step and compiles it with `jit`, fusing element-wise work into its
// kernels: a batch of up to 1,024 images is one jit-compiled function (forward, backward and the
// Adam update); a larger batch sums the gradients of micro-batches of 1,024 (one compiled
// function each) and then applies one compiled Adam update, as batchlab does. Each batch is
// uploaded from JavaScript arrays, as for TF.js. Weights start uniform in ±1/√fan-in.
//   in:  { backend: 'webgpu' | 'wasm', batchSizes, options, trainSize }
//   out: { type: 'log', text } | { type: 'backend', backend, version } | { type: 'training', figures }
//        | { type: 'evaluation', figures } | { type: 'done' } | { type: 'error', message }
// The WebGPU call counter first (module imports run in order), before jax-js touches WebGPU.
import './gpu-calls.js';
import './protocol.js';
import { defaultDevice, init, jit, lax, nn, numpy as np, random, tree, valueAndGrad } from '../node_modules/@jax-js/jax/dist/index.js';

const MICRO = 1024;
const LEARNING_RATE = 0.001;
const [B1, B2, EPS] = [0.9, 0.999, 1e-8];
const { measure, median, trainingFigures, loadMnist, batches } = self.benchProtocol;
const post = (message) => self.postMessage(message);
const now = () => performance.now() / 1000;
const messageOf = (e) => (e instanceof Error ? e.message : (e?.message ?? String(e)));

/** LeNet-5's parameters (NCHW convolutions: kernels `[out, in, 5, 5]`), from `seed`. */
function initParams(seed) {
  const k = [...random.split(random.key(seed), 10)];
  const uniform = (key, shape, fanIn) => random.uniform(key, shape, { minval: -1 / Math.sqrt(fanIn), maxval: 1 / Math.sqrt(fanIn) });
  return {
    c1w: uniform(k[0], [6, 1, 5, 5], 25), c1b: uniform(k[1], [6, 1, 1], 25),
    c2w: uniform(k[2], [16, 6, 5, 5], 150), c2b: uniform(k[3], [16, 1, 1], 150),
    f1w: uniform(k[4], [400, 120], 400), f1b: uniform(k[5], [120], 400),
    f2w: uniform(k[6], [120, 84], 120), f2b: uniform(k[7], [84], 120),
    f3w: uniform(k[8], [84, 10], 84), f3b: uniform(k[9], [10], 84),
  };
}

const pool = (x) => lax.reduceWindow(x, np.max, [2, 2], [2, 2]);
/** Logits `[n, 10]` of images `x` (`[n, 784]`). Takes ownership of `p` and `x`. */
function logits(p, x) {
  let h = x.reshape([-1, 1, 28, 28]);
  h = pool(nn.relu(lax.convGeneralDilated(h, p.c1w, [1, 1], 'SAME').add(p.c1b)));
  h = pool(nn.relu(lax.convGeneralDilated(h, p.c2w, [1, 1], 'VALID').add(p.c2b)));
  h = nn.relu(np.dot(h.reshape([-1, 400]), p.f1w).add(p.f1b));
  h = nn.relu(np.dot(h, p.f2w).add(p.f2b));
  return np.dot(h, p.f3w).add(p.f3b);
}
/** The mean cross-entropy of the labels `y` (`[n]`, int32) × `scale` (this micro-batch's share of its step). */
function loss(p, x, y, scale) {
  const n = y.shape[0];
  return nn.logSoftmax(logits(p, x)).mul(nn.oneHot(y, 10)).sum().mul(scale.mul(-1 / n));
}
/** Adam's update of every parameter (Kingma & Ba 2015, Algorithm 1): `a1` = lr / (1 − β1ᵗ), `a2` = 1 / (1 − β2ᵗ). */
function adam(p, m, v, g, a1, a2) {
  const [np_, nm, nv] = [{}, {}, {}];
  for (const k of Object.keys(p)) {
    nm[k] = m[k].mul(B1).add(g[k].ref.mul(1 - B1));
    nv[k] = v[k].mul(B2).add(g[k].ref.mul(g[k]).mul(1 - B2));
    np_[k] = p[k].sub(nm[k].ref.mul(a1.ref).div(np.sqrt(nv[k].ref.mul(a2.ref)).add(EPS)));
  }
  a1.dispose();
  a2.dispose();
  return [np_, nm, nv];
}
/** One whole step (batches of up to MICRO images): forward, backward and Adam, compiled together. */
const step = jit((p, m, v, x, y, a1, a2) => {
  const [value, g] = valueAndGrad(loss)(tree.ref(p), x, y, np.array(1));
  return [...adam(p, m, v, g, a1, a2), value];
});
/** A micro-batch's share of a larger step's loss and gradients. */
const microGradients = jit((p, x, y, scale) => valueAndGrad(loss)(p, x, y, scale));
const addTrees = jit((a, b) => Object.fromEntries(Object.keys(a).map((k) => [k, a[k].add(b[k])])));
const update = jit(adam);
/** The sum of the predicted classes of `x`'s images: a forward pass and an argmax, summed on the device (as TF.js's evaluation here). */
const predict = jit((p, x) => np.argmax(logits(p, x), 1).sum());

self.onmessage = async ({ data: job }) => {
  try {
    const devices = await init(job.backend);
    if (!devices.includes(job.backend)) throw new Error(`jax-js could not start its ${job.backend} device (it has: ${devices.join(', ') || 'none'})`);
    defaultDevice(job.backend);
    const version = await fetch(new URL('../node_modules/@jax-js/jax/package.json', import.meta.url)).then((r) => r.json()).then((p) => p.version, () => null);
    post({ type: 'backend', backend: job.backend, version });
    const n = job.trainSize;
    const { images, labels, testImages } = await loadMnist(n);

    for (const batchSize of job.batchSizes) {
      post({ type: 'log', text: `jax-js ${job.backend}, batch size ${batchSize}…` });
      const start = now();
      let params = initParams(0);
      let m = tree.map((a) => np.zerosLike(a), tree.ref(params));
      let v = tree.map((a) => np.zerosLike(a), tree.ref(params));
      const sampler = batches(images, labels, n, batchSize, MICRO);
      let grads = null; // summed gradients of the step under way (batches above MICRO)
      let steps = 0;
      let firstStepSeconds = null;
      let last = null; // the last loss, read by sync()
      const unit = () => {
        const { x: xs, y: ys, size, share, endsStep } = sampler.next();
        const x = np.array(xs).reshape([size, 784]);
        const y = np.array(ys, { dtype: np.int32 });
        const t = steps + 1;
        const corrections = () => [np.array(LEARNING_RATE / (1 - B1 ** t)), np.array(1 / (1 - B2 ** t))];
        let value;
        if (share === 1) {
          [params, m, v, value] = step(params, m, v, x, y, ...corrections());
          steps++;
        } else {
          let g;
          [value, g] = microGradients(tree.ref(params), x, y, np.array(share));
          grads = grads === null ? g : addTrees(grads, g);
        }
        last?.dispose();
        last = value;
        if (grads !== null && endsStep) {
          [params, m, v] = update(params, m, v, grads, ...corrections());
          grads = null;
          steps++;
        }
        return size;
      };
      // Reading the last loss waits for the work submitted before it (WebGPU's queue runs in
      // order; the loss and the update are one compiled step), as TF.js's sync does.
      const sync = async () => {
        await last.jsAsync();
        last = null;
        if (firstStepSeconds === null && steps > 0) firstStepSeconds = now() - start;
      };
      try {
        const r = await measure(unit, sync, job.options);
        post({ type: 'training', figures: trainingFigures(batchSize, n, start, r, firstStepSeconds) });
      } catch (e) {
        post({ type: 'training', figures: { batchSize, error: messageOf(e) } });
      } finally {
        last?.dispose();
        if (grads) tree.dispose(grads);
        tree.dispose([params, m, v]);
      }
    }

    // Evaluation: forward passes of 1,000 test images, the predictions summed on the device.
    const params = initParams(0);
    let at = 0;
    let answer = null;
    const unit = () => {
      const size = Math.min(1000, 10_000 - at);
      answer?.dispose();
      answer = predict(tree.ref(params), np.array(testImages.subarray(at * 784, (at + size) * 784)).reshape([size, 784]));
      at = (at + size) % 10_000;
      return size;
    };
    const r = await measure(unit, async () => { await answer.jsAsync(); answer = null; }, job.options);
    post({ type: 'evaluation', figures: { evalBatch: 1000, imagesPerSecond: median(r.windows), windows: r.windows } });
    post({ type: 'done' });
  } catch (e) {
    post({ type: 'error', message: messageOf(e) });
  }
};
