// The benchmark (not a test): in one headless Chromium session (WebGPU on SwiftShader available),
// measures batchlab on each backend (WebGPU, CPU in wasm), TensorFlow.js on each of its
// backends that can train and jax-js on WebGPU and Wasm, at the same batch sizes (counting the
// WebGPU calls per step), plus the product page's start-up (bytes
// downloaded, page open → first training step); reads the native figures (batchlab natively,
// PyTorch) that bench/run.sh measured; writes JSON and a Markdown table. See bench/README.md.
//
//   node bench/bench.mjs [--quick | --calls] [--native FILE] [--pytorch FILE] [--out DIR]
//
// Needs a built page (scripts/build.sh); bench/run.sh does everything.
import { mkdirSync, writeFileSync, readFileSync, existsSync, statSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import { serve, launch, open, ROOT } from '../tests/e2e/harness.mjs';
import { report } from './report.mjs';

const args = process.argv.slice(2);
const flag = (name) => args.includes(name);
const value = (name) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : undefined; };
const calls = flag('--calls');
const quick = flag('--quick') || calls;
const out = value('--out') ?? join(ROOT, 'bench', 'results');
// --only kind:backend[,…] (e.g. `--only batchlab:cpu,tfjs:webgl`): only those jobs (a variant
// such as the hostBatches ablation is left out unless named as kind:backend:variant).
const only = value('--only')?.split(',').map((s) => s.trim()).filter(Boolean);

// --calls: only the WebGPU calls per step (they do not depend on the adapter), at batch sizes 1
// and 64, for batchlab, TF.js and jax-js on WebGPU: a few minutes.
const BATCH_SIZES = calls ? [1, 64] : quick ? [1, 64, 1024] : [1, 16, 64, 256, 1024, 4096, 60000];
const TRAIN_SIZE = quick ? 10_000 : 60_000;
const OPTIONS = quick
  ? { warmupSeconds: 0.5, windowSeconds: 1, windows: 3, limitSeconds: 20 }
  : { warmupSeconds: 2, windowSeconds: 3, windows: 3, limitSeconds: 120 };
// The full batch runs its first epoch to the end on both of batchlab's backends (a target).
const EPOCH_BATCH_SIZES = quick ? [] : [60000];
// TF.js's WebGPU backend trains at ~10 samples/s here: the quick mode leaves it out.
const TFJS_BACKENDS = quick ? ['webgl', 'cpu'] : ['webgl', 'cpu', 'webgpu'];
// TF.js's wasm backend is tried at one batch size: it fails to train a convolutional network
// (the report shows why, in TF.js's words).
const TFJS_TRIED = ['wasm'];
// jax-js (`@jax-js/jax`, a JIT that fuses kernels) on WebGPU and on Wasm (its CPU device).
const JAXJS_BACKENDS = ['webgpu', 'wasm'];
const ABLATION_BATCH_SIZES = quick ? [64] : [1, 64, 1024];
const STARTUP_QUERY = 'batch=64&epochs=1&train=10000&test=10000&autorun=1';
const STARTUP_LOADS = calls ? 0 : quick ? 1 : 3;
/** A job that hangs (a worker that never answers) is given up after this long. */
const JOB_TIMEOUT_MS = (quick ? 10 : 45) * 60_000;

const say = (text) => process.stderr.write(`[bench] ${text}\n`);
const started = Date.now();
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(0)} s`;

/** Opens the product page in a fresh browser (a first visit) and measures its start-up. */
async function startup(server) {
  const browser = await launch();
  try {
    const page = await browser.context.newPage();
    const from = server.served.length;
    const t0 = Date.now();
    await page.goto(`${server.url}www/index.html?${STARTUP_QUERY}`);
    await page.waitForFunction(() => window.batchlab?.timings?.firstStep != null || window.batchlab?.status === 'error',
      null, { timeout: 120_000, polling: 20 });
    const { timings, status, error, backend } = await page.evaluate(() => ({ ...window.batchlab, timings: window.batchlab.timings }));
    if (status === 'error') throw new Error(`the page failed: ${error}`);
    await page.evaluate(() => window.batchlab.stop());
    // What the server sent until the first step (files as stored: the data gzip'd, the module raw).
    const requests = server.served.slice(from);
    const byKind = { wasm: 0, data: 0, other: 0 };
    for (const r of requests) {
      const kind = r.path.endsWith('.wasm') ? 'wasm' : r.path.includes('/data/') ? 'data' : 'other';
      byKind[kind] += r.bytes;
    }
    return { ...timings, backend, wallMs: Date.now() - t0, bytes: byKind, requests: requests.length };
  } finally {
    await browser.close();
  }
}

/** Sizes of the built module, raw and gzip'd (what a compressing server would send). */
function moduleSize() {
  const wasm = readFileSync(join(ROOT, 'www', 'pkg', 'batchlab_bg.wasm'));
  return { raw: wasm.length, gzip: gzipSync(wasm, { level: 9 }).length };
}

const readJson = (path) => (path && existsSync(path) && statSync(path).size > 0 ? JSON.parse(readFileSync(path, 'utf8')) : null);

const server = await serve(ROOT);
const result = {
  date: new Date().toISOString(),
  quick,
  calls,
  batchSizes: BATCH_SIZES,
  trainSize: TRAIN_SIZE,
  options: OPTIONS,
  machine: null,
  module: calls ? null : moduleSize(),
  startup: [],
  jobs: [],
  native: readJson(value('--native')),
  pytorch: readJson(value('--pytorch')),
};
try {
  for (let i = 0; i < STARTUP_LOADS; i++) {
    say(`${elapsed()}  page open → first training step (${i + 1} of ${STARTUP_LOADS})`);
    try {
      result.startup.push(await startup(server));
    } catch (e) {
      say(`start-up measurement failed: ${e.message}`);
      result.startupErrors = [...(result.startupErrors ?? []), e.message];
    }
  }
  const browser = await launch();
  try {
    const { page, errors } = await open(browser.context, `${server.url}bench/index.html`);
    page.on('console', (m) => { if (m.type() === 'log') say(`${elapsed()}  ${m.text()}`); });
    result.machine = await page.evaluate(() => ({ userAgent: navigator.userAgent, cores: navigator.hardwareConcurrency }));
    const jobs = calls ? [
      { kind: 'batchlab', backend: 'webgpu' },
      // CubeCL submits every `tasksMax` compute tasks (default 32): one submit per chunk instead.
      { kind: 'batchlab', backend: 'webgpu', variant: 'tasksMax 1024', webgpu: { tasksMax: 1024 } },
      { kind: 'tfjs', backend: 'webgpu' },
      { kind: 'jaxjs', backend: 'webgpu' },
    ] : [
      { kind: 'batchlab', backend: 'cpu' },
      { kind: 'batchlab', backend: 'webgpu' },
      ...TFJS_BACKENDS.map((backend) => ({ kind: 'tfjs', backend })),
      ...TFJS_TRIED.map((backend) => ({ kind: 'tfjs', backend, batchSizes: [64], options: { ...OPTIONS, limitSeconds: 10 } })),
      ...JAXJS_BACKENDS.map((backend) => ({ kind: 'jaxjs', backend })),
      // Ablation: WebGPU with each batch uploaded from the CPU, as before the training set
      // lived on the device.
      { kind: 'batchlab', backend: 'webgpu', variant: 'hostBatches', batchSizes: ABLATION_BATCH_SIZES, options: { ...OPTIONS, hostBatches: true } },
    ];
    const wanted = (job) => !only || only.includes(`${job.kind}:${job.backend}${job.variant ? `:${job.variant}` : ''}`);
    for (const job of jobs.filter(wanted)) {
      say(`${elapsed()}  ${job.kind} on ${job.backend}${job.variant ? ` (${job.variant})` : ''}`);
      let timer;
      const outcome = await Promise.race([
        page.evaluate((j) => window.runJob(j), {
          batchSizes: BATCH_SIZES, trainSize: TRAIN_SIZE, options: OPTIONS,
          epochBatchSizes: job.kind === 'batchlab' && !job.variant ? EPOCH_BATCH_SIZES : [],
          ...job,
        }),
        new Promise((resolve) => { timer = setTimeout(resolve, JOB_TIMEOUT_MS, { kind: job.kind, requested: job.backend, training: [], evaluation: null, error: `no answer within ${JOB_TIMEOUT_MS / 60_000} minutes` }); }),
      ]).catch((e) => ({ kind: job.kind, requested: job.backend, training: [], evaluation: null, error: e.message }));
      clearTimeout(timer);
      outcome.variant = job.variant ?? null;
      if (outcome.error) say(`${job.kind} on ${job.backend} failed: ${outcome.error}`);
      result.jobs.push(outcome);
    }
    if (errors.length) result.consoleErrors = errors;
  } finally {
    await browser.close();
  }
} finally {
  await server.close();
}
result.seconds = (Date.now() - started) / 1000;
mkdirSync(out, { recursive: true });
const name = calls ? 'calls' : quick ? 'quick' : 'latest';
const markdown = report(result);
writeFileSync(join(out, `${name}.json`), `${JSON.stringify(result, null, 1)}\n`);
writeFileSync(join(out, `${name}.md`), markdown);
process.stdout.write(markdown);
say(`${elapsed()}  wrote ${join(out, `${name}.json`)} and ${name}.md`);
