// Links and embedding: the page's URL is the experiment. Every setting is a URL parameter
// (see the README's table); `autorun=1` starts the sweep on open; `embed=1` is the compact
// layout for an <iframe>.

/** URL parameters that are not settings: they say how the page opens, not what it trains. */
export const PAGE_PARAMETERS = ['autorun', 'embed'];

/**
 * The page's address for `params` (URL parameters as an object of strings, in the order
 * given), e.g. `https://host/batchlab/?preset=quick&batch=1,8&…&autorun=1`. `embed` and
 * `autorun` add those parameters. The address is this page's own, without its query or hash.
 */
export function linkFor(params, { embed = false, autorun = false } = {}) {
  const url = new URL(location.href);
  url.hash = '';
  url.search = '';
  for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
  if (autorun) url.searchParams.set('autorun', '1');
  if (embed) url.searchParams.set('embed', '1');
  // Commas and colons are safe in a query: keep `batch=1,8,64` readable.
  return url.href.replace(/%2C/gi, ',').replace(/%3A/gi, ':');
}

/**
 * Shows `params` in the address bar (without adding a history entry), keeping `embed`.
 * `autorun` is dropped: a reload shows what was computed instead of starting over.
 */
export function reflect(params) {
  const embed = new URLSearchParams(location.search).get('embed') === '1';
  const link = linkFor(params, { embed });
  if (link !== location.href) history.replaceState(history.state, '', link);
}

/** `text` with the characters that matter in an HTML attribute escaped. */
const attribute = (text) => text.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');

/**
 * A ready-to-paste `<iframe>` that embeds the page with `params` (compact layout, `embed=1`),
 * 100 % wide and `height` pixels tall.
 */
export function iframeSnippet(params, { height = 720 } = {}) {
  return `<iframe src="${attribute(linkFor(params, { embed: true }))}" ` +
    `title="batchlab: how batch size changes learning (LeNet-5 on MNIST, trained in your browser)" ` +
    `width="100%" height="${height}" style="border:0;max-width:100%" loading="lazy"></iframe>`;
}

/**
 * Copies `text` to the clipboard. Resolves to true, or false where the browser refuses (no
 * permission, an insecure page): the caller then selects the text for the reader to copy.
 */
export async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    return false;
  }
}
