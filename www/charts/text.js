// How the charts write numbers and runs: percentages, measured values ("13.2", "3.9·10¹⁹", via
// format.js), a run's name and a line's legend label.
// Owns: the charts' words for values and runs. Must NOT: draw, or touch Chart.js.

import { number, count } from '../format.js';

/** 0.98 → "98 %", 0.985 → "98.5 %". */
export const percent = (fraction) => `${(100 * fraction).toLocaleString('en', { maximumFractionDigits: 2 })} %`;
/** A measured value with at most `digits` decimals ("13.2", "3.9·10¹⁹"). */
export const fmt = (x, digits = 0) => (Math.abs(x) >= 1e4 || !Number.isFinite(x) ? number(x) : x.toLocaleString('en', { maximumFractionDigits: digits }));

/** Name of a run or record: "64", or "64 (restarted on the CPU)" for a `series`. */
export const runName = (r) => (r.series ? `${count(r.batchSize)} ${r.series.slice(String(r.batchSize).length + 1)}` : count(r.batchSize));
export const lineLabel = (r) => `batch size ${r.series ?? count(r.batchSize)}`;
