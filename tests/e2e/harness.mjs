// Shared by the end-to-end tests, the benchmark and the screenshot script: serves www/ on
// loopback and starts Debian's Chromium headless, with or without WebGPU (SwiftShader).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

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

async function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Serves `directory` (default www/) on 127.0.0.1; resolves to `{ url, close() }`. */
export async function serve(directory = join(ROOT, 'www')) {
  const port = await freePort();
  const child = spawn('python3', ['-m', 'http.server', String(port), '--bind', '127.0.0.1', '--directory', directory], {
    stdio: 'ignore',
  });
  const url = `http://127.0.0.1:${port}/`;
  for (let i = 0; i < 100; i++) {
    try {
      await fetch(url);
      return { url, close: () => child.kill() };
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  child.kill();
  throw new Error(`the static server on ${url} did not start`);
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

/** Opens `url` in a new page and collects console errors and uncaught exceptions. */
export async function open(context, url) {
  const page = await context.newPage();
  const errors = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('worker', (w) => w.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); }));
  await page.goto(url);
  return { page, errors };
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
