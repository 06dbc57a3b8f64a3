/**
 * Eigensolver, PSD square root and FID: known matrices, closed forms for Gaussians, and
 * (when python3 with numpy + scipy is installed) the pytorch-fid formula computed by scipy.
 * Tolerances: eigen residuals and orthonormality 1e-10 (relative to ‖A‖); closed forms 1e-9.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import t from 'tap';
import { Rng } from '../lib/random';
import { Tensor } from '../lib/tensor';
import { covariance, featureStatistics, fidFromFeatures, frechetDistance } from '../lib/eval/fid';
import { matMulSquare, sqrtmPsd, symmetricEigen, trace } from '../lib/eval/linalg';
import { saveSafetensors } from '../lib/io/safetensors';

function randomSymmetric(n: number, seed: number): Float64Array {
  const rng = new Rng(seed);
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = i; j < n; j++) a[i * n + j] = a[j * n + i] = rng.normal();
  return a;
}

/** BᵀB/k for a random k×n B: PSD, rank min(k, n). */
function randomPsd(n: number, k: number, seed: number): Float64Array {
  const rng = new Rng(seed);
  const b = Float64Array.from({ length: k * n }, () => rng.normal());
  const a = new Float64Array(n * n);
  for (let r = 0; r < k; r++) for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) a[i * n + j] += (b[r * n + i]! * b[r * n + j]!) / k;
  return a;
}

function transpose(a: Float64Array, n: number): Float64Array {
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) out[j * n + i] = a[i * n + j]!;
  return out;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

const frobenius = (a: ArrayLike<number>): number => Math.sqrt(Array.from(a).reduce((s, v) => s + v * v, 0));
const diag = (d: number[]): Float64Array => {
  const n = d.length;
  const a = new Float64Array(n * n);
  d.forEach((v, i) => (a[i * n + i] = v));
  return a;
};
const identity = (n: number): Float64Array => diag(new Array<number>(n).fill(1));

/** Gaussian features [N, D] with the given per-dimension mean and std. */
function gaussianFeatures(n: number, mean: number[], std: number[], seed: number): Tensor {
  const rng = new Rng(seed);
  const d = mean.length;
  const x = new Float64Array(n * d);
  for (let r = 0; r < n; r++) for (let j = 0; j < d; j++) x[r * d + j] = mean[j]! + std[j]! * rng.normal();
  return new Tensor(x, [n, d]);
}

t.test('symmetricEigen: diagonal matrix', async (t) => {
  const { values, vectors } = symmetricEigen(diag([3, -1, 2]), 3);
  t.same(Array.from(values), [-1, 2, 3], 'ascending eigenvalues');
  // column k is ±e_i for the i with d_i = λ_k
  t.same(Array.from(vectors, Math.abs), [0, 0, 1, 1, 0, 0, 0, 1, 0]);
});

t.test('symmetricEigen: 2×2 [[2,1],[1,2]] has eigenvalues 1 and 3', async (t) => {
  const { values, vectors } = symmetricEigen([2, 1, 1, 2], 2);
  t.ok(Math.abs(values[0]! - 1) < 1e-14 && Math.abs(values[1]! - 3) < 1e-14, `values ${Array.from(values)}`);
  const r = Math.SQRT1_2;
  // λ = 1 ↔ ±(1, −1)/√2, λ = 3 ↔ ±(1, 1)/√2 (columns)
  t.ok(Math.abs(Math.abs(vectors[0]!) - r) < 1e-14 && Math.abs(vectors[0]! + vectors[2]!) < 1e-14, 'first eigenvector ∝ (1, −1)');
  t.ok(Math.abs(Math.abs(vectors[1]!) - r) < 1e-14 && Math.abs(vectors[1]! - vectors[3]!) < 1e-14, 'second eigenvector ∝ (1, 1)');
});

t.test('symmetricEigen: random symmetric 60×60: A·V = V·Λ and VᵀV = I to 1e-10', async (t) => {
  const n = 60;
  const a = randomSymmetric(n, 7);
  const { values, vectors, sweeps } = symmetricEigen(a, n);
  const av = matMulSquare(a, vectors, n);
  const vl = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let k = 0; k < n; k++) vl[i * n + k] = vectors[i * n + k]! * values[k]!;
  const scale = frobenius(a);
  t.ok(maxAbsDiff(av, vl) / scale < 1e-10, `residual ${(maxAbsDiff(av, vl) / scale).toExponential(2)}`);
  t.ok(maxAbsDiff(matMulSquare(transpose(vectors, n), vectors, n), identity(n)) < 1e-10, 'orthonormal');
  t.ok(values.every((v, i) => i === 0 || v >= values[i - 1]!), 'ascending');
  t.ok(Math.abs(values.reduce((s, v) => s + v, 0) - trace(a, n)) < 1e-10 * scale, 'Σλ = tr A');
  t.ok(sweeps >= 3 && sweeps <= 20, `converged in ${sweeps} sweeps`);
});

t.test('symmetricEigen rejects what it cannot decompose', async (t) => {
  t.throws(() => symmetricEigen([1, 2, 3, 4], 2), /not symmetric: a\[0\]\[1\] = 2 but a\[1\]\[0\] = 3/);
  t.throws(() => symmetricEigen([1, 2, 3], 2), /expected a 2×2 matrix \(4 values, row-major\), got 3 values/);
  t.throws(() => symmetricEigen([1, NaN, NaN, 1], 2), /non-finite entry/);
});

t.test('sqrtmPsd: S·S = A for full-rank and rank-deficient PSD matrices', async (t) => {
  for (const [n, k] of [[30, 60], [30, 10]] as const) {
    const a = randomPsd(n, k, 11);
    const s = sqrtmPsd(a, n);
    t.ok(maxAbsDiff(s, transpose(s, n)) === 0, `n=${n} rank ${Math.min(n, k)}: exactly symmetric`);
    const err = maxAbsDiff(matMulSquare(s, s, n), a) / frobenius(a);
    t.ok(err < 1e-10, `n=${n} rank ${Math.min(n, k)}: ‖S² − A‖/‖A‖ = ${err.toExponential(2)}`);
    t.ok(symmetricEigen(s, n).values[0]! > -1e-10, 'the root is PSD');
  }
  t.same(Array.from(sqrtmPsd(diag([4, 9, 0]), 3)), Array.from(diag([2, 3, 0])));
  t.throws(() => sqrtmPsd(diag([1, -0.5]), 2), /not positive semi-definite: eigenvalue -5\.000e-1/);
  t.same(Array.from(sqrtmPsd(diag([1, -1e-12]), 2)), [1, 0, 0, 0], 'rounding-size negative eigenvalue clamped to 0');
});

t.test('covariance matches the definition (unbiased, N − 1)', async (t) => {
  const x = new Tensor(new Float64Array([1, 2, 3, 4, 5, 0]), [3, 2]); // columns (1,3,5) and (2,4,0)
  // means 3 and 2; var col0 = (4+0+4)/2 = 4, var col1 = (0+4+4)/2 = 4, cov = ((-2)(0)+(0)(2)+(2)(-2))/2 = -2
  t.same(Array.from(covariance(x)), [4, -2, -2, 4]);
  t.same(Array.from(featureStatistics(x).mu), [3, 2]);
  t.throws(() => covariance(new Tensor(new Float64Array(3), [1, 3])), /at least 2 feature vectors/);
  t.throws(() => covariance(new Tensor(new Float64Array(3), [3])), /expected features of shape \[N, D\], got \[3\]/);
});

t.test('FID of a set with itself is 0', async (t) => {
  const x = gaussianFeatures(200, [1, -2, 0.5, 3, 0, 0, 1, 2], [1, 2, 0.5, 1, 3, 1, 1, 0.1], 3);
  const { fid, n1, n2 } = fidFromFeatures(x, x);
  t.ok(Math.abs(fid) <= 1e-8, `fid ${fid}`);
  t.equal(n1, 200);
  t.equal(n2, 200);
});

t.test('Fréchet distance closed forms', async (t) => {
  // N(μ1, I) vs N(μ2, I): only the mean term remains
  const mu1 = [1, 2, 3, 4];
  const mu2 = [0, 2, 5, 4];
  t.ok(Math.abs(frechetDistance(mu1, identity(4), mu2, identity(4)) - 5) < 1e-12, 'identity covariances: ‖μ1 − μ2‖² = 5');

  // diagonal covariances: Σ(√a − √b)² + ‖μ1 − μ2‖²
  const a = [1, 4, 0.25, 9, 2];
  const b = [4, 1, 1, 0.5, 2];
  const m1 = [0, 1, 0, 0, 3];
  const m2 = [1, 1, 0, 2, 0];
  const expected = a.reduce((s, ai, i) => s + (Math.sqrt(ai) - Math.sqrt(b[i]!)) ** 2, 0) + m1.reduce((s, v, i) => s + (v - m2[i]!) ** 2, 0);
  const got = frechetDistance(m1, diag(a), m2, diag(b));
  t.ok(Math.abs(got - expected) < 1e-9, `diagonal: ${got} vs ${expected}`);

  // commuting case: the same diagonal covariances rotated by one orthogonal Q (a Householder
  // reflection Q = I − 2vvᵀ/‖v‖²) — the distance must not change
  const n = a.length;
  const v = [1, -2, 0.5, 3, 1];
  const vv = v.reduce((s, x) => s + x * x, 0);
  const q = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) q[i * n + j] = (i === j ? 1 : 0) - (2 * v[i]! * v[j]!) / vv;
  const rotate = (d: number[]): Float64Array => matMulSquare(matMulSquare(q, diag(d), n), q, n); // Q D Qᵀ (Q symmetric)
  const qm = (m: number[]): number[] => Array.from({ length: n }, (_, i) => m.reduce((s, x, j) => s + q[i * n + j]! * x, 0));
  const rotated = frechetDistance(qm(m1), rotate(a), qm(m2), rotate(b));
  t.ok(Math.abs(rotated - expected) < 1e-9, `rotated (commuting) covariances: ${rotated} vs ${expected}`);

  // general 2×2 (non-commuting): for 2×2 PSD M, tr √M = √(tr M + 2√det M), and
  // Σ1^½Σ2Σ1^½ has the trace and determinant of Σ1Σ2
  const s1 = [2, 0.7, 0.7, 1];
  const s2 = [0.5, -0.3, -0.3, 3];
  const tr12 = s1[0]! * s2[0]! + s1[1]! * s2[2]! + s1[2]! * s2[1]! + s1[3]! * s2[3]!;
  const det = (s: number[]): number => s[0]! * s[3]! - s[1]! * s[2]!;
  const closed = 1 + 4 + (s1[0]! + s1[3]!) + (s2[0]! + s2[3]!) - 2 * Math.sqrt(tr12 + 2 * Math.sqrt(det(s1) * det(s2)));
  const got2 = frechetDistance([1, 0], s1, [0, 2], s2);
  t.ok(Math.abs(got2 - closed) < 1e-12, `2×2 closed form: ${got2} vs ${closed}`);

  t.throws(() => frechetDistance([0, 0], identity(3), [0, 0], identity(2)), /sigma1 should be 2×2 \(4 values\)/);
  t.throws(() => frechetDistance([0, 0], diag([1, -1]), [0, 0], identity(2)), /frechetDistance: matrix is not positive semi-definite: eigenvalue -1\.000e\+0/);
});

t.test('FID from samples of N(μ1, I) and N(μ2, I) approaches ‖μ1 − μ2‖²', async (t) => {
  const std = [1, 1, 1, 1];
  const fa = gaussianFeatures(4000, [0, 0, 0, 0], std, 21);
  const fb = gaussianFeatures(4000, [1, 1, 1, 1], std, 22);
  const { fid } = fidFromFeatures(fa, fb);
  t.ok(Math.abs(fid - 4) < 0.15, `fid ${fid.toFixed(4)} ≈ 4 (sampling error only)`);
  t.throws(() => fidFromFeatures(fa, gaussianFeatures(10, [0, 0], [1, 1], 1)), /feature dimensions differ/);
});

const hasScipy = spawnSync('python3', ['-c', 'import numpy, scipy.linalg'], { encoding: 'utf8' }).status === 0;
// Without scipy this shows up as a SKIP in tap's summary, not as a silent pass.
t.test('D = 256 FID agrees with scipy.linalg.sqrtm (pytorch-fid formula)', { skip: hasScipy ? false : 'python3 with numpy + scipy is not installed' }, async (t) => {
  const d = 256;
  const rng = new Rng(5);
  const mean = Array.from({ length: d }, () => rng.normal() * 0.3);
  const stds = Array.from({ length: d }, () => 0.5 + rng.uniform());
  const fa = gaussianFeatures(512, new Array<number>(d).fill(0), new Array<number>(d).fill(1), 31);
  const fb = gaussianFeatures(512, mean, stds, 32);
  const { fid } = fidFromFeatures(fa, fb);
  t.ok(Number.isFinite(fid) && fid > 0, `fid ${fid}`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arra-fid-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'feats.safetensors');
  saveSafetensors(file, { a: fa, b: fb });
  const script = `
import json, struct, sys
import numpy as np
from scipy import linalg
raw = open(sys.argv[1], 'rb').read()
(n,) = struct.unpack('<Q', raw[:8])
header = json.loads(raw[8:8 + n]); data = raw[8 + n:]
def get(name):
    info = header[name]; b, e = info['data_offsets']
    return np.frombuffer(data[b:e], dtype='<f8').reshape(info['shape'])
a, b = get('a'), get('b')
mu1, mu2 = a.mean(0), b.mean(0)
s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
covmean, _ = linalg.sqrtm(s1.dot(s2), disp=False)
covmean = covmean.real
print(repr(float(((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean))))
`;
  const run = spawnSync('python3', ['-c', script, file], { encoding: 'utf8' });
  t.equal(run.status, 0, run.stderr);
  const reference = Number(run.stdout.trim());
  t.ok(Math.abs(fid - reference) / reference < 1e-8, `ours ${fid} vs scipy ${reference} (rel ${(Math.abs(fid - reference) / reference).toExponential(2)})`);
});
