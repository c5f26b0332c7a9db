// End-to-end: every fault ends in a sentence on the page, keeps what was computed, and leaves the
// page usable — broken data files (served by this test's own server), refused settings, markup
// in the URL, a lost GPU device, a panic inside the trainer.
// Needs a built page (scripts/build.sh); scripts/test.sh builds it first.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync, gunzipSync } from 'node:zlib';
import { open, waitForStatus, ROOT } from './harness.mjs';
import { setup } from './setup.mjs';

const fixture = setup();

const real = (name) => readFileSync(join(ROOT, 'www', 'data', `${name}.gz`));
const idx = (name) => gunzipSync(real(name));
/** A copy of `bytes` with the big-endian u32 at `offset` set to `value`. */
function withU32(bytes, offset, value) {
  const copy = Buffer.from(bytes);
  copy.writeUInt32BE(value, offset);
  return copy;
}

/** A gzip'd part of the training set, as scripts/build.sh cut it. */
const part = (name) => readFileSync(join(ROOT, 'www', 'data', 'parts', `${name}.gz`));
const MANIFEST = '/data/parts/parts.json';
const LABELS = '/data/t10k-labels-idx1-ubyte.gz';
const IMAGES = '/data/t10k-images-idx3-ubyte.gz';

/** path → response, and what the page must say: a pattern naming the file and the fault. */
const BAD_DATA = {
  'a file still gzip-compressed after decompression': {
    path: LABELS, response: () => ({ body: gzipSync(real('t10k-labels-idx1-ubyte')) }),
    says: /t10k-labels-idx1-ubyte is still gzip-compressed/,
  },
  'a file that is not gzip at all (an HTML error page)': {
    path: LABELS, response: () => ({ body: '<!doctype html><html><title>Oops</title><p>Something went wrong</p></html>', type: 'text/html' }),
    says: /data\/t10k-labels-idx1-ubyte\.gz is not gzip-compressed data: it starts with “<!doctype html>/,
  },
  'a download cut short (truncated gzip)': {
    path: IMAGES, response: () => ({ body: real('t10k-images-idx3-ubyte').subarray(0, 500_000) }),
    says: /data\/t10k-images-idx3-ubyte\.gz is damaged or cut short/,
  },
  'a truncated IDX file': {
    path: IMAGES, response: () => ({ body: gzipSync(idx('t10k-images-idx3-ubyte').subarray(0, 16 + 784 * 5000 + 100)) }),
    says: /t10k-images-idx3-ubyte is truncated: its header announces 10000 items, which take 7840016 bytes, but it has only 3920116/,
  },
  'the wrong magic number': {
    path: LABELS, response: () => ({ body: gzipSync(withU32(idx('t10k-labels-idx1-ubyte'), 0, 2051)) }),
    says: /t10k-labels-idx1-ubyte has the IDX magic number 2051, but an MNIST labels file has 2049/,
  },
  'wrong image dimensions': {
    path: IMAGES, response: () => ({ body: gzipSync(withU32(idx('t10k-images-idx3-ubyte'), 8, 32)) }),
    says: /t10k-images-idx3-ubyte holds images of 32 x 28 pixels, but MNIST images are 28 x 28/,
  },
  'image and label counts that differ': {
    path: LABELS, response: () => ({ body: gzipSync(withU32(idx('t10k-labels-idx1-ubyte'), 4, 9999).subarray(0, 8 + 9999)) }),
    says: /t10k-images-idx3-ubyte holds 10000 images but t10k-labels-idx1-ubyte holds 9999 labels/,
  },
  'a label outside 0–9': {
    path: LABELS, response: () => {
      const labels = idx('t10k-labels-idx1-ubyte');
      labels[8 + 1234] = 12;
      return { body: gzipSync(labels) };
    },
    says: /t10k-labels-idx1-ubyte has the label 12 at position 1234, but labels must be digits 0–9/,
  },
  'a missing file (404)': {
    path: LABELS, response: () => ({ status: 404, body: 'Not found', type: 'text/plain' }),
    says: /Could not download data\/t10k-labels-idx1-ubyte\.gz: the server answered 404/,
  },
  'a missing list of the training set\'s parts (404)': {
    path: MANIFEST, response: () => ({ status: 404, body: 'Not found', type: 'text/plain' }),
    says: /Could not download data\/parts\/parts\.json, the list of the training set's parts: the server answered 404.*scripts\/build\.sh/,
  },
  'a training-set part cut short (truncated gzip)': {
    path: '/data/parts/train-images-idx3-ubyte.0.gz', response: () => ({ body: part('train-images-idx3-ubyte.0').subarray(0, 300_000) }),
    says: /data\/parts\/train-images-idx3-ubyte\.0\.gz is damaged or cut short/,
  },
  'a training-set part that holds other than the list says': {
    path: MANIFEST, response: () => {
      const list = JSON.parse(readFileSync(join(ROOT, 'www', 'data', 'parts', 'parts.json'), 'utf8'));
      list.parts[0].count = 9_999;
      return { body: JSON.stringify(list), type: 'application/json' };
    },
    says: /data\/parts\/train-images-idx3-ubyte\.0\.gz holds 10,000 images, but data\/parts\/parts\.json says 9,999/,
  },
};

for (const [name, { path, response, says }] of Object.entries(BAD_DATA)) {
  test(`bad data: ${name} is named in a message`, { timeout: 180_000 }, async () => {
    fixture.server.override(path, response());
    try {
      const { page, errors } = await open(fixture.browser.context, `${fixture.server.url}?batch=64&epochs=1&train=500&test=100&val=300&backend=cpu&autorun=1`);
      assert.equal(await waitForStatus(page, ['error', 'done'], 150_000), 'error');
      const notice = await page.textContent('#notice');
      assert.match(notice, says);
      assert.equal(await page.evaluate(() => window.batchlab.error), notice);
      assert.equal(await page.isEnabled('#start'), true, 'the page stays usable');
      assert.deepEqual(errors.filter((e) => !/Failed to load resource/.test(e)), []);
      await page.close();
    } finally {
      fixture.server.clear();
    }
  });
}

test('after bad data is fixed, the same page trains', { timeout: 300_000 }, async () => {
  fixture.server.override(LABELS, { status: 404, body: 'Not found' });
  const { page } = await open(fixture.browser.context, `${fixture.server.url}?batch=64&epochs=1&train=500&test=100&val=300&backend=cpu&autorun=1`);
  assert.equal(await waitForStatus(page, ['error', 'done'], 150_000), 'error');
  fixture.server.clear();
  await page.click('#start');
  assert.equal(await waitForStatus(page, ['error', 'done'], 150_000), 'done', await page.evaluate(() => window.batchlab.error));
  assert.equal(await page.evaluate(() => window.batchlab.results.length), 1);
  assert.equal(await page.isVisible('#notice'), false);
  await page.close();
});

test('after a training-set part is fixed, the same page trains on whole parts', { timeout: 300_000 }, async () => {
  fixture.server.override(MANIFEST, BAD_DATA['a training-set part that holds other than the list says'].response());
  const { page } = await open(fixture.browser.context, `${fixture.server.url}?batch=64&epochs=1&train=500&test=100&val=300&backend=cpu&autorun=1`);
  assert.equal(await waitForStatus(page, ['error', 'done'], 150_000), 'error');
  fixture.server.clear();
  await page.click('#start');
  assert.equal(await waitForStatus(page, ['error', 'done'], 150_000), 'done', await page.evaluate(() => window.batchlab.error));
  const [record] = await page.evaluate(() => window.batchlab.results);
  assert.equal(record.samples, 500);
  assert.equal(record.steps, 8);
  await page.close();
});

/** parameter, value, and what the message must say about the allowed values. */
const BAD_SETTINGS = [
  ['batch', '0', /from 1 to 60000/], ['batch', '-1', /whole number from 1 to 60000/],
  ['batch', '1.5', /whole number/], ['batch', '64,20000&train=10000', /training-set size \(10000\), not 20000/],
  ['epochs', '0', /from 1 to 1000/], ['epochs', '1000000', /from 1 to 1000/],
  ['lr', '0', /above 0/], ['lr', '-0.1', /above 0/], ['lr', 'fast', /positive number/],
  ['lr', 'Infinity', /finite number above 0/], ['lr', 'NaN', /finite number above 0/],
  ['optimizer', 'lbfgs', /sgd, momentum, nesterov, rmsprop, adagrad, adam or rprop/], ['seed', '1.5', /whole number from 0/],
  ['train', '70000', /from 1 to 60000/], ['test', '0', /from 1 to 10000/], ['backend', 'gpu', /auto, webgpu or cpu/],
  ['preset', 'slow', /quick, replica, fair or custom/], ['model', 'vgg', /lenet5 or theano/], ['lrpolicy', 'cubic', /fixed, linear, sqrt or tuned/],
  ['target', '1.5', /above 0 and at most 1/], ['budget', '-5', /from 0 \(no limit\) to 86400 seconds/], ['endattarget', 'maybe', /1 \(end each run at the target\) or 0/],
  ['seeds', '11', /from 1 to 10/], ['baseline', 'tuned', /lrpolicy=tuned/],
];

test('each bad setting is refused before any work, naming the parameter and the allowed range', { timeout: 600_000 }, async () => {
  for (const [parameter, value, allowed] of BAD_SETTINGS) {
    const { page, errors } = await open(fixture.browser.context, `${fixture.server.url}?${parameter}=${value}&autorun=1`);
    assert.equal(await waitForStatus(page, ['error', 'training', 'done'], 60_000), 'error', `${parameter}=${value}`);
    const notice = await page.textContent('#notice');
    assert.match(notice, new RegExp(`“${parameter}”`), `${parameter}=${value}: ${notice}`);
    assert.match(notice, allowed, `${parameter}=${value}: ${notice}`);
    assert.match(await page.textContent('#status-text'), new RegExp(`“${parameter}” was refused; nothing was started`));
    assert.equal(await page.evaluate(() => window.batchlab.backend), null, 'no backend was started');
    assert.equal(await page.evaluate(() => window.batchlab.results.length), 0);
    assert.equal(await page.isEnabled('#start'), true);
    assert.deepEqual(errors, []);
    await page.close();
  }
});

test('URL values are only data: markup in any parameter is shown as text, never run', { timeout: 600_000 }, async () => {
  const markup = '<img src=x onerror="window.injected=1"><b>bold</b>';
  for (const parameter of ['batch', 'epochs', 'lr', 'optimizer', 'seed', 'train', 'test', 'backend', 'autorun', 'unknown']) {
    const { page } = await open(fixture.browser.context, `${fixture.server.url}?${parameter}=${encodeURIComponent(markup)}`);
    const refused = !['autorun', 'unknown'].includes(parameter);
    // Refused: the notice names it; ignored: the controls fill with the defaults.
    if (refused) await waitForStatus(page, ['error'], 60_000);
    else await page.waitForFunction(() => document.getElementById('batch').value !== '', null, { timeout: 60_000 });
    if (refused) {
      const notice = await page.textContent('#notice');
      assert.match(notice, new RegExp(`“${parameter}”`));
      assert.ok(notice.includes('<img src=x onerror='), `${parameter}: ${notice}`);
    }
    assert.equal(await page.$$eval('img, b', (found) => found.length), 0, parameter);
    assert.equal(await page.evaluate(() => window.injected), undefined, parameter);
    await page.close();
  }
});

test('a lost GPU device keeps every finished epoch and offers to continue on the CPU', { timeout: 20 * 60_000 }, async () => {
  const { page } = await open(fixture.browser.context, `${fixture.server.url}?batch=16,32&epochs=3&train=256&test=100&val=300&backend=webgpu&autorun=1`);
  await page.waitForFunction(() => window.batchlab.results.length >= 1, null, { timeout: 15 * 60_000, polling: 250 });
  await page.evaluate(() => window.batchlab.simulate.deviceLoss());
  assert.equal(await waitForStatus(page, ['error', 'done'], 120_000), 'error');
  const notice = await page.textContent('#notice');
  console.log(notice);
  assert.match(notice, /^The GPU device was lost \((Destroyed: Device was destroyed|a result could not be read back from it)\)\. The (finished epoch is|\d+ epochs finished are) kept\./);
  assert.match(notice, /Batch sizes 16, 32 are left|Batch size 32 is left/);
  const kept = await page.evaluate(() => window.batchlab.results);
  assert.ok(kept.length >= 1 && kept.every((r) => r.backend === 'webgpu'), JSON.stringify(kept));
  assert.equal(await page.$$eval('#results tbody tr', (trs) => trs.length), kept.length);
  assert.equal(await page.isVisible('#continue-cpu'), true);
  assert.equal(await page.isVisible('#continue-gpu'), true);

  await page.click('#continue-cpu');
  assert.equal(await waitForStatus(page, ['error', 'done'], 10 * 60_000), 'done', await page.evaluate(() => window.batchlab.error));
  const results = await page.evaluate(() => window.batchlab.results);
  assert.deepEqual(results.slice(0, kept.length), kept, 'the epochs from before the loss are kept as they were');
  const after = results.slice(kept.length);
  assert.ok(after.length >= 3 && after.every((r) => r.backend === 'cpu'), JSON.stringify(after));
  // Every batch size finished all 3 epochs, on one backend or the other.
  for (const b of [16, 32]) {
    assert.ok(results.some((r) => r.batchSize === b && r.epoch === 3), `batch ${b} finished`);
  }
  assert.equal(await page.isVisible('#continue-cpu'), false);
  await page.close();
});

test('after a lost GPU device the sweep can go on on a new GPU device', { timeout: 20 * 60_000 }, async () => {
  const { page } = await open(fixture.browser.context, `${fixture.server.url}?batch=32,64&epochs=2&train=128&test=100&val=300&backend=webgpu&autorun=1`);
  await page.waitForFunction(() => window.batchlab.results.length >= 1, null, { timeout: 10 * 60_000, polling: 250 });
  await page.evaluate(() => window.batchlab.simulate.deviceLoss());
  assert.equal(await waitForStatus(page, ['error', 'done'], 120_000), 'error');
  const kept = await page.evaluate(() => window.batchlab.results);
  await page.click('#continue-gpu');
  assert.equal(await waitForStatus(page, ['error', 'done'], 10 * 60_000), 'done', await page.evaluate(() => window.batchlab.error));
  assert.equal(await page.evaluate(() => window.batchlab.backend), 'webgpu');
  const results = await page.evaluate(() => window.batchlab.results);
  assert.deepEqual(results.slice(0, kept.length), kept);
  assert.ok(results.slice(kept.length).every((r) => r.backend === 'webgpu'));
  for (const b of [32, 64]) assert.ok(results.some((r) => r.batchSize === b && r.epoch === 2), `batch ${b} finished`);
  // A restarted run is its own line, labelled as such.
  const restarted = results.filter((r) => r.series);
  assert.ok(restarted.every((r) => /restarted on a new GPU device/.test(r.series)), JSON.stringify(restarted));
  await page.close();
});

test('runs that diverge are reported and the sweep goes on', { timeout: 300_000 }, async () => {
  const { page, errors } = await open(fixture.browser.context, `${fixture.server.url}?batch=8,16,250&epochs=2&train=500&test=100&val=300&optimizer=sgd&lr=1000000&backend=cpu&autorun=1`);
  assert.equal(await waitForStatus(page, ['error', 'done'], 240_000), 'done', await page.evaluate(() => window.batchlab.error));
  const notice = await page.textContent('#notice');
  console.log(notice);
  assert.match(notice, /Batch size 8 diverged in epoch 1: its training loss became infinite or NaN, or passed 23 nats/);
  assert.match(notice, /Batch size 16 diverged in epoch 1/);
  assert.equal(await page.isEnabled('#start'), true);
  assert.deepEqual(errors, []);
  await page.close();
});

test('a panic inside the trainer is shown with its message, and the page goes on', { timeout: 300_000 }, async () => {
  // 200 validation images: the first epoch ends within seconds (the panic needs a finished one).
  const { page, errors } = await open(fixture.browser.context, `${fixture.server.url}?batch=32&epochs=40&train=1000&val=200&test=200&backend=cpu&autorun=1`);
  await page.waitForFunction(() => window.batchlab.results.length >= 1, null, { timeout: 120_000, polling: 100 });
  await page.evaluate(() => window.batchlab.simulate.panic('index out of bounds: the len is 3 but the index is 7'));
  assert.equal(await waitForStatus(page, ['error', 'done'], 30_000), 'error');
  const notice = await page.textContent('#notice');
  assert.match(notice, /The trainer crashed, a bug in batchlab: “index out of bounds: the len is 3 but the index is 7” \(src\/web\.rs:\d+\)/);
  assert.match(notice, /finished (epoch is|are) kept/);
  const kept = await page.evaluate(() => window.batchlab.results.length);
  assert.ok(kept >= 1);
  await page.waitForTimeout(1_000);
  assert.equal(await page.evaluate(() => window.batchlab.results.length), kept, 'nothing trains after the crash');

  await page.fill('#epochs', '1');
  await page.click('#start');
  assert.equal(await waitForStatus(page, ['error', 'done'], 120_000), 'done');
  assert.equal(await page.evaluate(() => window.batchlab.results.length), 1);
  // The panic is logged to the console once (console_error_panic_hook); nothing else fails.
  assert.deepEqual(errors.filter((e) => !e.includes('index out of bounds: the len is 3 but the index is 7')), []);
  await page.close();
});

test('Start waits for the settings, a refused Start loses nothing, and continuing needs a lost device', { timeout: 300_000 }, async () => {
  const { page, errors } = await open(fixture.browser.context, `${fixture.server.url}?batch=64,128&epochs=1&train=500&test=100&backend=cpu`);
  // Start stays disabled until the URL's settings are in the controls.
  assert.equal(await page.isEnabled('#start'), false);
  await page.waitForFunction(() => document.getElementById('batch').value === '64,128', null, { timeout: 60_000 });
  assert.equal(await page.isEnabled('#start'), true);
  await page.click('#start');
  assert.equal(await waitForStatus(page, ['error', 'done'], 120_000), 'done');
  const results = await page.evaluate(() => window.batchlab.results);
  assert.equal(results.length, 2);
  assert.equal(await page.evaluate(() => window.batchlab.continueSweep('cpu')), false, 'nothing was lost');

  await page.fill('#batch', '16,abc');
  await page.click('#start');
  assert.equal(await waitForStatus(page, ['error', 'done', 'training'], 60_000), 'error');
  assert.match(await page.textContent("#notice"), /“batch”/);
  assert.deepEqual(await page.evaluate(() => window.batchlab.results), results, 'a refused Start keeps the results');
  assert.equal(await page.$$eval('#results tbody tr', (trs) => trs.length), 2);
  assert.deepEqual(errors, []);
  await page.close();

  // A setting refused on load keeps the URL's other values in the controls.
  const refused = await open(fixture.browser.context, `${fixture.server.url}?batch=0&epochs=2&train=500&backend=cpu`);
  await waitForStatus(refused.page, ['error'], 60_000);
  assert.deepEqual(await refused.page.evaluate(() => ['batch', 'epochs', 'train', 'backend'].map((n) => document.forms.controls[n].value)), ['0', '2', '500', 'cpu']);
  await refused.page.close();
});
