// Side by side against one after another (not a test: it prints figures and checks nothing).
// Runs the same sweep through the page's URL interface with `race=1` (the batch sizes take
// turns, chunk by chunk) and `race=0` (one after another), alternately, in one headless Chromium
// session, and prints per batch size the run's throughput (samples / its own training seconds)
// and its training time to the target, medians over the rounds, and the ratio side by side /
// one after another. A run's training time counts only its own chunks, so the ratios should
// be 1 within the machine's noise.
//
//   node bench/race.mjs                                   the default sweep, 2 rounds, CPU backend
//   node bench/race.mjs 'batch=16,64,256&epochs=2&train=2000&backend=webgpu' 3
//   node bench/race.mjs 'batch=16,64&epochs=1&train=2000&backend=wgpu' 3 --cli target/debug/batchlab
//
// Needs a built page (scripts/build.sh). With `--cli BIN` it runs the command line instead of
// the page (every parameter as a flag; natively, e.g. burn's wgpu backend on Vulkan). Prints a
// Markdown table and the raw summaries as JSON.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve, launch, open, waitForStatus } from '../tests/e2e/harness.mjs';

const DEFAULT = 'preset=quick&train=5000&epochs=3&target=0.93&backend=cpu';
const cliAt = process.argv.indexOf('--cli');
const cli = cliAt > 0 ? process.argv.splice(cliAt, 2)[1] : null;
const query = process.argv[2] ?? DEFAULT;
const rounds = Number(process.argv[3] ?? 2);

/** One sweep through the command line: `{ runs, backend, adapter }` of its export. */
function sweepByCli(race) {
  const out = join(mkdtempSync(join(tmpdir(), 'race-')), 'sweep.json');
  const flags = [...new URLSearchParams(query)].flatMap(([k, v]) => [`--${k}`, v]);
  execFileSync(cli, ['sweep', ...flags, '--race', String(race), '--progress', 'none', '--out', out], { stdio: ['ignore', 'ignore', 'inherit'] });
  const exported = JSON.parse(readFileSync(out, 'utf8'));
  return { runs: exported.runs.map((r) => r.summary ?? r), backend: exported.backend, adapter: exported.adapter };
}

const median = (xs) => {
  const s = xs.filter((x) => x != null && Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return null;
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const server = cli ? null : await serve();
const browser = cli ? null : await launch();
const summaries = { 1: [], 0: [] }; // race value → one array of run summaries per round
let backend = null;
let adapter = null;
try {
  for (let round = 0; round < rounds; round++) {
    // Alternate which goes first, so that a drift of the machine's speed hits both alike.
    for (const race of round % 2 ? [0, 1] : [1, 0]) {
      const started = Date.now();
      if (cli) {
        const state = sweepByCli(race);
        ({ backend, adapter } = state);
        summaries[race].push(state.runs);
        process.stderr.write(`round ${round + 1}, race=${race}: ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
        continue;
      }
      const { page } = await open(browser.context, `${server.url}?${query}&race=${race}&autorun=1`);
      const status = await waitForStatus(page, ['done', 'error', 'stopped'], 0);
      const state = await page.evaluate(() => ({ runs: window.batchlab.runs, backend: window.batchlab.backend, adapter: window.batchlab.adapter, error: window.batchlab.error }));
      if (status !== 'done') throw new Error(`race=${race}: the sweep ended with status ${status}: ${state.error}`);
      ({ backend, adapter } = state);
      summaries[race].push(state.runs);
      process.stderr.write(`round ${round + 1}, race=${race}: ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
      await page.close();
    }
  }
  const sizes = summaries[1][0].map((r) => r.batchSize);
  const of = (race, b, field) => median(summaries[race].map((runs) => runs.find((r) => r.batchSize === b)?.[field]));
  const fmt = (x, digits = 0) => (x == null ? '—' : x.toLocaleString('en', { maximumFractionDigits: digits, minimumFractionDigits: digits }));
  const ratio = (a, b) => (a == null || b == null || b === 0 ? '—' : (a / b).toFixed(3));
  console.log(`\nbatchlab side by side vs one after another, ${new Date().toISOString().slice(0, 10)}: ?${query}${cli ? ' (command line)' : ''}`);
  console.log(`backend: ${backend}; adapter: ${adapter}; medians of ${rounds} rounds each\n`);
  console.log('| batch size | samples/s side by side | one after another | ratio | seconds to target side by side | one after another | ratio |');
  console.log('|---:|---:|---:|---:|---:|---:|---:|');
  for (const b of sizes) {
    const [s1, s0] = [of(1, b, 'samplesPerSecond'), of(0, b, 'samplesPerSecond')];
    const [t1, t0] = [of(1, b, 'targetSeconds'), of(0, b, 'targetSeconds')];
    console.log(`| ${b.toLocaleString('en')} | ${fmt(s1)} | ${fmt(s0)} | ${ratio(s1, s0)} | ${fmt(t1, 1)} | ${fmt(t0, 1)} | ${ratio(t1, t0)} |`);
  }
  console.log(JSON.stringify(summaries));
} finally {
  await browser?.close();
  server?.close();
}
