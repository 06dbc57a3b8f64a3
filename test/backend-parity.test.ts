/**
 * Backend parity: ONE table of kernel cases, run on every backend, compared with the
 * reference backend computing in float64 on the same (float32-rounded) inputs.
 *
 * Tolerances (float32, unit roundoff u ≈ 6e-8):
 * - matmul: |got − want| ≤ 1e-5·√k · max(1, |want|)  (a k-term dot product's rounding grows
 *   like √k for random signs; 1e-5 leaves ~100× headroom over u)
 * - softmax, softmaxBackward, unary, binary, sumMiddle: ≤ 1e-5 · max(1, |want|) (sumMiddle: × √mid)
 *   (the fast backend's SIMD exps are ≤ 0.97 ulp (exp op) and ≤ 2.22 ulp (softmax, logistic),
 *   ≤ 2.7e-7 relative, test/fast-exp.test.ts; its row sums use four partial sums)
 * - adamw: ≤ 1e-5 · max(1, |want|) on θ, m, v after two steps (float32 arithmetic vs float64)
 * - rmsNorm: 1e-5·√cols (Σx² is a cols-term float32 sum); its backward 1e-5·√(rows·cols)
 * - NaN must stay NaN in the same positions; ±Infinity must match exactly.
 * Plus: a small MLP's forward + backward through the ops gives the same gradients on every
 * backend (rel 1e-4).
 */
import t from 'tap';
import {
  type Backend, type BinaryKind, createFastBackend, createGpujsBackend, matmul, mean, referenceBackend,
  Rng, setBackend, silu, sum, Tensor, type UnaryKind,
} from '../lib';

const rng = new Rng(1234);
const randn = (n: number, scale = 1): Float32Array => Float32Array.from({ length: n }, () => scale * rng.normal());
const as64 = (x: Float32Array): Float64Array => Float64Array.from(x);

/**
 * Compare float32 `got` with float64 `want`; returns the first failure as text, or ''.
 * The bound is tol·max(1, |want|), or tol·|want| + {@link REL_FLOOR} with `relative`.
 */
function compare(got: Float32Array, want: Float64Array, tol: number, relative = false): string {
  if (got.length !== want.length) return `length ${got.length} vs ${want.length}`;
  for (let i = 0; i < got.length; i++) {
    const g = got[i]!;
    const w = Math.fround(want[i]!); // exp(100) is finite in float64 but Infinity in float32
    if (Number.isNaN(w) || Number.isNaN(g)) {
      if (Number.isNaN(w) !== Number.isNaN(g)) return `[${i}] got ${g}, want ${w}`;
      continue;
    }
    if (!Number.isFinite(w) || !Number.isFinite(g)) {
      if (g !== w) return `[${i}] got ${g}, want ${w}`;
      continue;
    }
    const bound = relative ? tol * Math.abs(w) + REL_FLOOR : tol * Math.max(1, Math.abs(w));
    if (Math.abs(g - w) > bound) return `[${i}] got ${g}, want ${w} (${relative ? 'relative ' : ''}tol ${tol.toExponential(1)})`;
  }
  return '';
}

/** float32's unit roundoff u = 2⁻²⁴. */
const U32 = 2 ** -24;
/** Absolute slack of a relative comparison: float32's smallest normal, so underflowed results pass. */
const REL_FLOOR = 2 ** -126;

/** One kernel case: runs `kernel` on a backend with float32 inputs and on ref with float64. */
interface KernelCase {
  name: string;
  tol: number;
  /** compare relatively: |got − want| ≤ tol·|want| (+ {@link REL_FLOOR}) instead of tol·max(1, |want|) */
  relative?: boolean;
  /** whether the backend is asked for this kernel at all (default: every backend) */
  applies?: (be: Backend) => boolean;
  run(b: Backend, f64: boolean): Float32Array | Float64Array;
}

function matmulCase(m: number, k: number, n: number, opts: { transA?: boolean; transB?: boolean; batch?: number; bBroadcast?: boolean } = {}): KernelCase {
  const { transA = false, transB = false, batch = 1, bBroadcast = false } = opts;
  const a = randn(batch * m * k);
  const bCount = bBroadcast ? 1 : batch;
  const b = randn(bCount * k * n);
  // Broadcast batches: B's offset repeats (all batches read the same matrix).
  const aOffsets = Array.from({ length: batch }, (_, i) => i * m * k);
  const bOffsets = Array.from({ length: batch }, (_, i) => (bBroadcast ? 0 : i * k * n));
  return {
    name: `matmul ${m}x${k}x${n}${transA ? ' transA' : ''}${transB ? ' transB' : ''}${batch > 1 ? ` batch ${batch}` : ''}${bBroadcast ? ' (B broadcast)' : ''}`,
    tol: 1e-5 * Math.sqrt(k),
    run(be, f64) {
      const out = f64 ? new Float64Array(batch * m * n) : new Float32Array(batch * m * n);
      be.matmul({ a: f64 ? as64(a) : a, b: f64 ? as64(b) : b, out, m, k, n, transA, transB, aOffsets, bOffsets });
      return out;
    },
  };
}

/**
 * A row-major B is read in place by the fast kernel, so the ragged last panel's padding columns
 * read the next row's first values (and slack past the matrix): put NaN and ±1e30 in column 0
 * of B, so that only column 0 of C may be NaN — anything leaking into other columns fails.
 */
function matmulRaggedInPlaceCase(m: number, k: number, n: number, batch: number): KernelCase {
  const a = randn(batch * m * k);
  const b = randn(batch * k * n);
  for (let r = 0; r < batch * k; r++) b[r * n] = r % 3 === 0 ? NaN : r % 3 === 1 ? 1e30 : -1e30;
  const aOffsets = Array.from({ length: batch }, (_, i) => i * m * k);
  const bOffsets = Array.from({ length: batch }, (_, i) => i * k * n);
  return {
    name: `matmul ${m}x${k}x${n} batch ${batch}, B's column 0 NaN/±1e30 (in-place B, ragged panel)`,
    tol: 1e-5 * Math.sqrt(k),
    run(be, f64) {
      const out = f64 ? new Float64Array(batch * m * n) : new Float32Array(batch * m * n);
      be.matmul({ a: f64 ? as64(a) : a, b: f64 ? as64(b) : b, out, m, k, n, transA: false, transB: false, aOffsets, bOffsets });
      return out;
    },
  };
}

/**
 * Strided operands (`lda`/`ldb`, for backends with `stridedMatmul`; the reference honours them
 * too): each stored matrix's rows are `pad` floats longer than the matrix, batches sit at
 * interleaved offsets (as attention's heads in [B, T, H, hd] storage), NaN in the gaps.
 */
function matmulStridedCase(m: number, k: number, n: number, opts: { transA?: boolean; transB?: boolean; batch?: number; pad?: number }): KernelCase {
  const { transA = false, transB = false, batch = 1, pad = 5 } = opts;
  const [aRows, aCols] = transA ? [k, m] : [m, k];
  const [bRows, bCols] = transB ? [n, k] : [k, n];
  // batch i's matrix starts i·cols into each row: the batches interleave like heads
  const lda = batch * aCols + pad, ldb = batch * bCols + pad;
  const a = randn(aRows * lda).map((v, i) => (i % lda >= batch * aCols ? NaN : v));
  const b = randn(bRows * ldb).map((v, i) => (i % ldb >= batch * bCols ? NaN : v));
  const aOffsets = Array.from({ length: batch }, (_, i) => i * aCols);
  const bOffsets = Array.from({ length: batch }, (_, i) => i * bCols);
  return {
    name: `matmul ${m}x${k}x${n}${transA ? ' transA' : ''}${transB ? ' transB' : ''} batch ${batch}, strided (lda ${lda}, ldb ${ldb}, NaN between)`,
    tol: 1e-5 * Math.sqrt(k),
    applies: (be) => be.stridedMatmul === true, // the ops copy such views for other backends
    run(be, f64) {
      const out = f64 ? new Float64Array(batch * m * n) : new Float32Array(batch * m * n);
      be.matmul({ a: f64 ? as64(a) : a, b: f64 ? as64(b) : b, out, m, k, n, transA, transB, aOffsets, bOffsets, lda, ldb });
      return out;
    },
  };
}

function softmaxCase(name: string, rows: number, cols: number, x: Float32Array): KernelCase {
  return {
    name: `softmax ${name}`,
    tol: 1e-5,
    run(be, f64) {
      const out = f64 ? new Float64Array(rows * cols) : new Float32Array(rows * cols);
      be.softmax(f64 ? as64(x) : x, out, rows, cols);
      return out;
    },
  };
}

/**
 * The relative tolerance of a float32 softmax of rows of n columns, from its rounding errors.
 * y_j = e_j / S with e_j = exp(x_j − m) ≥ 0 and S = Σ e_j; every term is positive, so
 * Σ|e_j| = S and a bound on the sum's error relative to Σ|e_j| is a bound relative to S,
 * hence (times one more division) to every y_j:
 * - worst case (Higham, "Accuracy and Stability of Numerical Algorithms", §4.2): any order of
 *   a float32 n-term sum has |Ŝ − S| ≤ γ_{n−1}·Σ|e_j|, γ_k ≈ k·u — 1.2e-3 at n = 20001, so
 *   loose that a sum missing 0.1% of its mass would pass;
 * - probabilistic (Higham & Mary, SIAM J. Sci. Comput. 41(5), 2019, Thm 3.1: rounding errors
 *   independent, mean zero): |Ŝ − S| ≤ λ·√n·u·Σ|e_j| with probability ≥ 1 − 2n·exp(−λ²/2).
 * We take the second with λ = 7 (failure probability < 1e-6 at n = 20001), plus 6u for the
 * exp (fast's softmax exp is ≤ 2.22 ulp ≤ 4.5u; gpu.js's the platform's float32 exp), the division and the
 * rounding of y: 5.9e-5 relative at n = 20001. Measured over 40 seeds and scales 1, 5, 30:
 * gpu.js's left-to-right sum reaches 2.8e-5, fast's four partial sums 1.1e-5. The old
 * absolute 1e-5 sat *below* gpu.js's √n-sized error (2.7e-5 with other data), and being
 * absolute it did not check the row's small probabilities at all; this one is relative.
 */
function softmaxRelTol(n: number): number {
  return 7 * Math.sqrt(n) * U32 + 6 * U32;
}

/** A softmax row case compared relatively with {@link softmaxRelTol} (long rows: see there). */
function softmaxLongRowCase(name: string, rows: number, cols: number, x: Float32Array): KernelCase {
  return { ...softmaxCase(name, rows, cols, x), tol: softmaxRelTol(cols), relative: true };
}

function softmaxBackwardCase(rows: number, cols: number): KernelCase {
  const y = new Float32Array(rows * cols);
  referenceBackend.softmax(randn(rows * cols, 3), y, rows, cols);
  const dy = randn(rows * cols);
  return {
    name: `softmaxBackward ${rows}x${cols}`,
    tol: 1e-5,
    run(be, f64) {
      const out = f64 ? new Float64Array(rows * cols) : new Float32Array(rows * cols);
      be.softmaxBackward(f64 ? as64(y) : y, f64 ? as64(dy) : dy, out, rows, cols);
      return out;
    },
  };
}

function binaryCase(kind: BinaryKind, aShape: number[], bShape: number[], outShape: number[]): KernelCase {
  const size = (s: number[]): number => s.reduce((p, d) => p * d, 1);
  // pow needs a positive base for real results; div a denominator away from 0.
  const a = kind === 'pow' ? randn(size(aShape)).map((v) => Math.abs(v) + 0.5) : randn(size(aShape));
  const b = kind === 'div' ? randn(size(bShape)).map((v) => (v >= 0 ? v + 0.5 : v - 0.5)) : randn(size(bShape));
  if (kind === 'maximum') a[0] = NaN; // NaN propagates through max/min
  return {
    name: `binary ${kind} [${aShape}] ∘ [${bShape}]`,
    tol: 1e-5,
    run(be, f64) {
      const out = f64 ? new Float64Array(size(outShape)) : new Float32Array(size(outShape));
      be.binary(kind, f64 ? as64(a) : a, aShape, f64 ? as64(b) : b, bShape, out, outShape);
      return out;
    },
  };
}

function unaryCase(kind: UnaryKind): KernelCase {
  const x = randn(257, 3);
  if (kind === 'log' || kind === 'sqrt' || kind === 'rsqrt') for (let i = 0; i < x.length; i++) x[i] = Math.abs(x[i]!) + 0.1;
  x[5] = NaN; // every kind must propagate NaN
  if (kind === 'exp' || kind === 'sigmoid' || kind === 'silu') { x[6] = 100; x[7] = -100; }
  return {
    name: `unary ${kind}`,
    tol: 1e-5,
    run(be, f64) {
      const out = f64 ? new Float64Array(x.length) : new Float32Array(x.length);
      be.unary(kind, f64 ? as64(x) : x, out);
      return out;
    },
  };
}

/** A unary kind on chosen values (the edges of float32's exp range, ±∞, signed zeros). */
function unaryValuesCase(kind: UnaryKind, what: string, values: number[]): KernelCase {
  const x = Float32Array.from(values);
  return {
    name: `unary ${kind} ${what}`,
    tol: 1e-5,
    run(be, f64) {
      const out = f64 ? new Float64Array(x.length) : new Float32Array(x.length);
      be.unary(kind, f64 ? as64(x) : x, out);
      return out;
    },
  };
}

/** Relative error of exp on a dense grid (the parity tolerance is absolute below 1). */
function expRelativeError(be: Backend): number {
  const x = Float32Array.from({ length: 4001 }, (_, i) => -100 + i * 0.047);
  const out = new Float32Array(x.length);
  be.unary('exp', x, out);
  let worst = 0;
  for (let i = 0; i < x.length; i++) {
    const want = Math.fround(Math.exp(x[i]!));
    if (want > 1e-37) worst = Math.max(worst, Math.abs(out[i]! - want) / want); // normal float32 range
  }
  return worst;
}

/** Backends without the optional kernel fall back to the reference loop, as the ops do. */
const kernelOf = <K extends 'adamw' | 'rmsNorm' | 'rmsNormBackward' | 'swiglu' | 'swigluBackward'>(be: Backend, k: K): NonNullable<Backend[K]> =>
  (be[k] ?? referenceBackend[k]) as NonNullable<Backend[K]>;

/** Several outputs of one kernel, side by side, for one comparison. */
function joined(parts: (Float32Array | Float64Array)[], f64: boolean): Float32Array | Float64Array {
  const out = f64 ? new Float64Array(parts.reduce((n, p) => n + p.length, 0)) : new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

/** AdamW's update: θ, m and v after two steps, from random state with ±1000 and NaN gradients. */
function adamwCase(n: number, weightDecay: number): KernelCase {
  const theta = randn(n), m = randn(n, 0.1), v = randn(n, 0.1).map((x) => x * x);
  const grads = [randn(n), randn(n, 3)];
  grads[0]![1] = 1000; grads[0]![2] = -1000; grads[1]![n - 1] = NaN;
  return {
    name: `adamw n=${n} weightDecay=${weightDecay}`,
    tol: 1e-5,
    run(be, f64) {
      const cp = (x: Float32Array): Float32Array | Float64Array => (f64 ? as64(x) : x.slice());
      const s = { theta: cp(theta), m: cp(m), v: cp(v) };
      grads.forEach((g, i) => {
        const t = i + 1;
        kernelOf(be, 'adamw')({ ...s, grad: cp(g), lr: 1e-2, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay, correction1: 1 - 0.9 ** t, correction2: 1 - 0.999 ** t });
      });
      return joined([s.theta, s.m, s.v], f64);
    },
  };
}

/** Row logsumexp (the cross-entropy forward). */
function logSumExpCase(name: string, rows: number, cols: number, x: Float32Array): KernelCase {
  return {
    name: `logSumExp ${name}`,
    tol: 1e-5,
    run(be, f64) {
      const out = f64 ? new Float64Array(rows) : new Float32Array(rows);
      (be.logSumExp ?? referenceBackend.logSumExp!)(f64 ? as64(x) : x, out, rows, cols);
      return out;
    },
  };
}

/** RMSNorm forward (y and rinv) on rows×cols with γ, rows of ±1000 and a NaN. */
function rmsNormCase(rows: number, cols: number): KernelCase {
  const x = spiked(randn(rows * cols, 3), cols);
  const w = randn(cols);
  return {
    name: `rmsNorm ${rows}x${cols} (±1000, NaN)`,
    tol: 1e-5 * Math.sqrt(cols), // Σx² is a cols-term float32 sum, like matmul's k
    run(be, f64) {
      const out = f64 ? new Float64Array(rows * cols) : new Float32Array(rows * cols);
      const rinv = new Float64Array(rows);
      kernelOf(be, 'rmsNorm')({ x: f64 ? as64(x) : x, weight: f64 ? as64(w) : w, out, rinv, rows, cols, eps: 1e-5 });
      return joined([out, rinv], f64);
    },
  };
}

/** RMSNorm backward (dx and dγ). */
function rmsNormBackwardCase(rows: number, cols: number, withNaN: boolean): KernelCase {
  const x = randn(rows * cols, 3);
  x[1] = 1000; x[2] = -1000;
  if (withNaN) x[cols + 3] = NaN;
  const w = randn(cols), g = randn(rows * cols);
  const rinv = new Float64Array(rows);
  referenceBackend.rmsNorm!({ x: as64(x), weight: as64(w), out: new Float64Array(rows * cols), rinv, rows, cols, eps: 1e-5 });
  return {
    name: `rmsNormBackward ${rows}x${cols} (±1000${withNaN ? ', NaN' : ''})`,
    tol: 1e-5 * Math.sqrt(rows * cols), // dγ sums over rows, dx's mean over cols
    run(be, f64) {
      const dx = f64 ? new Float64Array(rows * cols) : new Float32Array(rows * cols);
      const dw = f64 ? new Float64Array(cols) : new Float32Array(cols);
      const r = f64 ? rinv : Float32Array.from(rinv);
      kernelOf(be, 'rmsNormBackward')({ x: f64 ? as64(x) : x, weight: f64 ? as64(w) : w, rinv: r, g: f64 ? as64(g) : g, dx, dWeight: dw, rows, cols });
      return joined([dx, dw], f64);
    },
  };
}

/** SwiGLU forward and backward (out, da, db side by side) on n elements: ±1000, ±100, NaN, ±∞ in a and b. */
function swigluCase(n: number): KernelCase {
  const a = randn(n, 3), b = randn(n), g = randn(n);
  const edges = [1000, -1000, 100, -100, NaN, Infinity, -Infinity, 0];
  edges.forEach((v, i) => { if (i < n) a[i] = v; });
  if (n > 9) { b[8] = 1000; b[9] = NaN; }
  return {
    name: `swiglu + swigluBackward n=${n} (±1000, ±100, NaN, ±∞)`,
    tol: 1e-5,
    run(be, f64) {
      const cp = (x: Float32Array): Float32Array | Float64Array => (f64 ? as64(x) : x);
      const out = f64 ? new Float64Array(n) : new Float32Array(n);
      const da = f64 ? new Float64Array(n) : new Float32Array(n);
      const db = f64 ? new Float64Array(n) : new Float32Array(n);
      kernelOf(be, 'swiglu')({ a: cp(a), b: cp(b), out });
      kernelOf(be, 'swigluBackward')({ a: cp(a), b: cp(b), g: cp(g), da, db });
      return joined([out, da, db], f64);
    },
  };
}

function sumMiddleCase(outer: number, mid: number, inner: number): KernelCase {
  const x = randn(outer * mid * inner);
  return {
    name: `sumMiddle ${outer}x${mid}x${inner}`,
    tol: 1e-5 * Math.sqrt(mid),
    run(be, f64) {
      const out = f64 ? new Float64Array(outer * inner) : new Float32Array(outer * inner);
      be.sumMiddle(f64 ? as64(x) : x, out, outer, mid, inner);
      return out;
    },
  };
}

// Softmax edge rows: ±1000 (naive exp overflows), a NaN row, a constant row.
const edge = new Float32Array(4 * 5);
edge.set([1000, -1000, 0, 1000, 999], 0);
edge.set([-1000, -1000, -1000, -1000, -1001], 5);
edge.set([1, NaN, 2, 3, 4], 10);
edge.set([7, 7, 7, 7, 7], 15);

/** x with a +1000, a −1000 and a NaN in row 1 and a row of ±1000 as row 2 (rows of `cols`). */
function spiked(x: Float32Array, cols: number): Float32Array {
  const at = (r: number, c: number): number => Math.min(x.length - 1, r * cols + c);
  x[at(0, 1)] = 1000; x[at(0, 2)] = -1000; x[at(0, 3)] = NaN;
  if (x.length >= 3 * cols) for (let c = 0; c < cols; c++) x[at(2, c)] = c % 2 === 0 ? 1000 : -1000;
  return x;
}

const expEdges = [-Infinity, -1000, -104.5, -103.9, -100, -87.4, -50, -1e-8, -0, 0, 1e-8, 0.5, 1, 20, 88.5, 88.8, 100, Infinity, NaN];

const CASES: KernelCase[] = [
  matmulCase(5, 3, 7),
  matmulCase(1, 17, 33), // 1×N result
  matmulCase(33, 17, 1), // N×1 result
  matmulCase(13, 1, 9), // inner dimension 1
  matmulCase(6, 1500, 10), // K > 1000 (gpu.js's silent loop cap) and > KC (k-blocking)
  matmulCase(37, 29, 21, { transA: true }),
  matmulCase(37, 29, 21, { transB: true }),
  matmulCase(19, 23, 18, { transA: true, transB: true }),
  matmulCase(7, 6, 5, { batch: 4 }),
  matmulCase(9, 10, 11, { batch: 3, bBroadcast: true, transB: true }),
  matmulCase(130, 131, 129), // above the threading threshold, ragged everywhere
  matmulCase(64, 300, 70, { batch: 2, transA: true }),
  matmulCase(12, 40, 16, { transA: true, transB: true }), // whole panels only (the unrolled packing loops)
  matmulCase(51, 24, 51, { batch: 3, transB: true }), // attention scores: short ragged rows unpacked by a loop
  softmaxCase('random 6x37', 6, 37, randn(6 * 37, 4)),
  softmaxCase('±1000, NaN, constant rows', 4, 5, edge),
  softmaxCase('1 column', 3, 1, randn(3)),
  softmaxCase('causal rows (−∞ masked)', 3, 4, Float32Array.from([0.5, -Infinity, -Infinity, -Infinity, 1, 2, -Infinity, -Infinity, -3, 40, -80, 7])),
  unaryValuesCase('exp', 'at the edges of float32', expEdges),
  unaryValuesCase('sigmoid', 'at the edges of float32', expEdges),
  unaryValuesCase('silu', 'at the edges of float32', expEdges),
  softmaxBackwardCase(7, 13),
  // The SIMD kernels (vector-kernels.ts) copy whole rows in chunks of 16 Ki floats: rows that
  // straddle two chunks, a row longer than a chunk, ragged tails, ±1000 and NaN inside.
  softmaxCase('37x530, ±1000 and NaN rows (rows across a chunk boundary)', 37, 530, spiked(randn(37 * 530, 5), 530)),
  softmaxLongRowCase('one row of 20001 (longer than a chunk)', 1, 20001, randn(20001, 5)),
  softmaxBackwardCase(37, 530),
  softmaxBackwardCase(2, 20001),
  unaryValuesCase('exp', 'over three chunks, ±1000, NaN', [...spiked(randn(40003, 30), 40003)]),
  unaryValuesCase('sigmoid', 'over three chunks, ±1000, NaN', [...spiked(randn(40003, 30), 40003)]),
  unaryValuesCase('silu', 'over three chunks, ±1000, NaN', [...spiked(randn(40003, 30), 40003)]),
  unaryValuesCase('geluTanh', 'at the edges of float32', expEdges),
  unaryValuesCase('geluTanh', '±1000 and NaN', [1000, -1000, NaN, 3, -3, 0.1, -0.1]),
  // the exact GELU and its derivative (the fast backend's float32 erfc, vector-erf.ts): ragged
  // lengths, ±1000, NaN, the edges where Φ underflows, over three chunks
  unaryValuesCase('geluErf', 'at the edges of float32', expEdges),
  unaryValuesCase('geluErfGrad', 'at the edges of float32', expEdges),
  unaryValuesCase('geluErf', '±1000, NaN, where Φ underflows', [1000, -1000, NaN, 3, -3, 0.1, -0.1, -8, -8.6, -13, -13.3, -14, 13.3, 5]),
  unaryValuesCase('geluErfGrad', '±1000, NaN, where Φ underflows', [1000, -1000, NaN, 3, -3, 0.1, -0.1, -8, -8.6, -13, -13.3, -14, 13.3, 5]),
  unaryValuesCase('geluErf', 'over three chunks, ±1000, NaN', [...spiked(randn(40003, 31), 40003)]),
  unaryValuesCase('geluErfGrad', 'over three chunks, ±1000, NaN', [...spiked(randn(40003, 31), 40003)]),
  binaryCase('add', [3, 5], [3, 5], [3, 5]),
  binaryCase('sub', [2, 3, 4], [1, 1, 4], [2, 3, 4]), // row vector
  binaryCase('div', [1, 1, 4], [2, 3, 4], [2, 3, 4]), // row vector on the left
  binaryCase('add', [2, 3, 4, 5], [1, 1, 4, 5], [2, 3, 4, 5]), // a repeated trailing block (attention's mask)
  binaryCase('sub', [1, 3, 1, 5], [2, 3, 1, 5], [2, 3, 1, 5]), // trailing block on the left, with a size-1 axis inside
  binaryCase('mul', [2, 3, 4], [1, 3, 1], [2, 3, 4]), // not a trailing block: the general path
  binaryCase('mul', [2, 3, 4], [2, 3, 1], [2, 3, 4]), // one value per row
  binaryCase('sub', [2, 3, 1], [2, 3, 4], [2, 3, 4]),
  binaryCase('add', [3, 1], [1, 4], [3, 4]), // outer broadcast
  binaryCase('mul', [6], [1], [6]), // scalar
  binaryCase('div', [1], [6], [6]),
  binaryCase('pow', [2, 3], [2, 3], [2, 3]),
  binaryCase('maximum', [2, 3], [1, 3], [2, 3]),
  binaryCase('minimum', [4, 2], [4, 1], [4, 2]),
  ...(['neg', 'exp', 'log', 'sqrt', 'rsqrt', 'abs', 'tanh', 'sigmoid', 'relu', 'silu', 'geluTanh', 'geluErf', 'geluErfGrad'] as UnaryKind[]).map(unaryCase),
  logSumExpCase('37x530, ±1000 and NaN rows', 37, 530, spiked(randn(37 * 530, 5), 530)),
  logSumExpCase('±1000, NaN, constant rows', 4, 5, edge),
  logSumExpCase('causal rows (−∞)', 3, 4, Float32Array.from([0.5, -Infinity, -Infinity, -Infinity, 1, 2, -Infinity, -Infinity, -3, 40, -80, 7])),
  logSumExpCase('one row of 20001', 1, 20001, randn(20001, 5)),
  adamwCase(40003, 0.1), // three chunks, a ragged tail
  adamwCase(7, 0),
  rmsNormCase(37, 530), // rows across a chunk boundary
  rmsNormCase(3, 20001), // rows longer than a chunk
  rmsNormCase(5, 3),
  rmsNormBackwardCase(37, 530, false),
  rmsNormBackwardCase(2, 20001, false),
  rmsNormBackwardCase(6, 13, true),
  sumMiddleCase(3, 5, 7),
  sumMiddleCase(4, 100, 1),
  sumMiddleCase(1, 9, 11),
  // (new cases go last: each draws from the shared rng, so the data of those above stay the same)
  swigluCase(40003), // three chunks, a ragged tail
  swigluCase(7),
  swigluCase(1),
  matmulRaggedInPlaceCase(9, 300, 13, 2),
  matmulRaggedInPlaceCase(250, 70, 131, 1), // 2.3 M multiply-adds: threaded
  matmulStridedCase(13, 7, 11, {}),
  matmulStridedCase(13, 7, 11, { transA: true, transB: true, batch: 3 }),
  matmulStridedCase(51, 24, 51, { transB: true, batch: 4 }), // q·kᵀ over permuted heads
  matmulStridedCase(51, 51, 24, { batch: 4 }), // weights·v
  matmulStridedCase(24, 51, 51, { transA: true, batch: 4 }),
  matmulStridedCase(70, 300, 129, { transA: true, batch: 2, pad: 1 }), // k > KC, threaded
];

const BACKENDS: [string, () => Backend][] = [
  ['fast (2 threads)', () => createFastBackend({ threads: 2 })], // fused multiply-add where the host has one (fma.ts)
  ['fast (1 thread)', () => createFastBackend({ threads: 1 })],
  ['fast (2 threads, separate multiply and add)', () => createFastBackend({ threads: 2, fma: false })],
  ['gpujs (auto mode)', () => createGpujsBackend()],
];

for (const [label, make] of BACKENDS) {
  t.test(label, async (t) => {
    const be = make();
    t.teardown(() => be.dispose?.());
    for (const c of CASES) {
      if (c.applies && !c.applies(be)) continue;
      const want = c.run(referenceBackend, true) as Float64Array;
      const got = c.run(be, false) as Float32Array;
      t.equal(compare(got, want, c.tol, c.relative), '', c.name);
    }
    t.ok(expRelativeError(be) < 1e-6, 'exp within 1e-6 relative over [−100, 88]');
    // float64 must work on every backend (gradient checks run in float64)
    const f64 = CASES[0]!.run(be, true);
    t.equal(compare(Float32Array.from(f64), CASES[0]!.run(referenceBackend, true) as Float64Array, 1e-6), '', 'float64 matmul');
  });
}

t.test('the long-row softmax tolerance still catches wrong kernels', async (t) => {
  const n = 20001;
  const r = new Rng(99); // its own stream: the cases above keep their data
  const x = Float32Array.from({ length: n }, () => 5 * r.normal());
  const want = new Float64Array(n);
  referenceBackend.softmax(as64(x), want, 1, n);
  const tol = softmaxRelTol(n);
  const right = new Float32Array(n);
  referenceBackend.softmax(x, right, 1, n);
  t.equal(compare(right, want, tol, true), '', 'the reference loop in float32 passes');
  // Wrong kernels, each an easy slip: their errors are 1e-4 to 1e-3 relative — under the
  // worst-case bound γ_{n−1} ≈ 1.2e-3, so only the probabilistic bound catches them.
  const wrong = (name: string, f: (e: Float64Array) => number): void => {
    let m = -Infinity;
    for (const v of x) m = Math.max(m, v);
    const e = Float64Array.from(x, (v) => Math.exp(v - m));
    const s = f(e);
    t.not(compare(Float32Array.from(e, (v) => v / s), want, tol, true), '', `${name} fails`);
  };
  const total = (e: Float64Array, from = 0, to = e.length): number => { let s = 0; for (let i = from; i < to; i++) s += e[i]!; return s; };
  wrong('a row sum missing 2e-4 of its mass', (e) => total(e) * (1 - 2e-4));
  wrong('a float32 sum that rounds down instead of to nearest (a biased error, ≈ n·u/2)', (e) => {
    let s = 0;
    for (const v of e) { const t2 = Math.fround(s + v); s = t2 > s + v ? Math.fround(t2 - t2 * U32) : t2; }
    return s;
  });
  wrong('a sum with the largest term dropped', (e) => total(e) - Math.max(...e));
});

t.test('a small MLP gives the same gradients on every backend', async (t) => {
  // loss = mean(silu(x·W1 + b1)·W2); x [256, 100], W1 [100, 130], W2 [130, 10]
  // 256·100·130 multiply-adds is above the fast backend's threading threshold.
  const init = { x: randn(256 * 100), w1: randn(100 * 130, 0.1), b1: randn(130, 0.1), w2: randn(130 * 10, 0.1) };
  const gradsOn = (name: string): Float32Array[] => {
    setBackend(name);
    const x = new Tensor(init.x.slice(), [256, 100]);
    const w1 = new Tensor(init.w1.slice(), [100, 130], true);
    const b1 = new Tensor(init.b1.slice(), [130], true);
    const w2 = new Tensor(init.w2.slice(), [130, 10], true);
    const h = silu(matmul(x, w1).add(b1)); // [256, 130]
    const loss = mean(matmul(h, w2).mul(sum(h, 1, true))); // [256, 10] ⊙ [256, 1]
    loss.backward();
    return [w1, b1, w2].map((p) => p.grad!.values() as Float32Array);
  };
  const want = gradsOn('ref');
  for (const name of ['fast', 'gpujs']) {
    const got = gradsOn(name);
    for (let i = 0; i < want.length; i++) {
      t.equal(compare(got[i]!, as64(want[i]!), 1e-4), '', `${name}: gradient of parameter ${i} matches ref`);
    }
  }
  setBackend('ref');
});
