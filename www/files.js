// Files for the reader: downloads (JSON, CSV, a chart as PNG) and reading a chosen file. The
// files' contents are written in Rust (src/export.rs, through the worker); this only hands
// them to the browser.

/** A file name for this moment, e.g. `batchlab-2026-11-30-2341-epochs.csv`. */
export function fileName(suffix) {
  const d = new Date();
  const pad = (n) => String(n).padStart(2, '0');
  return `batchlab-${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}-${pad(d.getHours())}${pad(d.getMinutes())}-${suffix}`;
}

/** Offers `blob` as a download named `name`. */
export function download(blob, name) {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.hidden = true;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/**
 * The chart on `canvas` as a PNG blob, on the page's background colour (a canvas is
 * transparent, which image viewers show as black or checkered).
 */
export function chartPng(canvas) {
  const copy = document.createElement('canvas');
  copy.width = canvas.width;
  copy.height = canvas.height;
  const ctx = copy.getContext('2d');
  ctx.fillStyle = getComputedStyle(document.body).backgroundColor || '#ffffff';
  ctx.fillRect(0, 0, copy.width, copy.height);
  ctx.drawImage(canvas, 0, 0);
  return new Promise((resolve, reject) => copy.toBlob((blob) => (blob ? resolve(blob) : reject(new Error('the chart could not be drawn as PNG'))), 'image/png'));
}

/**
 * Adds a "PNG" button to each chart (a `<figure>` holding a `<canvas>` inside `root`) that
 * downloads that chart as `batchlab-…-<canvas id>.png`.
 */
export function addPngButtons(root) {
  for (const canvas of root.querySelectorAll('figure > canvas')) {
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'png';
    button.textContent = 'PNG';
    button.title = `Download this chart (${canvas.getAttribute('aria-label')}) as a PNG image`;
    button.dataset.chart = canvas.id;
    button.addEventListener('click', async () => download(await chartPng(canvas), fileName(`${canvas.id}.png`)));
    canvas.parentElement.append(button);
  }
}

/**
 * The largest export the page reads, in bytes (UTF-8) or characters: 64 MiB. A Source replica
 * over 16 batch sizes with 10 seeds and a baseline writes about 40 MB; the Fair comparison's
 * export is 0.2 MB. Larger files are refused before they are read.
 */
export const MAX_IMPORT_BYTES = 64 * 1024 * 1024;

/** A file of `bytes` is too large to import: the reason, in words; null when it is not. */
export function tooLarge(bytes) {
  if (bytes <= MAX_IMPORT_BYTES) return null;
  const mb = (n) => `${(n / 1024 / 1024).toFixed(n < 10 * 1024 * 1024 ? 1 : 0)} MB`;
  return `it is ${mb(bytes)}, larger than the ${mb(MAX_IMPORT_BYTES)} a batchlab export can take`;
}

/**
 * Resolves to `{ name, text }` of the file chosen in `input` (a file `<input>`), or null if
 * none. Rejects, without reading it, a file larger than `MAX_IMPORT_BYTES`.
 */
export async function chosenText(input) {
  const file = input.files?.[0];
  if (!file) return null;
  try {
    const why = tooLarge(file.size);
    if (why) throw Object.assign(new Error(why), { fileName: file.name });
    return { name: file.name, text: await file.text() };
  } finally {
    input.value = ''; // choosing the same file again fires `change` again
  }
}
