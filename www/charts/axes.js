// The charts' axes: log-axis ticks (1, 2 and 5 times a power of ten labelled), ranges widened to
// 1, 2 or 5 times a power of ten, whole-number ticks, the log2 batch-size axis, and fitting a
// chart's axes to its points so that every marker is drawn whole.
// Owns: scales, ticks and fitted ranges. Must NOT: make charts, choose colours, or know about runs.

import { count, tick } from '../format.js';

// On a log axis label only 1, 2 and 5 times a power of ten, so labels never crowd; `label`
// writes them (format.js's `tick` for measured values, `countTick` for counts).
const mantissa = (v) => v / 10 ** Math.floor(Math.log10(v) + 1e-9);
export const logTicks = (label = tick) => ({ callback: (v) => ([1, 2, 5].some((m) => Math.abs(mantissa(v) - m) < 1e-6) ? label(v) : '') });
/** A log axis's grid: 1, 2, …, 9 times a power of ten only (not 21, 22, … between 20 and 30). */
export const tidyLogTicks = (scale) => {
  scale.ticks = scale.ticks.filter((t) => Math.abs(mantissa(t.value) - Math.round(mantissa(t.value))) < 1e-6);
};
/** The smallest 1, 2 or 5 times a power of ten that is at least v (v > 0). */
export const niceAbove = (v) => {
  const p = 10 ** Math.floor(Math.log10(v));
  return [1, 2, 5, 10].map((m) => m * p).find((x) => x >= v * (1 - 1e-9));
};
/** The largest 1, 2 or 5 times a power of ten that is at most v (v > 0). */
const niceBelow = (v) => {
  const p = 10 ** Math.floor(Math.log10(v));
  return [10, 5, 2, 1].map((m) => m * p).find((x) => x <= v * (1 + 1e-9));
};

/**
 * A log axis's range over `values` (those > 0), with `fraction` of it to spare either side (so a
 * marker at either end is drawn whole), widened to 1, 2 or 5 times a power of ten.
 */
function logRange(values, fraction = 0.125) {
  const ys = values.filter((v) => Number.isFinite(v) && v > 0);
  if (!ys.length) return { min: undefined, max: undefined };
  const lo = Math.log10(Math.min(...ys));
  const hi = Math.log10(Math.max(...ys));
  const spare = fraction * Math.max(hi - lo, 0.5);
  return { min: niceBelow(10 ** (lo - spare)), max: niceAbove(10 ** (hi + spare)) };
}

/** Fits a per-epoch chart's axes to its points: epochs with room either side; a log axis as `logRange`. */
export function fitPerEpoch(chart) {
  const points = chart.data.datasets.flatMap((d) => d.data);
  const { x, y } = chart.options.scales;
  if (chart.$xIntegers) {
    const xs = points.map((p) => p.x).filter(Number.isFinite);
    const lo = Math.min(...xs);
    const hi = Math.max(...xs);
    const spare = Math.max(0.3, 0.04 * (hi - lo));
    x.min = xs.length ? Math.max(0, lo - spare) : undefined;
    x.max = xs.length ? hi + spare : undefined;
  }
  // Small markers: a sixteenth of the range to spare either side.
  if (y.type === 'logarithmic') Object.assign(y, logRange(points.map((p) => p.y), 1 / 16));
}

/** An axis's ticks: its whole numbers in range, at most about one per 40 px (1, 2, 5 × 10ⁿ apart). */
export function wholeTicks(scale) {
  const lo = Math.ceil(scale.min);
  const hi = Math.floor(scale.max);
  if (!(hi >= lo)) return;
  const room = Math.max(1, Math.floor((scale.isHorizontal() ? scale.width : scale.height) / 40));
  let step = 1;
  while ((hi - lo) / step + 1 > room) step = niceAbove(step * 1.01);
  const ticks = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi; v += step) ticks.push({ value: v });
  scale.ticks = ticks;
}

/**
 * Fits an across-batch-size chart's y axis to its points (and `extra` values), markers whole: a log axis as
 * `logRange`; a count from 0 with room above; an accuracy up to 100 % (markers there unclipped)
 * with room below, from a multiple of 5 %.
 */
export function fitBatchY(chart, extra = []) {
  const y = chart.options.scales.y;
  const ys = [...chart.data.datasets.flatMap((d) => d.data.map((p) => p.y)), ...extra].filter(Number.isFinite);
  if (y.type === 'logarithmic') {
    Object.assign(y, logRange(ys));
    return;
  }
  if (!ys.length) {
    if (chart.$yIntegers) y.max = undefined;
    else y.min = undefined;
    return;
  }
  const lo = Math.min(...ys);
  const hi = Math.max(...ys);
  if (chart.$yIntegers) {
    y.max = hi + Math.max(0.5, 0.1 * hi);
  } else {
    y.min = Math.max(0, Math.floor((lo - 0.12 * Math.max(hi - lo, 10)) / 5) * 5);
  }
}

/**
 * The batch-size axis of a chart across batch sizes: a linear axis over log2(batch size) with a
 * tick at every power of two, labelled 1, 2, 4, …, 65,536.
 */
export const batchSizeAxis = () => ({
  type: 'linear',
  title: { display: true, text: 'Batch size (log scale)' },
  // Every `step`-th power of two labelled (1, 8, 64, 512, … on a narrow chart), so labels never crowd.
  ticks: {
    autoSkip: false,
    maxRotation: 0,
    callback(v) {
      return Number.isInteger(v) && v >= 0 && v % (this.$labelStep ?? 1) === 0 ? count(2 ** v) : '';
    },
  },
  // A tick (and grid line) at every power of two in range (the range has room either side).
  afterBuildTicks: (scale) => {
    const ticks = [];
    for (let v = Math.ceil(scale.min); v <= Math.floor(scale.max); v++) ticks.push({ value: v });
    scale.ticks = ticks;
    // About 7 px a character, and 10 px between labels.
    const half = (v) => 3.5 * count(2 ** v).length;
    const px = (scale.width || 300) / (scale.max - scale.min);
    const fits = (step) => {
      const vs = ticks.map((t) => t.value).filter((v) => v >= 0 && v % step === 0);
      return vs.every((v, i) => i === 0 || half(vs[i - 1]) + half(v) + 10 <= step * px);
    };
    scale.$labelStep = [1, 2, 3, 4, 5, 6, 8, 10].find(fits) ?? 12;
  },
});
