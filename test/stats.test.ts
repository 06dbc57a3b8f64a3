/**
 * lib/stats: Student-t quantiles against printed table values and closed forms, the paired t
 * interval against a textbook example (Student's sleep data, as R's t.test reports it), the
 * percentile bootstrap against the exact bootstrap distribution enumerated here, and both
 * against scipy when python3 has it (a visible skip otherwise).
 */
import { spawnSync } from 'node:child_process';
import t from 'tap';
import {
  bootstrapInterval, logGamma, mean, pairedTInterval, quantile, regularizedBeta, sd, studentTCdf, studentTQuantile,
} from '../lib/stats';

t.test('mean, sd, quantile (type 7, numpy.percentile)', async (t) => {
  t.equal(mean([1, 2, 3, 4]), 2.5);
  t.ok(Math.abs(sd([2, 4, 4, 4, 5, 5, 7, 9]) - 2.138089935299395) < 1e-12, 'sd with n − 1');
  t.ok(Number.isNaN(sd([3])), 'one value has no spread');
  t.equal(quantile([1, 2, 3, 4], 0.5), 2.5);
  t.equal(quantile([10, 1, 5], 0.25), 3, 'h = 0.5 between 1 and 5');
  t.equal(quantile([4], 0.9), 4);
  t.throws(() => mean([]), /empty sample/);
  t.throws(() => quantile([1], 1.5), /q must be in \[0, 1\], got 1.5/);
});

t.test('logGamma and the incomplete beta on known values', async (t) => {
  t.ok(Math.abs(logGamma(5) - Math.log(24)) < 1e-13, 'Γ(5) = 24');
  t.ok(Math.abs(logGamma(0.5) - 0.5 * Math.log(Math.PI)) < 1e-13, 'Γ(½) = √π');
  // I_x(1, 1) = x; I_x(2, 1) = x²; I_x(a, b) = 1 − I_{1−x}(b, a)
  t.ok(Math.abs(regularizedBeta(0.3, 1, 1) - 0.3) < 1e-14);
  t.ok(Math.abs(regularizedBeta(0.7, 2, 1) - 0.49) < 1e-14);
  t.ok(Math.abs(regularizedBeta(0.2, 3.5, 1.5) - (1 - regularizedBeta(0.8, 1.5, 3.5))) < 1e-14);
});

t.test('Student-t quantiles against table values and closed forms', async (t) => {
  const table: [number, number, number][] = [
    // p, ν, t_{p,ν} (printed tables, 6 decimals)
    [0.975, 4, 2.776445], [0.975, 1, 12.706205], [0.975, 2, 4.302653], [0.975, 9, 2.262157],
    [0.975, 10, 2.228139], [0.95, 30, 1.697261], [0.995, 2, 9.924843], [0.9, 5, 1.475884], [0.975, 100, 1.983972],
  ];
  for (const [p, df, want] of table) {
    const got = studentTQuantile(p, df);
    t.ok(Math.abs(got - want) < 5e-7, `t_{${p},${df}} = ${got.toFixed(7)} (table ${want})`);
    t.ok(Math.abs(studentTQuantile(1 - p, df) + want) < 5e-7, 'symmetric lower quantile');
  }
  // ν = 1 is Cauchy: t_p = tan(π(p − ½)); ν = 2: t_p = (2p − 1)/√(2p(1 − p))
  for (const p of [0.6, 0.8, 0.99, 0.999]) {
    t.ok(Math.abs(studentTQuantile(p, 1) - Math.tan(Math.PI * (p - 0.5))) < 1e-9 * Math.max(1, Math.tan(Math.PI * (p - 0.5))), `ν=1, p=${p}`);
    t.ok(Math.abs(studentTQuantile(p, 2) - (2 * p - 1) / Math.sqrt(2 * p * (1 - p))) < 1e-9, `ν=2, p=${p}`);
  }
  t.ok(Math.abs(studentTQuantile(0.975, 1e6) - 1.959966) < 1e-5, 'large ν tends to the normal quantile 1.959964');
  t.equal(studentTQuantile(0.5, 7), 0);
  t.ok(Math.abs(studentTCdf(2.776445, 4) - 0.975) < 1e-7, 'the CDF inverts the quantile');
  t.throws(() => studentTQuantile(1, 4), /p must be in \(0, 1\), got 1/);
  t.throws(() => studentTQuantile(0.9, 0), /degrees of freedom must be a positive number, got 0/);
});

// Student's sleep data (Cushny & Peebles 1905, Student 1908): extra hours of sleep, two drugs, ten patients.
const drug1 = [0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0];
const drug2 = [1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4];

t.test('paired t interval: the textbook sleep example', async (t) => {
  // R: t.test(extra ~ group, data = sleep, paired = TRUE) → t = −4.0621, df = 9, p = 0.002833,
  // 95% CI −2.4598858 … −0.7001142, mean difference −1.58 (group 1 − group 2). Here b − a = drug2 − drug1.
  const r = pairedTInterval(drug1, drug2);
  t.ok(Math.abs(r.estimate - 1.58) < 1e-12, `mean difference ${r.estimate}`);
  t.ok(Math.abs(r.low - 0.7001142) < 1e-6, `low ${r.low}`);
  t.ok(Math.abs(r.high - 2.4598858) < 1e-6, `high ${r.high}`);
  t.ok(Math.abs(r.t - 4.0621) < 1e-4, `t ${r.t}`);
  t.equal(r.df, 9);
  t.ok(Math.abs(r.p - 0.002833) < 1e-6, `p ${r.p}`);
  // Independent recomputation from the definition with the tabled t_{0.975,9} = 2.262157.
  const d = drug2.map((x, i) => x - drug1[i]!);
  const dBar = d.reduce((a, b) => a + b, 0) / d.length;
  const s = Math.sqrt(d.reduce((a, x) => a + (x - dBar) ** 2, 0) / (d.length - 1));
  t.ok(Math.abs(r.high - (dBar + 2.262157 * s / Math.sqrt(d.length))) < 1e-5);
  t.throws(() => pairedTInterval([1], [2]), /needs at least 2 pairs, got 1/);
  t.throws(() => pairedTInterval([1, 2], [2]), /not paired, 2 vs 1 values/);
  const flat = pairedTInterval([1, 2, 3], [2, 3, 4]);
  t.same([flat.low, flat.high, flat.p], [1, 1, 0], 'identical differences: a zero-width interval, p = 0');
});

/** The exact percentile-bootstrap interval: every one of the nⁿ equally likely resamples, enumerated. */
function exactBootstrap(d: number[], level: number): [number, number] {
  const n = d.length;
  const means: number[] = [];
  const idx = new Array<number>(n).fill(0);
  for (;;) {
    means.push(idx.reduce((s, i) => s + d[i]!, 0) / n);
    let k = 0;
    while (k < n && ++idx[k]! === n) idx[k++] = 0;
    if (k === n) break;
  }
  means.sort((a, b) => a - b);
  const at = (q: number): number => {
    const h = (means.length - 1) * q;
    const lo = Math.floor(h);
    return means[lo]! + (h - lo) * (means[Math.min(lo + 1, means.length - 1)]! - means[lo]!);
  };
  return [at((1 - level) / 2), at(1 - (1 - level) / 2)];
}

t.test('percentile bootstrap against the exact bootstrap distribution', async (t) => {
  const a = [25.1, 30.4, 22.0, 27.9, 24.3];
  const b = [23.0, 29.9, 21.1, 24.2, 24.0];
  const [lo, hi] = exactBootstrap(b.map((x, i) => x - a[i]!), 0.95); // 5⁵ = 3125 resamples
  const r = bootstrapInterval(a, b, { resamples: 40_000, seed: 3 });
  t.ok(Math.abs(r.low - lo) < 0.05 && Math.abs(r.high - hi) < 0.05, `MC [${r.low.toFixed(3)}, ${r.high.toFixed(3)}] vs exact [${lo.toFixed(3)}, ${hi.toFixed(3)}]`);
  t.ok(Math.abs(r.estimate - (-1.5)) < 1e-12, 'the estimate is the mean difference');
  t.same(bootstrapInterval(a, b, { seed: 3, resamples: 500 }), bootstrapInterval(a, b, { seed: 3, resamples: 500 }), 'seeded: the same interval twice');
  t.not(bootstrapInterval(a, b, { seed: 3, resamples: 500 }).low, bootstrapInterval(a, b, { seed: 4, resamples: 500 }).low, 'another seed, another Monte Carlo draw');
  t.ok(r.low >= Math.min(...b.map((x, i) => x - a[i]!)) && r.high <= Math.max(...b.map((x, i) => x - a[i]!)), 'within the observed differences');
  t.throws(() => bootstrapInterval(a, b, { resamples: 0 }), /resamples must be a positive integer, got 0/);
});

const hasScipy = spawnSync('python3', ['-c', 'import numpy, scipy.stats'], { encoding: 'utf8' }).status === 0;
t.test('paired t and bootstrap against scipy', { skip: hasScipy ? false : 'python3 with numpy + scipy not available' }, async (t) => {
  const a = [31.2, 28.4, 35.0, 29.9, 33.1, 30.6];
  const b = [29.0, 28.9, 31.7, 27.2, 32.5, 28.1];
  const script = `
import json, sys, numpy as np
from scipy import stats
a, b = json.loads(sys.argv[1])
d = np.array(b) - np.array(a)
r = stats.ttest_rel(b, a)
half = stats.t.ppf(0.975, len(d) - 1) * d.std(ddof=1) / np.sqrt(len(d))
boot = stats.bootstrap((d,), np.mean, method='percentile', n_resamples=40000, random_state=np.random.default_rng(0))
print(json.dumps({"t": float(r.statistic), "p": float(r.pvalue), "low": d.mean() - half, "high": d.mean() + half,
                  "blow": float(boot.confidence_interval.low), "bhigh": float(boot.confidence_interval.high),
                  "q": [float(stats.t.ppf(p, v)) for p, v in [(0.975, 3), (0.9, 7), (0.999, 12)]]}))
`;
  const run = spawnSync('python3', ['-c', script, JSON.stringify([a, b])], { encoding: 'utf8' });
  t.equal(run.status, 0, run.stderr);
  const want = JSON.parse(run.stdout) as { t: number; p: number; low: number; high: number; blow: number; bhigh: number; q: number[] };
  const r = pairedTInterval(a, b);
  t.ok(Math.abs(r.t - want.t) < 1e-9, `t ${r.t} vs scipy ${want.t}`);
  t.ok(Math.abs(r.p - want.p) < 1e-9, `p ${r.p} vs scipy ${want.p}`);
  t.ok(Math.abs(r.low - want.low) < 1e-9 && Math.abs(r.high - want.high) < 1e-9, 'interval ends match scipy');
  [[0.975, 3], [0.9, 7], [0.999, 12]].forEach(([p, v], i) => t.ok(Math.abs(studentTQuantile(p!, v!) - want.q[i]!) < 1e-9, `t_{${p},${v}} vs scipy`));
  const boot = bootstrapInterval(a, b, { resamples: 40_000, seed: 1 });
  // Different generators: agreement up to Monte Carlo error (about 0.02 here).
  t.ok(Math.abs(boot.low - want.blow) < 0.06 && Math.abs(boot.high - want.bhigh) < 0.06,
    `bootstrap [${boot.low.toFixed(3)}, ${boot.high.toFixed(3)}] vs scipy [${want.blow.toFixed(3)}, ${want.bhigh.toFixed(3)}]`);
});
