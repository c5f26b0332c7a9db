// The duration estimate against the sweep's measured duration (not a test; issue: the estimate a
// reader sees is within ±30 % of what the sweep then takes). For each query: opens the page in
// headless Chromium, presses *Estimate duration* (`batchlab.estimateDuration()`), then Start, and
// prints, per batch size, the estimate's throughput and seconds beside the run's measured
// throughput, training seconds and how it ended; then the estimate's total against the wall time
// from Start to the sweep's end (evaluation, probes and checks included), and their ratio.
//
//   node bench/estimate.mjs                              Quick look on the CPU backend
//   node bench/estimate.mjs 'preset=quick&backend=cpu' 'preset=quick&backend=webgpu'
//   node bench/estimate.mjs --out bench/results/estimate 'preset=quick&backend=cpu'
//
// Needs a built page (scripts/build.sh). Prints Markdown, then one JSON line per query; with
// --out P, also writes P.md and P.json.
import { writeFileSync } from 'node:fs';
import { serve, launch, open, waitForStatus } from '../tests/e2e/harness.mjs';

const args = process.argv.slice(2);
const outAt = args.indexOf('--out');
const out = outAt >= 0 ? args.splice(outAt, 2)[1] : null;
const queries = args.length ? args : ['preset=quick&backend=cpu'];

/** One query's estimate and sweep, measured in a fresh page: `{ query, backend, estimate,
 * estimateWallSeconds, actualSeconds, ratio, runs }` (seconds; `ratio` = estimate / actual). */
async function measure(browser, url, query) {
  const { page, errors } = await open(browser.context, `${url}?${query}`);
  try {
    // The trainer answers (its module compiled, MNIST loaded) before the button is enabled.
    await page.waitForSelector('#estimate:not([disabled])', { timeout: 10 * 60_000 });
    const estimating = Date.now();
    await page.evaluate(() => window.batchlab.estimateDuration());
    await page.waitForFunction(() => window.batchlab.estimate !== null, null, { timeout: 20 * 60_000, polling: 250 });
    await page.waitForSelector('#start:not([disabled])', { timeout: 60_000 });
    const estimateWallSeconds = (Date.now() - estimating) / 1000;
    const estimate = await page.evaluate(() => window.batchlab.estimate);
    const started = Date.now();
    await page.click('#start');
    const status = await waitForStatus(page, ['done', 'error', 'stopped'], 0);
    const actualSeconds = (Date.now() - started) / 1000;
    const { runs, backend, error } = await page.evaluate(() => ({ runs: window.batchlab.runs, backend: window.batchlab.backend, error: window.batchlab.error }));
    if (status !== 'done') throw new Error(`the sweep ended with status ${status}: ${error}`);
    if (errors.length) console.error(`console errors: ${errors.join('\n')}`);
    return {
      query, backend, estimate, estimateWallSeconds, actualSeconds,
      ratio: estimate.totalSeconds / actualSeconds,
      runs: runs.map(({ batchSize, series, endedBy, samples, steps, trainSeconds, divergedEpoch }) => ({ batchSize, series, endedBy, samples, steps, trainSeconds, divergedEpoch })),
    };
  } finally {
    await page.close();
  }
}

/** `m` (from `measure`) in Markdown. */
function markdown(m) {
  const lines = [
    `### ?${m.query} (backend ${m.backend})`,
    '',
    '| batch size | estimated samples/s | measured samples/s | estimated s | training s (measured) | ended by |',
    '|---:|---:|---:|---:|---:|---|',
  ];
  for (const e of m.estimate.runs) {
    const of = m.runs.filter((r) => r.batchSize === e.batchSize);
    const samples = of.reduce((s, r) => s + r.samples, 0);
    const seconds = of.reduce((s, r) => s + r.trainSeconds, 0);
    lines.push(`| ${e.batchSize} | ${e.samplesPerSecond.toFixed(0)} | ${(samples / Math.max(seconds, 1e-9)).toFixed(0)} | ${e.seconds.toFixed(1)} | ${seconds.toFixed(1)} | ${of.map((r) => r.endedBy).join(', ')} |`);
  }
  const within = Math.abs(m.ratio - 1) <= 0.3 ? 'within' : 'outside';
  lines.push('', `Estimate ${m.estimate.totalSeconds.toFixed(0)} s${m.estimate.atMost ? ' (at most)' : ''} (evaluation measured at ${m.estimate.evaluationImagesPerSecond?.toFixed(0) ?? '?'} images/s), measured in ${m.estimateWallSeconds.toFixed(0)} s; the sweep took ${m.actualSeconds.toFixed(0)} s from Start to its end: estimate / actual = **${m.ratio.toFixed(2)}** (${within} ±30 %).`, '');
  return lines.join('\n');
}

const server = await serve();
const browser = await launch();
const results = [];
try {
  for (const query of queries) {
    const m = await measure(browser, server.url, query);
    results.push(m);
    console.log(`\n${markdown(m)}`);
    console.log(JSON.stringify(m));
  }
} finally {
  await browser.close();
  server.close();
}
if (out) {
  const date = new Date().toISOString().slice(0, 10);
  writeFileSync(`${out}.json`, `${JSON.stringify({ date, results }, null, 2)}\n`);
  writeFileSync(`${out}.md`, `## The duration estimate against the sweep (${date})\n\n${results.map(markdown).join('\n')}`);
}
