// Shared by the end-to-end tests, the benchmark and the screenshot script: serves www/ on
// loopback (sirv, with per-path overrides for serving broken files) and starts Debian's
// Chromium headless, with or without WebGPU (SwiftShader).
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import sirv from 'sirv';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Flags that make headless Chromium expose WebGPU on SwiftShader (software Vulkan). */
export const WEBGPU_FLAGS = [
  '--enable-unsafe-webgpu',
  '--enable-features=Vulkan',
  '--use-vulkan=swiftshader',
  '--use-webgpu-adapter=swiftshader',
];
const QUIET_FLAGS = [
  '--headless=new',
  '--no-sandbox',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
];

/**
 * Serves `directory` (default www/) on 127.0.0.1, never cached. Resolves to
 * `{ url, override(path, response), clear(), served, close() }`: `override('/data/x.gz', { status, body })`
 * makes the server answer that path with `body` (bytes or text) and `status` (default 200)
 * instead of the file, until `clear()`; `served` lists each answer sent, `{ path, bytes }`
 * (bytes: of its body, as sent).
 */
export async function serve(directory = join(ROOT, 'www')) {
  const files = sirv(directory, { dev: true, etag: false });
  const overrides = new Map();
  const served = [];
  const server = createServer((req, res) => {
    const path = new URL(req.url, 'http://localhost').pathname;
    let bytes = 0;
    for (const method of ['write', 'end']) {
      const original = res[method].bind(res);
      res[method] = (chunk, ...rest) => {
        if (chunk && typeof chunk !== 'function') bytes += Buffer.byteLength(chunk);
        return original(chunk, ...rest);
      };
    }
    res.on('finish', () => served.push({ path, bytes }));
    const override = overrides.get(path);
    if (!override) return files(req, res, () => { res.statusCode = 404; res.end('Not found'); });
    res.writeHead(override.status ?? 200, { 'Content-Type': override.type ?? 'application/octet-stream', 'Cache-Control': 'no-store' });
    res.end(override.body);
  });
  await new Promise((resolve, reject) => {
    server.on('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  return {
    url: `http://127.0.0.1:${server.address().port}/`,
    override: (path, response) => overrides.set(path, response),
    clear: () => overrides.clear(),
    served,
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(resolve); }),
  };
}

/**
 * Starts headless Chromium in a fresh profile; `webgpu: false` leaves WebGPU off.
 * Resolves to `{ browser, close() }`.
 */
export async function launch({ webgpu = true } = {}) {
  const profile = mkdtempSync(join(tmpdir(), 'batchlab-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: [...QUIET_FLAGS, ...(webgpu ? WEBGPU_FLAGS : [])],
    viewport: { width: 1280, height: 1000 },
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/**
 * Opens `url` in a new page and collects console errors and uncaught exceptions. The origin's
 * saved results (IndexedDB) are cleared first, so that each page starts as on a first visit;
 * `keepSaved: true` keeps them.
 */
export async function open(context, url, { keepSaved = false } = {}) {
  const page = await context.newPage();
  if (!keepSaved) await clearSaved(page, url);
  const errors = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('worker', (w) => w.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); }));
  await page.goto(url);
  return { page, errors };
}

/** Deletes the saved results (IndexedDB) of `url`'s origin, through the DevTools protocol. */
export async function clearSaved(page, url) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Storage.clearDataForOrigin', { origin: new URL(url).origin, storageTypes: 'indexeddb' });
  await cdp.detach();
}

/** Waits until `window.batchlab.status` is one of `statuses`; resolves to it. */
export async function waitForStatus(page, statuses, timeout) {
  await page.waitForFunction(
    (wanted) => window.batchlab && wanted.includes(window.batchlab.status),
    statuses,
    { timeout, polling: 250 },
  );
  return page.evaluate(() => window.batchlab.status);
}

/**
 * A Chrome DevTools Protocol view of a page's JS heaps: resolves to `{ page(), worker() }`, each
 * resolving to the bytes in use after a full garbage collection, in the page and in its (first)
 * Web Worker — the training worker.
 */
export async function heaps(page) {
  const cdp = await page.context().newCDPSession(page);
  let worker = null;
  let next = 0;
  const pending = new Map();
  cdp.on('Target.attachedToTarget', (e) => { if (e.targetInfo.type === 'worker') worker ??= e.sessionId; });
  cdp.on('Target.receivedMessageFromTarget', (e) => {
    const message = JSON.parse(e.message);
    pending.get(message.id)?.(message);
    pending.delete(message.id);
  });
  await cdp.send('Target.setAutoAttach', { autoAttach: true, waitForDebuggerOnStart: false, flatten: false });
  const inWorker = (method) => new Promise((resolve) => {
    const id = ++next;
    pending.set(id, resolve);
    cdp.send('Target.sendMessageToTarget', { sessionId: worker, message: JSON.stringify({ id, method, params: {} }) });
  });
  return {
    async page() {
      await cdp.send('HeapProfiler.collectGarbage');
      return (await cdp.send('Runtime.getHeapUsage')).usedSize;
    },
    async worker() {
      if (!worker) throw new Error('no worker attached');
      await inWorker('HeapProfiler.collectGarbage');
      return (await inWorker('Runtime.getHeapUsage')).result.usedSize;
    },
  };
}
