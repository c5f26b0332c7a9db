// The benchmark's Markdown report, from the JSON that bench/bench.mjs writes: throughput per
// batch size and backend (batchlab, TF.js, jax-js, natively PyTorch), WebGPU calls per step,
// ms per step and first-step times, batchlab / peer ratios, evaluation, start-up, and each of
// the issue's targets with whether it was met (and by how much not).
//
//   node bench/report.mjs bench/results/latest.json     prints the report of a saved run

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const MB = 1e6;
const fmt = (x, digits = 0) => (x == null || !Number.isFinite(x) ? '—' : x.toLocaleString('en', { maximumFractionDigits: digits, minimumFractionDigits: digits }));
const ratio = (a, b) => (a == null || b == null || !(b > 0) ? null : a / b);
const times = (r) => (r == null ? '—' : `${r >= 10 ? fmt(r, 0) : fmt(r, 2)}×`);
const median = (values) => {
  const s = values.filter(Number.isFinite).sort((a, b) => a - b);
  const n = s.length;
  return n === 0 ? null : n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
};

/** The job of `kind` on `backend` (`variant`: an ablation's name, or null for the main one). */
const job = (result, kind, backend, variant = null) =>
  result.jobs.find((j) => j.kind === kind && j.requested === backend && (j.variant ?? null) === variant);

/** The figures of `kind` on `backend` at `batchSize`, or null. */
function figures(result, kind, backend, batchSize) {
  let training;
  if (kind === 'native') training = result.native?.training;
  else if (kind === 'pytorch') training = result.pytorch?.training;
  else training = job(result, kind, backend)?.training;
  const f = training?.find((t) => t.batchSize === batchSize);
  return f && !f.error ? f : null;
}

const sps = (result, kind, backend, b) => figures(result, kind, backend, b)?.samplesPerSecond ?? null;

/** Columns of the throughput table: [title, kind, backend]. */
const COLUMNS = [
  ['batchlab CPU (wasm)', 'batchlab', 'cpu'],
  ['batchlab WebGPU', 'batchlab', 'webgpu'],
  ['TF.js WebGL', 'tfjs', 'webgl'],
  ['TF.js CPU (plain JS)', 'tfjs', 'cpu'],
  ['TF.js WebGPU', 'tfjs', 'webgpu'],
  ['jax-js WebGPU', 'jaxjs', 'webgpu'],
  ['jax-js Wasm', 'jaxjs', 'wasm'],
  ['batchlab CPU, native', 'native', 'cpu'],
  ['PyTorch, native, 1 thread', 'pytorch', 'cpu'],
];

/** A peer's name as the report writes it. */
const NAMES = { batchlab: 'batchlab', tfjs: 'TF.js', jaxjs: 'jax-js', native: 'batchlab native', pytorch: 'PyTorch' };
/** The WebGPU calls per step the report lists (bench/gpu-calls.js's counts), with their column titles. */
const CALLS = [
  ['dispatches', 'dispatches'], ['submits', 'submits'], ['computePasses', 'compute passes'], ['bindGroups', 'bind groups created'],
  ['buffersCreated', 'buffers created'], ['bytesWritten', 'bytes written'], ['bufferMaps', 'buffer maps'], ['pipelines', 'pipelines created'],
];
/** The batch size at which the issue's per-step call targets are stated. */
const CALLS_BATCH = 64;

/** Each target of the issue: `{ target, value, met, by }`. */
export function targets(result) {
  const rows = [];
  const add = (target, value, met, by) => rows.push({ target, value, met, by });
  const calls = figures(result, 'batchlab', 'webgpu', CALLS_BATCH)?.calls;
  if (calls) {
    add(`WebGPU step ≤ 40 dispatches (batch size ${CALLS_BATCH}, Adam)`, fmt(calls.dispatches, 1), calls.dispatches <= 40, calls.dispatches <= 40 ? '' : `${fmt(calls.dispatches - 40, 1)} over`);
    add(`WebGPU step ≤ 2 submits (batch size ${CALLS_BATCH})`, fmt(calls.submits, 1), calls.submits <= 2, calls.submits <= 2 ? '' : `${fmt(calls.submits - 2, 1)} over`);
    add(`No buffer created per step once warm (batch size ${CALLS_BATCH})`, fmt(calls.buffersCreated, 1), calls.buffersCreated === 0, calls.buffersCreated === 0 ? '' : `${fmt(calls.buffersCreated, 1)} per step`);
  }
  // `--calls` measures WebGPU alone: the other targets need the full run.
  if (result.calls) return rows;
  for (const b of [16, 64, 256, 1024]) {
    const r = ratio(sps(result, 'batchlab', 'webgpu', b), sps(result, 'tfjs', 'webgl', b));
    if (r == null) continue;
    add(`WebGPU ≥ 2× TF.js WebGL at batch size ${b}`, times(r), r >= 2, r >= 2 ? '' : `${fmt(2 / r, 1)}× short`);
  }
  const cpu64 = sps(result, 'batchlab', 'cpu', 64);
  if (cpu64 != null) {
    add('CPU backend in wasm ≥ 4,000 samples/s at batch size 64', `${fmt(cpu64)} samples/s`, cpu64 >= 4000,
      cpu64 >= 4000 ? '' : `${fmt(4000 - cpu64)} samples/s (${fmt(100 * (1 - cpu64 / 4000))} %) short`);
    const torch = sps(result, 'pytorch', 'cpu', 64);
    if (torch != null) {
      const r = cpu64 / torch;
      add('CPU backend in wasm ≥ ½ PyTorch on one core, batch size 64', `${fmt(100 * r)} % of PyTorch (${fmt(torch)} samples/s)`, r >= 0.5,
        r >= 0.5 ? '' : `${fmt(0.5 / r, 1)}× short`);
    }
    const tfcpu = sps(result, 'tfjs', 'cpu', 64);
    if (tfcpu != null) {
      const r = cpu64 / tfcpu;
      add('CPU backend in wasm ≥ 80× TF.js plain JS, batch size 64', times(r), r >= 80, r >= 80 ? '' : `${fmt(80 / r, 1)}× short`);
    }
  }
  const b1 = Math.max(sps(result, 'batchlab', 'cpu', 1) ?? 0, sps(result, 'batchlab', 'webgpu', 1) ?? 0);
  if (b1 > 0) {
    add('Batch size 1 ≥ 1,000 samples/s on the faster backend', `${fmt(b1)} samples/s`, b1 >= 1000,
      b1 >= 1000 ? '' : `${fmt(1000 - b1)} samples/s (${fmt(100 * (1 - b1 / 1000))} %) short`);
  }
  for (const backend of ['cpu', 'webgpu']) {
    const f = figures(result, 'batchlab', backend, 60000);
    if (!result.batchSizes.includes(60000)) continue;
    const done = f?.epochSeconds != null;
    add(`Batch size 60,000 completes an epoch on ${backend === 'cpu' ? 'the CPU' : 'WebGPU'}`,
      done ? `${fmt(f.epochSeconds, 0)} s, test accuracy ${fmt(100 * f.epochTestAccuracy, 1)} %` : (f ? 'not run to the end' : 'failed'),
      done, done ? '' : 'not completed');
  }
  const first = median(result.startup.map((s) => s.firstStep));
  if (first != null) {
    add('Page open → first training step ≤ 3 s (10,000-image sweep)', `${fmt(first / 1000, 2)} s`, first <= 3000,
      first <= 3000 ? '' : `${fmt(first / 1000 - 3, 2)} s over`);
  }
  if (!result.module) return rows;
  const { raw, gzip } = result.module;
  add('wasm ≤ 12 MB uncompressed', `${fmt(raw / MB, 2)} MB`, raw <= 12 * MB, raw <= 12 * MB ? '' : `${fmt((raw - 12 * MB) / MB, 2)} MB over`);
  add('wasm ≤ 3 MB gzip', `${fmt(gzip / MB, 2)} MB`, gzip <= 3 * MB, gzip <= 3 * MB ? '' : `${fmt((gzip - 3 * MB) / MB, 2)} MB over`);
  return rows;
}

/** The Markdown report of `result`. */
export function report(result) {
  const lines = [];
  const push = (...l) => lines.push(...l);
  const jobs = result.jobs;
  const webgpu = jobs.find((j) => j.kind === 'batchlab' && j.requested === 'webgpu');
  const tf = jobs.find((j) => j.kind === 'tfjs');
  const jax = jobs.find((j) => j.kind === 'jaxjs');
  push(`### Benchmark${result.calls ? ' (WebGPU calls)' : result.quick ? ' (quick mode)' : ''}, ${result.date.slice(0, 10)}`, '');
  push(`${result.machine?.userAgent.match(/Chrome\/[\d.]+/)?.[0] ?? 'Chromium'} headless, ${result.machine?.cores ?? '?'} cores; ` +
    `WebGPU adapter: ${webgpu?.adapter ?? 'none'}; TF.js ${tf?.version ?? '?'}` +
    `${jax?.version ? `; jax-js ${jax.version}` : ''}` +
    `${result.pytorch ? `; PyTorch ${result.pytorch.version}` : ''}. LeNet-5, Adam (lr 0.001), ` +
    `${fmt(result.trainSize)} MNIST training images; median of ${result.options.windows} windows of ≥ ${result.options.windowSeconds} s ` +
    `after ${result.options.warmupSeconds} s of warm-up. \`bench/run.sh${result.calls ? ' --calls' : result.quick ? ' --quick' : ''}\`, ${fmt(result.seconds / 60, 0)} min.`, '');

  // Columns of the peers this run measured.
  const columns = COLUMNS.filter(([, kind, backend]) => (kind === 'native' ? result.native : kind === 'pytorch' ? result.pytorch : job(result, kind, backend)));
  push('**Training throughput (samples/s)**', '');
  push(`| batch size | ${columns.map((c) => c[0]).join(' | ')} |`, `|---:|${columns.map(() => '---:').join('|')}|`);
  for (const b of result.batchSizes) {
    push(`| ${fmt(b)} | ${columns.map(([, kind, backend]) => {
      const f = figures(result, kind, backend, b);
      if (f) return fmt(f.samplesPerSecond, f.samplesPerSecond < 100 ? 1 : 0);
      const failed = (kind === 'native' ? result.native : kind === 'pytorch' ? result.pytorch : job(result, kind, backend))
        ?.training?.find((t) => t.batchSize === b)?.error;
      return failed ? 'failed¹' : '—';
    }).join(' | ')} |`);
  }
  const failures = jobs.filter((j) => !j.variant).flatMap((j) => [
    ...(j.error ? [`${NAMES[j.kind]} ${j.requested}: ${j.error}`] : []),
    ...(j.backend && j.backend !== j.requested ? [`${NAMES[j.kind]} ${j.requested}: ran on ${j.backend} instead`] : []),
    ...j.training.filter((t) => t.error).map((t) => `${NAMES[j.kind]} ${j.requested}, batch size ${t.batchSize}: ${t.error}`),
  ]);
  if (failures.length) push('', `¹ What failed (a job or batch size left out of the table, or marked failed¹), in its own words: ${failures.join('; ')}`);
  push('');

  const counted = jobs.filter((j) => j.requested === 'webgpu' && j.training.some((t) => t.calls));
  if (counted.length) {
    push(`**WebGPU calls per training step** (steady state: the calls made in the measured chunks, bench/gpu-calls.js, over their steps; they depend on the code, not on the adapter; samples/s on this run's adapter beside them)`, '');
    push(`| who | batch size | ${CALLS.map((c) => c[1]).join(' | ')} | samples/s |`, `|---|---:|${CALLS.map(() => '---:').join('|')}|---:|`);
    for (const j of counted) {
      for (const t of j.training.filter((x) => x.calls)) {
        push(`| ${NAMES[j.kind]} ${j.requested}${j.variant ? ` (${j.variant})` : ''} | ${fmt(t.batchSize)} | ` +
          `${CALLS.map(([k]) => fmt(t.calls[k], t.calls[k] < 100 ? 1 : 0)).join(' | ')} | ${fmt(t.samplesPerSecond, 1)} |`);
      }
    }
    push('');
  }
  if (result.calls) {
    push('**Targets**', '');
    push('| target | measured | met |', '|---|---|---|');
    for (const t of targets(result)) push(`| ${t.target} | ${t.value} | ${t.met ? 'yes' : `**no**: ${t.by}`} |`);
    push('');
    return `${lines.join('\n')}\n`;
  }

  push('**Ratios** (throughput of batchlab / the peer)', '');
  push('| batch size | WebGPU / TF.js WebGL | CPU (wasm) / TF.js CPU | CPU (wasm) / PyTorch 1 thread | CPU wasm / native (wasm overhead) | faster batchlab backend / fastest TF.js |', '|---:|---:|---:|---:|---:|---:|');
  for (const b of result.batchSizes) {
    const best = (kind, backends) => Math.max(...backends.map((x) => sps(result, kind, x, b) ?? 0)) || null;
    push(`| ${fmt(b)} | ${times(ratio(sps(result, 'batchlab', 'webgpu', b), sps(result, 'tfjs', 'webgl', b)))} | ` +
      `${times(ratio(sps(result, 'batchlab', 'cpu', b), sps(result, 'tfjs', 'cpu', b)))} | ` +
      `${times(ratio(sps(result, 'batchlab', 'cpu', b), sps(result, 'pytorch', 'cpu', b)))} | ` +
      `${times(ratio(sps(result, 'batchlab', 'cpu', b), sps(result, 'native', 'cpu', b)))} | ` +
      `${times(ratio(best('batchlab', ['cpu', 'webgpu']), best('tfjs', ['webgl', 'cpu', 'webgpu'])))} |`);
  }
  push('');

  push('**Per step** (ms per optimiser step at the measured throughput; first step: model set-up, shader compilation and the first step, in s)', '');
  push('| batch size | CPU ms/step | CPU first step | WebGPU ms/step | WebGPU first step | TF.js WebGL ms/step | TF.js WebGL first step |', '|---:|---:|---:|---:|---:|---:|---:|');
  for (const b of result.batchSizes) {
    const c = figures(result, 'batchlab', 'cpu', b);
    const g = figures(result, 'batchlab', 'webgpu', b);
    const t = figures(result, 'tfjs', 'webgl', b);
    push(`| ${fmt(b)} | ${fmt(c?.msPerStep, 1)} | ${fmt(c?.firstStepSeconds, 2)} | ${fmt(g?.msPerStep, 1)} | ${fmt(g?.firstStepSeconds, 2)} | ${fmt(t?.msPerStep, 1)} | ${fmt(t?.firstStepSeconds, 2)} |`);
  }
  push('');

  const host = job(result, 'batchlab', 'webgpu', 'hostBatches');
  if (host) {
    push('**Ablation: the training set on the device** (batchlab WebGPU, samples/s: batches gathered on the device, as the page trains, vs. each batch uploaded from the CPU)', '');
    push('| batch size | gathered on the device | uploaded each step | ratio |', '|---:|---:|---:|---:|');
    for (const t of host.training) {
      const on = sps(result, 'batchlab', 'webgpu', t.batchSize);
      push(`| ${fmt(t.batchSize)} | ${fmt(on, 1)} | ${fmt(t.samplesPerSecond, 1)} | ${times(ratio(on, t.samplesPerSecond))} |`);
    }
    push('');
  }

  push('**Evaluation** (forward passes of 1,000 test images, images/s)', '');
  const evals = [
    ...jobs.filter((j) => !j.variant).map((j) => [`${NAMES[j.kind]} ${j.requested}`, j.evaluation?.imagesPerSecond]),
    ['batchlab CPU, native', result.native?.evaluation?.imagesPerSecond],
    ['PyTorch, native, 1 thread', result.pytorch?.evaluation?.imagesPerSecond],
  ];
  push(`| ${evals.map((e) => e[0]).join(' | ')} |`, `|${evals.map(() => '---:').join('|')}|`, `| ${evals.map((e) => fmt(e[1])).join(' | ')} |`, '');

  const s = result.startup;
  push('**Start-up** (the product page, a first visit in a fresh browser profile, `?' + 'batch=64&epochs=1&train=10000&test=10000&autorun=1`)', '');
  push(`- Module: ${fmt(result.module.raw / MB, 2)} MB raw, ${fmt(result.module.gzip / MB, 2)} MB gzip.`);
  for (const e of result.startupErrors ?? []) push(`- A start-up measurement failed: ${e}`);
  if (s.length) {
    const b = s[0].bytes;
    push(`- Downloaded: ${fmt(b.wasm / MB, 2)} MB of wasm, ${fmt(b.data / MB, 2)} MB of MNIST (the test set and one 10,000-image part of the training set), ${fmt(b.other / MB, 2)} MB else (${s[0].requests} requests).`);
    push(`- Trainer compiled and running: ${fmt(median(s.map((x) => x.trainerReady)) / 1000, 2)} s; first training step done: ${fmt(median(s.map((x) => x.firstStep)) / 1000, 2)} s after opening the page (median of ${s.length}: ${s.map((x) => fmt(x.firstStep / 1000, 2)).join(', ')} s; backend ${s[0].backend}).`);
  }
  push('');

  push('**Targets**', '');
  push('| target | measured | met |', '|---|---|---|');
  for (const t of targets(result)) push(`| ${t.target} | ${t.value} | ${t.met ? 'yes' : `**no**: ${t.by}`} |`);
  push('');
  return `${lines.join('\n')}\n`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  process.stdout.write(report(JSON.parse(readFileSync(process.argv[2], 'utf8'))));
}
