// End-to-end: the real page, served from www/, in headless Chromium: a sweep on WebGPU
// (SwiftShader), one on the CPU backend, Stop, a browser without WebGPU, and what a sweep
// downloads.
// Needs a built page (scripts/build.sh); scripts/test.sh builds it first.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { launch, open, waitForStatus } from './harness.mjs';
import { setup } from './setup.mjs';

const fixture = setup();

/** For each per-epoch chart: the number of drawn pixels in each line colour (first two lines). */
function linePixels() {
  const hex = (c) => [1, 3, 5].map((i) => parseInt(c.slice(i, i + 2), 16));
  return [...document.querySelectorAll('#chart-accuracy, #chart-loss, #chart-time, #chart-normalised')].map((canvas) => {
    const chart = Chart.getChart(canvas);
    const colours = chart.data.datasets.map((d) => hex(d.borderColor));
    const { data } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
    const counts = colours.map(() => 0);
    for (let i = 0; i < data.length; i += 4) {
      colours.forEach(([r, g, b], k) => {
        if (data[i + 3] > 200 && Math.abs(data[i] - r) < 8 && Math.abs(data[i + 1] - g) < 8 && Math.abs(data[i + 2] - b) < 8) counts[k]++;
      });
    }
    return { id: canvas.id, points: chart.data.datasets.map((d) => d.data.length), counts };
  });
}

test('a sweep of two batch sizes trains on WebGPU and draws every chart', { timeout: 30 * 60_000 }, async () => {
  // 1,000 images (SwiftShader trains a few dozen samples/s): 63 and 32 steps an epoch.
  const train = 1000;
  const { page, errors } = await open(fixture.browser.context, `${fixture.server.url}?batch=16,32&epochs=2&train=${train}&test=1000&val=300&backend=webgpu&autorun=1`);
  const status = await waitForStatus(page, ['done', 'error', 'stopped'], 28 * 60_000);
  const error = await page.evaluate(() => window.batchlab.error);
  assert.equal(status, 'done', `status ${status}: ${error}`);
  assert.equal(error, null);

  const adapter = await page.evaluate(() => window.batchlab.adapter);
  assert.match(adapter, /SwiftShader/i);
  assert.match(await page.textContent('#adapter'), /SwiftShader/i);
  assert.equal(await page.evaluate(() => window.batchlab.backend), 'webgpu');
  assert.match(await page.textContent('#backend'), /Training on WebGPU .*backend=webgpu/);

  const results = await page.evaluate(() => window.batchlab.results);
  console.log(JSON.stringify(results, null, 1));
  // On WebGPU a link without `race` trains the batch sizes one after another.
  assert.deepEqual(results.map((r) => [r.batchSize, r.epoch]), [[16, 1], [16, 2], [32, 1], [32, 2]]);
  for (const r of results) {
    assert.equal(r.backend, 'webgpu');
    assert.equal(r.samples, train * r.epoch);
    assert.equal(r.steps, Math.ceil(train / r.batchSize) * r.epoch);
    assert.ok(r.testAccuracy > 0.5 && r.testAccuracy <= 1, `test accuracy ${r.testAccuracy} at batch ${r.batchSize} epoch ${r.epoch}`);
    assert.ok(r.trainAccuracy > 0.1 && r.trainAccuracy <= 1);
    assert.ok(r.trainLoss > 0 && r.trainLoss < 2.3 && r.testLoss > 0 && r.testLoss < 2.3);
    assert.ok(r.trainSeconds > 0 && r.samplesPerSecond > 0);
  }
  for (const b of [16, 32]) {
    const [e1, e2] = results.filter((r) => r.batchSize === b);
    assert.ok(e2.trainLoss < e1.trainLoss, `batch ${b}: the training loss fell`);
    assert.ok(e2.trainSeconds > e1.trainSeconds, `batch ${b}: training time is cumulative`);
  }

  // Every chart has two lines of two points, drawn in their colours.
  const charts = await page.evaluate(linePixels);
  assert.equal(charts.length, 4);
  for (const c of charts) {
    assert.deepEqual(c.points, [2, 2], c.id);
    for (const n of c.counts) assert.ok(n > 50, `${c.id}: line pixels ${c.counts}`);
  }
  // The table shows every record, accuracies as percentages.
  const rows = await page.$$eval('#results tbody tr', (trs) => trs.map((tr) => [...tr.cells].map((td) => td.textContent)));
  assert.equal(rows.length, 4);
  assert.match(rows[3][7], /^\d+\.\d\d %$/);
  assert.equal(rows[3][12], 'WebGPU');
  assert.deepEqual(errors, []);
  await page.close();
});

test('Stop ends the sweep within about a second and keeps the finished epochs', { timeout: 20 * 60_000 }, async () => {
  const { page, errors } = await open(fixture.browser.context, `${fixture.server.url}?batch=32&epochs=50&train=1000&test=200&val=300&backend=cpu&autorun=1`);
  await page.waitForFunction(() => window.batchlab.results.length >= 1, null, { timeout: 15 * 60_000, polling: 250 });
  const clicked = Date.now();
  await page.click('#stop');
  assert.equal(await waitForStatus(page, ['stopped', 'done', 'error'], 5_000), 'stopped');
  const latency = Date.now() - clicked;
  assert.ok(latency < 2_500, `stopped after ${latency} ms`);
  const kept = await page.evaluate(() => window.batchlab.results);
  assert.ok(kept.length >= 1 && kept.length < 50);
  await page.waitForTimeout(3_000);
  assert.deepEqual(await page.evaluate(() => window.batchlab.results), kept, 'nothing changes after Stop');
  assert.equal(await page.$$eval('#results tbody tr', (trs) => trs.length), kept.length);
  assert.equal(await page.isEnabled('#start'), true, 'the page stays usable');
  assert.deepEqual(errors, []);
  await page.close();
});

test('on a software-only WebGPU adapter the page trains on the CPU and says why', { timeout: 10 * 60_000 }, async () => {
  const { page, errors } = await open(fixture.browser.context, `${fixture.server.url}?batch=32,256&epochs=2&train=3000&test=1000&val=300&autorun=1`);
  const status = await waitForStatus(page, ['done', 'error', 'stopped'], 8 * 60_000);
  assert.equal(status, 'done', await page.evaluate(() => window.batchlab.error));
  assert.equal(await page.evaluate(() => window.batchlab.backend), 'cpu');
  const banner = await page.textContent('#backend');
  assert.match(banner, /Training on the CPU .*software renderer .*swiftshader/i);
  assert.equal(await page.evaluate(() => window.batchlab.backendReason), banner);
  assert.equal(await page.evaluate(() => window.batchlab.adapter), null);
  const results = await page.evaluate(() => window.batchlab.results);
  console.log(JSON.stringify(results.map(({ batchSize, epoch, testAccuracy, samplesPerSecond }) => ({ batchSize, epoch, testAccuracy, samplesPerSecond }))));
  // Side by side (`race`, the default) the records of different batch sizes interleave.
  results.sort((a, b) => a.batchSize - b.batchSize || a.epoch - b.epoch);
  assert.deepEqual(results.map((r) => [r.batchSize, r.epoch, r.backend]), [[32, 1, 'cpu'], [32, 2, 'cpu'], [256, 1, 'cpu'], [256, 2, 'cpu']]);
  for (const r of results) {
    assert.equal(r.samples, 3000 * r.epoch);
    assert.ok(r.testAccuracy > 0.25 && r.testAccuracy <= 1, `test accuracy ${r.testAccuracy} at batch ${r.batchSize}`);
  }
  // 94 steps per epoch at batch 32, 12 at batch 256: the small batch learns more per epoch.
  assert.ok(results[1].testAccuracy > 0.85, `batch 32 after 2 epochs of 3,000 images: ${results[1].testAccuracy}`);
  assert.ok(results[3].testAccuracy > results[2].testAccuracy, 'batch 256 improves in its second epoch');
  assert.ok(results[1].testAccuracy > results[3].testAccuracy, 'per epoch, batch 32 beats batch 256');
  // The CPU backend is much faster than SwiftShader's WebGPU (a few dozen samples/s).
  assert.ok(results[1].samplesPerSecond > 300, `${results[1].samplesPerSecond} samples/s`);
  const charts = await page.evaluate(linePixels);
  for (const c of charts) for (const n of c.counts) assert.ok(n > 50, `${c.id}: line pixels ${c.counts}`);
  assert.equal((await page.$$eval('#results tbody tr', (trs) => trs.map((tr) => tr.cells[12].textContent))).join(), 'CPU,CPU,CPU,CPU');
  assert.deepEqual(errors, []);
  await page.close();
});

test('without WebGPU the page trains on the CPU and its banner says why', { timeout: 10 * 60_000 }, async () => {
  const plain = await launch({ webgpu: false });
  try {
    const { page, errors } = await open(plain.context, `${fixture.server.url}?batch=64&epochs=1&train=2000&test=500&val=300&autorun=1`);
    assert.equal(await waitForStatus(page, ['error', 'done'], 8 * 60_000), 'done', await page.evaluate(() => window.batchlab.error));
    assert.equal(await page.evaluate(() => window.batchlab.backend), 'cpu');
    const banner = await page.textContent('#backend');
    assert.match(banner, /Training on the CPU .*could not start WebGPU/);
    assert.equal(await page.isVisible('#backend'), true);
    assert.match(await page.textContent('#adapter'), /not used/);
    const results = await page.evaluate(() => window.batchlab.results);
    assert.equal(results.length, 1);
    assert.ok(results[0].testAccuracy > 0.7, `${results[0].testAccuracy}`);
    assert.deepEqual(errors, []);
    // Closed first: a page left open may still save its sweep (its findings arrive after
    // "done"), and a saved sweep holds the next page's autorun.
    await page.close();

    // Forcing WebGPU where there is none is refused in words, and nothing is lost.
    const forced = await open(plain.context, `${fixture.server.url}?batch=64&epochs=1&train=500&test=100&val=300&backend=webgpu&autorun=1`);
    assert.equal(await waitForStatus(forced.page, ['error', 'done'], 120_000), 'error');
    assert.match(await forced.page.textContent('#notice'), /backend=webgpu.*could not start it: it offers no WebGPU adapter .*backend=auto or backend=cpu/);
    assert.equal(await forced.page.isEnabled('#start'), true, 'the page stays usable');
  } finally {
    await plain.close();
  }
});

test('a sweep downloads only the MNIST parts it needs; a larger one then only the parts missing', { timeout: 10 * 60_000 }, async () => {
  const dataServed = (from) => fixture.server.served.slice(from).map((r) => r.path).filter((p) => p.startsWith('/data/')).sort();
  let from = fixture.server.served.length;
  const { page, errors } = await open(fixture.browser.context, `${fixture.server.url}?batch=500&epochs=1&train=10000&test=1000&val=300&backend=cpu&autorun=1`);
  assert.equal(await waitForStatus(page, ['done', 'error', 'stopped'], 8 * 60_000), 'done', await page.evaluate(() => window.batchlab.error));
  // The test set, the first 10,000 training images and the last 10,000 (the validation images
  // are held out of those): 4.8 of MNIST's 11.4 MB.
  assert.deepEqual(dataServed(from), [
    '/data/parts/parts.json',
    '/data/parts/train-images-idx3-ubyte.0.gz',
    '/data/parts/train-images-idx3-ubyte.5.gz',
    '/data/parts/train-labels-idx1-ubyte.0.gz',
    '/data/parts/train-labels-idx1-ubyte.5.gz',
    '/data/t10k-images-idx3-ubyte.gz',
    '/data/t10k-labels-idx1-ubyte.gz',
  ]);
  const timings = await page.evaluate(() => window.batchlab.timings);
  assert.ok(timings.trainerReady > 0 && timings.firstStep > timings.trainerReady, JSON.stringify(timings));
  const [first] = await page.evaluate(() => window.batchlab.results);
  assert.equal(first.samples, 10000);
  assert.ok(first.testAccuracy > 0.5, `${first.testAccuracy}`);

  // 25,000 images: parts 1 and 2 are added to what the worker holds; nothing is fetched twice.
  from = fixture.server.served.length;
  await page.fill('#train', '25000');
  await page.click('#start');
  await page.waitForFunction(() => window.batchlab.status === 'training' || window.batchlab.status === 'error', null, { timeout: 60_000 });
  assert.equal(await waitForStatus(page, ['done', 'error', 'stopped'], 8 * 60_000), 'done', await page.evaluate(() => window.batchlab.error));
  assert.deepEqual(dataServed(from), [
    '/data/parts/parts.json',
    '/data/parts/train-images-idx3-ubyte.1.gz',
    '/data/parts/train-images-idx3-ubyte.2.gz',
    '/data/parts/train-labels-idx1-ubyte.1.gz',
    '/data/parts/train-labels-idx1-ubyte.2.gz',
  ]);
  const [second] = await page.evaluate(() => window.batchlab.results);
  assert.equal(second.samples, 25000);
  assert.deepEqual(errors, []);
  await page.close();
});
