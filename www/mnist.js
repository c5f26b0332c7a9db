// Downloads MNIST for the trainer, only as much as a sweep needs: the test set (two files) and
// the parts of the training set (10,000 images each, cut by scripts/build.sh and listed in
// data/parts/parts.json) that cover the sweep's training-set size, and the last part when the
// sweep holds validation images out of it (the last of the 60,000). Parsing and validation are
// the trainer's (MnistData, in Rust); this module fetches, counts bytes and gunzips.
// Used by the training worker (worker.js) and the benchmark's worker (bench/worker.js).

const TEST_FILES = ['t10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'];
/** Compressed sizes of the two test files, for the progress bar (exact values do not matter). */
const TEST_BYTES = 1_648_877 + 4_542;
/** Data URLs resolve against this module, so that any page or worker can import it. */
const dataUrl = (path) => new URL(`data/${path}`, import.meta.url).href;
const shown = (path) => `data/${path}`;

/** The first bytes of `bytes` as text a reader can recognise, e.g. `“<!doctype html>…”`. */
function preview(bytes) {
  const text = [...bytes.subarray(0, 32)].map((b) => (b >= 32 && b < 127 ? String.fromCharCode(b) : '·')).join('');
  return `“${text}${bytes.length > 32 ? '…' : ''}”`;
}

/**
 * Reads `data/<path>` (a gzip'd IDX file), calling `onBytes(n)` as bytes arrive, and gunzips it
 * (the browser's DecompressionStream) unless the server already did. Resolves to the IDX bytes.
 * Throws an Error whose message names the file and the fault: a failed download, an HTTP error,
 * a file that is not gzip at all, a damaged or cut-short gzip stream.
 */
export async function download(path, onBytes = () => {}) {
  const url = shown(path);
  let response;
  try {
    response = await fetch(dataUrl(path), { cache: 'no-cache' });
  } catch (e) {
    throw new Error(`Could not download ${url}: ${e.message}. Check the connection and press Start again.`);
  }
  if (!response.ok) {
    throw new Error(`Could not download ${url}: the server answered ${response.status} ${response.statusText}`.trim() + '.');
  }
  const chunks = [];
  const reader = response.body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      onBytes(value.byteLength);
    }
  } catch (e) {
    throw new Error(`Could not download ${url}: the download broke off (${e.message}). Check the connection and press Start again.`);
  }
  const compressed = new Uint8Array(await new Blob(chunks).arrayBuffer());
  // A server may send the file with `Content-Encoding: gzip`, and then the browser has already
  // decompressed it: IDX data (its magic number starts 00 00 08) is taken as it is.
  if (compressed.length >= 3 && compressed[0] === 0 && compressed[1] === 0 && compressed[2] === 8) return compressed;
  if (compressed.length < 2 || compressed[0] !== 0x1f || compressed[1] !== 0x8b) {
    throw new Error(`${url} is not gzip-compressed data: it starts with ${preview(compressed)} ` +
      '(was an error page served instead of the data?).');
  }
  try {
    const stream = new Blob([compressed]).stream().pipeThrough(new DecompressionStream('gzip'));
    return new Uint8Array(await new Response(stream).arrayBuffer());
  } catch (e) {
    throw new Error(`${url} is damaged or cut short: its gzip stream could not be decompressed (${e.message}).`);
  }
}

/** The manifest of the training set's parts: `{ partSize, trainImages, parts: [{ count, images, labels, imagesBytes, labelsBytes }] }`. */
async function manifest() {
  const path = 'parts/parts.json';
  let response;
  try {
    response = await fetch(dataUrl(path), { cache: 'no-cache' });
  } catch (e) {
    throw new Error(`Could not download ${shown(path)}: ${e.message}. Check the connection and press Start again.`);
  }
  if (!response.ok) {
    throw new Error(`Could not download ${shown(path)}, the list of the training set's parts: the server answered ${response.status} ${response.statusText}`.trim()
      + (response.status === 404 ? ' (build the page with scripts/build.sh, which writes it).' : '.'));
  }
  let list;
  try {
    list = await response.json();
  } catch (e) {
    throw new Error(`${shown(path)}, the list of the training set's parts, is not valid JSON (${e.message}).`);
  }
  const valid = Array.isArray(list?.parts) && list.parts.length > 0 && list.parts.every((p) =>
    Number.isInteger(p?.count) && p.count > 0 && typeof p.images === 'string' && typeof p.labels === 'string'
    && Number.isFinite(p.imagesBytes) && Number.isFinite(p.labelsBytes));
  if (!valid) {
    throw new Error(`${shown(path)}, the list of the training set's parts, is not in its expected form ` +
      '({ parts: [{ count, images, labels, imagesBytes, labelsBytes }] }; rebuild the page with scripts/build.sh).');
  }
  return list;
}

/**
 * Makes sure `mnist` (a MnistData, or null for none yet) holds the test set, at least
 * `trainSize` training images and, when `valSize` > 0, the training file's last part (its last
 * 10,000 images, from which the validation images are held out), downloading only what is
 * missing, all files at once. `MnistData` is the trainer's class (pkg/batchlab.js).
 * `onProgress(message, fraction)` reports the download (fraction of the bytes to fetch, 0–1).
 * Resolves to the MnistData (a new one when `mnist` was null). Throws an Error naming the file
 * and its fault.
 */
export async function loadMnist(MnistData, mnist, trainSize, onProgress = () => {}, valSize = 0) {
  const { parts } = await manifest();
  const available = sumCounts(parts, parts.length);
  // The last part is held, as the training set's last part or set apart.
  const holdsLast = (data) => data.trainSize === available || data.heldOutSize > 0;
  if (mnist && mnist.trainSize >= trainSize && (valSize === 0 || holdsLast(mnist))) return mnist;
  if (trainSize > available) {
    throw new Error(`The sweep asks for ${trainSize.toLocaleString('en')} training images, but ${shown('parts/parts.json')} lists only ${available.toLocaleString('en')}.`);
  }
  // Parts are added in order: the sweep's first `trainSize` images are the file's first.
  let have = 0; // parts already in `mnist`
  while (mnist && have < parts.length && sumCounts(parts, have + 1) <= mnist.trainSize) have++;
  if (mnist && sumCounts(parts, have) !== mnist.trainSize) {
    throw new Error(`The trainer holds ${mnist.trainSize.toLocaleString('en')} training images, which are not whole parts of ${shown('parts/parts.json')} (was the page rebuilt while open? Reload it).`);
  }
  const needed = [];
  for (let i = have; i < parts.length && sumCounts(parts, i) < trainSize; i++) needed.push(parts[i]);
  const last = parts[parts.length - 1];
  const heldOut = valSize > 0 && !(mnist && holdsLast(mnist)) && !needed.includes(last) ? last : null;
  const fetched = heldOut ? [...needed, heldOut] : needed;
  const expected = (mnist ? 0 : TEST_BYTES) + fetched.reduce((n, p) => n + p.imagesBytes + p.labelsBytes, 0);
  let received = 0;
  const onBytes = (n) => {
    received += n;
    // A server that compresses on the fly (Content-Encoding: gzip) hands over more bytes than
    // the manifest's sizes: then only the bytes so far are shown.
    const of = received <= expected ? ` of ${(expected / 1e6).toFixed(1)}` : '';
    onProgress(`Downloading MNIST (${(received / 1e6).toFixed(1)}${of} MB)…`, Math.min(1, received / expected));
  };
  onProgress('Downloading MNIST…', 0);
  const test = mnist ? null : Promise.all(TEST_FILES.map((name) => download(`${name}.gz`, onBytes)));
  const train = fetched.map((p) => Promise.all([download(`parts/${p.images}`, onBytes), download(`parts/${p.labels}`, onBytes)]));
  // Every download settles before any error is reported (no unhandled rejections).
  const settled = await Promise.allSettled([test, ...train]);
  const failed = settled.find((s) => s.status === 'rejected');
  if (failed) throw failed.reason;
  onProgress('Checking MNIST…', 1);
  let data = mnist;
  try {
    if (!data) {
      const [images, labels] = settled[0].value;
      data = MnistData.testOnly(images, labels);
    }
    needed.forEach((p, i) => {
      const [images, labels] = settled[i + 1].value;
      data.addTrainPart(images, labels, p.images.replace(/\.gz$/, ''), p.labels.replace(/\.gz$/, ''));
      const want = sumCounts(parts, have + i + 1);
      if (data.trainSize !== want) {
        throw new Error(`data/parts/${p.images} holds ${(data.trainSize - want + p.count).toLocaleString('en')} images, but ${shown('parts/parts.json')} says ${p.count.toLocaleString('en')} (rebuild the page with scripts/build.sh)`);
      }
    });
    if (heldOut) {
      const [images, labels] = settled[needed.length + 1].value;
      data.setHeldOutPart(images, labels, heldOut.images.replace(/\.gz$/, ''), heldOut.labels.replace(/\.gz$/, ''));
    }
  } catch (e) {
    if (data && data !== mnist) data.free();
    throw new Error(`The MNIST data could not be read: ${e.message}.`);
  }
  return data;
}

/** Images in the first `n` parts. */
function sumCounts(parts, n) {
  return parts.slice(0, n).reduce((sum, p) => sum + p.count, 0);
}
