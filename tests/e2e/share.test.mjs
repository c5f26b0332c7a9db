// End-to-end: share, embed, keep. Every setting travels in the link and comes back; the same
// seed gives the same first epoch; CSV and JSON exports hold what the tables show; a JSON import
// draws the same chart points; a reload keeps every finished epoch and Resume continues the
// sweep (the cut-short run from its last finished epoch); storage failures are reported, never fatal; the embed fits 320 px and 800 px, light and
// dark, with its charts drawn. All sweeps train on the CPU backend (deterministic, and fast).
// Needs a built page (scripts/build.sh); scripts/test.sh builds it first.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { open, waitForStatus } from './harness.mjs';
import { setup } from './setup.mjs';

const fixture = setup();
const url = (query) => `${fixture.server.url}?${query}`;

/** Every chart's datasets as `{ label, points: [[x, y], …] }`, by canvas id. */
function chartPoints() {
  return Object.fromEntries([...document.querySelectorAll('figure > canvas')].map((canvas) => [
    canvas.id,
    Chart.getChart(canvas).data.datasets.map((d) => ({ label: d.label, points: d.data.map((p) => [p.x, p.y]) })),
  ]));
}

/** The text of every cell of a table's body, row by row. */
const tableText = (page, selector) => page.$$eval(`${selector} tbody tr`, (rows) => rows.map((r) => [...r.cells].map((c) => c.textContent)));

/** A file the page offers for download after `click`: `{ name, text, bytes }`. */
async function downloaded(page, click) {
  const [download] = await Promise.all([page.waitForEvent('download'), click()]);
  const bytes = readFileSync(await download.path());
  return { name: download.suggestedFilename(), bytes, text: bytes.toString('utf8') };
}

/** A CSV file (no quoted commas in these) without its `#` lines: { header, rows }. */
function csvRows(text) {
  const lines = text.trim().split('\n').filter((l) => !l.startsWith('#'));
  return { header: lines[0].split(','), rows: lines.slice(1).map((l) => l.split(',')) };
}

test('every setting travels in the link and comes back; the same seed gives the same first epoch', { timeout: 10 * 60_000 }, async () => {
  const { context } = fixture.browser;
  const { page, errors } = await open(context, url('backend=cpu'));
  await page.waitForSelector('#start:not([disabled])');
  // A value that is not the default for every setting, entered as a reader would.
  const values = {
    batch: '8,32,full', epochs: '7', lr: '0.02', optimizer: 'nesterov', lrpolicy: 'sqrt', lrref: '32', warmup: '2',
    model: 'theano', target: '0.9', budget: '45', seed: '1234', train: '3000', test: '500', backend: 'cpu',
    val: '2000', lrgrid: '0.001,1,4', lrtrial: '2', evalpoints: '4', seeds: '2', baseline: 'fixed',
  };
  for (const [name, value] of Object.entries(values)) {
    const control = page.locator(`#controls [name="${name}"]`);
    if (await control.evaluate((e) => e.tagName === 'SELECT')) await control.selectOption(value);
    else await control.fill(value);
  }
  await page.check('#endattarget');
  await page.selectOption('#race', '0');
  const expected = { preset: 'custom', ...values, endattarget: '1', race: '0' };
  const search = Object.fromEntries(new URL(page.url()).searchParams);
  assert.deepEqual(search, expected, 'the address bar shows every setting');
  const link = await page.evaluate(() => window.batchlab.link);
  assert.equal(await page.inputValue('#share-link'), link);
  assert.deepEqual(Object.fromEntries(new URL(link).searchParams), expected);
  const snippet = await page.evaluate(() => window.batchlab.embedSnippet);
  assert.equal(await page.inputValue('#embed-snippet'), snippet);
  assert.match(snippet, /^<iframe src="http:\/\/127\.0\.0\.1:\d+\/\?preset=custom&amp;batch=8,32,full&amp;.*&amp;embed=1" title="batchlab: [^"]+" width="100%" height="\d+" style="[^"]*" loading="lazy"><\/iframe>$/);

  // Copy link puts the link on the clipboard.
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: fixture.server.url });
  await page.click('#copy-link');
  await page.waitForFunction(() => document.querySelector('#share-feedback').textContent !== '');
  assert.equal(await page.textContent('#share-feedback'), 'Link copied.');
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), link);

  // Opening the link restores every control.
  const reopened = await open(context, link);
  await reopened.page.waitForSelector('#start:not([disabled])');
  const controls = await reopened.page.$$eval('#controls [name]', (els) => Object.fromEntries(els.map((e) => [e.name, e.type === 'checkbox' ? (e.checked ? '1' : '0') : e.value])));
  assert.deepEqual(controls, expected);
  await reopened.page.close();

  // With autorun=1 the link starts the same sweep; twice, the same numbers to the last digit.
  const small = 'batch=50&epochs=1&train=600&test=200&val=300&seed=7&backend=cpu&lr=0.003';
  const firstEpochs = [];
  for (let i = 0; i < 2; i++) {
    const run = await open(context, url(`${small}&autorun=1`));
    assert.equal(await waitForStatus(run.page, ['done', 'error'], 5 * 60_000), 'done', await run.page.evaluate(() => window.batchlab.error));
    assert.ok(!new URL(run.page.url()).searchParams.has('autorun'), 'autorun is honoured once and leaves the address bar');
    const [row] = await tableText(run.page, '#results');
    const [record] = await run.page.evaluate(() => window.batchlab.results);
    firstEpochs.push({ printed: row.slice(0, 8), record: { ...record, trainSeconds: 0, samplesPerSecond: 0 } });
    await run.page.close();
  }
  console.log('first epoch, twice:', JSON.stringify(firstEpochs[0].printed));
  assert.deepEqual(firstEpochs[1], firstEpochs[0], 'same seed, same backend: the same first epoch');
  assert.deepEqual(errors, []);
  await page.close();
});

/**
 * Runs the command line (`batchlab ARGS…`), built in the native target directory that
 * scripts/test.sh's native tests use (built there if it is not yet); resolves to its output.
 */
function batchlab(args) {
  const cache = process.env.BATCHLAB_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'batchlab');
  const env = { ...process.env, CARGO_TARGET_DIR: join(cache, 'native') };
  execFileSync('cargo', ['build', '--quiet', '--bin', 'batchlab'], { env, stdio: 'inherit' });
  return execFileSync(join(cache, 'native', 'debug', 'batchlab'), args, { env }).toString();
}

test('the command line’s export opens in the page as a sweep trained there', { timeout: 15 * 60_000 }, async () => {
  const settings = { batch: '25,100', epochs: '2', train: '400', test: '200', val: '300', backend: 'cpu', seed: '7' };
  const dir = mkdtempSync(join(tmpdir(), 'batchlab-cli-'));
  try {
    batchlab(['sweep', ...Object.entries(settings).flatMap(([k, v]) => [`--${k}`, v]), '--progress', 'json', '--out', join(dir, 'cli.json')]);
    const file = readFileSync(join(dir, 'cli.json'));
    const exported = JSON.parse(file.toString());
    assert.equal(exported.results.length, 4);

    // The same sweep trained in the page, for what a sweep trained there shows.
    const { page, errors } = await open(fixture.browser.context, url(`${new URLSearchParams(settings)}&autorun=1`));
    assert.equal(await waitForStatus(page, ['done', 'error'], 5 * 60_000), 'done');
    await page.waitForFunction(() => window.batchlab.findings.length === 6);
    const live = await page.evaluate(() => ({ results: window.batchlab.results, runs: window.batchlab.runs }));
    const livePoints = await page.evaluate(chartPoints);
    const liveRuns = await tableText(page, '#runs');

    await page.evaluate(() => window.batchlab.clearSaved());
    await page.setInputFiles('#import', { name: 'cli.json', mimeType: 'application/json', buffer: file });
    await page.waitForFunction(() => window.batchlab.results.length === 4);
    assert.match(await page.textContent('#status-text'), /Showing the imported sweep cli\.json \(batchlab /);
    const imported = await page.evaluate(() => ({ results: window.batchlab.results, runs: window.batchlab.runs }));
    // Every record and summary as the command line wrote it, with the fields a page's have.
    assert.deepEqual(imported.results, exported.results);
    const fields = (items) => items.map((x) => Object.keys(x).sort());
    assert.deepEqual(fields(imported.results), fields(live.results));
    assert.deepEqual(fields(imported.runs), fields(live.runs));
    // Drawn like the page's own sweep: the same charts, lines and points per line.
    const points = await page.evaluate(chartPoints);
    const shape = (charts) => Object.fromEntries(Object.entries(charts).map(([id, sets]) => [id, sets.map((d) => `${d.label}: ${d.points.length}`).sort()]));
    assert.deepEqual(shape(points), shape(livePoints));
    // The same steps and samples at each epoch; accuracies that agree (native and wasm sums may round differently).
    const key = (r) => `${r.batchSize}:${r.epoch}`;
    for (const record of imported.results) {
      const twin = live.results.find((r) => key(r) === key(record));
      assert.deepEqual([record.steps, record.samples], [twin.steps, twin.samples]);
      assert.ok(Math.abs(record.valAccuracy - twin.valAccuracy) < 0.02, `${key(record)}: ${record.valAccuracy} vs ${twin.valAccuracy}`);
    }
    assert.equal((await tableText(page, '#runs')).length, liveRuns.length);
    await page.waitForFunction(() => window.batchlab.findings.length === 6);
    assert.deepEqual(errors, []);
    await page.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('CSV and JSON exports hold what the tables show; a JSON import draws the same chart points', { timeout: 10 * 60_000 }, async () => {
  const { page, errors } = await open(fixture.browser.context, url('batch=25,100&epochs=2&train=400&test=200&val=300&backend=cpu&autorun=1'));
  assert.equal(await waitForStatus(page, ['done', 'error'], 5 * 60_000), 'done');
  await page.waitForFunction(() => window.batchlab.findings.length === 6);
  const live = await page.evaluate(() => ({
    results: window.batchlab.results, runs: window.batchlab.runs, findings: window.batchlab.findings,
    version: window.batchlab.version, userAgent: navigator.userAgent,
  }));
  const points = await page.evaluate(chartPoints);
  const resultsTable = await tableText(page, '#results');
  const runsTable = await tableText(page, '#runs');
  assert.equal(resultsTable.length, 4);

  // JSON, through the button: everything, with where and by what it was computed.
  const json = await downloaded(page, () => page.click('#export-json'));
  assert.match(json.name, /^batchlab-\d{4}-\d\d-\d\d-\d{4}-sweep\.json$/);
  const exported = JSON.parse(json.text);
  assert.equal(exported.format, 'batchlab-sweep');
  assert.equal(exported.formatVersion, 1);
  assert.equal(exported.batchlabVersion, live.version);
  assert.match(live.version, /^\d+\.\d+\.\d+/);
  assert.equal(exported.userAgent, live.userAgent);
  assert.equal(exported.backend, 'cpu');
  assert.equal(exported.adapter, null);
  assert.deepEqual(exported.settings.batchSizes, [25, 100]);
  const linked = new URL(exported.link).searchParams;
  assert.deepEqual([linked.get('batch'), linked.get('train'), linked.get('backend'), linked.has('autorun')], ['25,100', '400', 'cpu', false]);
  assert.deepEqual(exported.results, live.results);
  assert.deepEqual(exported.runs, live.runs);
  assert.deepEqual(exported.findings, live.findings);

  // Per-epoch CSV: one row per table row, the same values as printed.
  const epochs = await downloaded(page, () => page.click('#export-epochs'));
  assert.match(epochs.name, /-epochs\.csv$/);
  assert.match(epochs.text, /^# batchlab \d+\.\d+\.\d+ — per-epoch records, exported /);
  assert.match(epochs.text, /\n# backend: CPU \(WebAssembly\)\n/);
  assert.ok(epochs.text.includes(`# user agent: ${live.userAgent}`));
  const e = csvRows(epochs.text);
  // Columns added since the first format come last (valLoss, valAccuracy, seed).
  assert.deepEqual(e.header, ['batchSize', 'series', 'epoch', 'steps', 'samples', 'trainLoss', 'trainAccuracy', 'testLoss', 'testAccuracy',
    'trainSeconds', 'samplesPerSecond', 'learningRate', 'backend', 'valLoss', 'valAccuracy', 'seed']);
  for (const c of e.rows) assert.equal(c[15], '42', 'each record names its seed');
  assert.equal(e.rows.length, resultsTable.length);
  const n = (x, d) => Number(x).toLocaleString('en', { minimumFractionDigits: d, maximumFractionDigits: d });
  const pc = (x) => `${(100 * Number(x)).toFixed(2)} %`;
  e.rows.forEach((c, i) => {
    assert.deepEqual([c[0], c[2], n(c[3], 0), n(c[4], 0), n(c[5], 4), pc(c[6]), n(c[13], 4), pc(c[14]), n(c[7], 4), pc(c[8]), n(c[9], 1), n(c[10], 0), 'CPU'], resultsTable[i]);
    assert.equal(Number(c[5]), live.results[i].trainLoss, 'full precision');
  });

  // Runs CSV: one row per run, as in the runs table.
  const runs = csvRows((await downloaded(page, () => page.click('#export-runs'))).text);
  assert.equal(runs.rows.length, runsTable.length);
  runs.rows.forEach((c, i) => {
    const col = (name) => c[runs.header.indexOf(name)];
    assert.equal(col('batchSize'), runsTable[i][0]);
    assert.equal(col('status'), 'done');
    assert.equal(n(col('epochs'), 0), runsTable[i][4]);
    assert.equal(pc(col('bestValAccuracy')), runsTable[i][8]);
    assert.equal(pc(col('finalValAccuracy')), runsTable[i][9]);
    assert.equal(pc(col('bestTestAccuracy')), runsTable[i][10]);
    assert.equal(pc(col('finalTestAccuracy')), runsTable[i][11]);
    assert.equal(n(col('samplesPerSecond'), 0), runsTable[i][12]);
  });

  // A chart as PNG: the canvas's size, with the first line's colour drawn.
  const png = PNG.sync.read((await downloaded(page, () => page.click('button.png[data-chart="chart-accuracy"]'))).bytes);
  const size = await page.$eval('#chart-accuracy', (c) => [c.width, c.height]);
  assert.deepEqual([png.width, png.height], size);
  let blue = 0;
  for (let i = 0; i < png.data.length; i += 4) if (Math.abs(png.data[i]) < 8 && Math.abs(png.data[i + 1] - 0x72) < 8 && Math.abs(png.data[i + 2] - 0xb2) < 8) blue++;
  assert.ok(blue > 100, `${blue} pixels of the first line`);

  // Cleared, then imported: the same chart points, tables and findings.
  await page.evaluate(() => window.batchlab.clearSaved());
  assert.deepEqual(await page.evaluate(() => window.batchlab.results), []);
  assert.equal((await page.evaluate(chartPoints))['chart-accuracy'].length, 0);
  await page.setInputFiles('#import', { name: 'sweep.json', mimeType: 'application/json', buffer: json.bytes });
  await page.waitForFunction(() => window.batchlab.results.length === 4);
  assert.deepEqual(await page.evaluate(chartPoints), points, 'the imported sweep is drawn point for point');
  assert.deepEqual(await tableText(page, '#results'), resultsTable);
  assert.deepEqual(await tableText(page, '#runs'), runsTable);
  // The findings are stated again by the trainer from the imported runs: the same as live.
  await page.waitForFunction(() => window.batchlab.findings.length === 6);
  assert.deepEqual(await page.evaluate(() => window.batchlab.findings), live.findings);
  assert.match(await page.textContent('#status-text'), /Showing the imported sweep sweep\.json \(batchlab /);
  assert.equal(await page.inputValue('#batch'), '25,100', 'the controls show its settings');

  // Imported again, next to a sweep: drawn dashed, to compare.
  assert.equal(await page.evaluate((text) => window.batchlab.importSweep(text, 'again.json'), json.text), 'compared');
  const compared = (await page.evaluate(chartPoints))['chart-accuracy'];
  // Lines come in the order their first epochs arrived (side by side, either may be first); each
  // imported line follows in the same order.
  const liveLabels = compared.slice(0, 2).map((d) => d.label);
  assert.deepEqual([...liveLabels].sort(), ['batch size 100', 'batch size 25']);
  assert.deepEqual(compared.slice(2).map((d) => d.label), liveLabels.map((l) => `${l} (imported)`));
  assert.deepEqual(compared[2].points, compared[0].points);
  assert.equal((await tableText(page, '#runs')).length, 4);

  // A file that is not an export is refused with the reason; nothing is lost.
  await page.setInputFiles('#import', { name: 'notes.json', mimeType: 'application/json', buffer: Buffer.from('{"hello": 1}') });
  await page.waitForFunction(() => /Could not import/.test(document.querySelector('#keep-text').textContent));
  assert.match(await page.textContent('#keep-text'), /Could not import notes\.json: this file is not a batchlab export: its “format” field is not “batchlab-sweep”/);
  const newer = json.text.replace('"formatVersion": 1', '"formatVersion": 9');
  await assert.rejects(page.evaluate((text) => window.batchlab.importSweep(text), newer), /format version 9.*open it with a newer batchlab/);
  assert.equal((await page.evaluate(() => window.batchlab.results)).length, 4);
  assert.deepEqual(errors, []);
  await page.close();
});

// One after another (race=0): batch size 16 is cut short and 64 has not started.
test('a reload keeps every finished epoch, and Resume continues the sweep', { timeout: 10 * 60_000 }, async () => {
  const { context } = fixture.browser;
  const { page, errors } = await open(context, url('batch=16,64&epochs=4&train=3000&test=200&val=300&backend=cpu&race=0&autorun=1'));
  // Reloaded once the epochs shown are saved (each with its checkpoint), not merely shown.
  await page.waitForFunction(() => window.batchlab.results.length >= 2 && window.batchlab.history[0]?.epochs >= window.batchlab.results.length, null, { timeout: 5 * 60_000, polling: 100 });
  const before = await page.evaluate(() => window.batchlab.results);
  await page.reload();
  await page.waitForSelector('#saved:not([hidden])');
  const restored = await page.evaluate(() => ({ results: window.batchlab.results, status: window.batchlab.status, saved: window.batchlab.saved }));
  assert.ok(restored.results.length >= before.length && restored.results.length < 8, `${restored.results.length} epochs restored`);
  assert.deepEqual(restored.results.slice(0, before.length), before, 'every finished epoch, unchanged');
  assert.equal(restored.status, 'stopped');
  assert.deepEqual(restored.saved.left.includes(64), true);
  const cut = restored.results.filter((r) => r.batchSize === 16).length;
  const savedText = await page.textContent('#saved-text');
  assert.match(savedText, /^A sweep saved in this browser on .*: \d+ epochs? trained, 0 of 2 batch sizes finished\. Resume trains batch sizes 16, 64 on the backend chosen in the controls/);
  // Its checkpoint was saved with each epoch: it goes on from there (see keep.test.mjs for the bits).
  if (cut < 4) assert.match(savedText, new RegExp(`batch size 16 stopped after epoch ${cut} and goes on from there`));
  assert.equal((await tableText(page, '#results')).length, restored.results.length);
  const drawn = (await page.evaluate(chartPoints))['chart-accuracy'];
  assert.equal(drawn[0].points.length, cut);

  await page.click('#resume');
  assert.equal(await waitForStatus(page, ['done', 'error'], 5 * 60_000), 'done', await page.evaluate(() => window.batchlab.error));
  assert.ok(await page.isHidden('#saved'));
  const results = await page.evaluate(() => window.batchlab.results);
  assert.deepEqual(results.slice(0, restored.results.length), restored.results, 'the restored epochs are kept');
  const after = results.slice(restored.results.length);
  const label = (r) => r.series ?? String(r.batchSize);
  const expected = cut < 4 ? ['16', '64'] : ['64'];
  assert.deepEqual([...new Set(after.map(label))], expected, 'no restart: batch size 16 goes on under its own line');
  if (cut < 4) assert.deepEqual(after.filter((r) => r.batchSize === 16).map((r) => r.epoch), [1, 2, 3, 4].slice(cut));
  assert.deepEqual(after.filter((r) => r.batchSize === 64).map((r) => r.epoch), [1, 2, 3, 4]);

  // Reloaded when done: shown as done, nothing to resume.
  await page.reload();
  await page.waitForSelector('#saved:not([hidden])');
  assert.equal(await page.evaluate(() => window.batchlab.status), 'done');
  assert.ok(await page.isHidden('#resume'));
  assert.equal(await page.evaluate(() => window.batchlab.results.length), results.length);
  assert.match(await page.textContent('#saved-text'), /Every run had finished\./);
  // Showing a saved sweep does not save it again: a second reload still shows it as done, with
  // the date it was trained.
  const savedAt = await page.evaluate(() => window.batchlab.saved.savedAt);
  await page.waitForTimeout(1_000);
  await page.reload();
  await page.waitForSelector('#saved:not([hidden])');
  assert.equal(await page.evaluate(() => window.batchlab.status), 'done');
  assert.equal(await page.evaluate(() => window.batchlab.saved.savedAt), savedAt);

  // A link that would start another sweep does not replace the saved one unasked.
  const other = await open(context, url('batch=50&epochs=1&train=300&test=100&val=300&backend=cpu&autorun=1'), { keepSaved: true });
  await other.page.waitForSelector('#saved:not([hidden])');
  await other.page.waitForFunction(() => /This link starts a new sweep/.test(document.querySelector('#status-text').textContent));
  assert.equal(await other.page.evaluate(() => window.batchlab.results.length), results.length);
  assert.equal(await other.page.inputValue('#batch'), '50', 'the controls show the link’s settings');
  await other.page.close();

  // Cleared: the page is empty, and stays so after a reload.
  await page.click('#clear-saved');
  await page.waitForFunction(() => window.batchlab.status === 'idle');
  assert.equal(await page.evaluate(() => window.batchlab.results.length), 0);
  await page.reload();
  await page.waitForSelector('#start:not([disabled])');
  assert.deepEqual(await page.evaluate(() => [window.batchlab.results.length, window.batchlab.saved]), [0, null]);
  assert.ok(await page.isHidden('#saved'));
  assert.deepEqual(errors, []);
  await page.close();
});

test('when storage fails (full, or a private window) the sweep still trains and the page says so', { timeout: 5 * 60_000 }, async () => {
  const page = await fixture.browser.context.newPage();
  await page.addInitScript(() => {
    IDBFactory.prototype.open = () => { throw new DOMException('The quota has been exceeded.', 'QuotaExceededError'); };
  });
  await page.goto(url('batch=50&epochs=1&train=300&test=100&val=300&backend=cpu&autorun=1'));
  assert.equal(await waitForStatus(page, ['done', 'error'], 3 * 60_000), 'done');
  assert.equal(await page.evaluate(() => window.batchlab.results.length), 1);
  assert.match(await page.evaluate(() => window.batchlab.storageError), /storage for this site is full \(QuotaExceededError\)/);
  assert.match(await page.textContent('#storage'), /^Results cannot be saved in this browser: .*download them \(JSON or CSV\) to keep them\.$/);
  assert.ok(await page.isVisible('#storage'));
  // Export still works.
  assert.equal(JSON.parse(await page.evaluate(() => window.batchlab.exportSweep('json'))).results.length, 1);
  await page.close();
});

/** Pixels in `png` inside `box` (CSS px × scale) close to `rgb`. */
function countColour(png, box, [r, g, b], scale = 1) {
  let n = 0;
  for (let y = Math.floor(box.y * scale); y < Math.min(png.height, (box.y + box.height) * scale); y++) {
    for (let x = Math.floor(box.x * scale); x < Math.min(png.width, (box.x + box.width) * scale); x++) {
      const i = 4 * (y * png.width + x);
      if (Math.abs(png.data[i] - r) < 12 && Math.abs(png.data[i + 1] - g) < 12 && Math.abs(png.data[i + 2] - b) < 12) n++;
    }
  }
  return n;
}

test('the embed fits 320 px and 800 px without horizontal scrolling, light and dark, with its charts drawn', { timeout: 10 * 60_000 }, async () => {
  const { page, errors } = await open(fixture.browser.context, url('batch=25,100&epochs=2&train=400&test=100&val=300&backend=cpu&embed=1&autorun=1'));
  await page.setViewportSize({ width: 320, height: 2400 });
  assert.equal(await waitForStatus(page, ['done', 'error'], 5 * 60_000), 'done');
  // Compact: charts, Start/Stop, a one-line status, a link to the full page; no controls or tables.
  assert.ok(await page.isVisible('#start') && await page.isVisible('#stop') && await page.isVisible('#status-text'));
  for (const hidden of ['#batch', '#estimate', '#runs', '#results', '#share', '#findings', 'h1']) assert.ok(await page.isHidden(hidden), `${hidden} hidden`);
  const full = await page.getAttribute('#full-link', 'href');
  assert.ok(await page.isVisible('#full-link'));
  assert.equal(new URL(full).searchParams.get('batch'), '25,100');
  assert.equal(new URL(full).searchParams.has('embed'), false);
  const lineHeight = await page.$eval('#status-text', (e) => [e.getBoundingClientRect().height, parseFloat(getComputedStyle(e).lineHeight)]);
  assert.ok(lineHeight[0] <= lineHeight[1] * 1.2, `one line: ${lineHeight}`);

  for (const scheme of ['light', 'dark']) {
    await page.emulateMedia({ colorScheme: scheme });
    for (const width of [320, 800]) {
      await page.setViewportSize({ width, height: 2400 });
      await page.waitForTimeout(300); // charts resize on the next frame
      const [scrollWidth, clientWidth] = await page.evaluate(() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]);
      assert.ok(scrollWidth <= clientWidth, `${scheme} ${width} px: no horizontal scrolling (${scrollWidth} > ${clientWidth})`);
      const shot = PNG.sync.read(await page.screenshot({ fullPage: true }));
      const background = await page.evaluate(() => getComputedStyle(document.body).backgroundColor.match(/\d+/g).map(Number));
      const luminance = (background[0] + background[1] + background[2]) / 3;
      assert.ok(scheme === 'dark' ? luminance < 60 : luminance > 200, `${scheme}: background ${background}`);
      const boxes = await page.$$eval('figure > canvas', (cs) => cs.map((c) => { const r = c.getBoundingClientRect(); return { id: c.id, x: r.x + scrollX, y: r.y + scrollY, width: r.width, height: r.height }; }));
      // The tuning charts' section (lrpolicy=tuned) is not part of the embed.
      assert.equal(boxes.filter((b) => b.width > 0).length, 8);
      for (const box of boxes.filter((b) => ['chart-accuracy', 'chart-loss', 'chart-time', 'chart-normalised'].includes(b.id))) {
        assert.ok(box.width <= width, `${box.id} fits`);
        const first = countColour(shot, box, [0x00, 0x72, 0xb2]);
        const second = countColour(shot, box, [0xe6, 0x9f, 0x00]);
        assert.ok(first > 50 && second > 50, `${scheme} ${width} px ${box.id}: line pixels ${first}, ${second}`);
      }
      // Axis text follows the scheme: light text on dark, dark on light.
      const text = await page.evaluate(() => Chart.defaults.color);
      const [r] = text.match(/[0-9a-f]{2}/gi).map((h) => parseInt(h, 16));
      assert.ok(scheme === 'dark' ? r > 140 : r < 140, `${scheme}: chart text ${text}`);
    }
  }
  // The embed keeps its address when started, so a reload finds its saved sweep.
  assert.equal(new URL(page.url()).searchParams.get('embed'), '1');
  await page.reload();
  await page.waitForFunction(() => window.batchlab.saved !== null);
  assert.equal(await page.evaluate(() => window.batchlab.results.length), 4);
  assert.deepEqual(errors, []);
  await page.close();
});

test('the example blog post embeds the page in its prose', { timeout: 3 * 60_000 }, async () => {
  const { page, errors } = await open(fixture.browser.context, `${fixture.server.url}examples/blog-post.html`);
  for (const width of [320, 800]) {
    await page.setViewportSize({ width, height: 1200 });
    await page.locator('iframe').scrollIntoViewIfNeeded(); // it loads lazily
    const frame = await (await page.waitForSelector('iframe')).contentFrame();
    await frame.waitForSelector('#start:not([disabled])');
    assert.equal(await frame.evaluate(() => document.documentElement.classList.contains('embed')), true);
    assert.equal(await frame.inputValue('#preset'), 'quick');
    const [outer, inner] = await Promise.all([page, frame].map((f) => f.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth)));
    assert.deepEqual([outer, inner], [0, 0], `${width} px: no horizontal scrolling`);
  }
  assert.match(await page.textContent('article'), /batch size/);
  assert.deepEqual(errors, []);
  await page.close();
});
