// Numbers as the page writes them, in tables, tooltips and on chart axes. Measured values
// (losses, times, rates) of 10,000 and more are written in scientific notation, `3.9·10¹⁹`
// (as the README writes them), never as twenty digits; counts (batch sizes, epochs, steps,
// samples) stay whole numbers with thousands grouped, `60,000`, up to ten million.

const SUPERSCRIPT = { '-': '⁻', 0: '⁰', 1: '¹', 2: '²', 3: '³', 4: '⁴', 5: '⁵', 6: '⁶', 7: '⁷', 8: '⁸', 9: '⁹' };
const superscript = (n) => String(n).replace(/./g, (c) => SUPERSCRIPT[c] ?? c);

/** From here on a measured value is written in scientific notation. */
export const SCIENTIFIC_FROM = 1e4;
/** From here on a count is written in scientific notation. */
const COUNT_SCIENTIFIC_FROM = 1e7;

/** NaN, ∞ and −∞ as words a reader knows: "NaN", "∞", "−∞". */
const nonFinite = (x) => (Number.isNaN(x) ? 'NaN' : x > 0 ? '∞' : '−∞');

/**
 * x in scientific notation with `significant` significant digits: 39289572484526195000 →
 * "3.9·10¹⁹", 0.000012 → "1.2·10⁻⁵". `trim: true` drops trailing zeros of the mantissa and a
 * mantissa of 1 (for axis ticks: 1e20 → "10²⁰", 2e20 → "2·10²⁰").
 */
export function scientific(x, significant = 2, { trim = false } = {}) {
  if (!Number.isFinite(x)) return nonFinite(x);
  if (x === 0) return '0';
  const [m, e] = x.toExponential(Math.max(0, significant - 1)).split('e');
  let mantissa = m.replace('-', '−');
  if (trim) mantissa = mantissa.replace(/(\.\d*?)0+$/, '$1').replace(/\.$/, '');
  const power = `10${superscript(Number(e))}`;
  if (trim && (mantissa === '1' || mantissa === '−1')) return `${mantissa === '−1' ? '−' : ''}${power}`;
  return `${mantissa}·${power}`;
}

/**
 * A measured value with `digits` decimals and grouped thousands (1234.5 → "1,234.5"), or in
 * scientific notation from 10,000 on (39289572484526195000 → "3.9·10¹⁹"); NaN → "NaN", Infinity → "∞".
 */
export function number(x, digits = 0) {
  if (!Number.isFinite(x)) return nonFinite(x);
  // 9,999.96 to one decimal would read "10,000.0": rounded first.
  if (Math.abs(Number(x.toFixed(digits))) >= SCIENTIFIC_FROM) return scientific(x, 2);
  return x.toLocaleString('en', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** A count (batch size, epoch, step, sample; a rate or estimate rounded to one): "60,000"; from 10⁷ on "1.2·10⁷". */
export function count(x) {
  if (!Number.isFinite(x)) return nonFinite(x);
  if (Math.abs(x) >= COUNT_SCIENTIFIC_FROM) return scientific(x, 2);
  return Math.round(x).toLocaleString('en');
}

/** A setting such as a learning rate, to `significant` digits: 0.1 → "0.1", 1e6 → "10⁶", 1e-7 → "10⁻⁷". */
export function significant(x, digits = 4) {
  if (!Number.isFinite(x)) return nonFinite(x);
  const a = Math.abs(x);
  if (a >= SCIENTIFIC_FROM || (a > 0 && a < 1e-4)) return scientific(x, digits, { trim: true });
  return Number(x.toPrecision(digits)).toLocaleString('en', { maximumFractionDigits: 20 });
}

/**
 * An axis tick of a measured value: grouped below 10,000 ("0.05", "2,000"), scientific from there
 * on ("10²⁰", "2·10²⁰"), to three significant digits.
 */
export function tick(v) {
  if (!Number.isFinite(v)) return '';
  if (Math.abs(v) >= SCIENTIFIC_FROM) return scientific(v, 3, { trim: true });
  if (v !== 0 && Math.abs(v) < 1e-4) return scientific(v, 3, { trim: true });
  return Number(v.toPrecision(3)).toLocaleString('en', { maximumFractionDigits: 20 });
}

/** An axis tick of a count: a whole number grouped ("20,000"), scientific from 10⁷ on; no label between whole numbers. */
export function countTick(v) {
  if (!Number.isFinite(v) || Math.abs(v - Math.round(v)) > 1e-9 * Math.max(1, Math.abs(v))) return '';
  if (Math.abs(v) >= COUNT_SCIENTIFIC_FROM) return scientific(v, 3, { trim: true });
  return Math.round(v).toLocaleString('en');
}
