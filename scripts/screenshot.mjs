// Takes the README's screenshot: a finished sweep, with its findings, in headless Chromium.
//   node scripts/screenshot.mjs [query] [output] [seconds]   (needs a built page: scripts/build.sh)
// With `seconds`: the page as it is that many seconds after it was opened, mid-sweep (and
// which batch sizes have their first epoch drawn by then).
import { serve, launch, open, waitForStatus } from '../tests/e2e/harness.mjs';

const query = process.argv[2] ?? 'preset=quick';
const output = process.argv[3] ?? 'docs/screenshot.png';
const at = process.argv[4] == null ? null : Number(process.argv[4]);
const server = await serve();
const browser = await launch();
try {
  const opened = Date.now();
  const { page } = await open(browser.context, `${server.url}?${query}&autorun=1`);
  if (at != null) {
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.waitForTimeout(Math.max(0, at * 1000 - (Date.now() - opened)));
    await page.screenshot({ path: output, fullPage: true });
    const { results, status } = await page.evaluate(() => ({ results: window.batchlab.results, status: document.getElementById('status-text').textContent }));
    console.log(`wrote ${output}, ${((Date.now() - opened) / 1000).toFixed(1)} s after opening the page`);
    console.log(`status line: ${status}`);
    console.log(`first epochs drawn: batch sizes ${[...new Set(results.map((r) => r.batchSize))].join(', ') || 'none'}`);
  } else {
    const status = await waitForStatus(page, ['done', 'error', 'stopped'], 0);
    if (status !== 'done') throw new Error(`status ${status}: ${await page.evaluate(() => window.batchlab.error)}`);
    await page.waitForFunction(() => window.batchlab.findings.length === 6, null, { timeout: 60_000 });
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.screenshot({ path: output, fullPage: true });
    console.log(`wrote ${output}`);
    // The run summaries and findings, for the README's table.
    const { runs, findings } = await page.evaluate(() => ({ runs: window.batchlab.runs, findings: window.batchlab.findings }));
    const cell = (x, digits) => (x == null ? 'not reached' : x.toLocaleString('en', { maximumFractionDigits: digits, minimumFractionDigits: digits }));
    console.log('| batch size | epochs to target | steps to target | time to target (s) | best test accuracy | final test accuracy | throughput (samples/s) | noise scale |');
    console.log('|---:|---:|---:|---:|---:|---:|---:|---:|');
    for (const r of runs) {
      console.log(`| ${cell(r.batchSize, 0)} | ${cell(r.targetEpoch, 0)} | ${cell(r.targetSteps, 0)} | ${cell(r.targetSeconds, 1)} | ` +
        `${(100 * r.bestTestAccuracy).toFixed(2)} % | ${(100 * r.finalTestAccuracy).toFixed(2)} % | ${cell(r.samplesPerSecond, 0)} | ${cell(r.noiseScale, 0)} |`);
    }
    for (const f of findings) console.log(`${f.number}. [${f.shown}] ${f.title} ${f.text}`);
    console.log(`sweep finished ${((Date.now() - opened) / 1000).toFixed(0)} s after opening the page`);
    // Several seeds or arms (preset=fair): the mean and spread per batch size and arm, the
    // tuned rates, the findings per arm, and the export beside the screenshot.
    const { arms, spread } = await page.evaluate(() => ({ arms: window.batchlab.arms, spread: window.batchlab.seedSummaries }));
    if (arms.length > 1 || spread.some((s) => s.seeds.length > 1)) {
      const ms = (s, digits = 0) => (s == null ? '—' : `${cell(s.mean, digits)} (${cell(s.min, digits)}–${cell(s.max, digits)})`);
      console.log('| arm | batch size | seeds reached / diverged | learning rate (geometric range) | steps to target, mean (min–max) | time to target (s) | final test accuracy % |');
      console.log('|---|---:|---|---|---:|---:|---:|');
      const pct = (s) => s && { ...s, mean: 100 * s.mean, min: 100 * s.min, max: 100 * s.max };
      for (const s of spread) {
        const lr = s.learningRate ? `${s.learningRate.min.toPrecision(2)}–${s.learningRate.max.toPrecision(2)}` : '—';
        console.log(`| ${s.lrPolicy} | ${cell(s.batchSize, 0)} | ${s.reached} / ${s.diverged} of ${s.seeds.length} | ${lr} | ${ms(s.targetSteps)} | ${ms(s.targetSeconds, 1)} | ${ms(pct(s.finalTestAccuracy), 2)} |`);
      }
      for (const arm of arms) {
        console.log(`arm ${arm.lrPolicy}, seeds ${arm.seeds.join(', ')}:`);
        for (const f of arm.findings) console.log(`  ${f.number}. [${f.shown}] seeds ${JSON.stringify(f.seeds)} ${f.text}`);
      }
      const file = output.replace(/\.png$/, '') + '.json';
      (await import('node:fs')).writeFileSync(file, await page.evaluate(() => window.batchlab.exportSweep('json')));
      console.log(`wrote ${file}`);
    }
  }
} finally {
  await browser.close();
  server.close();
}
