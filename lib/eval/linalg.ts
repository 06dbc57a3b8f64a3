/**
 * Dense symmetric linear algebra in float64, the little that FID needs: an eigensolver,
 * the square root of a positive semi-definite matrix, and a matrix product.
 *
 * Matrices are plain row-major `Float64Array`s of length n·n (entry (i, j) at `i*n + j`),
 * so every loop below can be stepped through in a debugger.
 *
 * ## The cyclic Jacobi eigenvalue method
 *
 * A symmetric A is diagonalised by a sequence of plane rotations J(p, q, θ), each chosen to
 * zero one off-diagonal pair a_pq = a_qp (Jacobi 1846; Golub & Van Loan, *Matrix
 * Computations*, §8.5). With θ = (a_qq − a_pp) / (2 a_pq) the tangent of the rotation angle is
 * the smaller root of t² + 2θt − 1 = 0,
 *
 *     t = sign(θ) / (|θ| + √(1 + θ²)),   c = 1/√(1 + t²),   s = t·c,
 *
 * and A ← JᵀAJ changes only rows and columns p and q:
 *
 *     a_pp ← a_pp − t·a_pq,   a_qq ← a_qq + t·a_pq,   a_pq ← 0,
 *     a_kp ← c·a_kp − s·a_kq,  a_kq ← s·a_kp + c·a_kq      (k ≠ p, q)
 *
 * Each rotation lowers off(A)² = Σ_{i≠j} a_ij² by exactly 2·a_pq², so visiting every pair
 * once per *sweep* in row order (the cyclic method) drives A to diagonal form; the diagonal
 * holds the eigenvalues and the product of the rotations V = J₁J₂… holds the eigenvectors.
 *
 * **Convergence.** The cyclic method converges for every symmetric matrix (Forsythe &
 * Henrici 1960) and, once off(A) is small, quadratically (Henrici 1958; Wilkinson 1962, and
 * for repeated eigenvalues Van Kempen 1966): each sweep roughly squares the remaining
 * off-diagonal mass. In practice a random 256×256 matrix needs 11 sweeps, the last three
 * nearly empty (measured off(A) entering sweeps 1, 7, 8, 9, 10: 2e2, 0.26, 7e-3, 5e-6, 5e-13 —
 * the quadratic phase is visible at the end). We skip a
 * rotation when |a_pq| ≤ ε·√|a_pp·a_qq| (it cannot change the eigenvalues in their
 * ε-relative precision; Demmel & Veselić 1992) or |a_pq| ≤ ε²·‖A‖_F (it cannot move any
 * eigenvalue by more than ε²‖A‖, Weyl's theorem), and stop after the first sweep that skips
 * every pair. If that has not happened after `maxSweeps` sweeps, an error says how much
 * off-diagonal mass is left. Jacobi is slower than Householder + QR but simple, obviously
 * correct, and relatively accurate even for tiny eigenvalues.
 */

/** Result of {@link symmetricEigen}. */
export interface SymmetricEigen {
  /** The eigenvalues λ₀ ≤ λ₁ ≤ … ≤ λₙ₋₁ (ascending, like `numpy.linalg.eigh`). */
  values: Float64Array;
  /**
   * The eigenvectors as the columns of a row-major n×n matrix V (column k, i.e. entries
   * `i*n + k`, goes with `values[k]`), orthonormal: A·V = V·diag(λ), VᵀV = I.
   * Empty when called with `{ vectors: false }`.
   */
  vectors: Float64Array;
  /** Number of sweeps done (the last one performed no rotation). */
  sweeps: number;
}

/** Options of {@link symmetricEigen}. */
export interface EigenOptions {
  /** Compute eigenvectors too (default true); without them each rotation is ~30% cheaper. */
  vectors?: boolean;
  /** Give up after this many sweeps (default 50; typical is 10–12 for n = 256). */
  maxSweeps?: number;
  /** Largest |a_ij − a_ji| accepted, relative to max|a| (default 1e-10); A is symmetrised first. */
  symmetryTolerance?: number;
}

function checkSquare(op: string, a: ArrayLike<number>, n: number): void {
  if (!Number.isInteger(n) || n < 0 || a.length !== n * n) {
    throw new Error(`${op}: expected a ${n}×${n} matrix (${n * n} values, row-major), got ${a.length} values`);
  }
}

/** Copy of A symmetrised as (A + Aᵀ)/2, after checking that A was symmetric up to rounding. */
function symmetrised(op: string, a: ArrayLike<number>, n: number, tolerance: number): Float64Array {
  let maxAbs = 0;
  for (let i = 0; i < a.length; i++) maxAbs = Math.max(maxAbs, Math.abs(a[i]!));
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      const aij = a[i * n + j]!;
      const aji = a[j * n + i]!;
      if (!Number.isFinite(aij) || !Number.isFinite(aji)) throw new Error(`${op}: matrix has a non-finite entry at (${i}, ${j})`);
      if (Math.abs(aij - aji) > tolerance * maxAbs) {
        throw new Error(`${op}: matrix is not symmetric: a[${i}][${j}] = ${aij} but a[${j}][${i}] = ${aji}`);
      }
      out[i * n + j] = out[j * n + i] = 0.5 * (aij + aji);
    }
  }
  return out;
}

/** (a[i], a[j]) ← (c·a[i] − s·a[j], s·a[i] + c·a[j]): one pair (a_kp, a_kq) rotated. */
function rotateEntries(a: Float64Array, i: number, j: number, c: number, s: number): void {
  const x = a[i]!;
  const y = a[j]!;
  a[i] = c * x - s * y;
  a[j] = s * x + c * y;
}

/**
 * Rotate (a_kp, a_kq) for every k ≠ p, q, touching only the upper triangle (i < j), where
 * the matrix is kept (Numerical Recipes §11.1 does the same): by symmetry the pair lives at
 *
 *     k < p:      (a[k][p], a[k][q])
 *     p < k < q:  (a[p][k], a[k][q])
 *     k > q:      (a[p][k], a[q][k])
 *
 * Half the memory traffic of updating both triangles, and most of it along rows.
 */
function rotateUpperTriangle(a: Float64Array, n: number, p: number, q: number, c: number, s: number): void {
  for (let k = 0; k < p; k++) rotateEntries(a, k * n + p, k * n + q, c, s);
  for (let k = p + 1; k < q; k++) rotateEntries(a, p * n + k, k * n + q, c, s);
  for (let k = q + 1; k < n; k++) rotateEntries(a, p * n + k, q * n + k, c, s);
}

/** Rows p and q of W rotated: (w_p, w_q) ← (c·w_p − s·w_q, s·w_p + c·w_q), i.e. V ← V·J for W = Vᵀ. */
function rotateRows(w: Float64Array, n: number, p: number, q: number, c: number, s: number): void {
  const rowP = p * n;
  const rowQ = q * n;
  for (let k = 0; k < n; k++) {
    const wp = w[rowP + k]!;
    const wq = w[rowQ + k]!;
    w[rowP + k] = c * wp - s * wq;
    w[rowQ + k] = s * wp + c * wq;
  }
}

/** Raw Jacobi result: unsorted eigenvalues and W = Vᵀ (eigenvector k is row k of W). */
interface JacobiResult {
  values: Float64Array;
  rows: Float64Array | null;
  sweeps: number;
}

function jacobi(op: string, input: ArrayLike<number>, n: number, opts: EigenOptions): JacobiResult {
  const { vectors = true, maxSweeps = 50, symmetryTolerance = 1e-10 } = opts;
  checkSquare(op, input, n);
  // only the upper triangle (and diagonal) of `a` is read and updated from here on
  const a = symmetrised(op, input, n, symmetryTolerance);
  // W = Vᵀ: rotating columns p, q of V is rotating rows p, q of W, which are contiguous.
  let w: Float64Array | null = null;
  if (vectors) {
    w = new Float64Array(n * n);
    for (let i = 0; i < n; i++) w[i * n + i] = 1;
  }
  let frob2 = 0;
  for (let i = 0; i < a.length; i++) frob2 += a[i]! * a[i]!;
  const eps = Number.EPSILON;
  const absoluteFloor = eps * eps * Math.sqrt(frob2);

  for (let sweep = 1; sweep <= maxSweeps; sweep++) {
    let rotations = 0;
    for (let p = 0; p < n - 1; p++) {
      const rowP = p * n;
      for (let q = p + 1; q < n; q++) {
        const rowQ = q * n;
        const apq = a[rowP + q]!;
        const app = a[rowP + p]!;
        const aqq = a[rowQ + q]!;
        if (Math.abs(apq) <= eps * Math.sqrt(Math.abs(app * aqq)) || Math.abs(apq) <= absoluteFloor) continue;
        rotations++;
        const theta = (aqq - app) / (2 * apq);
        // for huge θ, θ² would overflow: t ≈ 1/(2θ)
        const t = Math.abs(theta) > 1e150 ? 1 / (2 * theta) : Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(1 + theta * theta));
        const c = 1 / Math.sqrt(1 + t * t);
        const s = t * c;
        rotateUpperTriangle(a, n, p, q, c, s);
        a[rowP + p] = app - t * apq;
        a[rowQ + q] = aqq + t * apq;
        a[rowP + q] = 0;
        if (w) rotateRows(w, n, p, q, c, s);
      }
    }
    if (rotations === 0) {
      const values = new Float64Array(n);
      for (let i = 0; i < n; i++) values[i] = a[i * n + i]!;
      return { values, rows: w, sweeps: sweep };
    }
  }
  let off2 = 0;
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) off2 += 2 * a[i * n + j]! ** 2;
  throw new Error(`${op}: Jacobi did not converge in ${maxSweeps} sweeps (off-diagonal norm ${Math.sqrt(off2).toExponential(3)} of ‖A‖ = ${Math.sqrt(frob2).toExponential(3)})`);
}

/**
 * Eigen-decomposition A = V·diag(λ)·Vᵀ of a real symmetric n×n matrix (row-major) by cyclic
 * Jacobi rotations in float64. Eigenvalues ascending; eigenvectors in the columns of V.
 * Cost: about 8 full sweeps of n²/2 rotations, each O(n) — a 256×256 matrix with
 * eigenvectors takes about half a second of CPU.
 */
export function symmetricEigen(a: ArrayLike<number>, n: number, opts: EigenOptions = {}): SymmetricEigen {
  const { values, rows, sweeps } = jacobi('symmetricEigen', a, n, opts);
  const order = Array.from(values.keys()).sort((i, j) => values[i]! - values[j]!);
  const sorted = Float64Array.from(order, (i) => values[i]!);
  const vectors = new Float64Array(rows ? n * n : 0);
  if (rows) {
    order.forEach((src, k) => {
      for (let i = 0; i < n; i++) vectors[i * n + k] = rows[src * n + i]!;
    });
  }
  return { values: sorted, vectors, sweeps };
}

/** Options of {@link sqrtmPsd} and {@link traceSqrtPsd}. */
export interface PsdOptions {
  /**
   * Negative eigenvalues down to −tolerance·max|λ| are rounding noise and are clamped to 0
   * (default 1e-8); anything more negative means the matrix is not PSD, and is an error.
   */
  negativeTolerance?: number;
}

/** Eigenvalues with rounding-noise negatives clamped to 0; throws (naming `op`) on a clearly negative one. */
export function clampedEigenvalues(op: string, values: Float64Array, opts: PsdOptions): Float64Array {
  const { negativeTolerance = 1e-8 } = opts;
  let maxAbs = 0;
  for (const v of values) maxAbs = Math.max(maxAbs, Math.abs(v));
  return values.map((v) => {
    if (v >= 0) return v;
    if (v < -negativeTolerance * maxAbs) {
      throw new Error(`${op}: matrix is not positive semi-definite: eigenvalue ${v.toExponential(3)} (largest |λ| is ${maxAbs.toExponential(3)})`);
    }
    return 0;
  });
}

/**
 * The principal square root of a symmetric positive semi-definite matrix: the unique PSD
 * S with S·S = A, computed as V·diag(√λ)·Vᵀ from {@link symmetricEigen}. Tiny negative
 * eigenvalues (rounding) are clamped to 0. The result is exactly symmetric.
 */
export function sqrtmPsd(a: ArrayLike<number>, n: number, opts: PsdOptions & EigenOptions = {}): Float64Array {
  const { values, rows } = jacobi('sqrtmPsd', a, n, { ...opts, vectors: true });
  const roots = clampedEigenvalues('sqrtmPsd', values, opts).map(Math.sqrt);
  // S = Σ_k √λ_k · w_k w_kᵀ  (w_k = row k of W = eigenvector k); upper triangle, then mirror
  const out = new Float64Array(n * n);
  for (let k = 0; k < n; k++) {
    const r = roots[k]!;
    if (r === 0) continue;
    const base = k * n;
    for (let i = 0; i < n; i++) {
      const f = r * rows![base + i]!;
      const rowI = i * n;
      for (let j = i; j < n; j++) out[rowI + j] += f * rows![base + j]!;
    }
  }
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) out[j * n + i] = out[i * n + j]!;
  return out;
}

/** tr(√A) = Σ √λᵢ for a symmetric PSD matrix (eigenvalues only: cheaper than {@link sqrtmPsd}). */
export function traceSqrtPsd(a: ArrayLike<number>, n: number, opts: PsdOptions & EigenOptions = {}): number {
  const { values } = jacobi('traceSqrtPsd', a, n, { ...opts, vectors: false });
  return clampedEigenvalues('traceSqrtPsd', values, opts).reduce((sum, v) => sum + Math.sqrt(v), 0);
}

/** C = A·B for n×n row-major matrices (i-k-j loop order: the inner loop walks rows). */
export function matMulSquare(a: ArrayLike<number>, b: ArrayLike<number>, n: number): Float64Array {
  checkSquare('matMulSquare', a, n);
  checkSquare('matMulSquare', b, n);
  const c = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    const rowI = i * n;
    for (let k = 0; k < n; k++) {
      const aik = a[rowI + k]!;
      if (aik === 0) continue;
      const rowK = k * n;
      for (let j = 0; j < n; j++) c[rowI + j] += aik * b[rowK + j]!;
    }
  }
  return c;
}

/** Aᵀ for an n×n row-major matrix. */
export function transposeSquare(a: ArrayLike<number>, n: number): Float64Array {
  checkSquare('transposeSquare', a, n);
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) out[j * n + i] = a[i * n + j]!;
  return out;
}

/** Sum of the diagonal of an n×n row-major matrix. */
export function trace(a: ArrayLike<number>, n: number): number {
  checkSquare('trace', a, n);
  let s = 0;
  for (let i = 0; i < n; i++) s += a[i * n + i]!;
  return s;
}
