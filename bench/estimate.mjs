// The duration estimate against the sweep's measured duration (not a test; issue: the estimate a
// reader sees is within ±30 % of what the sweep then takes). Opens the page in headless Chromium
// with a query, presses *Estimate duration* (`batchlab.estimateDuration()`), then Start, and
// prints, per batch size, the estimate's throughput and seconds beside the run's measured
// throughput, training seconds and how it ended; then the estimate's total against the wall time
// from Start to the sweep's end (evaluation, probes and checks included), and their ratio.
//
//   node bench/estimate.mjs                              Quick look on the CPU backend
//   node bench/estimate.mjs 'preset=quick&backend=webgpu'
//
// Needs a built page (scripts/build.sh). Prints Markdown, then one JSON line.
import { serve, launch, open, waitForStatus } from '../tests/e2e/harness.mjs';

const query = process.argv[2] ?? 'preset=quick&backend=cpu';

const server = await serve();
const browser = await launch();
try {
  const { page, errors } = await open(browser.context, `${server.url}?${query}`);
  // The trainer answers (its module compiled, MNIST loaded) before the button is enabled.
  await page.waitForSelector('#estimate:not([disabled])', { timeout: 10 * 60_000 });
  const estimating = Date.now();
  await page.evaluate(() => window.batchlab.estimateDuration());
  await page.waitForFunction(() => window.batchlab.estimate !== null, null, { timeout: 20 * 60_000, polling: 250 });
  await page.waitForSelector('#start:not([disabled])', { timeout: 60_000 });
  const estimateWall = (Date.now() - estimating) / 1000;
  const estimate = await page.evaluate(() => window.batchlab.estimate);
  const started = Date.now();
  await page.click('#start');
  const status = await waitForStatus(page, ['done', 'error', 'stopped'], 0);
  const actual = (Date.now() - started) / 1000;
  const { runs, backend, error } = await page.evaluate(() => ({ runs: window.batchlab.runs, backend: window.batchlab.backend, error: window.batchlab.error }));
  if (status !== 'done') throw new Error(`the sweep ended with status ${status}: ${error}`);

  const ratio = estimate.totalSeconds / actual;
  console.log(`\nduration estimate against the sweep, ${new Date().toISOString().slice(0, 10)}: ?${query} (backend ${backend})\n`);
  console.log('| batch size | estimated samples/s | measured samples/s | estimated s | training s (measured) | ended by |');
  console.log('|---:|---:|---:|---:|---:|---|');
  for (const e of estimate.runs) {
    const of = runs.filter((r) => r.batchSize === e.batchSize);
    const samples = of.reduce((s, r) => s + r.samples, 0);
    const seconds = of.reduce((s, r) => s + r.trainSeconds, 0);
    console.log(`| ${e.batchSize} | ${e.samplesPerSecond.toFixed(0)} | ${(samples / Math.max(seconds, 1e-9)).toFixed(0)} | ${e.seconds.toFixed(1)} | ${seconds.toFixed(1)} | ${of.map((r) => r.endedBy).join(', ')} |`);
  }
  console.log(`\nestimate ${estimate.totalSeconds.toFixed(0)} s${estimate.atMost ? ' (at most)' : ''}, measured in ${estimateWall.toFixed(0)} s; the sweep took ${actual.toFixed(0)} s from Start to its end: estimate / actual = ${ratio.toFixed(2)} (${Math.abs(ratio - 1) <= 0.3 ? 'within' : 'outside'} ±30 %)`);
  if (errors.length) console.log(`console errors: ${errors.join('\n')}`);
  console.log(JSON.stringify({ query, backend, estimate, actualSeconds: actual, ratio, runs: runs.map(({ batchSize, endedBy, samples, steps, trainSeconds, divergedEpoch }) => ({ batchSize, endedBy, samples, steps, trainSeconds, divergedEpoch })) }));
} finally {
  await browser.close();
  server.close();
}
