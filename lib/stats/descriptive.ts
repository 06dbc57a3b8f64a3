/**
 * Descriptive statistics of a small sample (one figure per seed): mean, sample standard
 * deviation, and the percentile rule every interval in lib/stats uses.
 */

/** Arithmetic mean; throws on an empty sample (a mean of nothing is a bug upstream, not NaN). */
export function mean(xs: readonly number[]): number {
  if (xs.length === 0) throw new Error('mean: empty sample');
  let s = 0;
  for (const x of xs) s += x;
  return s / xs.length;
}

/**
 * Sample standard deviation s = sqrt(Σ(xᵢ − x̄)² / (n − 1)) (Bessel's correction, numpy's
 * `ddof=1`). NaN for a single value: one seed says nothing about the spread.
 */
export function sd(xs: readonly number[]): number {
  const m = mean(xs);
  if (xs.length < 2) return NaN;
  let s = 0;
  for (const x of xs) s += (x - m) ** 2;
  return Math.sqrt(s / (xs.length - 1));
}

/**
 * The q-quantile (0 ≤ q ≤ 1) by linear interpolation between order statistics — Hyndman &
 * Fan's type 7, the default of numpy.percentile and R's quantile: position h = (n − 1)·q in
 * the sorted sample, value x₍⌊h⌋₎ + (h − ⌊h⌋)·(x₍⌊h⌋+1₎ − x₍⌊h⌋₎).
 */
export function quantile(xs: readonly number[], q: number): number {
  if (xs.length === 0) throw new Error('quantile: empty sample');
  if (!(q >= 0 && q <= 1)) throw new Error(`quantile: q must be in [0, 1], got ${q}`);
  const sorted = [...xs].sort((a, b) => a - b);
  const h = (sorted.length - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo]! + (h - lo) * (sorted[hi]! - sorted[lo]!);
}
