/** The report's "how strong is the evidence" paragraph: one seed is not ranked; several get a paired t interval. */
import t from 'tap';
import { evidenceLines } from '../examples/pipeline/evidence';

t.test('one seed: a data point, no interval', (t) => {
  const text = evidenceLines([{ mode: 'off', seed: 0, fid: 30, kid: 0.05 }, { mode: 'hybnext', seed: 0, fid: 27.5, kid: 0.04 }]).join('\n');
  t.match(text, /One seed: a data point, not a result/);
  t.match(text, /FID -2\.50, KID -0\.0100/);
  t.notMatch(text, /95% CI/);
  t.end();
});

t.test('three seeds: the paired t interval, computed by hand', (t) => {
  // FID differences −2, −1, −3: mean −2, sd 1, t(0.975, 2) = 4.302653 → ±2.4841: [−4.48, +0.48] includes 0
  // KID differences −0.010, −0.009, −0.011: mean −0.01, sd 0.001 → ±0.002484: [−0.0125, −0.0075] below 0
  const base = [[30, 0.05], [25, 0.06], [28, 0.055]];
  const arra = [[28, 0.04], [24, 0.051], [25, 0.044]];
  const rows = [
    ...base.map(([fid, kid], seed) => ({ mode: 'off', seed, fid: fid!, kid: kid! })),
    ...arra.map(([fid, kid], seed) => ({ mode: 'hybnext', seed, fid: fid!, kid: kid! })),
  ];
  const text = evidenceLines(rows).join('\n');
  t.match(text, /\| FID ↓ \| -2\.00 \| \[-4\.48, \+0\.48\] \| 3 of 3 seeds \| the interval includes 0/);
  t.match(text, /\| KID ↓ \| -0\.0100 \| \[-0\.0125, -0\.0075\] \| 3 of 3 seeds \| ARRA lower \(better\) beyond seed noise/);
  t.match(text, /3 seeds/);
  t.notMatch(text, /L_AR|accuracy/, 'metrics the rows do not carry are left out');
  t.end();
});

t.test('score and L_AR: higher is better for the score, lower for the loss; per-seed counts', (t) => {
  // accuracy (points) differences +10, +20, +30: mean +20, sd 10 → ±24.84: [−4.8, +44.8] includes 0; ARRA better on 3 seeds
  // L_AR differences +0.1, +0.2, +0.15: mean 0.15, sd 0.05 → ±0.1242: [+0.0258, +0.2742] above 0 → worse
  const acc = [[0.5, 0.6], [0.4, 0.6], [0.3, 0.6]];
  const loss = [[2.0, 2.1], [2.1, 2.3], [1.9, 2.05]];
  const rows = [0, 1, 2].flatMap((seed) => [
    { mode: 'off', seed, fid: 30 + seed, kid: 0.05, promptAccuracy: acc[seed]![0]!, finalLossAR: loss[seed]![0]! },
    { mode: 'hybnext', seed, fid: seed === 1 ? 29 : 32 + seed, kid: 0.05, promptAccuracy: acc[seed]![1]!, finalLossAR: loss[seed]![1]! },
  ]);
  const text = evidenceLines(rows, 'docs/results.md', 'class coverage').join('\n');
  t.match(text, /\| class coverage ↑ \(points\) \| \+20\.0 \| \[-4\.8, \+44\.8\] \| 3 of 3 seeds \| the interval includes 0/);
  t.match(text, /\| final L_AR \| \+0\.1500 \| \[\+0\.0258, \+0\.2742\] \| 0 of 3 seeds \| ARRA higher \(worse\) beyond seed noise/);
  t.match(text, /\| FID ↓ \| [^|]+ \| [^|]+ \| 1 of 3 seeds \|/, 'FID lower (better) on seed 1 only');
  t.end();
});

t.test('no ARRA rows, or no baseline of the same seed: nothing to say', (t) => {
  t.same(evidenceLines([{ mode: 'off', seed: 0, fid: 1, kid: 0 }]), []);
  t.same(evidenceLines([{ mode: 'hybnext', seed: 1, fid: 1, kid: 0 }, { mode: 'off', seed: 0, fid: 1, kid: 0 }]), []);
  t.end();
});
