/**
 * KID (lib/eval/kid.ts): the unbiased MMD² with the cubic kernel against an independent numpy
 * computation on the same subsets (visible skip when python3 + numpy is absent), and cases
 * with a known answer: identical distributions → ≈ 0 (unbiased: within a few std of 0, either
 * sign), identical *sets* → the same value both ways, a shift of the mean → grows with it.
 */
import { spawnSync } from 'node:child_process';
import t from 'tap';
import { Rng } from '../lib/random';
import { Tensor } from '../lib/tensor';
import { defaultKidSubsetSize, kernelTables, kidFromFeatures, kidSubsetIndices, mmd2FromTables, mmd2Unbiased } from '../lib/eval/kid';

function gaussian(n: number, d: number, shift: number, seed: number): Tensor {
  const rng = new Rng(seed);
  return new Tensor(Float32Array.from({ length: n * d }, () => rng.normal() + shift), [n, d]);
}

t.test('the unbiased estimator written out by hand on 3 + 3 one-dimensional points', async (t) => {
  const x = [0, 1, 2];
  const y = [1, 1, 3];
  const k = (a: number, b: number): number => (a * b + 1) ** 3; // d = 1
  let xx = 0, yy = 0, xy = 0;
  for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) {
    if (i !== j) { xx += k(x[i]!, x[j]!); yy += k(y[i]!, y[j]!); }
    xy += k(x[i]!, y[j]!);
  }
  const expected = xx / 6 + yy / 6 - (2 * xy) / 9;
  const got = mmd2Unbiased(x, [0, 1, 2], y, [0, 1, 2], 1);
  t.ok(Math.abs(got - expected) < 1e-12, `MMD²_u ${got} = ${expected}`);
});

t.test('identical distributions give ≈ 0, a shifted mean makes KID grow', async (t) => {
  const real = gaussian(400, 16, 0, 1);
  const same = kidFromFeatures(real, gaussian(400, 16, 0, 2), { subsets: 20 });
  t.ok(Math.abs(same.kid) < 3 * same.std + 1e-3, `same distribution: KID ${same.kid.toExponential(2)} ± ${same.std.toExponential(2)}`);
  t.ok(same.values.some((v) => v < 0) || Math.abs(same.kid) < 1e-3, 'unbiased: subset values straddle 0 (or are tiny)');
  const self = kidFromFeatures(real, real, { subsets: 5 });
  t.ok(Math.abs(self.kid) < 0.05, `a set against itself: ${self.kid.toExponential(2)} (different subsets of one set)`);
  let last = same.kid;
  for (const shift of [0.25, 0.5, 1]) {
    const r = kidFromFeatures(real, gaussian(400, 16, shift, 3), { subsets: 20 });
    t.ok(r.kid > last && r.kid > 3 * r.std, `shift ${shift}: KID ${r.kid.toFixed(4)} ± ${r.std.toFixed(4)} > ${last.toFixed(4)}`);
    last = r.kid;
  }
});

t.test('subsets: defaults, determinism, errors', async (t) => {
  t.equal(defaultKidSubsetSize(5000, 3000), 1000, "the reference code's 1000 when there are ≥ 2000 samples");
  t.equal(defaultKidSubsetSize(1000, 600), 300, 'half the smaller set otherwise');
  const s = kidSubsetIndices(10, 12, { subsets: 3, subsetSize: 10, seed: 4 });
  t.same(Array.from(s.x[0]!).sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 'drawn without replacement');
  t.ok(s.y.every((r) => new Set(r).size === 10 && r.every((i) => i >= 0 && i < 12)), 'distinct rows of Y');
  const a = gaussian(50, 4, 0, 5);
  const b = gaussian(60, 4, 0.3, 6);
  t.same(kidFromFeatures(a, b, { seed: 9 }).values, kidFromFeatures(a, b, { seed: 9 }).values, 'same seed, same KID');
  t.throws(() => kidFromFeatures(a, b, { subsetSize: 51 }), /subsetSize 51 is larger than the sets \(50 and 60 vectors\)/);
  t.throws(() => kidFromFeatures(a, gaussian(5, 3, 0, 1)), /feature dimensions differ/);
  t.throws(() => kidFromFeatures(a, b, { subsets: 0 }), /subsets should be a positive integer, got 0/);
});

const hasNumpy = spawnSync('python3', ['-c', 'import numpy'], { encoding: 'utf8' }).status === 0;
t.test('KID agrees with an independent numpy computation on the same subsets', { skip: hasNumpy ? false : 'python3 with numpy is not installed' }, async (t) => {
  const a = gaussian(120, 24, 0, 11);
  const b = gaussian(90, 24, 0.2, 12);
  const opts = { subsets: 7, subsetSize: 40, seed: 3 };
  const ours = kidFromFeatures(a, b, opts);
  const idx = kidSubsetIndices(120, 90, opts);
  const input = JSON.stringify({ a: Array.from(a.values()), b: Array.from(b.values()), d: 24, x: idx.x.map((r) => Array.from(r)), y: idx.y.map((r) => Array.from(r)) });
  const script = `
import json, sys
import numpy as np
j = json.loads(sys.stdin.read()); d = j['d']
A = np.array(j['a'], dtype=np.float32).astype(np.float64).reshape(-1, d)
B = np.array(j['b'], dtype=np.float32).astype(np.float64).reshape(-1, d)
out = []
for rx, ry in zip(j['x'], j['y']):
    X, Y = A[rx], B[ry]; m = len(rx)
    kxx = (X @ X.T / d + 1) ** 3; kyy = (Y @ Y.T / d + 1) ** 3; kxy = (X @ Y.T / d + 1) ** 3
    out.append((kxx.sum() - np.trace(kxx)) / (m * (m - 1)) + (kyy.sum() - np.trace(kyy)) / (m * (m - 1)) - 2 * kxy.mean())
out = np.array(out)
print(json.dumps({'values': out.tolist(), 'mean': out.mean(), 'std': out.std()}))
`;
  const run = spawnSync('python3', ['-c', script], { input, encoding: 'utf8' });
  t.equal(run.status, 0, run.stderr);
  const np = JSON.parse(run.stdout) as { values: number[]; mean: number; std: number };
  t.ok(np.values.every((v, i) => Math.abs(v - ours.values[i]!) < 1e-9 * Math.max(1, Math.abs(v))), 'every subset agrees to 1e-9');
  t.ok(Math.abs(np.mean - ours.kid) < 1e-10 && Math.abs(np.std - ours.std) < 1e-10, `mean ${ours.kid} ± ${ours.std} vs numpy ${np.mean} ± ${np.std}`);
});

t.test('kernel tables give the bits of the per-subset kernel sums', async (t) => {
  const a = gaussian(120, 16, 0, 21), b = gaussian(90, 16, 0.3, 22);
  const x = Float64Array.from(a.values()), y = Float64Array.from(b.values());
  const tables = kernelTables(x, 120, y, 90, 16)!;
  const { x: rx, y: ry } = kidSubsetIndices(120, 90, { subsets: 20, subsetSize: 45, seed: 4 });
  const direct = rx.map((r, s) => mmd2Unbiased(x, r, y, ry[s]!, 16));
  const tabled = rx.map((r, s) => mmd2FromTables(tables, r, ry[s]!));
  t.same(Float64Array.from(tabled), Float64Array.from(direct), '20 subsets bit-identical (t.same on float64: exact)');
  t.ok(tabled.every((v, s) => Object.is(v, direct[s])), 'Object.is per subset');
  const viaKid = kidFromFeatures(a, b, { subsets: 20, subsetSize: 45, seed: 4 });
  t.ok(viaKid.values.every((v, s) => Object.is(v, direct[s])), 'kidFromFeatures (tables) = mmd2Unbiased per subset');
  t.equal(kernelTables(new Float64Array(0), 4000, new Float64Array(0), 4000, 1), null, 'tables past MAX_KERNEL_TABLE are not built');
});
