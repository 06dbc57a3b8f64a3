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
  /**
   * Row stride of each stored A_i, in elements (default: its row length, k — or m when
   * transA — i.e. contiguous). Only passed to a backend whose `stridedMatmul` is true.
   */
  lda?: number;
  /** Row stride of each stored B_i (default n, or k when transB); see {@link lda}. */
  ldb?: number;
}

/** Elementwise binary kernels (NumPy broadcasting, resolved by the caller into shapes). */
export type BinaryKind = 'add' | 'sub' | 'mul' | 'div' | 'pow' | 'maximum' | 'minimum';

/**
 * Elementwise unary kernels. `geluErfGrad` is the exact GELU's derivative Φ(x) + x·φ(x) (its
 * backward), a kernel of its own so a backend can compute Φ once for both.
 */
export type UnaryKind =
  | 'neg' | 'exp' | 'log' | 'sqrt' | 'rsqrt' | 'abs' | 'tanh' | 'sigmoid' | 'relu' | 'silu' | 'geluTanh' | 'geluErf' | 'geluErfGrad';

/**
 * One AdamW update of one parameter, in place (lib/optim/adamw.ts has the algorithm):
 *   m ← β₁m + (1 − β₁)g,  v ← β₂v + (1 − β₂)g²,
 *   θ ← θ·(1 − lr·λ) − lr · (m/c₁) / (√(v/c₂) + ε),   c₁ = 1 − β₁ᵗ, c₂ = 1 − β₂ᵗ.
 * `weightDecay` (λ) is per call, so parameter groups can give each tensor its own.
 */
export interface AdamWArgs {
  theta: FloatArray;
  grad: FloatArray;
  /** first moment m, updated in place */
  m: FloatArray;
  /** second moment v, updated in place */
  v: FloatArray;
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** bias corrections c₁ = 1 − β₁ᵗ and c₂ = 1 − β₂ᵗ at this step t */
  correction1: number;
  correction2: number;
}

/**
 * RMSNorm over rows of length `cols` (lib/ops/norm.ts has the math):
 * forward `r = 1/√(mean(x²) + eps)`, `y = x·r·γ`, writing `rinv[row] = r` for the backward.
 */
export interface RmsNormArgs {
  x: FloatArray;
  /** γ [cols] */
  weight: FloatArray;
  out: FloatArray;
  /** [rows]: 1/√(mean(x²) + eps) per row */
  rinv: FloatArray;
  rows: number;
  cols: number;
  eps: number;
}

/** RMSNorm backward: `dx = r·(g·γ − x·r·mean(g·γ·x·r))`, `dγ = Σ_rows g·x·r` (dγ overwritten). */
export interface RmsNormBackwardArgs {
  x: FloatArray;
  weight: FloatArray;
  rinv: FloatArray;
  /** upstream gradient, same shape as x */
  g: FloatArray;
  dx: FloatArray;
  /** [cols] */
  dWeight: FloatArray;
  rows: number;
  cols: number;
}

/**
 * The SwiGLU gate `out = SiLU(a) ⊙ b` (lib/ops/swiglu.ts has the math), all arrays one length.
 * SiLU(a) = a·σ(a), written as σ first, then a·σ.
 */
export interface SwigluArgs {
  /** the gate's pre-activation */
  a: FloatArray;
  /** the value */
  b: FloatArray;
  out: FloatArray;
}

/**
 * SwiGLU backward from the inputs (σ is recomputed, not stored):
 * `db = g ⊙ a·σ(a)`, `da = (g ⊙ b) ⊙ σ(a)·(1 + a·(1 − σ(a)))`.
 */
export interface SwigluBackwardArgs {
  a: FloatArray;
  b: FloatArray;
  /** upstream gradient */
  g: FloatArray;
  da: FloatArray;
  db: FloatArray;
}

/**
 * Rotary position embedding of x [B, T, H, d] read through strides (models/rope.ts has the
 * math), written contiguously to `out` [B, T, H, d]. Per pair (a, b) = (x[2i], x[2i+1]) at
 * sequence position p = start + t, with c = cos[p·d/2 + i] and s = sign·sin[p·d/2 + i]:
 *   out[2i] = a·c − b·s,   out[2i+1] = a·s + b·c.
 * sign = 1 is the forward rotation; sign = −1 the backward (the rotation's transpose).
 */
export interface RopeArgs {
  /** x's storage; element (b, t, h, j) is at offset + b·strides[0] + t·strides[1] + h·strides[2] + j·strides[3] */
  x: FloatArray;
  offset: number;
  strides: readonly [number, number, number, number];
  out: FloatArray;
  /** cos θ and sin θ, [positions, d/2] row-major (models/rope.ts's RopeTable) */
  cos: Float64Array;
  sin: Float64Array;
  /** position of t = 0 */
  start: number;
  sign: 1 | -1;
  batch: number;
  seqLen: number;
  heads: number;
  /** d, even */
  headDim: number;
}

export interface Backend {
  /** Short name used by `setBackend` and `ARRA_BACKEND` (`ref`, `fast`, `gpujs`). */
  readonly name: string;
  /** See {@link MatmulArgs}. */
  matmul(args: MatmulArgs): void;
  /**
   * Whether `matmul` honours `lda`/`ldb`, so that views with unit steps along a row (attention's
   * permuted heads, kᵀ) are passed as their storage instead of copied. Absent: ops copy them.
   */
  readonly stridedMatmul?: boolean;
  /** Row-wise softmax of a rows×cols matrix: `out[r,c] = exp(x[r,c] − max_r) / Σ_c' exp(x[r,c'] − max_r)`. */
  softmax(x: FloatArray, out: FloatArray, rows: number, cols: number): void;
  /**
   * Optional: row-wise softmax of `x + mask`, where `mask` holds `maskRows` rows of `cols` and
   * row r of x gets mask row r mod maskRows (attention's causal mask, repeated over batch and
   * heads). Must equal `binary('add')` into an array of x's dtype followed by `softmax` —
   * `referenceMaskedSoftmax` does exactly that when a backend has no fused kernel.
   */
  maskedSoftmax?(x: FloatArray, mask: FloatArray, out: FloatArray, rows: number, cols: number, maskRows: number): void;
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
  /**
   * Optional fused kernels: a backend without one gets the reference loop (reference.ts,
   * `referenceAdamW`, `referenceRmsNorm`, `referenceRmsNormBackward`, `referenceSwiglu`), so adding a kernel here
   * never breaks another backend (`referenceLogSumExp` too).
   */
  adamw?(args: AdamWArgs): void;
  /** Row-wise `out[r] = log Σ_c exp(x[r,c])`, computed as m + log Σ exp(x − m), m the row max (`referenceLogSumExp`). */
  logSumExp?(x: FloatArray, out: FloatArray, rows: number, cols: number): void;
  rmsNorm?(args: RmsNormArgs): void;
  rmsNormBackward?(args: RmsNormBackwardArgs): void;
  /** `referenceSwiglu` / `referenceSwigluBackward` when absent. */
  swiglu?(args: SwigluArgs): void;
  swigluBackward?(args: SwigluBackwardArgs): void;
  /** `referenceRope` when absent. */
  rope?(args: RopeArgs): void;
  /** Release cached resources (compiled kernels, worker threads). Safe to call twice. */
  dispose?(): void;
}
