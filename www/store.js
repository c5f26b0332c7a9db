// Saved results: the sweep on the page, kept in the browser's IndexedDB (through idb-keyval)
// after every finished epoch, so that a reload, a crash or a closed tab loses nothing. One
// record per page key: the full page's, and one per embedded link (several embeds on a blog
// post keep their own sweeps).
import { createStore, get, set, del } from './vendor/idb-keyval.js';

/** Version of the saved record's layout; a record of another version is ignored (and kept). */
export const SAVE_VERSION = 1;

let store = null;
/** The idb-keyval store: database "batchlab", object store "sweeps" (opened on first use). */
const sweeps = () => (store ??= createStore('batchlab', 'sweeps'));

/** Saves run one after another, so that an older snapshot never overwrites a newer one. */
let queue = Promise.resolve();

/** A storage failure in words, e.g. "the browser's storage is full (QuotaExceededError)". */
export function describeStorageError(e) {
  const name = e?.name ?? '';
  if (typeof indexedDB === 'undefined') return 'this browser offers no IndexedDB storage here (a private window?)';
  if (name === 'QuotaExceededError') return 'the storage for this site is full (QuotaExceededError)';
  if (name === 'InvalidStateError' || name === 'SecurityError') return `the browser does not allow storage here, e.g. in a private window (${name})`;
  return `${e?.message || String(e)}${name && !String(e?.message).includes(name) ? ` (${name})` : ''}`;
}

/**
 * The sweep saved under `key`, `{ version, savedAt, … }` as given to `save`, or null when none
 * (or one of another layout version). Rejects when the storage cannot be read.
 */
export async function load(key) {
  if (typeof indexedDB === 'undefined') throw new Error(describeStorageError(null));
  const saved = await get(key, sweeps());
  return saved?.version === SAVE_VERSION ? saved : null;
}

/**
 * Saves `snapshot` (a structured-cloneable object) under `key`, after any save under way.
 * Resolves when written; rejects with the storage's error (quota, private mode).
 */
export function save(key, snapshot) {
  const write = queue.then(() => {
    if (typeof indexedDB === 'undefined') throw new Error(describeStorageError(null));
    return set(key, { ...snapshot, version: SAVE_VERSION, savedAt: new Date().toISOString() }, sweeps());
  });
  queue = write.catch(() => {});
  return write;
}

/** Deletes what is saved under `key` (after any save under way). */
export function clear(key) {
  const removal = queue.then(() => {
    if (typeof indexedDB === 'undefined') return undefined;
    return del(key, sweeps());
  });
  queue = removal.catch(() => {});
  return removal;
}
