/**
 * The backend interface: the few primitive kernels where a training step spends its time.
 *
 * Ops (lib/ops) never loop over big arrays for these themselves; they call the current
 * backend. The reference backend (`reference.ts`) is plain loops a learner can step through
 * and is the source of truth; faster backends (multi-core CPU, gpu.js) implement the same
 * interface and are checked against it by the same test specs (test/backend-parity.test.ts).
 *
 * Every kernel takes row-major contiguous typed arrays and writes into a preallocated `out`
 * of the same dtype. float64 must always be supported (gradient checks run in float64);
 * a backend may hand float64 work to the reference kernels.
 */
import type { FloatArray } from '../tensor';

/**
 * Batched matrix product `out[i] = op(A_i) · op(B_i)`, `op(X) = X` or `Xᵀ`.
 * Batch i reads A at `aOffsets[i]` and B at `bOffsets[i]` (equal offsets = broadcasting)
 * and writes the m×n result at `i·m·n`.
 */
export interface MatmulArgs {
  a: FloatArray;
  b: FloatArray;
  out: FloatArray;
  /** rows of op(A) and of the result */
  m: number;
  /** inner dimension: columns of op(A), rows of op(B) */
  k: number;
  /** columns of op(B) and of the result */
  n: number;
  /** A_i is stored k×m (row-major) and used transposed */
  transA: boolean;
  /** B_i is stored n×k (row-major) and used transposed */
  transB: boolean;
  aOffsets: readonly number[];
  bOffsets: readonly number[];
}

/** Elementwise binary kernels (NumPy broadcasting, resolved by the caller into shapes). */
export type BinaryKind = 'add' | 'sub' | 'mul' | 'div' | 'pow' | 'maximum' | 'minimum';

/** Elementwise unary kernels. */
export type UnaryKind =
  | 'neg' | 'exp' | 'log' | 'sqrt' | 'rsqrt' | 'abs' | 'tanh' | 'sigmoid' | 'relu' | 'silu' | 'geluTanh' | 'geluErf';

export interface Backend {
  /** Short name used by `setBackend` and `ARRA_BACKEND` (`ref`, `fast`, `gpujs`). */
  readonly name: string;
  /** See {@link MatmulArgs}. */
  matmul(args: MatmulArgs): void;
  /** Row-wise softmax of a rows×cols matrix: `out[r,c] = exp(x[r,c] − max_r) / Σ_c' exp(x[r,c'] − max_r)`. */
  softmax(x: FloatArray, out: FloatArray, rows: number, cols: number): void;
  /** Softmax backward from its output y: `dx = y ⊙ (dy − Σ_c dy⊙y)` row-wise. */
  softmaxBackward(y: FloatArray, dy: FloatArray, out: FloatArray, rows: number, cols: number): void;
  /**
   * `out = a ∘ b` with broadcasting: `aShape` and `bShape` have the rank of `outShape`
   * (left-padded with 1s); a size-1 axis is repeated.
   */
  binary(kind: BinaryKind, a: FloatArray, aShape: readonly number[], b: FloatArray, bShape: readonly number[], out: FloatArray, outShape: readonly number[]): void;
  /** `out[i] = f(x[i])`. */
  unary(kind: UnaryKind, x: FloatArray, out: FloatArray): void;
  /** Sum over the middle axis of an outer×mid×inner array: `out[o,i] = Σ_m x[o,m,i]`. */
  sumMiddle(x: FloatArray, out: FloatArray, outer: number, mid: number, inner: number): void;
  /** Release cached resources (compiled kernels, worker threads). Safe to call twice. */
  dispose?(): void;
}
