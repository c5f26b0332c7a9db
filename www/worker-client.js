// The training worker as the page sees it: one worker at a time (replaced after a failure, a
// lost device, or before a sweep once it has started WebGPU), the ids of file requests
// (export, import) and their answers, and whether the current worker has started WebGPU.
// Messages from a replaced worker are dropped; the current worker's go to one listener, with
// a failure to load or run the worker itself reported as `{ type: 'workerFailed', message }`.
// Must NOT: touch the DOM or the page's state, or decide what a message means.

/** Resolves `new URL('./worker.js')`; `listen(fn)` before `renew()` starts the first worker. */
export function createWorkerClient(url = new URL('./worker.js', import.meta.url)) {
  let worker = null;
  /** Counts the workers started: a stale timer compares it with the one it started under. */
  let generation = 0;
  let triedWebGpu = false;
  let listener = () => {};
  /** Files asked of the worker (export, import) and not yet answered: id → { resolve, reject }. */
  const files = new Map();
  let lastFileId = 0;

  function receive(m) {
    if (m.type === 'file') {
      const request = files.get(m.id);
      files.delete(m.id);
      if (m.message != null) request?.reject(new Error(m.message));
      else request?.resolve(m.text ?? m.sweep);
      return;
    }
    if (m.type === 'backend') triedWebGpu = Boolean(m.triedWebGpu);
    listener(m);
  }

  return {
    /** `fn(message)` receives every message of the current worker but the answers to file requests. */
    listen(fn) {
      listener = fn;
    },
    /** Starts a worker, ending the current one; requests it had not answered are rejected. */
    renew() {
      worker?.terminate();
      for (const request of files.values()) request.reject(new Error('the trainer was restarted; try again'));
      files.clear();
      triedWebGpu = false;
      generation += 1;
      const w = new Worker(url, { type: 'module' });
      w.onmessage = (e) => { if (w === worker) receive(e.data); };
      w.onerror = (e) => {
        e.preventDefault(); // reported on the page (or, from a replaced worker, no longer relevant)
        if (w === worker) listener({ type: 'workerFailed', message: e.message });
      };
      worker = w;
    },
    post(message) {
      worker.postMessage(message);
    },
    /** Asks for a file (export, import); resolves to the answer, rejects with the reason. */
    request(message) {
      return new Promise((resolve, reject) => {
        const id = ++lastFileId;
        files.set(id, { resolve, reject });
        worker.postMessage({ ...message, id });
      });
    },
    /** Whether the current worker has started WebGPU (burn cannot start a second device in it). */
    get triedWebGpu() { return triedWebGpu; },
    get generation() { return generation; },
  };
}
