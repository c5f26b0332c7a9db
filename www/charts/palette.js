// The charts' colours: the palette of batch-size lines, the colours with a fixed meaning on the
// across-batch-size charts, and Chart.js's text and grid colours for the page's light or dark scheme.
// Owns: colours and the theme. Must NOT: make charts, place axes, or know about runs and records.

/** Colour of the i-th batch size of a sweep (Okabe–Ito palette, readable by colour-blind readers;
 * its black is grey here, to show on a dark background too). Past 8 the colours come round again,
 * told apart by `dash(i)`. */
const PALETTE = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#56B4E9', '#D55E00', '#F0E442', '#999999'];
export const colour = (i) => PALETTE[i % PALETTE.length];
/** The dash pattern (Chart.js `borderDash`, px) of the i-th line: solid for the first 8, then
 * dash-dot for the next 8, then dotted: each of the first 24 lines its own colour and dash pair.
 * (Dashed [7, 4] is an imported sweep's; [4, 4] the segment to a divergence.) */
const DASHES = [undefined, [10, 3, 2, 3], [2, 3]];
export const dash = (i) => DASHES[Math.floor(i / PALETTE.length) % DASHES.length];
/** The point style of the i-th line, in step with its dash: circles, triangles, squares. */
const POINTS = ['circle', 'triangle', 'rect'];
export const pointStyle = (i) => POINTS[Math.floor(i / PALETTE.length) % POINTS.length];
/** Okabe–Ito colours with a fixed meaning on the across-batch-size charts. */
export const REACHED = '#0072B2';
export const NOT_REACHED = '#777777';
export const DIVERGED = '#D55E00';
export const FASTEST = '#E69F00';
export const BEST = '#009E73';

/** Chart.js's text and grid colours for the page's colour scheme (style.css's `--muted`). */
export function applyTheme() {
  const dark = matchMedia('(prefers-color-scheme: dark)').matches;
  Chart.defaults.color = getComputedStyle(document.documentElement).getPropertyValue('--muted').trim() || (dark ? '#aaa' : '#666');
  Chart.defaults.borderColor = dark ? 'rgba(255, 255, 255, 0.16)' : 'rgba(0, 0, 0, 0.1)';
}
