// The benchmark's timing protocol for the JavaScript peers (TF.js, jax-js), the same as
// batchlab's own (src/bench.rs): chunks of about a quarter of a second of work, each ended by
// waiting for the work queued so far; the first chunk (one unit: shader compilation) and a
// warm-up are not measured; then windows of at least `windowSeconds`; the median is reported.
// While measuring, the WebGPU calls of the measured chunks are counted (bench/gpu-calls.js,
// loaded first), so that calls per step come from the same steps as the times.
// Also the MNIST images both peers train on, normalised as batchlab normalises them, and their
// batches.
// A classic script (loaded by `importScripts` or a side-effect `import`): sets
// `self.benchProtocol = { measure, median, trainingFigures, loadMnist, batches }`.
// Must NOT: know any library's API (the caller's `unit` and `sync` do the work).
(() => {
  /** Seconds of work per chunk, as src/bench.rs times the page's chunks. */
  const CHUNK_SECONDS = 0.25;
  const now = () => performance.now() / 1000;

  /** The median of `values` (0 for none). */
  function median(values) {
    const s = [...values].sort((a, b) => a - b);
    const n = s.length;
    return n === 0 ? 0 : n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
  }

  /**
   * Times `unit()` (does some work, returns its item count: images) and `sync()` (resolves once
   * the work queued so far is done) by the protocol above, with `options` `{ warmupSeconds,
   * windowSeconds, windows, limitSeconds }` (seconds). Returns `{ firstUnitSeconds, windows
   * (items/s of each window), windowSeconds, calls }`: `calls`, the tally of the WebGPU calls
   * made in the measured chunks (gpu-calls.js's `tally()`; null without it).
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
    const calls = self.gpuCalls?.tally() ?? null;
    while (windows.length < options.windows && !(now() - start > options.limitSeconds && windows.length > 0)) {
      calls?.start();
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
      calls?.measured(done);
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
    return { firstUnitSeconds, windows, windowSeconds, calls };
  }


  /** MNIST's mean and standard deviation of pixel values in [0, 1] (src/data.rs normalises with them). */
  const MEAN = 0.1307;
  const STD = 0.3081;

  /** The bytes of one of www/data/'s IDX files after its `header` bytes. */
  async function idx(path, header) {
    const response = await fetch(new URL(`../www/data/${path}`, self.location.href));
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

  /**
   * The first `n` MNIST training images and labels and the 10,000 test images: `{ images
   * (Float32Array, n × 784, row-major 28 × 28, normalised), labels (Uint8Array, n), testImages }`.
   */
  async function loadMnist(n) {
    const pixels = (await idx('train-images-idx3-ubyte.gz', 16)).subarray(0, n * 784);
    const labels = (await idx('train-labels-idx1-ubyte.gz', 8)).subarray(0, n);
    const testPixels = await idx('t10k-images-idx3-ubyte.gz', 16);
    const normalise = (p) => (p / 255 - MEAN) / STD;
    return { images: Float32Array.from(pixels, normalise), labels, testImages: Float32Array.from(testPixels, normalise) };
  }

  /**
   * The figures a peer posts for `batchSize` (of `n` training images) from `measure`'s result
   * `r`: samples/s (the median window), ms per step, the first step's seconds, the windows, the
   * seconds since `start` (in s) and the WebGPU calls per step.
   */
  function trainingFigures(batchSize, n, start, r, firstStepSeconds) {
    const sps = median(r.windows);
    const stepImages = Math.min(batchSize, n);
    return {
      batchSize, samplesPerSecond: sps, msPerStep: (1000 * stepImages) / sps, firstStepSeconds,
      windows: r.windows, windowSeconds: r.windowSeconds, totalSeconds: performance.now() / 1000 - start,
      calls: r.calls?.perStep(stepImages) ?? null,
    };
  }

  /** 0 … n − 1 in a random order (Fisher–Yates). */
  function shuffled(n) {
    const order = Int32Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1));
      [order[i], order[j]] = [order[j], order[i]];
    }
    return order;
  }

  /**
   * The micro-batches of the steps of `batchSize` images over the `n` images of `images` and
   * `labels` (as loadMnist gives them), reshuffled each epoch, at most `micro` images each. `next()`
   * returns `{ x (Float32Array, size × 784), y (Int32Array, size), size, share (size over its
   * step's images: its share of the step's mean loss), endsStep }`.
   */
  function batches(images, labels, n, batchSize, micro) {
    let order = shuffled(n);
    let cursor = 0;
    let stepEnd = 0; // end of the step under way in `order`
    let stepImages = 0;
    return {
      next() {
        if (cursor >= stepEnd) {
          if (cursor + 1 > n) { order = shuffled(n); cursor = 0; }
          stepEnd = Math.min(cursor + batchSize, n);
          stepImages = stepEnd - cursor;
        }
        const end = Math.min(cursor + micro, stepEnd);
        const size = end - cursor;
        const x = new Float32Array(size * 784);
        const y = new Int32Array(size);
        for (let i = 0; i < size; i++) {
          const k = order[cursor + i];
          x.set(images.subarray(k * 784, (k + 1) * 784), i * 784);
          y[i] = labels[k];
        }
        cursor = end;
        return { x, y, size, share: size / stepImages, endsStep: cursor >= stepEnd };
      },
    };
  }

  self.benchProtocol = { CHUNK_SECONDS, measure, median, trainingFigures, loadMnist, batches };
})();
