// End-to-end in Firefox ESR (headless, through geckodriver and selenium-webdriver): the CPU path
// a reader without WebGPU takes. A sweep trains on the CPU backend; the same sweep cut short by a
// reload goes on from its checkpoints and trains the same records, to the bit, as the one never
// interrupted; Stop offers Resume, which goes on from the last finished epoch.
// Needs a built page (scripts/build.sh), /usr/bin/firefox-esr and geckodriver on the PATH
// (scripts/test.sh installs both).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { Builder } from 'selenium-webdriver';
import firefox from 'selenium-webdriver/firefox.js';
import { serve } from './harness.mjs';

let server;
let driver;

before(async () => {
  server = await serve();
  const geckodriver = execFileSync('sh', ['-c', 'command -v geckodriver']).toString().trim();
  driver = await new Builder()
    .forBrowser('firefox')
    .setFirefoxOptions(new firefox.Options().setBinary('/usr/bin/firefox-esr').addArguments('-headless'))
    .setFirefoxService(new firefox.ServiceBuilder(geckodriver))
    .build();
});

after(async () => {
  await driver?.quit();
  await server?.close();
});

const SWEEP = 'batch=16,100&epochs=3&train=600&test=200&val=200&backend=cpu&optimizer=adam&lr=0.002&seed=11';
const read = (expression) => driver.executeScript(`return ${expression};`);
const until = (expression, timeout = 4 * 60_000) => driver.wait(async () => Boolean(await read(expression)), timeout, `waiting for ${expression}`);
const click = (selector) => driver.executeScript(`document.querySelector('${selector}').click();`);
const finished = () => until("['done', 'error'].includes(window.batchlab.status)").then(() => read('window.batchlab.status'));
/** Records without their wall-clock fields, in run and epoch order. */
const timeless = (records) => records
  .map(({ trainSeconds, samplesPerSecond, ...rest }) => rest)
  .sort((a, b) => a.batchSize - b.batchSize || a.epoch - b.epoch);

test('in Firefox ESR, on the CPU backend, a sweep cut short by a reload goes on from its checkpoints to the bit, and Stop → Resume goes on too', { timeout: 12 * 60_000 }, async () => {
  await driver.get(`${server.url}?${SWEEP}`);
  await until('window.batchlab?.version != null', 2 * 60_000);
  await driver.executeAsyncScript('window.batchlab.clearSaved().then(arguments[arguments.length - 1]);');
  await until('!document.querySelector("#start").disabled');

  // Never interrupted.
  await click('#start');
  assert.equal(await finished(), 'done', await read('window.batchlab.error'));
  const never = await read('window.batchlab.results');
  assert.equal(never.length, 6);
  assert.equal(await read('window.batchlab.backend'), 'cpu');
  assert.ok(never.every((r) => r.valAccuracy > 0.3), 'it learnt');

  // The same sweep, cut short by a reload once both runs have finished an epoch.
  await click('#start');
  // (The page keeps the last sweep's results until the trainer accepts the new one.)
  await until('window.batchlab.status === "training" && window.batchlab.results.length < 6');
  await until('[16, 100].every((b) => window.batchlab.results.some((r) => r.batchSize === b))');
  await driver.navigate().refresh();
  await until('window.batchlab?.saved != null', 60_000);
  assert.match(await read('document.querySelector("#saved-text").textContent'), /go(es)? on from there/);
  await until('!document.querySelector("#resume").disabled && !document.querySelector("#resume").hidden', 2 * 60_000);
  await click('#resume');
  assert.equal(await finished(), 'done', await read('window.batchlab.error'));
  const resumed = await read('window.batchlab.results');
  assert.ok(resumed.every((r) => r.series === undefined || r.series === null), 'no restart: every epoch on its batch size’s own line');
  assert.deepEqual(timeless(resumed), timeless(never));

  // Stop after the first epoch, then Resume: it goes on from there (no epoch trained twice).
  await click('#start');
  await until('window.batchlab.status === "training" && window.batchlab.results.length < 6');
  await until('window.batchlab.results.length >= 1');
  await click('#stop');
  assert.equal(await until("['stopped', 'error'].includes(window.batchlab.status)").then(() => read('window.batchlab.status')), 'stopped');
  await until('!document.querySelector("#resume-stopped").hidden');
  await click('#resume-stopped');
  assert.equal(await finished(), 'done', await read('window.batchlab.error'));
  assert.deepEqual(timeless(await read('window.batchlab.results')), timeless(never));
});
