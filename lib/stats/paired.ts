/**
 * Paired comparisons over seeds: seed s trains arm A and arm B with the same tokenizer,
 * initial weights, batch order and sampling seed, so the per-seed difference dₛ = Bₛ − Aₛ
 * cancels what the two runs share (a lucky tokenizer, an easy batch order) and keeps what
 * the arm changes. Both intervals below are for the mean difference d̄.
 *
 * - {@link pairedTInterval}: d̄ ± t_{1−α/2, n−1} · s_d/√n (Student 1908), exact when the dₛ
 *   are normal; with 3–5 seeds the t quantile (2.78 at n = 5) is what keeps it honest.
 * - {@link bootstrapInterval}: Efron's percentile bootstrap — resample the n seeds with
 *   replacement, recompute d̄, take the α/2 and 1 − α/2 quantiles. No normality assumption,
 *   but with few seeds it is too narrow (it can never reach beyond the observed extremes).
 *   Shown beside the t interval so a reader sees when the two disagree.
 */
import { Rng } from '../random';
import { mean, quantile, sd } from './descriptive';
import { studentTCdf, studentTQuantile } from './student-t';

/** A confidence interval for a mean difference. */
export interface Interval {
  /** the point estimate d̄ */
  estimate: number;
  low: number;
  high: number;
  /** coverage, e.g. 0.95 */
  level: number;
}

/** The paired t interval with its test statistic. */
export interface PairedT extends Interval {
  n: number;
  /** standard deviation of the differences (n − 1 in the denominator) */
  sdDiff: number;
  /** t = d̄ / (s_d/√n) */
  t: number;
  df: number;
  /** two-sided p-value of H₀: mean difference = 0 */
  p: number;
}

/** Per-seed differences b − a; the two lists must be paired (same length, same seed order). */
export function pairedDifferences(a: readonly number[], b: readonly number[]): number[] {
  if (a.length !== b.length) throw new Error(`pairedDifferences: the samples are not paired, ${a.length} vs ${b.length} values`);
  return b.map((x, i) => x - a[i]!);
}

function checkLevel(level: number, fn: string): void {
  if (!(level > 0 && level < 1)) throw new Error(`${fn}: level must be in (0, 1), got ${level}`);
}

/** Paired t interval for mean(b − a). Needs at least two pairs. */
export function pairedTInterval(a: readonly number[], b: readonly number[], level = 0.95): PairedT {
  checkLevel(level, 'pairedTInterval');
  const d = pairedDifferences(a, b);
  const n = d.length;
  if (n < 2) throw new Error(`pairedTInterval: needs at least 2 pairs, got ${n}`);
  const dBar = mean(d);
  const sdDiff = sd(d);
  const se = sdDiff / Math.sqrt(n);
  const df = n - 1;
  const half = studentTQuantile(1 - (1 - level) / 2, df) * se;
  // se = 0 (identical differences): the interval collapses onto d̄; t is ±∞ unless d̄ = 0.
  const t = se > 0 ? dBar / se : dBar === 0 ? 0 : Math.sign(dBar) * Infinity;
  const p = Number.isFinite(t) ? 2 * (1 - studentTCdf(Math.abs(t), df)) : 0;
  return { estimate: dBar, low: dBar - half, high: dBar + half, level, n, sdDiff, t, df, p };
}

/** Options of {@link bootstrapInterval}. */
export interface BootstrapOptions {
  level?: number;
  /** number of resamples (default 10 000) */
  resamples?: number;
  /** seed of the resampling generator (default 0): the same data and seed give the same interval */
  seed?: number;
}

/** Percentile bootstrap interval of mean(b − a) over the pairs (seeds). */
export function bootstrapInterval(a: readonly number[], b: readonly number[], opts: BootstrapOptions = {}): Interval {
  const level = opts.level ?? 0.95;
  checkLevel(level, 'bootstrapInterval');
  const B = opts.resamples ?? 10_000;
  if (!(Number.isInteger(B) && B >= 1)) throw new Error(`bootstrapInterval: resamples must be a positive integer, got ${B}`);
  const d = pairedDifferences(a, b);
  const n = d.length;
  if (n < 1) throw new Error('bootstrapInterval: needs at least 1 pair, got 0');
  const rng = new Rng(opts.seed ?? 0);
  const means = new Array<number>(B);
  for (let r = 0; r < B; r++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += d[rng.int(n)]!;
    means[r] = s / n;
  }
  const alpha = 1 - level;
  return { estimate: mean(d), low: quantile(means, alpha / 2), high: quantile(means, 1 - alpha / 2), level };
}
