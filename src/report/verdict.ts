/**
 * Two sets of figures in words, as hyperfine says them: which is faster (or lower) and by what
 * factor ± its standard deviation, whether the difference stands out of the noise, and which runs
 * are outliers.
 */
import { quantile, type Stats } from '../suite/summary.js';

/** Values far from the rest: modified z-score (0.6745 (x - median) / MAD) over 3.5 (Iglewicz and Hoaglin; hyperfine's test). */
export function outliers(values: readonly number[]): number[] {
  if (values.length < 3) return [];
  const sorted = [...values].sort((x, y) => x - y);
  const median = quantile(sorted, 0.5);
  const mad = quantile(
    values.map((v) => Math.abs(v - median)).sort((x, y) => x - y),
    0.5,
  );
  if (mad === 0) return [];
  return values.filter((v) => Math.abs((0.6745 * (v - median)) / mad) > 3.5);
}

/**
 * "B is 1.18 ± 0.02 x faster than A", or "within the noise" when the means differ by less than
 * twice the difference's standard error (about 95 % on normal spreads); with one run on a side
 * there is no spread to judge by, and it says so.
 */
export function verdictOf(metric: string, a: Stats | undefined, b: Stats | undefined): string {
  if (a === undefined || b === undefined) return 'no completed run on one side';
  if (a.mean === b.mean) return 'the same';
  const bLower = b.mean < a.mean;
  const [lo, hi] = bLower ? [b, a] : [a, b];
  const factor = lo.mean === 0 ? Infinity : hi.mean / lo.mean;
  const factorSd = lo.mean === 0 ? 0 : factor * Math.hypot(lo.sd / lo.mean, hi.sd / hi.mean);
  const words: Record<string, [string, string]> = {
    'total-time': ['faster', 'slower'],
    downtime: ['shorter', 'longer'],
  };
  const word = (words[metric] ?? ['lower', 'higher'])[bLower ? 0 : 1];
  if (a.n < 2 || b.n < 2)
    return `B is ${factor.toFixed(2)} x ${word} than A (one run on a side: no spread to judge the noise by)`;
  const by = `${factor.toFixed(2)} ± ${factorSd.toFixed(2)} x ${word}`;
  const se = Math.sqrt(a.sd ** 2 / a.n + b.sd ** 2 / b.n);
  if (Math.abs(b.mean - a.mean) < 2 * se) return `within the noise (B is ${by}, less than twice the standard error)`;
  return `B is ${by} than A`;
}
