// End-to-end: nothing lost, nothing stale. A run cut short by a reload goes on from its last
// finished epoch and trains the same records, to the bit, as the sweep never interrupted. Two tabs of one page never overwrite each other (the
// second follows the first live, read-only, and takes over once it is closed); Stop offers
// Resume; Start pressed while a stop completes is honoured; editing the controls during a sweep
// leaves the running sweep's link alone; the saved history lists, opens, compares and deletes
// sweeps; hostile imports (extreme numbers, labels that are not the sweep's, markup in every
// string, 10 MB) are refused or shown within a second and the page stays usable; the full page
// fits 320 px; 16 batch sizes get 16 distinct colour and dash pairs; the status line names
// evaluation as soon as it starts. All sweeps train on the CPU backend.
// Needs a built page (scripts/build.sh); scripts/test.sh builds it first.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { open, waitForStatus } from './harness.mjs';
import { setup } from './setup.mjs';

const fixture = setup();
const url = (query) => `${fixture.server.url}?${query}`;
const count = (page) => page.evaluate(() => window.batchlab.results.length);

/** Records and summaries without their wall-clock fields: what must be equal to the bit. */
const timeless = (items) => items.map(({ trainSeconds, samplesPerSecond, targetSeconds, ...rest }) => ({
  ...rest, evals: rest.evals?.map(({ trainSeconds: _, ...point }) => point),
}));
const byRun = (a, b) => a.batchSize - b.batchSize || (a.epoch ?? 0) - (b.epoch ?? 0);

test('a run cut short by a reload goes on from its last finished epoch and trains the same records, to the bit, as one never interrupted', { timeout: 10 * 60_000 }, async () => {
  const { context } = fixture.browser;
  // Adam (its moments are kept), batch size 100 over micro-batches of the CPU backend, checks within epochs.
  const sweep = 'batch=16,100&epochs=4&train=600&test=200&val=200&backend=cpu&optimizer=adam&lr=0.002&seed=11';
  const whole = await open(context, url(`${sweep}&autorun=1`));
  assert.equal(await waitForStatus(whole.page, ['done', 'error'], 5 * 60_000), 'done');
  const never = await whole.page.evaluate(() => ({ results: window.batchlab.results, runs: window.batchlab.runs }));
  assert.equal(never.results.length, 8);
  assert.deepEqual(whole.errors, []);
  await whole.page.close();

  const cut = await open(context, url(`${sweep}&autorun=1`));
  await cut.page.waitForFunction(() => [16, 100].every((b) => window.batchlab.results.filter((r) => r.batchSize === b).length >= 2), null, { timeout: 5 * 60_000 });
  await cut.page.reload();
  await cut.page.waitForFunction(() => /go on from there/.test(document.querySelector('#saved-text').textContent), null, { timeout: 60_000 });
  // (The save of the latest epoch may still have been under way at the reload: each record is
  // saved with its run's checkpoint, so what was kept goes on from where it was kept.)
  const kept = await count(cut.page);
  assert.ok(kept >= 2 && kept < 8, `${kept} epochs kept`);
  await cut.page.click('#resume');
  assert.equal(await waitForStatus(cut.page, ['done', 'error'], 5 * 60_000), 'done');
  const resumed = await cut.page.evaluate(() => ({ results: window.batchlab.results, runs: window.batchlab.runs }));
  // No restart: every epoch once, under its batch size's own line.
  assert.deepEqual(resumed.results.map((r) => `${r.series ?? r.batchSize}:${r.epoch}`).sort(), never.results.map((r) => `${r.batchSize}:${r.epoch}`).sort());
  assert.deepEqual(timeless(resumed.results.sort(byRun)), timeless(never.results.sort(byRun)));
  assert.deepEqual(timeless(resumed.runs.sort(byRun)), timeless(never.runs.sort(byRun)));
  // The saved sweep holds no checkpoint once every run has finished.
  const saved = await cut.page.evaluate(() => new Promise((resolve, reject) => {
    const request = indexedDB.open('batchlab');
    request.onerror = () => reject(request.error);
    request.onsuccess = () => {
      const all = request.result.transaction('sweeps').objectStore('sweeps').getAll();
      all.onsuccess = () => resolve(all.result.filter((r) => r.results).map((r) => r.checkpoints?.length ?? -1));
    };
  }));
  assert.deepEqual(saved, [0]);
  assert.deepEqual(cut.errors, []);
  await cut.page.close();
});

test('on WebGPU, an Adam run cut short by a reload goes on from its checkpoint (model and optimiser state), to the bit', { timeout: 12 * 60_000 }, async () => {
  const { context } = fixture.browser;
  // Adam keeps two moments per weight: they and the model are read back in one asynchronous
  // read, the only kind WebGPU allows in the browser.
  const sweep = 'batch=64&epochs=3&train=256&test=100&val=100&backend=webgpu&optimizer=adam&lr=0.002&seed=5';
  const whole = await open(context, url(`${sweep}&autorun=1`));
  assert.equal(await waitForStatus(whole.page, ['done', 'error'], 6 * 60_000), 'done', await whole.page.evaluate(() => window.batchlab.error));
  assert.equal(await whole.page.evaluate(() => window.batchlab.backend), 'webgpu');
  const never = await whole.page.evaluate(() => window.batchlab.results);
  await whole.page.close();

  const cut = await open(context, url(`${sweep}&autorun=1`));
  // Reloaded once the first epoch (and its checkpoint) is saved, not merely shown.
  await cut.page.waitForFunction(() => window.batchlab.history[0]?.epochs >= 1, null, { timeout: 6 * 60_000 });
  await cut.page.reload();
  await cut.page.waitForFunction(() => /goes on from there/.test(document.querySelector('#saved-text').textContent), null, { timeout: 60_000 });
  await cut.page.click('#resume');
  assert.equal(await waitForStatus(cut.page, ['done', 'error'], 6 * 60_000), 'done', await cut.page.evaluate(() => window.batchlab.error));
  const resumed = await cut.page.evaluate(() => window.batchlab.results);
  assert.deepEqual(resumed.map((r) => `${r.series ?? r.batchSize}:${r.epoch}`), ['64:1', '64:2', '64:3']);
  assert.deepEqual(timeless(resumed), timeless(never));
  assert.deepEqual(cut.errors, []);
  await cut.page.close();
});

test('with several seeds, each run cut short by a reload goes on under its own line, every epoch once', { timeout: 8 * 60_000 }, async () => {
  const { context } = fixture.browser;
  const { page, errors } = await open(context, url('batch=50,100&seeds=2&epochs=3&train=400&test=100&val=100&backend=cpu&autorun=1'));
  await page.waitForFunction(() => window.batchlab.results.some((r) => r.epoch === 2), null, { timeout: 5 * 60_000 });
  await page.reload();
  await page.waitForFunction(() => /go(es)? on from there/.test(document.querySelector('#saved-text').textContent), null, { timeout: 60_000 });
  await page.click('#resume');
  assert.equal(await waitForStatus(page, ['done', 'error'], 5 * 60_000), 'done');
  const results = await page.evaluate(() => window.batchlab.results);
  const lines = [...new Set(results.map((r) => r.series))].sort();
  assert.deepEqual(lines, ['100 (seed 42)', '100 (seed 43)', '50 (seed 42)', '50 (seed 43)'], 'no restart label');
  for (const line of lines) assert.deepEqual(results.filter((r) => r.series === line).map((r) => r.epoch).sort(), [1, 2, 3], line);
  assert.deepEqual(errors, []);
  await page.close();
});

test('a full storage drops the checkpoints, says so in words, and keeps every finished epoch', { timeout: 6 * 60_000 }, async () => {
  const { context } = fixture.browser;
  const address = url('batch=16,100&epochs=3&train=600&test=100&val=100&backend=cpu&optimizer=adam&lr=0.002');
  const { page, errors } = await open(context, address);
  // 1 MB for the whole site: the results fit, two checkpoints of Adam's LeNet-5 (0.75 MB each) do not.
  const cdp = await context.newCDPSession(page);
  await cdp.send('Storage.overrideQuotaForOrigin', { origin: new URL(address).origin, quotaSize: 1_000_000 });
  await page.click('#start');
  assert.equal(await waitForStatus(page, ['done', 'error'], 4 * 60_000), 'done');
  assert.match(await page.textContent('#keep-text'), /checkpoints could not be saved: the storage for this site is full \(QuotaExceededError\)\. They are no longer kept/);
  assert.equal(await page.evaluate(() => window.batchlab.storageError), null, 'the results themselves were saved');
  assert.equal(await count(page), 6);
  await page.reload();
  await page.waitForFunction(() => window.batchlab.results.length === 6, null, { timeout: 60_000 });
  await cdp.send('Storage.overrideQuotaForOrigin', { origin: new URL(address).origin });
  await cdp.detach();
  assert.deepEqual(errors, []);
  await page.close();
});

test('a second tab follows the sweep the first trains, live and read-only, and takes over once the first is closed', { timeout: 8 * 60_000 }, async () => {
  const { context } = fixture.browser;
  const sweep = url('batch=16,64&epochs=3&train=1000&test=200&val=300&backend=cpu&autorun=1');
  const first = await open(context, sweep);
  await first.page.waitForFunction(() => window.batchlab.results.length >= 1, null, { timeout: 3 * 60_000 });
  const second = await open(context, sweep, { keepSaved: true });
  await second.page.waitForFunction(() => window.batchlab.readOnly === true, null, { timeout: 60_000 });
  // (The trainer's download may take the status line first; the page then says whose the sweep is.)
  await second.page.waitForFunction(() => /another tab of this page/i.test(document.querySelector('#status-text').textContent), null, { timeout: 60_000 });
  assert.notEqual(await second.page.evaluate(() => window.batchlab.status), 'training', 'the second tab does not train it');
  assert.equal(await second.page.evaluate(() => window.batchlab.resume()), false, 'nor resume it');
  assert.ok(await second.page.isHidden('#resume'));
  assert.ok(await second.page.isHidden('#resume-stopped'));
  // Live: the second tab shows the epochs the first finishes.
  const seen = await count(second.page);
  await second.page.waitForFunction((n) => window.batchlab.results.length > n, seen, { timeout: 3 * 60_000 });
  assert.equal(await waitForStatus(first.page, ['done', 'error'], 5 * 60_000), 'done');
  const trained = await first.page.evaluate(() => window.batchlab.results);
  await second.page.waitForFunction((n) => window.batchlab.results.length === n && window.batchlab.status === 'done', trained.length, { timeout: 60_000 });
  assert.deepEqual(await second.page.evaluate(() => window.batchlab.results), trained, 'the second tab shows what the first saved');
  const [saved] = await second.page.evaluate(() => window.batchlab.history);
  assert.equal(saved.epochs, trained.length, 'the saved sweep is the first tab’s, whole');
  // The first tab is closed: the second takes over (it may now resume or clear it).
  await first.page.close();
  await second.page.waitForFunction(() => window.batchlab.readOnly === false, null, { timeout: 30_000 });
  await second.page.waitForFunction(() => /this tab keeps it now/.test(document.querySelector('#saved-text').textContent));
  assert.deepEqual(await second.page.evaluate(() => window.batchlab.results), trained);
  assert.deepEqual(second.errors, []);
  assert.deepEqual(first.errors, []);
  await second.page.close();
});

test('a second tab may start a sweep of its own: both stay saved, listed, and can be opened, compared and deleted', { timeout: 8 * 60_000 }, async () => {
  const { context } = fixture.browser;
  const small = (seed) => url(`batch=50&epochs=1&train=300&test=100&val=300&backend=cpu&seed=${seed}`);
  const first = await open(context, `${small(1)}&autorun=1`);
  assert.equal(await waitForStatus(first.page, ['done', 'error'], 3 * 60_000), 'done');
  const second = await open(context, small(2), { keepSaved: true });
  await second.page.waitForFunction(() => window.batchlab.readOnly === true);
  await second.page.click('#start');
  assert.equal(await waitForStatus(second.page, ['done', 'error'], 3 * 60_000), 'done');
  assert.equal(await second.page.evaluate(() => window.batchlab.readOnly), false);
  const history = await second.page.evaluate(() => window.batchlab.history);
  assert.equal(history.length, 2, 'both sweeps are saved');
  assert.deepEqual(history.map((h) => h.params.seed), ['2', '1'], 'newest first');
  // The first tab's list follows; its own sweep is untouched.
  await first.page.waitForFunction(() => window.batchlab.history.length === 2);
  assert.equal(await first.page.evaluate(() => window.batchlab.results[0].seed), 1);
  // Deleting a sweep another tab shows is refused; comparing draws it dashed.
  await assert.rejects(second.page.evaluate((id) => window.batchlab.deleteSaved(id), history[1].id), /another tab/);
  await second.page.evaluate((id) => window.batchlab.compareSaved(id), history[1].id);
  assert.equal(await second.page.evaluate(() => window.batchlab.imported.results[0].seed), 1);
  assert.equal(await second.page.locator('#history-table tbody tr').count(), 2);
  // Closed, the first tab's sweep can be opened here, then deleted.
  await first.page.close();
  await second.page.evaluate((id) => window.batchlab.openSaved(id), history[1].id);
  await second.page.waitForFunction(() => window.batchlab.results[0]?.seed === 1 && !window.batchlab.readOnly);
  await second.page.evaluate((id) => window.batchlab.deleteSaved(id), history[1].id);
  await second.page.waitForFunction(() => window.batchlab.history.length === 1 && window.batchlab.results.length === 0);
  assert.deepEqual(second.errors, []);
  await second.page.close();
});

test('Stop offers Resume; Start pressed while a stop completes starts the next sweep', { timeout: 8 * 60_000 }, async () => {
  const { page, errors } = await open(fixture.browser.context, url('batch=25,50&epochs=2&train=600&test=100&val=300&backend=cpu&autorun=1'));
  await page.waitForFunction(() => window.batchlab.results.length >= 1, null, { timeout: 3 * 60_000 });
  await page.click('#stop');
  assert.equal(await waitForStatus(page, ['stopped', 'error'], 60_000), 'stopped');
  assert.ok(await page.isVisible('#resume-stopped'), 'Resume is offered after Stop');
  const kept = await count(page);
  await page.click('#resume-stopped');
  assert.equal(await waitForStatus(page, ['done', 'error'], 5 * 60_000), 'done');
  assert.ok(await count(page) > kept, 'Resume trained the runs left');
  assert.ok(await page.isHidden('#resume-stopped'));

  // Start, Stop, Start within 100 ms: the second Start waits for the stop, then runs.
  const texts = [];
  await page.exposeFunction('statusSeen', (t) => texts.push(t));
  await page.evaluate(() => new MutationObserver(() => window.statusSeen(document.querySelector('#status-text').textContent))
    .observe(document.querySelector('#status-text'), { childList: true, characterData: true, subtree: true }));
  await page.evaluate(async () => {
    document.querySelector('#start').click();
    await new Promise((r) => setTimeout(r, 50));
    document.querySelector('#stop').click();
    await new Promise((r) => setTimeout(r, 50));
    document.querySelector('#start').click();
  });
  await page.waitForFunction(() => window.batchlab.status === 'training', null, { timeout: 60_000 });
  assert.ok(texts.some((t) => /the next sweep starts as soon as the stop has finished/.test(t)), texts.join(' | '));
  assert.equal(await waitForStatus(page, ['done', 'error'], 5 * 60_000), 'done');
  assert.deepEqual(errors, []);
  await page.close();
});

test('controls edited during a sweep leave its link alone, and the status line names evaluation as it starts', { timeout: 6 * 60_000 }, async () => {
  const { page, errors } = await open(fixture.browser.context, url('batch=25&epochs=2&train=600&test=200&val=300&backend=cpu'));
  await page.waitForSelector('#start:not([disabled])');
  const texts = [];
  await page.exposeFunction('statusSeen', (t) => texts.push(t));
  await page.evaluate(() => new MutationObserver(() => window.statusSeen(document.querySelector('#status-text').textContent))
    .observe(document.querySelector('#status-text'), { childList: true, characterData: true, subtree: true }));
  await page.click('#start');
  await page.waitForFunction(() => window.batchlab.status === 'training');
  const address = page.url();
  const link = await page.inputValue('#share-link');
  await page.fill('#epochs', '5');
  assert.equal(page.url(), address, 'the address bar stays the running sweep’s');
  assert.equal(await page.inputValue('#share-link'), link, 'so does the share link');
  assert.ok(await page.isVisible('#share-next'), 'and the page says the edit is for the next sweep');
  assert.equal(await waitForStatus(page, ['done', 'error'], 3 * 60_000), 'done');
  // The sweep over, the link is the controls' again.
  assert.equal(new URL(page.url()).searchParams.get('epochs'), '5');
  assert.equal(new URL(await page.inputValue('#share-link')).searchParams.get('epochs'), '5');
  assert.ok(await page.isHidden('#share-next'));
  // The next sweep's link is its own, from the moment it starts (not the previous one's).
  await page.click('#start');
  await page.waitForFunction(() => window.batchlab.status === 'training');
  assert.equal(new URL(await page.inputValue('#share-link')).searchParams.get('epochs'), '5');
  await page.click('#stop');
  await waitForStatus(page, ['stopped', 'error'], 60_000);
  // Evaluation is named from its first image, not once its first chunk is done.
  assert.ok(texts.some((t) => /validating on 0 \/ 300 images/.test(t)), 'validation named at 0');
  assert.ok(texts.some((t) => /testing on 0 \/ 200 images/.test(t)), 'test named at 0');
  assert.deepEqual(errors, []);
  await page.close();
});

test('hostile imports are refused within a second, never shown mangled, and the page stays usable', { timeout: 6 * 60_000 }, async () => {
  const { page, errors } = await open(fixture.browser.context, url('batch=50&epochs=1&train=300&test=100&val=300&backend=cpu&autorun=1'));
  assert.equal(await waitForStatus(page, ['done', 'error'], 3 * 60_000), 'done');
  const good = JSON.parse(await page.evaluate(() => window.batchlab.exportSweep('json')));
  await page.evaluate(() => window.batchlab.clearSaved());
  const tryImport = (sweep) => page.evaluate(async (text) => {
    const started = performance.now();
    try {
      return { shown: await window.batchlab.importSweep(text, 'crafted.json'), ms: performance.now() - started };
    } catch (e) {
      return { refused: e.message, ms: performance.now() - started };
    }
  }, typeof sweep === 'string' ? sweep : JSON.stringify(sweep));
  const variant = (change) => {
    const copy = structuredClone(good);
    change(copy);
    return copy;
  };
  const cases = [
    ['a training time near the largest double', (s) => { s.runs[0].trainSeconds = 1.7e308; }, /time, throughput or learning rate/],
    ['a record’s time near the largest double', (s) => { s.results[0].trainSeconds = 1.7e308; }, /time, throughput or learning rate/],
    ['more steps than the epoch holds', (s) => { s.results[0].steps = 1e9; }, /steps/],
    ['a series label that is not the sweep’s', (s) => { s.results[0].series = '<b>8</b> (seed 9)'; }, /labelled/],
    ['a backend that is markup', (s) => { s.backend = '<img src=x onerror=window.pwned=1>'; }, /backend/],
    ['a 10 MB user agent', (s) => { s.userAgent = 'x'.repeat(10 * 1024 * 1024); }, /userAgent/],
  ];
  for (const [what, change, reason] of cases) {
    const answer = await tryImport(variant(change));
    assert.match(answer.refused ?? '', reason, `${what}: ${JSON.stringify(answer).slice(0, 300)}`);
    assert.ok(answer.ms < 1_000, `${what}: answered in ${answer.ms.toFixed(0)} ms`);
  }
  // Over the size limit: refused before it is parsed.
  const huge = await page.evaluate(() => window.batchlab.importSweep(' '.repeat(65 * 1024 * 1024), 'huge.json').then(() => 'shown', (e) => e.message));
  assert.match(huge, /larger than the 64 MB a batchlab export can take/);
  // Markup in every string the checks allow: shown as text, never as HTML.
  const markup = '<img src=x onerror="window.pwned=1">';
  const marked = await tryImport(variant((s) => {
    s.userAgent = markup;
    s.adapter = markup;
    s.exportedAt = markup.slice(0, 60);
    s.link = `http://x/?${markup}`;
    s.findings = s.findings.map((f) => ({ ...f, title: markup, text: markup }));
  }));
  assert.equal(marked.shown, 'shown', JSON.stringify(marked).slice(0, 300));
  await page.waitForTimeout(500);
  assert.equal(await page.evaluate(() => window.pwned), undefined);
  assert.equal(await page.locator('img').count(), 0, 'no markup became an element');
  // The findings shown are the trainer's, stated again from the runs, not the file's text.
  await page.waitForFunction(() => window.batchlab.findings.length === 6);
  assert.ok((await page.evaluate(() => window.batchlab.findings)).every((f) => !f.text.includes('<img')));
  // Still usable: a sweep trains.
  await page.click('#start');
  assert.equal(await waitForStatus(page, ['done', 'error'], 3 * 60_000), 'done');
  assert.deepEqual(errors, []);
  await page.close();
});

test('the full page fits 320 px; 16 batch sizes get 16 distinct colour and dash pairs, and the legend leaves the plot its height', { timeout: 6 * 60_000 }, async () => {
  const sizes = Array.from({ length: 16 }, (_, i) => 10 + i);
  const { page, errors } = await open(fixture.browser.context, url(`batch=${sizes.join(',')}&epochs=1&train=200&test=100&val=300&backend=cpu&autorun=1`));
  assert.equal(await waitForStatus(page, ['done', 'error'], 4 * 60_000), 'done');
  const styles = await page.evaluate(() => {
    const chart = Chart.getChart(document.querySelector('#chart-loss'));
    return chart.data.datasets.filter((d) => d.data.length && !d.hideInLegend).map((d) => `${d.borderColor} ${JSON.stringify(d.borderDash ?? [])}`);
  });
  assert.equal(styles.length, 16);
  assert.equal(new Set(styles).size, 16, styles.join(' | '));
  for (const width of [1280, 320]) {
    await page.setViewportSize({ width, height: 900 });
    await page.waitForTimeout(500);
    const { scroll, plot } = await page.evaluate(() => ({
      scroll: document.documentElement.scrollWidth,
      plot: Chart.getChart(document.querySelector('#chart-loss')).chartArea.bottom - Chart.getChart(document.querySelector('#chart-loss')).chartArea.top,
    }));
    assert.ok(scroll <= width, `${width} px: the page is ${scroll} px wide`);
    assert.ok(plot >= 170, `${width} px: the plot is ${plot} px tall beside a 16-entry legend`);
  }
  assert.deepEqual(errors, []);
  await page.close();
});
