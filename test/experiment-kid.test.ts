/**
 * The experiment's KID adapter (examples/pipeline/experiment/kid.ts): known answers
 * (identical distributions → ≈ 0, a shifted mean → grows) and, with subsets as large as the
 * sets, exactly the unbiased MMD² that numpy computes from the definition (visible skip
 * without python3 + numpy).
 */
import { spawnSync } from 'node:child_process';
import t from 'tap';
import { randn, Rng, Tensor } from '../lib';
import { kidOf } from '../examples/pipeline/experiment/kid';

const gaussian = (n: number, d: number, shift: number, seed: number): Tensor => {
  const x = randn([n, d], { rng: new Rng(seed) });
  return new Tensor(Float32Array.from(x.values(), (v) => v + shift), [n, d]);
};

t.test('KID: same distribution ≈ 0, a shift grows it, seeded', async (t) => {
  const a = gaussian(400, 8, 0, 1);
  const same = kidOf(a, gaussian(400, 8, 0, 2));
  const near = kidOf(a, gaussian(400, 8, 0.3, 3));
  const far = kidOf(a, gaussian(400, 8, 1, 4));
  t.ok(Math.abs(same.kid) < 3 * same.std + 1e-3, `same distribution: ${same.kid.toExponential(2)} ± ${same.std.toExponential(2)}`);
  t.ok(near.kid > 5 * Math.abs(same.kid) && far.kid > near.kid, `shift 0.3: ${near.kid.toFixed(4)}, shift 1: ${far.kid.toFixed(4)}`);
  t.same([same.subsets, same.subsetSize], [50, 200], 'defaults: 50 subsets of half the smaller set');
  t.same(kidOf(a, gaussian(400, 8, 1, 4)), far, 'the same data and seed give the same KID');
  t.not(kidOf(a, gaussian(400, 8, 1, 4), { seed: 9 }).kid, far.kid, 'another subset seed, other subsets');
  t.throws(() => kidOf(a, gaussian(10, 4, 0, 5)), /feature dimensions differ/);
});

const hasNumpy = spawnSync('python3', ['-c', 'import numpy'], { encoding: 'utf8' }).status === 0;
t.test('KID with whole-set subsets equals numpy\'s unbiased MMD²', { skip: hasNumpy ? false : 'python3 with numpy not available' }, async (t) => {
  const x = gaussian(60, 5, 0, 7);
  const y = gaussian(60, 5, 0.4, 8);
  const script = `
import json, sys, numpy as np
x, y = (np.array(v, dtype=np.float64).reshape(60, 5) for v in json.loads(sys.argv[1]))
k = lambda a, b: (a @ b.T / a.shape[1] + 1) ** 3
m = len(x)
kxx, kyy, kxy = k(x, x), k(y, y), k(x, y)
print((kxx.sum() - np.trace(kxx)) / (m * (m - 1)) + (kyy.sum() - np.trace(kyy)) / (m * (m - 1)) - 2 * kxy.mean())
`;
  const run = spawnSync('python3', ['-c', script, JSON.stringify([Array.from(x.values()), Array.from(y.values())])], { encoding: 'utf8' });
  t.equal(run.status, 0, run.stderr);
  const want = Number(run.stdout);
  const got = kidOf(x, y, { subsets: 3, subsetSize: 60 });
  t.ok(Math.abs(got.kid - want) < 1e-9 * Math.max(1, Math.abs(want)), `KID ${got.kid} vs numpy ${want}`);
  t.ok(got.std < 1e-9, 'every whole-set subset is the same set: no spread');
});
