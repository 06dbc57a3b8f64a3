/**
 * Kernel Inception Distance (KID; Bińkowski, Sutherland, Arbel & Gretton 2018, "Demystifying
 * MMD GANs", §4 and Appendix D): the squared maximum mean discrepancy between two feature
 * sets under the cubic polynomial kernel
 *
 *     k(x, y) = (xᵀy / d + 1)³                   d = feature dimension
 *
 * estimated without bias. For sets X = {x_i} and Y = {y_j} of equal size m,
 *
 *     MMD²_u = 1/(m(m−1)) Σ_{i≠j} k(x_i, x_j)  +  1/(m(m−1)) Σ_{i≠j} k(y_i, y_j)
 *            − 2/m² Σ_{i,j} k(x_i, y_j)
 *
 * Leaving out the diagonals (i = j) is what makes the estimator unbiased: E[MMD²_u] is the
 * true MMD² at every m, so, unlike FID, KIDs measured from different sample counts can be
 * compared, and the estimate can be slightly negative when the two distributions agree.
 *
 * As in the reference code (Bińkowski et al.'s `polynomial_mmd_averages`, torch-fidelity's
 * `kid`), the estimate is averaged over `subsets` random subsets of `subsetSize` vectors
 * drawn without replacement from each set, and the standard deviation over those subsets is
 * reported as its uncertainty (population form, as the reference code's `np.std`). It says how
 * much the score moves with the draw of samples; it is not a standard error of the mean.
 *
 * Defaults (documented in {@link KidOptions}): 50 subsets as in the reference code, of
 * min(1000, ⌊min(N₁, N₂)/2⌋) vectors — the reference's 1000 when there are at least 2000
 * samples; halving otherwise, so that subsets differ and their spread means something (with
 * subsets as large as the sets every subset is the whole set and the spread would be 0).
 */
import { Rng } from '../random';
import type { Tensor } from '../tensor';

/** Options of {@link kidFromFeatures}. */
export interface KidOptions {
  /** Number of random subsets averaged over (default 50, Bińkowski et al.'s code). */
  subsets?: number;
  /** Vectors drawn from each set per subset (default min(1000, ⌊min(N₁, N₂)/2⌋), at least 2). */
  subsetSize?: number;
  /** Seed of the subset draws (default 0): same seed, same subsets, same KID. */
  seed?: number;
}

/** What {@link kidFromFeatures} returns. */
export interface KidResult {
  /** Mean of MMD²_u over the subsets. */
  kid: number;
  /** Standard deviation of MMD²_u over the subsets (population form). */
  std: number;
  subsets: number;
  subsetSize: number;
  /** Number of vectors in the first and second set. */
  n1: number;
  n2: number;
  /** MMD²_u of every subset, in draw order. */
  values: Float64Array;
}

/** The cubic polynomial kernel (aᵀb/d + 1)³ between row i of `a` and row j of `b` ([·, d] row-major). */
export function polynomialKernel(a: ArrayLike<number>, i: number, b: ArrayLike<number>, j: number, d: number): number {
  let dot = 0;
  const ai = i * d;
  const bj = j * d;
  for (let k = 0; k < d; k++) dot += a[ai + k]! * b[bj + k]!;
  const base = dot / d + 1;
  return base * base * base;
}

/**
 * Unbiased MMD² (the formula in the file comment) between rows `rowsX` of `x` and rows
 * `rowsY` of `y`, both [·, d] row-major, equal counts m ≥ 2.
 */
export function mmd2Unbiased(x: ArrayLike<number>, rowsX: ArrayLike<number>, y: ArrayLike<number>, rowsY: ArrayLike<number>, d: number): number {
  const m = rowsX.length;
  if (rowsY.length !== m) throw new Error(`mmd2Unbiased: the two subsets differ in size, ${m} and ${rowsY.length}`);
  if (m < 2) throw new Error(`mmd2Unbiased: need at least 2 vectors per set, got ${m}`);
  let kxx = 0;
  let kyy = 0;
  let kxy = 0;
  for (let i = 0; i < m; i++) {
    // off-diagonal pairs once each (the kernel is symmetric), counted twice below
    for (let j = i + 1; j < m; j++) {
      kxx += polynomialKernel(x, rowsX[i]!, x, rowsX[j]!, d);
      kyy += polynomialKernel(y, rowsY[i]!, y, rowsY[j]!, d);
    }
    for (let j = 0; j < m; j++) kxy += polynomialKernel(x, rowsX[i]!, y, rowsY[j]!, d);
  }
  return (2 * kxx) / (m * (m - 1)) + (2 * kyy) / (m * (m - 1)) - (2 * kxy) / (m * m);
}

/** Kernel values of every pair of rows: k(x_i, x_j), k(y_i, y_j), k(x_i, y_j), row-major. */
export interface KernelTables {
  xx: Float64Array;
  yy: Float64Array;
  xy: Float64Array;
  n1: number;
  n2: number;
}

/** Largest table set (N₁² + N₂² + N₁N₂ float64 values, 96 MiB) that {@link kidFromFeatures} computes. */
export const MAX_KERNEL_TABLE = 12 * 2 ** 20;

/**
 * Whether tabulating the kernel pays: the subsets evaluate ≈ 2·size² kernels each, the tables
 * N₁²/2 + N₂²/2 + N₁N₂ (the defaults, 50 subsets of N/2: 25× fewer).
 */
function tablesPay(count: number, size: number, n1: number, n2: number): boolean {
  return count * 2 * size * size > (n1 * n1) / 2 + (n2 * n2) / 2 + n1 * n2;
}

/**
 * The kernel between every pair of rows, computed once, or null when the tables would be
 * larger than {@link MAX_KERNEL_TABLE}. Each entry is `polynomialKernel` of that pair — the same
 * dot product in the same order of k — so sums of table entries are the bits of sums of kernel
 * calls; k(a, b) = k(b, a) exactly (a product of two floats does not depend on their order), so
 * each symmetric table is filled from one triangle.
 */
export function kernelTables(x: Float64Array, n1: number, y: Float64Array, n2: number, d: number): KernelTables | null {
  if (n1 * n1 + n2 * n2 + n1 * n2 > MAX_KERNEL_TABLE) return null;
  const symmetric = (a: Float64Array, n: number): Float64Array => {
    const t = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      for (let j = i + 1; j < n; j++) t[i * n + j] = t[j * n + i] = polynomialKernel(a, i, a, j, d);
    }
    return t; // the diagonal (0) is never read: subsets draw distinct rows
  };
  const xy = new Float64Array(n1 * n2);
  for (let i = 0; i < n1; i++) for (let j = 0; j < n2; j++) xy[i * n2 + j] = polynomialKernel(x, i, y, j, d);
  return { xx: symmetric(x, n1), yy: symmetric(y, n2), xy, n1, n2 };
}

/** {@link mmd2Unbiased} with the kernel read from tables: the same sums in the same order, so the same bits. */
export function mmd2FromTables(t: KernelTables, rowsX: ArrayLike<number>, rowsY: ArrayLike<number>): number {
  const m = rowsX.length;
  if (rowsY.length !== m) throw new Error(`mmd2FromTables: the two subsets differ in size, ${m} and ${rowsY.length}`);
  if (m < 2) throw new Error(`mmd2FromTables: need at least 2 vectors per set, got ${m}`);
  let kxx = 0;
  let kyy = 0;
  let kxy = 0;
  for (let i = 0; i < m; i++) {
    const xi = rowsX[i]! * t.n1;
    const yi = rowsY[i]! * t.n2;
    const xyi = rowsX[i]! * t.n2;
    for (let j = i + 1; j < m; j++) {
      kxx += t.xx[xi + rowsX[j]!]!;
      kyy += t.yy[yi + rowsY[j]!]!;
    }
    for (let j = 0; j < m; j++) kxy += t.xy[xyi + rowsY[j]!]!;
  }
  return (2 * kxx) / (m * (m - 1)) + (2 * kyy) / (m * (m - 1)) - (2 * kxy) / (m * m);
}

/** The default subset size for sets of n1 and n2 vectors (see {@link KidOptions.subsetSize}). */
export function defaultKidSubsetSize(n1: number, n2: number): number {
  return Math.max(2, Math.min(1000, Math.floor(Math.min(n1, n2) / 2)));
}

/**
 * The row indices of every subset: `subsets` draws of `subsetSize` distinct rows from each set
 * (a partial Fisher–Yates shuffle with one seeded generator, X's rows then Y's per subset).
 */
export function kidSubsetIndices(n1: number, n2: number, opts: KidOptions = {}): { x: Int32Array[]; y: Int32Array[]; subsetSize: number } {
  const subsets = opts.subsets ?? 50;
  const size = opts.subsetSize ?? defaultKidSubsetSize(n1, n2);
  if (!Number.isInteger(subsets) || subsets < 1) throw new Error(`kid: subsets should be a positive integer, got ${subsets}`);
  if (!Number.isInteger(size) || size < 2) throw new Error(`kid: subsetSize should be an integer ≥ 2, got ${size}`);
  if (size > Math.min(n1, n2)) throw new Error(`kid: subsetSize ${size} is larger than the sets (${n1} and ${n2} vectors); draws are without replacement`);
  const rng = new Rng(opts.seed ?? 0);
  const draw = (n: number): Int32Array => {
    const order = Int32Array.from({ length: n }, (_, i) => i);
    for (let i = 0; i < size; i++) {
      const j = i + rng.int(n - i);
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    return order.slice(0, size);
  };
  const x: Int32Array[] = [];
  const y: Int32Array[] = [];
  for (let s = 0; s < subsets; s++) {
    x.push(draw(n1));
    y.push(draw(n2));
  }
  return { x, y, subsetSize: size };
}

/**
 * KID between feature sets [N₁, D] and [N₂, D]: mean ± std of the unbiased MMD² over random
 * subsets (see the file comment). Cost O(subsets · subsetSize² · D): the defaults on 1000 vs
 * 1000 vectors of 64-d take a few seconds of CPU.
 */
export function kidFromFeatures(featsA: Tensor, featsB: Tensor, opts: KidOptions = {}): KidResult {
  for (const f of [featsA, featsB]) {
    if (f.rank !== 2) throw new Error(`kidFromFeatures: expected features of shape [N, D], got [${f.shape.join(',')}]`);
  }
  const [n1, d] = featsA.shape as [number, number];
  const [n2, d2] = featsB.shape as [number, number];
  if (d !== d2) throw new Error(`kidFromFeatures: feature dimensions differ, [${featsA.shape.join(',')}] vs [${featsB.shape.join(',')}]`);
  if (Math.min(n1, n2) < 2) throw new Error(`kidFromFeatures: need at least 2 vectors in each set, got ${n1} and ${n2}`);
  const x = Float64Array.from(featsA.values());
  const y = Float64Array.from(featsB.values());
  const { x: rowsX, y: rowsY, subsetSize } = kidSubsetIndices(n1, n2, opts);
  const gram = tablesPay(rowsX.length, subsetSize, n1, n2) ? kernelTables(x, n1, y, n2, d) : null;
  const values = Float64Array.from(rowsX, (rx, s) => (gram ? mmd2FromTables(gram, rx, rowsY[s]!) : mmd2Unbiased(x, rx, y, rowsY[s]!, d)));
  const kid = values.reduce((a, v) => a + v, 0) / values.length;
  const std = Math.sqrt(values.reduce((a, v) => a + (v - kid) ** 2, 0) / values.length);
  return { kid, std, subsets: values.length, subsetSize, n1, n2, values };
}
