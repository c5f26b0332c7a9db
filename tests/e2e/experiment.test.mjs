// End-to-end: the experiment of issue 3 in the real page, on the CPU backend in headless
// Chromium: a reduced Quick look (2,000 images, the full batch included) with its charts across
// batch sizes, run summaries and findings; a preset's duration estimate; a sweep forced to
// diverge; a sweep side by side against one after another; a learning rate tuned per batch
// size (lrpolicy=tuned); a reduced Fair comparison (two arms, two seeds). Needs a built page (scripts/build.sh); scripts/test.sh builds it first.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { open, waitForStatus } from './harness.mjs';
import { setup } from './setup.mjs';

const fixture = setup();

/** Per chart canvas id: its datasets (label and points), and how many pixels are not background. */
function chartState(ids) {
  return ids.map((id) => {
    const canvas = document.getElementById(id);
    const chart = Chart.getChart(canvas);
    const { data } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
    let inked = 0;
    for (let i = 0; i < data.length; i += 4) if (data[i + 3] > 200 && (data[i] < 200 || data[i + 1] < 200 || data[i + 2] < 200)) inked++;
    return {
      id,
      inked,
      datasets: chart.data.datasets.map((d) => ({ label: d.label, data: d.data.map((p) => ({ x: p.x, y: p.y })) })),
    };
  });
}

const ACROSS = ['chart-epochs', 'chart-steps', 'chart-target-time', 'chart-final'];

test('a reduced Quick look: every batch size up to the full batch, summaries, charts across batch sizes, findings', { timeout: 20 * 60_000 }, async () => {
  // 2,000 images, batch sizes 1, 8, 64, 512 and the full batch (2,000), 3 epochs of Adam; a
  // target of 85 % that the small batches reach in so few epochs and the full batch does not.
  const { page, errors } = await open(fixture.browser.context,
    `${fixture.server.url}?preset=quick&train=2000&test=1000&val=300&epochs=3&target=0.85&optimizer=adam&lr=0.001&backend=cpu&autorun=1`);
  const status = await waitForStatus(page, ['done', 'error', 'stopped'], 18 * 60_000);
  assert.equal(status, 'done', await page.evaluate(() => window.batchlab.error));
  await page.waitForFunction(() => window.batchlab.findings.length === 6, null, { timeout: 60_000 });
  const { results, runs, findings } = await page.evaluate(() => ({
    results: window.batchlab.results, runs: window.batchlab.runs, findings: window.batchlab.findings,
  }));
  console.log(JSON.stringify(runs, null, 1));
  console.log(findings.map((f) => `${f.number} ${f.shown}: ${f.text}`).join('\n'));

  // One summary per batch size, each consistent with its per-epoch records.
  assert.deepEqual(runs.map((r) => r.batchSize), [1, 8, 64, 512, 2000]);
  for (const run of runs) {
    const records = results.filter((r) => r.batchSize === run.batchSize);
    assert.equal(records.length, 3);
    assert.equal(run.status, 'done');
    assert.equal(run.endedBy, 'epochs');
    assert.equal(run.optimizer, 'adam');
    assert.equal(run.learningRate, 0.001);
    assert.equal(run.epochs, 3);
    assert.equal(run.steps, 3 * Math.ceil(2000 / run.batchSize));
    assert.equal(run.finalTestAccuracy, records[2].testAccuracy);
    assert.equal(run.bestTestAccuracy, Math.max(...records.map((r) => r.testAccuracy)));
    // The target is measured on the validation images, at the checks within the epochs and at
    // each epoch's end (whose checks carry the records' validation accuracy).
    assert.equal(run.targetOn, 'validation');
    for (const r of records) assert.ok(run.evals.some((p) => p.steps === r.steps && p.valAccuracy === r.valAccuracy), `batch ${run.batchSize} epoch ${r.epoch}`);
    const first = run.evals.find((p) => p.valAccuracy >= 0.85);
    const perEpoch = Math.ceil(2000 / run.batchSize);
    assert.equal(run.targetEpoch, first ? Math.ceil(first.steps / perEpoch) : null, `batch ${run.batchSize}`);
    assert.equal(run.targetSteps, first?.steps ?? null);
    assert.equal(run.targetSeconds, first?.trainSeconds ?? null);
    assert.ok(Number.isFinite(run.noiseScale) && run.noiseScale > 0, `noise scale ${run.noiseScale}`);
  }
  // The full batch: one optimiser step per epoch over all 2,000 images (two micro-batches of 1,024).
  assert.deepEqual(results.filter((r) => r.batchSize === 2000).map((r) => r.steps), [1, 2, 3]);
  const reached = runs.filter((r) => r.targetEpoch != null);
  assert.ok(reached.length >= 2, 'at least two batch sizes reached 85 %');
  assert.ok(runs.some((r) => r.targetEpoch == null), 'the full batch (at least) did not reach 85 % in 3 epochs');

  // The charts across batch sizes: the points are the summaries', at log2(batch size).
  const charts = await page.evaluate(chartState, [...ACROSS, 'chart-normalised']);
  const byId = Object.fromEntries(charts.map((c) => [c.id, c]));
  const points = (id, label) => byId[id].datasets.find((d) => d.label.startsWith(label))?.data ?? [];
  assert.deepEqual(points('chart-epochs', 'reached 85 %'), reached.map((r) => ({ x: Math.log2(r.batchSize), y: r.targetEpoch })));
  assert.deepEqual(points('chart-steps', 'reached 85 %'), reached.map((r) => ({ x: Math.log2(r.batchSize), y: r.targetSteps })));
  assert.deepEqual(points('chart-target-time', 'reached 85 %'), reached.map((r) => ({ x: Math.log2(r.batchSize), y: r.targetSeconds })));
  assert.equal(points('chart-epochs', 'not reached').length, runs.length - reached.length);
  const fastest = reached.reduce((a, b) => (b.targetSeconds < a.targetSeconds ? b : a));
  assert.ok(byId['chart-target-time'].datasets.some((d) => d.label === `fastest: batch size ${fastest.batchSize.toLocaleString('en')}`));
  assert.ok(byId['chart-steps'].datasets.some((d) => d.label.startsWith('gradient noise scale ≈')), 'the noise-scale line');
  assert.deepEqual(points('chart-final', 'final'), runs.map((r) => ({ x: Math.log2(r.batchSize), y: 100 * r.finalTestAccuracy })));
  // Normalised time: each record's time over the smallest time to the target.
  const smallest = Math.min(...reached.map((r) => r.targetSeconds));
  const normalised = byId['chart-normalised'].datasets.flatMap((d) => d.data);
  assert.equal(normalised.length, results.length);
  for (const r of results) {
    // The accuracy drawn is the validation accuracy (the target's).
    assert.ok(normalised.some((p) => Math.abs(p.x - r.trainSeconds / smallest) < 1e-9 && Math.abs(p.y - 100 * r.valAccuracy) < 1e-9), `batch ${r.batchSize} epoch ${r.epoch}`);
  }
  for (const c of charts) assert.ok(c.inked > 800, `${c.id} is drawn (${c.inked} pixels)`);

  // The findings panel: six findings from these numbers; throughput grew from batch 1 to the full batch.
  assert.deepEqual(findings.map((f) => f.number), [1, 2, 3, 4, 5, 6]);
  assert.equal(findings[1].shown, true, findings[1].text);
  // Throughput rose to the full batch, or to a peak before it (said as such).
  assert.match(findings[1].text, /from batch size 1 to (batch size 2,000|its peak at batch size [\d,]+, then fell [\d.]+× by batch size 2,000)/);
  assert.equal(findings[3].shown === null, false, 'two batch sizes reached the target: the fastest is known');
  assert.match(findings[3].text, new RegExp(`^Batch size ${fastest.batchSize.toLocaleString('en')} reached 85 % first`));
  const panel = await page.$$eval('#findings li', (items) => items.map((li) => [li.className, li.textContent]));
  assert.equal(panel.length, 6);
  panel.forEach(([cls, text], i) => {
    assert.equal(cls, { true: 'shown', false: 'not-shown', null: 'unknown' }[String(findings[i].shown)]);
    assert.ok(text.includes(findings[i].title) && text.includes(findings[i].text.slice(0, 40)));
  });
  const rows = await page.$$eval('#runs tbody tr', (trs) => trs.map((tr) => [...tr.cells].map((c) => c.textContent)));
  assert.deepEqual(rows.map((r) => r[0]), ['1', '8', '64', '512', '2,000']);
  assert.deepEqual(errors, []);
  await page.close();
});

test('a preset fills the controls and its duration is estimated from measured steps', { timeout: 10 * 60_000 }, async () => {
  const { page, errors } = await open(fixture.browser.context, `${fixture.server.url}?backend=cpu`);
  await page.waitForFunction(() => !document.getElementById('start').disabled, null, { timeout: 60_000 });
  await page.selectOption('#preset', 'quick');
  await page.waitForFunction(() => window.batchlab.estimate !== null, null, { timeout: 5 * 60_000 });
  const controls = await page.evaluate(() => ['batch', 'epochs', 'train', 'model', 'backend'].map((n) => document.forms.controls[n].value));
  assert.deepEqual(controls, ['1,8,64,512,full', '5', '10000', 'lenet5', 'cpu']);
  const estimate = await page.evaluate(() => window.batchlab.estimate);
  console.log(JSON.stringify(estimate));
  assert.deepEqual(estimate.runs.map((r) => r.batchSize), [1, 8, 64, 512, 10000]);
  for (const r of estimate.runs) assert.ok(r.samplesPerSecond > 0 && r.seconds > 0, JSON.stringify(r));
  // Batch size 1 processes fewer samples per second than 64 on any backend.
  assert.ok(estimate.runs[0].samplesPerSecond < estimate.runs[2].samplesPerSecond);
  assert.ok(Math.abs(estimate.totalSeconds - estimate.runs.reduce((s, r) => s + r.seconds, 0)) < 1e-6);
  assert.match(await page.textContent('#estimate-text'), /^Estimated on this device: about \d+ (s|min)/);
  assert.equal(await page.evaluate(() => window.batchlab.results.length), 0, 'an estimate records nothing');
  // Editing a setting makes the sweep a custom one.
  await page.fill('#epochs', '2');
  await page.dispatchEvent('#epochs', 'change');
  assert.equal(await page.inputValue('#preset'), 'custom');
  assert.deepEqual(errors, []);
  await page.close();
});

test('a run forced to diverge is drawn and listed as diverged, and the sweep goes on', { timeout: 10 * 60_000 }, async () => {
  const { page, errors } = await open(fixture.browser.context,
    `${fixture.server.url}?batch=16,64&epochs=2&train=640&test=200&val=300&lr=1e6&optimizer=sgd&backend=cpu&autorun=1`);
  assert.equal(await waitForStatus(page, ['done', 'error'], 5 * 60_000), 'done');
  await page.waitForFunction(() => window.batchlab.findings.length === 6, null, { timeout: 60_000 });
  const runs = await page.evaluate(() => window.batchlab.runs);
  assert.deepEqual(runs.map((r) => [r.batchSize, r.status, r.endedBy, r.divergedEpoch, r.targetEpoch]),
    [[16, 'diverged', 'diverged', 1, null], [64, 'diverged', 'diverged', 1, null]]);
  const charts = await page.evaluate(chartState, ['chart-accuracy', 'chart-epochs']);
  const accuracy = charts[0].datasets;
  assert.deepEqual(accuracy.map((d) => d.label), ['batch size 16 (diverged)', 'batch size 64 (diverged)']);
  assert.ok(accuracy.every((d) => d.data.some((p) => p.x === 1 && p.y === 10)), 'a cross at chance level in epoch 1');
  assert.equal(charts[1].datasets.find((d) => d.label === 'diverged').data.length, 2);
  const rows = await page.$$eval('#runs tbody tr', (trs) => trs.map((tr) => tr.cells[3].textContent));
  assert.deepEqual(rows, ['diverged in epoch 1', 'diverged in epoch 1']);
  assert.match(await page.textContent('#notice'), /Batch size 16 diverged in epoch 1.*\n.*Batch size 64 diverged/s);
  assert.deepEqual(errors, []);
  await page.close();
});

test('side by side, every batch size trains at once, the status names each with the time left, and the records equal one after another', { timeout: 15 * 60_000 }, async () => {
  const query = 'batch=8,64,500&epochs=2&train=1500&test=300&val=300&optimizer=sgd&lr=0.05&seed=3&backend=cpu';
  const { page, errors } = await open(fixture.browser.context, `${fixture.server.url}?${query}&race=1&autorun=1`);
  // Every run is set up before any epoch ends; while they train, the status line names them all.
  await page.waitForFunction(() => window.batchlab.runs.length === 3, null, { timeout: 5 * 60_000, polling: 50 });
  assert.equal(await page.evaluate(() => window.batchlab.results.length), 0);
  // (Each run is set up after the one before has had its first chunk, which draws its weights.)
  await page.waitForFunction(() => /^Training 3 batch sizes side by side/.test(document.getElementById('status-text').textContent), null, { timeout: 5 * 60_000, polling: 50 });
  const status = await page.textContent('#status-text');
  assert.match(status, /^Training 3 batch sizes side by side · 8: epoch 1, (noise probe |validating |testing |checking validation, )?\d+ % · 64: epoch 1, .* · 500: epoch 1, .*/);
  // The sweep's time left appears once a run has measured its pace.
  await page.waitForFunction(() => / left$/.test(document.getElementById('status-text').textContent), null, { timeout: 5 * 60_000, polling: 50 });
  assert.equal(await waitForStatus(page, ['done', 'error'], 10 * 60_000), 'done', await page.evaluate(() => window.batchlab.error));
  const raced = await page.evaluate(() => window.batchlab.results);
  // The first epoch of every batch size ends before any second epoch: the curves grow together.
  assert.deepEqual(raced.slice(0, 3).map((r) => r.epoch), [1, 1, 1]);
  await page.close();

  const sequential = await open(fixture.browser.context, `${fixture.server.url}?${query}&race=0&autorun=1`);
  assert.equal(await waitForStatus(sequential.page, ['done', 'error'], 10 * 60_000), 'done');
  const oneByOne = await sequential.page.evaluate(() => window.batchlab.results);
  assert.deepEqual(oneByOne.map((r) => [r.batchSize, r.epoch]), [[8, 1], [8, 2], [64, 1], [64, 2], [500, 1], [500, 2]]);
  // Each run has its own weights, optimiser and shuffle: the same numbers, to the bit.
  const numbers = (rs) => rs.map((r) => [r.batchSize, r.epoch, r.steps, r.trainLoss, r.trainAccuracy, r.testLoss, r.testAccuracy])
    .sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  assert.deepEqual(numbers(raced), numbers(oneByOne));
  assert.deepEqual([...errors, ...sequential.errors], []);
  await sequential.page.close();
});

test('a learning rate tuned per batch size: every trial kept, the rates chosen, validation checks and the new charts drawn', { timeout: 15 * 60_000 }, async () => {
  // Plain SGD on 2,000 images, three rates (0.01, 0.1, 1) per batch size, one epoch each, then
  // two epochs at the rate chosen; the target (80 %) measured on 1,000 validation images.
  const { page, errors } = await open(fixture.browser.context,
    `${fixture.server.url}?batch=16,64,256&epochs=2&train=2000&test=500&val=1000&lrpolicy=tuned&lrgrid=0.01,1,3&optimizer=sgd&target=0.8&backend=cpu&autorun=1`);
  assert.equal(await waitForStatus(page, ['done', 'error', 'stopped'], 13 * 60_000), 'done', await page.evaluate(() => window.batchlab.error));
  const runs = await page.evaluate(() => window.batchlab.runs);
  assert.deepEqual(runs.map((r) => r.batchSize).sort((a, b) => a - b), [16, 64, 256]);
  for (const r of runs) {
    assert.equal(r.lrPolicy, 'tuned');
    assert.equal(r.targetOn, 'validation');
    // Every rate of the grid was tried, with its outcome; the run trained at the one chosen.
    assert.deepEqual(r.tuning.trials.map((t) => t.learningRate), [0.01, 0.1, 1]);
    for (const t of r.tuning.trials) assert.ok(['reached', 'notReached', 'diverged'].includes(t.outcome), JSON.stringify(t));
    assert.equal(r.learningRate, r.tuning.chosen);
    assert.match(r.tuning.reason, /fewest steps|lowest validation loss/);
    // Validation was checked within the epochs (from step 32), and at each epoch's end.
    assert.ok(r.evals.length >= 2, JSON.stringify(r.evals));
  }
  // The tuning section: one sentence per batch size, and both charts drawn.
  assert.equal(await page.isVisible('#tuning'), true);
  const sentences = await page.$$eval('#tuning-text li', (lis) => lis.map((li) => li.textContent));
  assert.equal(sentences.length, 3);
  assert.match(sentences[0], /^Batch size 16 trains at learning rate [\d.]+: it /);
  const charts = await page.evaluate(chartState, ['chart-tuning-outcome', 'chart-tuning-chosen', 'chart-checks']);
  const [outcome, chosen, checks] = charts;
  // Three trials per batch size on the outcome chart (reached ones on their line, the others at the top).
  assert.equal(outcome.datasets.flatMap((d) => d.data).length, 9, JSON.stringify(outcome.datasets));
  assert.deepEqual(chosen.datasets.map((d) => d.label), ['chosen learning rate', 'slope ½ (square-root scaling)', 'slope 1 (linear scaling)']);
  assert.equal(chosen.datasets[0].data.length, 3);
  assert.equal(checks.datasets.length, 3, 'a line of validation checks per batch size');
  for (const c of charts) assert.ok(c.inked > 500, `${c.id} is drawn`);
  // The runs table says the rate was tuned; the page says where the target was measured.
  const rates = await page.$$eval('#runs tbody tr', (trs) => trs.map((tr) => tr.cells[1].textContent));
  for (const rate of rates) assert.match(rate, /\(tuned\)$/);
  assert.match(await page.textContent('#measured-text'), /measured on 1,000 validation images/);
  assert.deepEqual(errors, []);
});

test('a reduced Fair comparison: the naive and the tuned arm over two seeds, findings side by side, charts per arm in a band', { timeout: 15 * 60_000 }, async () => {
  // preset=fair made small: batch sizes 16 and 250 of 1,000 images, 2 seeds, 2 epochs, three
  // rates per tuned batch size; the naive arm at the preset's fixed 0.1.
  const { page, errors } = await open(fixture.browser.context,
    `${fixture.server.url}?preset=fair&batch=16,250&train=1000&val=300&test=200&epochs=2&lrgrid=0.01,1,3&seeds=2&target=0.8&backend=cpu&autorun=1`);
  assert.equal(await waitForStatus(page, ['done', 'error', 'stopped'], 13 * 60_000), 'done', await page.evaluate(() => window.batchlab.error));
  const runs = await page.evaluate(() => window.batchlab.runs);
  // Every batch size of both arms, once per seed, each labelled.
  const key = (r) => `${r.lrPolicy} ${r.batchSize} ${r.seed}`;
  assert.deepEqual(runs.map(key).sort(), ['fixed 16 42', 'fixed 16 43', 'fixed 250 42', 'fixed 250 43', 'tuned 16 42', 'tuned 16 43', 'tuned 250 42', 'tuned 250 43']);
  for (const r of runs) {
    assert.equal(r.series, `${r.batchSize} (${r.lrPolicy} lr, seed ${r.seed})`);
    assert.ok(r.status === 'done' || r.status === 'diverged', JSON.stringify(r));
    if (r.lrPolicy === 'fixed') assert.equal(r.learningRate, 0.1);
    else assert.equal(r.tuning.trials.length, 3);
  }
  // The two seeds trained differently (their own weights and shuffles).
  const results = await page.evaluate(() => window.batchlab.results);
  const first = (seed) => results.find((r) => r.seed === seed && r.batchSize === 16 && r.series.includes('fixed') && r.epoch === 1);
  assert.notEqual(first(42).trainLoss, first(43).trainLoss);
  // Findings per arm (they arrive after the sweep ends), each with both seeds' verdicts; the
  // panel shows both arms side by side.
  await page.waitForFunction(() => window.batchlab.arms.length === 2, null, { timeout: 60_000 });
  const arms = await page.evaluate(() => window.batchlab.arms);
  assert.deepEqual(arms.map((a) => a.lrPolicy), ['fixed', 'tuned']);
  for (const arm of arms) {
    assert.deepEqual(arm.seeds, [42, 43]);
    assert.equal(arm.findings.length, 6);
    for (const f of arm.findings) {
      assert.equal(f.seeds.length, 2, JSON.stringify(f));
      const agreed = f.seeds.every((v) => v === f.seeds[0]) && f.seeds[0] !== null ? f.seeds[0] : null;
      assert.equal(f.shown, agreed, JSON.stringify(f));
      assert.match(f.text, /^Means over 2 seeds/);
    }
  }
  const panel = await page.$$eval('#findings li', (lis) => lis.map((li) => [...li.querySelectorAll('.arm')].map((d) => d.dataset.lrPolicy)));
  assert.equal(panel.length, 6);
  for (const row of panel) assert.deepEqual(row, ['fixed', 'tuned']);
  // Mean and spread per batch size and arm.
  const spread = await page.evaluate(() => window.batchlab.seedSummaries);
  assert.equal(spread.length, 4);
  for (const s of spread) assert.deepEqual(s.seeds, [42, 43]);
  // The final-accuracy chart: per arm a mean line and its min–max band.
  const [final] = await page.evaluate(chartState, ['chart-final']);
  assert.deepEqual(final.datasets.map((d) => d.label).filter((l) => /mean over seeds/.test(l)).length, 2, JSON.stringify(final.datasets.map((d) => d.label)));
  assert.ok(final.inked > 500);
  // Against the epoch: per batch size and arm, the mean of both seeds (each point the mean of the
  // seeds' points) and its band.
  const [accuracy] = await page.evaluate(chartState, ['chart-accuracy']);
  const meanLines = accuracy.datasets.filter((d) => /mean of 2 seeds/.test(d.label));
  assert.equal(meanLines.length, 4, JSON.stringify(accuracy.datasets.map((d) => d.label)));
  const line = meanLines.find((d) => d.label.startsWith('batch size 16 (fixed lr)'));
  const ofSeed = (seed) => results.find((r) => r.seed === seed && r.batchSize === 16 && r.series.includes('fixed') && r.epoch === 1);
  const mean = (100 * (ofSeed(42).valAccuracy + ofSeed(43).valAccuracy)) / 2;
  assert.ok(Math.abs(line.data[0].y - mean) < 1e-9, `${line.data[0].y} vs ${mean}`);
  // The export carries every seed's records and the findings per arm.
  const exported = JSON.parse(await page.evaluate(() => window.batchlab.exportSweep('json')));
  assert.equal(exported.runs.length, 8);
  assert.deepEqual([...new Set(exported.results.map((r) => r.seed))].sort(), [42, 43]);
  assert.equal(exported.arms.length, 2);
  assert.deepEqual(errors, []);
});
