// The benchmark page: runs one job at a time in a fresh Web Worker (batchlab's trainer in
// worker.js, TF.js in tfjs-worker.js, jax-js in jaxjs-worker.js) and hands back what it measured. bench/bench.mjs calls
// `window.runJob(job)` through Playwright.

const log = document.getElementById('log');

/**
 * Runs `job` (`{ kind: 'batchlab' | 'tfjs' | 'jaxjs', backend, batchSizes, trainSize, options,
 * epochBatchSizes }`) in a new worker. Resolves to `{ backend, reason, adapter, version,
 * training: [figures], evaluation, error }` once the worker is done or has failed.
 */
window.runJob = (job) => new Promise((resolve) => {
  const worker = job.kind === 'batchlab'
    ? new Worker(new URL('worker.js', import.meta.url), { type: 'module' })
    : job.kind === 'jaxjs'
      ? new Worker(new URL('jaxjs-worker.js', import.meta.url), { type: 'module' })
      : new Worker(new URL('tfjs-worker.js', import.meta.url));
  const result = { kind: job.kind, requested: job.backend, training: [], evaluation: null, error: null };
  const finish = () => {
    worker.terminate();
    resolve(result);
  };
  worker.onmessage = ({ data: m }) => {
    if (m.type === 'log') {
      log.textContent += `${m.text}\n`;
      console.log(m.text);
    } else if (m.type === 'backend') Object.assign(result, { backend: m.backend, reason: m.reason, adapter: m.adapter, version: m.version });
    else if (m.type === 'training') {
      result.training.push(m.figures);
      console.log(`  ${JSON.stringify(m.figures)}`);
    } else if (m.type === 'evaluation') result.evaluation = m.figures;
    else if (m.type === 'done') finish();
    else if (m.type === 'panic') {
      // The trainer's panic hook posts the panic before the module traps.
      result.error = `the trainer panicked: ${m.message} (${m.location})`;
      finish();
    }
    else if (m.type === 'error') {
      result.error = m.message;
      finish();
    }
  };
  worker.onerror = (e) => {
    result.error = e.message || 'the worker failed to start';
    finish();
  };
  worker.postMessage(job);
});
