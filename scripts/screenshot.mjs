// Takes the README's screenshot: a finished sweep, with its findings, in headless Chromium.
//   node scripts/screenshot.mjs [query] [output]   (needs a built page: scripts/build.sh)
import { serve, launch, open, waitForStatus } from '../tests/e2e/harness.mjs';

const query = process.argv[2] ?? 'preset=quick';
const output = process.argv[3] ?? 'docs/screenshot.png';
const server = await serve();
const browser = await launch();
try {
  const { page } = await open(browser.context, `${server.url}?${query}&autorun=1`);
  const status = await waitForStatus(page, ['done', 'error', 'stopped'], 0);
  if (status !== 'done') throw new Error(`status ${status}: ${await page.evaluate(() => window.batchlab.error)}`);
  await page.waitForFunction(() => window.batchlab.findings.length === 6, null, { timeout: 60_000 });
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.screenshot({ path: output, fullPage: true });
  console.log(`wrote ${output}`);
} finally {
  await browser.close();
  server.close();
}
