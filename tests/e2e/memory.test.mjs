// End-to-end: memory stays flat. 20 epochs on a small subset, on each backend; after the last
// epoch the device memory burn reports in use (WebGPU), the wasm memory and the training
// worker's JS heap are within 10% of their level after the first epoch: nothing leaks per step
// or per epoch. The page's heap grows only by what it keeps on purpose: each epoch's record, its
// table row and its chart points. 100 validation images, not the default 10,000: evaluating
// 10,000 images 20 times on SwiftShader's WebGPU would take most of the test's time.
// Needs a built page (scripts/build.sh); scripts/test.sh builds it first.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { open, waitForStatus, heaps } from './harness.mjs';
import { setup } from './setup.mjs';

const fixture = setup();

const within = (first, last) => last <= first * 1.1 && last >= first * 0.9;

for (const [backend, train, minutes] of [['cpu', 2000, 5], ['webgpu', 128, 20]]) {
  test(`memory stays flat over 20 epochs on the ${backend} backend`, { timeout: (minutes + 1) * 60_000 }, async () => {
    const { page, errors } = await open(fixture.browser.context,
      `${fixture.server.url}?batch=32&epochs=20&train=${train}&val=100&test=100&backend=${backend}&autorun=1`);
    // JS heaps after a full GC (DevTools protocol), after the first epoch and after the last.
    const heap = await heaps(page);
    await page.waitForFunction(() => window.batchlab.results.length >= 1, null, { timeout: minutes * 60_000, polling: 100 });
    const [pageHeapFirst, workerHeapFirst] = [await heap.page(), await heap.worker()];
    const status = await waitForStatus(page, ['done', 'error', 'stopped'], minutes * 60_000);
    assert.equal(status, 'done', await page.evaluate(() => window.batchlab.error));
    const memory = await page.evaluate(() => window.batchlab.memory);
    assert.equal(memory.length, 20);
    // Epoch 20's sample comes after the run has ended, and a finished run's model and optimiser
    // state are freed at once: memory is compared while training (epochs 1 and 19), and must
    // not have grown by the end.
    const [first, last, end] = [memory[0], memory[18], memory[19]];
    console.log(`${backend}: after epoch 1 ${JSON.stringify(first)}; after epoch 19 ${JSON.stringify(last)}; after the last ${JSON.stringify(end)}`);
    assert.ok(first.wasmBytes > 0);
    assert.ok(within(first.wasmBytes, last.wasmBytes), `wasm memory ${first.wasmBytes} → ${last.wasmBytes}`);
    if (backend === 'webgpu') {
      assert.ok(first.deviceBytes > 0, 'burn reports WebGPU memory in use');
      assert.ok(within(first.deviceBytes, last.deviceBytes), `device memory ${first.deviceBytes} → ${last.deviceBytes}`);
      assert.ok(end.deviceBytes <= last.deviceBytes * 1.1, `device memory at the end ${end.deviceBytes}`);
    } else {
      assert.equal(first.deviceBytes, null, 'the CPU backend has no device memory: its tensors are in the wasm memory');
    }
    const [pageHeapLast, workerHeapLast] = [await heap.page(), await heap.worker()];
    console.log(`${backend}: worker JS heap ${workerHeapFirst} → ${workerHeapLast} bytes; page JS heap ${pageHeapFirst} → ${pageHeapLast} bytes`);
    assert.ok(within(workerHeapFirst, workerHeapLast), `worker JS heap ${workerHeapFirst} → ${workerHeapLast}`);
    // The page keeps 19 more records, table rows and chart points (about 20 KB an epoch seen).
    const perEpoch = (pageHeapLast - pageHeapFirst) / 19;
    assert.ok(perEpoch < 64 * 1024, `page JS heap grew ${perEpoch.toFixed(0)} bytes per epoch`);
    assert.deepEqual(errors, []);
    await page.close();
  });
}
