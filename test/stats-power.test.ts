/**
 * lib/stats/power.ts: the detectable difference of a paired t test, against scipy.
 * Reference values: (stats.t.ppf(1 − α/2, n − 1) + stats.t.ppf(power, n − 1)) · σ/√n, and the
 * exact power 1 − nct.cdf(t_c, n − 1, δ√n/σ) + nct.cdf(−t_c, …) at that δ (scipy 1.x).
 */
import t from 'tap';
import { detectableDifference, seedsToDetect } from '../lib/stats';

t.test('detectableDifference matches scipy\'s t quantiles', (t) => {
  t.ok(Math.abs(detectableDifference(15.2, 5) - 25.269637480413554) < 1e-6, 'σ_d 15.2, 5 seeds (the unconditional pilot): 25.27');
  t.ok(Math.abs(detectableDifference(1, 3) - 3.096510147446125) < 1e-7, '3 seeds: 3.0965 σ');
  t.ok(Math.abs(detectableDifference(1, 5, { level: 0.99, power: 0.9 }) - 2.7446845119043406) < 1e-7, 'α = 0.01, power 0.9');
  // large n → Lehr's rule (z₀.₉₇₅ + z₀.₈)·σ/√n = 2.8015852·σ/√n; scipy at n = 10 000: 2.8018584
  t.ok(Math.abs(detectableDifference(1, 10_000) * 100 - 2.801858446358074) < 1e-6, 'n = 10 000: scipy');
  t.ok(Math.abs(detectableDifference(1, 10_000) * 100 / 2.8015852181129683 - 1) < 2e-4, 'and within 0.02% of the normal limit');
  t.equal(detectableDifference(0, 4), 0, 'no spread: any difference is seen');
  t.end();
});

t.test('it shrinks like 1/√n', (t) => {
  const d = [2, 3, 5, 10, 30, 100].map((n) => detectableDifference(1, n));
  for (let i = 1; i < d.length; i++) t.ok(d[i]! < d[i - 1]!, `δ(${[2, 3, 5, 10, 30, 100][i]}) < δ of fewer seeds`);
  t.end();
});

t.test('seedsToDetect: the first n with δ(n) ≤ |difference|', (t) => {
  // scipy: δ(84) = 4.7016 > 4.7, δ(85) = 4.6732 ≤ 4.7 (σ_d 15.2: the paper's −7% of a baseline FID of 67)
  t.equal(seedsToDetect(15.2, -4.7), 85);
  t.equal(seedsToDetect(15.2, 4.7), 85, 'the sign does not matter');
  t.equal(seedsToDetect(1, 100), 2, 'a huge difference: two seeds');
  t.equal(seedsToDetect(0, 1), 2);
  t.equal(seedsToDetect(1, 0), null, 'a zero difference is never detected');
  t.equal(seedsToDetect(100, 1, { maxSeeds: 50 }), null, 'beyond maxSeeds: null');
  const n = seedsToDetect(3, 2)!;
  t.ok(detectableDifference(3, n) <= 2 && detectableDifference(3, n - 1) > 2, 'minimal');
  t.end();
});

t.test('bad input is named', (t) => {
  t.throws(() => detectableDifference(1, 1), /n must be an integer ≥ 2 seeds, got 1/);
  t.throws(() => detectableDifference(1, 2.5), /got 2\.5/);
  t.throws(() => detectableDifference(-1, 5), /sdDiff must be a finite number ≥ 0, got -1/);
  t.throws(() => detectableDifference(NaN, 5), /got NaN/);
  t.throws(() => detectableDifference(1, 5, { power: 1 }), /power must be in \(0, 1\), got 1/);
  t.throws(() => seedsToDetect(1, Infinity), /difference must be finite/);
  t.end();
});
