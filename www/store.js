// Saved results: every sweep run on the page, kept in the browser's IndexedDB (through
// idb-keyval) after every finished epoch, so that a reload, a crash or a closed tab loses
// nothing, and earlier sweeps stay listed (the saved history). Sweeps are kept per page key: the
// full page's, and one per embedded link (several embeds on a blog post keep their own); each
// sweep under its own id, as two records written together: the sweep (`<key>#<id>`) and a small
// description for the list (`meta:<key>#<id>`).
// Must NOT: decide what is saved or when (persist.js does), or touch the DOM.
import { createStore, get, getMany, setMany, delMany, keys, del } from './vendor/idb-keyval.js';

/** Version of the saved record's layout; a record of another version is ignored (and kept). */
export const SAVE_VERSION = 1;

let store = null;
/** The idb-keyval store: database "batchlab", object store "sweeps" (opened on first use). */
const sweeps = () => (store ??= createStore('batchlab', 'sweeps'));

/** Saves run one after another, so that an older snapshot never overwrites a newer one. */
let queue = Promise.resolve();
const queued = (work) => {
  const done = queue.then(work);
  queue = done.catch(() => {});
  return done;
};

/** A storage failure in words, e.g. "the browser's storage is full (QuotaExceededError)". */
export function describeStorageError(e) {
  const name = e?.name ?? '';
  if (typeof indexedDB === 'undefined') return 'this browser offers no IndexedDB storage here (a private window?)';
  if (name === 'QuotaExceededError') return 'the storage for this site is full (QuotaExceededError)';
  if (name === 'InvalidStateError' || name === 'SecurityError') return `the browser does not allow storage here, e.g. in a private window (${name})`;
  return `${e?.message || String(e)}${name && !String(e?.message).includes(name) ? ` (${name})` : ''}`;
}

const available = () => {
  if (typeof indexedDB === 'undefined') throw new Error(describeStorageError(null));
};
const recordKey = (key, id) => `${key}#${id}`;
const metaKey = (key, id) => `meta:${key}#${id}`;

/** Orders saved sweeps' descriptions by `savedAt` (ISO 8601 text), newest first. */
export const newestFirst = (a, b) => (a.savedAt < b.savedAt ? 1 : a.savedAt > b.savedAt ? -1 : 0);

/** A fresh sweep id: its start time and a random part, e.g. `20261202T031504Z-3f9a1c`. */
export function newSweepId(now = new Date()) {
  const stamp = now.toISOString().replace(/[-:]|\.\d+/g, '');
  const random = Array.from(crypto.getRandomValues(new Uint8Array(3)), (b) => b.toString(16).padStart(2, '0')).join('');
  return `${stamp}-${random}`;
}

/**
 * A sweep saved before the history existed (one record under the page key itself) becomes the
 * history's first entry.
 */
async function migrate(key) {
  const old = await get(key, sweeps());
  if (!old || old.version !== SAVE_VERSION) return;
  // One fixed id: two tabs migrating at once (or again, from a tab of the older page still
  // saving) write the same entry instead of adding one each.
  const id = MIGRATED_ID;
  const record = { ...old, id };
  record.bytes = sizeOf(record);
  await setMany([[recordKey(key, id), record], [metaKey(key, id), describe(record, id)]], sweeps());
  await del(key, sweeps());
}

/** Page keys whose older record this page has migrated (or found none of). */
const migrated = new Set();

/** The id of the sweep saved before the history existed. */
const MIGRATED_ID = 'saved-before-the-history';

/** A saved record's size: its JSON text, plus its checkpoints' bytes (kept as bytes, not text). */
function sizeOf(record) {
  const { checkpoints = [], ...rest } = record;
  return JSON.stringify(rest).length + checkpoints.reduce((n, [, c]) => n + (c?.bytes?.byteLength ?? 0), 0);
}

/** The list's description of a saved sweep: `{ id, savedAt, params, status, epochs, runs, bytes }`. */
function describe(saved, id) {
  return {
    id,
    savedAt: saved.savedAt,
    params: saved.params ?? {},
    status: saved.status,
    epochs: saved.results?.length ?? 0,
    runs: saved.runs?.length ?? 0,
    bytes: saved.bytes ?? 0,
  };
}

/**
 * The sweeps saved under page key `key`, newest first: `[{ id, savedAt, params, status, epochs,
 * runs, bytes }]` (`bytes`: the saved record's size: as JSON text, plus its checkpoints' bytes). Rejects when the storage
 * cannot be read.
 */
export async function list(key) {
  available();
  // Once per page key and page (a record of the older layout is not written by this page).
  if (!migrated.has(key)) {
    await queued(() => migrate(key));
    migrated.add(key);
  }
  const prefix = `meta:${key}#`;
  const found = (await keys(sweeps())).filter((k) => typeof k === 'string' && k.startsWith(prefix));
  const metas = (await getMany(found, sweeps())).filter(Boolean);
  return metas.sort(newestFirst);
}

/**
 * The sweep `id` saved under `key` (the newest when `id` is omitted), `{ version, id, savedAt, … }`
 * as given to `save`, or null when none (or one of another layout version). Rejects when the
 * storage cannot be read.
 */
export async function load(key, id) {
  available();
  const wanted = id ?? (await list(key))[0]?.id;
  if (wanted == null) return null;
  const saved = await get(recordKey(key, wanted), sweeps());
  return saved?.version === SAVE_VERSION ? { ...saved, id: wanted } : null;
}

/**
 * Saves `snapshot` (a structured-cloneable object) as sweep `id` under `key`, after any save
 * under way; resolves to its description in the list. Rejects with the storage's error (quota,
 * private mode).
 */
export function save(key, id, snapshot) {
  return queued(() => {
    available();
    const record = { ...snapshot, id, version: SAVE_VERSION, savedAt: new Date().toISOString() };
    record.bytes = sizeOf(record);
    const meta = describe(record, id);
    return setMany([[recordKey(key, id), record], [metaKey(key, id), meta]], sweeps()).then(() => meta);
  });
}

/** Deletes sweep `id` saved under `key` (after any save under way). */
export function remove(key, id) {
  return queued(() => {
    if (typeof indexedDB === 'undefined') return undefined;
    return delMany([recordKey(key, id), metaKey(key, id)], sweeps());
  });
}
