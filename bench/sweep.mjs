// Sweep runner (not a test; the speed benchmark is bench/run.sh): runs a fixed sweep through the page's URL interface in headless
// Chromium (WebGPU on SwiftShader available) and prints, per batch size, the training
// throughput and test accuracy. The backend is the page's choice unless the query names one.
//
//   node bench/sweep.mjs                      the default sweep below
//   node bench/sweep.mjs 'batch=64&epochs=1&train=60000&optimizer=adam&lr=0.001&backend=cpu'
//
// Needs a built page (scripts/build.sh). Prints a Markdown table and the raw records as JSON.
import { serve, launch, open, waitForStatus } from '../tests/e2e/harness.mjs';

const DEFAULT = 'batch=16,64,256&epochs=1&train=10000&test=10000&optimizer=adam&lr=0.001&seed=42';
const query = process.argv[2] ?? DEFAULT;

const server = await serve();
const browser = await launch();
try {
  const started = Date.now();
  const { page, errors } = await open(browser.context, `${server.url}?${query}&autorun=1`);
  let last = '';
  const timer = setInterval(async () => {
    const text = await page.textContent('#status-text').catch(() => '');
    if (text !== last) process.stderr.write(`${((Date.now() - started) / 1000).toFixed(0)} s  ${(last = text)}\n`);
  }, 10_000);
  const status = await waitForStatus(page, ['done', 'error', 'stopped'], 0);
  clearInterval(timer);
  const { results, adapter, backend, error } = await page.evaluate(() => ({ ...window.batchlab, results: window.batchlab.results }));
  if (status !== 'done') throw new Error(`the sweep ended with status ${status}: ${error}`);
  const userAgent = await page.evaluate(() => navigator.userAgent);
  console.log(`\nbatchlab benchmark, ${new Date().toISOString().slice(0, 10)}: ?${query}`);
  console.log(`backend: ${backend}; adapter: ${adapter}; ${userAgent.match(/Chrome\/[\d.]+/)?.[0] ?? userAgent}\n`);
  console.log('| batch size | epoch | steps | training time (s) | throughput (samples/s) | train loss | test accuracy |');
  console.log('|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of results) {
    console.log(`| ${r.batchSize} | ${r.epoch} | ${r.steps} | ${r.trainSeconds.toFixed(1)} | ${r.samplesPerSecond.toFixed(0)} | ${r.trainLoss.toFixed(4)} | ${(100 * r.testAccuracy).toFixed(2)} % |`);
  }
  console.log(`\nwall time of the whole sweep, page load included: ${((Date.now() - started) / 1000).toFixed(0)} s`);
  if (errors.length) console.log(`console errors: ${errors.join('\n')}`);
  console.log(JSON.stringify(results));
} finally {
  await browser.close();
  server.close();
}
