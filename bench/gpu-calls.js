// Counts the WebGPU calls a worker makes, for the benchmark's "WebGPU calls per training step"
// table: every worker of bench/ loads it first (a classic script: `importScripts` in a classic
// worker, a side-effect `import` in a module worker), before any library touches WebGPU. It
// wraps the methods on the WebGPU prototypes (GPUDevice, GPUQueue, GPUCommandEncoder,
// GPUComputePassEncoder, GPUBuffer), so every caller is counted alike — batchlab's burn/CubeCL,
// TF.js and jax-js — and each wrapped call does what it did before.
//
// `self.gpuCalls.snapshot()` → the counts so far (a plain object, the fields of COUNTED);
// `self.gpuCalls.since(snapshot)` → the counts since that snapshot; `self.gpuCalls.tally()` sums
// the calls of the measured chunks into calls per step. Without WebGPU in the worker
// (no `GPUDevice`), nothing is wrapped and every count stays 0.
// Must NOT: change what a call does or returns, or hold on to the objects it sees.
(() => {
  /** What is counted, and what each count means (a call's `bytes` for writes). */
  const COUNTED = {
    dispatches: 'compute dispatches (dispatchWorkgroups, dispatchWorkgroupsIndirect)',
    submits: 'queue.submit calls',
    commandBuffers: 'command buffers submitted',
    computePasses: 'compute passes begun',
    bindGroups: 'bind groups created',
    buffersCreated: 'buffers created',
    bufferBytesCreated: 'bytes of the buffers created',
    writes: 'queue.writeBuffer calls',
    bytesWritten: 'bytes written by queue.writeBuffer',
    copies: 'buffer-to-buffer copies encoded',
    bufferMaps: 'buffer maps (mapAsync)',
    pipelines: 'compute pipelines created',
  };
  const counts = Object.fromEntries(Object.keys(COUNTED).map((k) => [k, 0]));
  const wrap = (proto, name, count) => {
    const original = proto?.[name];
    if (typeof original !== 'function') return;
    proto[name] = function counted(...args) {
      count(args);
      return original.apply(this, args);
    };
  };
  if (typeof GPUDevice !== 'undefined') {
    wrap(GPUComputePassEncoder.prototype, 'dispatchWorkgroups', () => { counts.dispatches++; });
    wrap(GPUComputePassEncoder.prototype, 'dispatchWorkgroupsIndirect', () => { counts.dispatches++; });
    wrap(GPUQueue.prototype, 'submit', ([buffers]) => { counts.submits++; counts.commandBuffers += buffers?.length ?? 0; });
    // writeBuffer(buffer, bufferOffset, data, dataOffset, size): offset and size count elements
    // of a typed array, bytes of an ArrayBuffer.
    wrap(GPUQueue.prototype, 'writeBuffer', ([, , data, dataOffset = 0, size]) => {
      counts.writes++;
      const element = data?.BYTES_PER_ELEMENT ?? 1;
      counts.bytesWritten += size != null ? size * element : (data?.byteLength ?? 0) - dataOffset * element;
    });
    wrap(GPUCommandEncoder.prototype, 'beginComputePass', () => { counts.computePasses++; });
    wrap(GPUCommandEncoder.prototype, 'copyBufferToBuffer', () => { counts.copies++; });
    wrap(GPUDevice.prototype, 'createBindGroup', () => { counts.bindGroups++; });
    wrap(GPUDevice.prototype, 'createBuffer', ([descriptor]) => { counts.buffersCreated++; counts.bufferBytesCreated += descriptor?.size ?? 0; });
    wrap(GPUDevice.prototype, 'createComputePipeline', () => { counts.pipelines++; });
    wrap(GPUDevice.prototype, 'createComputePipelineAsync', () => { counts.pipelines++; });
    wrap(GPUBuffer.prototype, 'mapAsync', () => { counts.bufferMaps++; });
  }
  const snapshot = () => ({ ...counts });
  const since = (before) => Object.fromEntries(Object.keys(COUNTED).map((k) => [k, counts[k] - before[k]]));
  /**
   * A tally of the calls made in the measured chunks only: `start()` before each chunk,
   * `measured(images)` after one that counted (its training images); `perStep(stepImages)` then
   * gives the calls per step of `stepImages` images (null when nothing was measured).
   */
  function tally() {
    let before = null;
    const made = Object.fromEntries(Object.keys(COUNTED).map((k) => [k, 0]));
    let images = 0;
    return {
      start() { before = snapshot(); },
      measured(n) {
        const chunk = since(before);
        for (const k of Object.keys(made)) made[k] += chunk[k];
        images += n;
      },
      perStep(stepImages) {
        return images > 0 ? Object.fromEntries(Object.entries(made).map(([k, n]) => [k, (n * stepImages) / images])) : null;
      },
    };
  }
  self.gpuCalls = {
    /** What each count means. */
    COUNTED,
    /** The counts so far. */
    snapshot,
    /** The counts since `before` (a value of `snapshot()`). */
    since,
    tally,
  };
})();
