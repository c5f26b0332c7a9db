// The fixture every end-to-end test file shares: www/ served on loopback and one headless
// Chromium (with software WebGPU), started before the file's tests and closed after them.
import { before, after } from 'node:test';
import { serve, launch } from './harness.mjs';

/** Registers the hooks; returns `{ server, browser }` (see harness.mjs), filled before the tests run. */
export function setup() {
  const fixture = { server: null, browser: null };
  before(async () => {
    fixture.server = await serve();
    fixture.browser = await launch();
  });
  after(async () => {
    await fixture.browser?.close();
    await fixture.server?.close();
  });
  return fixture;
}
