/**
 * Runs the SIMD vector kernels (vector-kernels.ts) on JavaScript typed arrays.
 *
 * The kernels read and write wasm memory, and tensors live in ordinary typed arrays, so data
 * are copied in and out — in chunks of at most {@link CHUNK_FLOATS} floats (whole rows for
 * softmax), so each chunk is still in L1/L2 cache when the kernel reads it and when its
 * result is copied back: the copies are bulk `TypedArray.set`s (memcpy), and main memory
 * sees each element once in and once out, as a kernel working in place would.
 * One small private memory, single-threaded (no SharedArrayBuffer needed).
 */
import type { FloatArray } from '../../tensor';
import type { AdamWArgs, RmsNormArgs, RmsNormBackwardArgs, RopeArgs, SwigluArgs, SwigluBackwardArgs } from '../backend';
import { VECTOR_UNARY, vectorModuleBytes, type VectorUnaryKind } from './vector-kernels';
import { wasm, type WasmMemory } from './wasm-api';

/** Floats per chunk: 16 Ki floats = 64 KiB per buffer; a kernel touches at most four of them. */
export const CHUNK_FLOATS = 16384;
/** Buffers (regions of `cap` floats): up to four streams, plus RMSNorm's γ/dγ and rinv. */
const REGIONS = 6;
const PAGE = 65536;
/** Enough address space for rows up to 16 Mi floats (reserved, not committed). */
const MAX_PAGES = 16384 * REGIONS / 4;

type Map3 = (x: number, out: number, n: number) => void;

/** Unary kinds with a SIMD kernel. */
export function isVectorUnary(kind: string): kind is VectorUnaryKind {
  return Object.prototype.hasOwnProperty.call(VECTOR_UNARY, kind);
}

/** The compiled module, its memory and {@link REGIONS} chunk buffers. */
export class VectorEngine {
  private readonly memory: WasmMemory;
  private readonly exports: Record<string, unknown>;
  private f32: Float32Array;
  /** floats per buffer */
  private cap = CHUNK_FLOATS;

  constructor() {
    const pages = Math.ceil((REGIONS * CHUNK_FLOATS * 4) / PAGE);
    this.memory = new wasm.Memory({ initial: pages, maximum: MAX_PAGES, shared: false });
    const module = new wasm.Module(vectorModuleBytes({ initialPages: pages, maxPages: MAX_PAGES, shared: false }));
    this.exports = new wasm.Instance(module, { env: { memory: this.memory } }).exports;
    this.f32 = new Float32Array(this.memory.buffer);
  }

  /** Make each buffer hold at least `floats` (a row longer than a chunk). */
  private reserve(floats: number): void {
    if (floats <= this.cap) return;
    const bytes = REGIONS * floats * 4;
    const have = this.memory.buffer.byteLength;
    if (bytes > have) this.memory.grow(Math.ceil((bytes - have) / PAGE));
    this.f32 = new Float32Array(this.memory.buffer);
    this.cap = floats;
  }

  /** out[i] = f(x[i]) for a kind with a SIMD kernel. */
  unary(kind: VectorUnaryKind, x: FloatArray, out: FloatArray): void {
    const run = this.exports[kind] as Map3;
    const f32 = this.f32;
    const outBase = 2 * this.cap;
    for (let s = 0; s < x.length; s += CHUNK_FLOATS) {
      const e = Math.min(x.length, s + CHUNK_FLOATS);
      f32.set(x.subarray(s, e), 0);
      run(0, outBase * 4, e - s);
      out.set(f32.subarray(outBase, outBase + e - s), s);
    }
  }

  /** Row softmax of a rows×cols matrix; see Backend.softmax. */
  softmax(x: FloatArray, out: FloatArray, rows: number, cols: number): void {
    if (rows === 0 || cols === 0) return;
    this.reserve(cols);
    const run = this.exports.softmax as (x: number, out: number, rows: number, cols: number) => void;
    const outBase = 2 * this.cap;
    const per = Math.max(1, Math.floor(this.cap / cols));
    for (let r = 0; r < rows; r += per) {
      const n = Math.min(per, rows - r) * cols;
      const s = r * cols;
      this.f32.set(x.subarray(s, s + n), 0);
      run(0, outBase * 4, n / cols, cols);
      out.set(this.f32.subarray(outBase, outBase + n), s);
    }
  }

  /** Row softmax of x + mask (mask rows repeated); see Backend.maskedSoftmax. Regions: x, –, out, mask. */
  maskedSoftmax(x: FloatArray, mask: FloatArray, out: FloatArray, rows: number, cols: number, maskRows: number): void {
    if (rows === 0 || cols === 0) return;
    this.reserve(Math.max(cols, maskRows * cols));
    const run = this.exports.maskedSoftmax as (...a: number[]) => void;
    const cap = this.cap;
    const outBase = 2 * cap;
    const maskBase = 3 * cap;
    this.f32.set(mask.subarray(0, maskRows * cols), maskBase);
    const maskEnd = (maskBase + maskRows * cols) * 4;
    const per = Math.max(1, Math.floor(cap / cols));
    for (let r = 0; r < rows; r += per) {
      const n = Math.min(per, rows - r) * cols;
      const s = r * cols;
      this.f32.set(x.subarray(s, s + n), 0);
      run(0, outBase * 4, n / cols, cols, maskBase * 4, maskEnd, (maskBase + (r % maskRows) * cols) * 4);
      out.set(this.f32.subarray(outBase, outBase + n), s);
    }
  }

  /** dx = y ⊙ (dy − Σ dy⊙y) row-wise; see Backend.softmaxBackward. */
  softmaxBackward(y: FloatArray, dy: FloatArray, out: FloatArray, rows: number, cols: number): void {
    if (rows === 0 || cols === 0) return;
    this.reserve(cols);
    const run = this.exports.softmaxBackward as (y: number, dy: number, out: number, rows: number, cols: number) => void;
    const bBase = this.cap;
    const outBase = 2 * this.cap;
    const per = Math.max(1, Math.floor(this.cap / cols));
    for (let r = 0; r < rows; r += per) {
      const n = Math.min(per, rows - r) * cols;
      const s = r * cols;
      this.f32.set(y.subarray(s, s + n), 0);
      this.f32.set(dy.subarray(s, s + n), bBase);
      run(0, bBase * 4, outBase * 4, n / cols, cols);
      out.set(this.f32.subarray(outBase, outBase + n), s);
    }
  }

  /** AdamW's update of one parameter, in place; see Backend.adamw. */
  adamw({ theta, grad, m, v, lr, beta1, beta2, eps, weightDecay, correction1, correction2 }: AdamWArgs): void {
    const run = this.exports.adamw as (...a: number[]) => void;
    const f32 = this.f32;
    const cap = this.cap;
    for (let s = 0; s < theta.length; s += CHUNK_FLOATS) {
      const e = Math.min(theta.length, s + CHUNK_FLOATS);
      f32.set(theta.subarray(s, e), 0);
      f32.set(grad.subarray(s, e), cap);
      f32.set(m.subarray(s, e), 2 * cap);
      f32.set(v.subarray(s, e), 3 * cap);
      run(0, cap * 4, 2 * cap * 4, 3 * cap * 4, e - s, lr, beta1, beta2, eps, 1 - lr * weightDecay, correction1, correction2, 1 - beta1, 1 - beta2);
      theta.set(f32.subarray(0, e - s), s);
      m.set(f32.subarray(2 * cap, 2 * cap + e - s), s);
      v.set(f32.subarray(3 * cap, 3 * cap + e - s), s);
    }
  }

  /** RMSNorm forward; see Backend.rmsNorm. Regions: x, out, γ, rinv. */
  rmsNorm({ x, weight, out, rinv, rows, cols, eps }: RmsNormArgs): void {
    if (rows === 0 || cols === 0) return;
    this.reserve(cols);
    const run = this.exports.rmsNorm as (...a: number[]) => void;
    const cap = this.cap;
    this.f32.set(weight, 2 * cap);
    const per = Math.max(1, Math.floor(cap / cols));
    for (let r = 0; r < rows; r += per) {
      const nr = Math.min(per, rows - r);
      const s = r * cols;
      this.f32.set(x.subarray(s, s + nr * cols), 0);
      run(0, 2 * cap * 4, cap * 4, 3 * cap * 4, nr, cols, eps);
      out.set(this.f32.subarray(cap, cap + nr * cols), s);
      rinv.set(this.f32.subarray(3 * cap, 3 * cap + nr), r);
    }
  }

  /** RMSNorm backward; see Backend.rmsNormBackward. Regions: x, g, dx, γ, dγ, rinv. */
  rmsNormBackward({ x, weight, rinv, g, dx, dWeight, rows, cols }: RmsNormBackwardArgs): void {
    dWeight.fill(0);
    if (rows === 0 || cols === 0) return;
    this.reserve(cols);
    const run = this.exports.rmsNormBackward as (...a: number[]) => void;
    const cap = this.cap;
    const f32 = this.f32;
    f32.set(weight, 3 * cap);
    f32.fill(0, 4 * cap, 4 * cap + cols);
    const per = Math.max(1, Math.floor(cap / cols));
    for (let r = 0; r < rows; r += per) {
      const nr = Math.min(per, rows - r);
      const s = r * cols;
      f32.set(x.subarray(s, s + nr * cols), 0);
      f32.set(g.subarray(s, s + nr * cols), cap);
      f32.set(rinv.subarray(r, r + nr), 5 * cap);
      run(0, 3 * cap * 4, 5 * cap * 4, cap * 4, 2 * cap * 4, 4 * cap * 4, nr, cols);
      dx.set(f32.subarray(2 * cap, 2 * cap + nr * cols), s);
    }
    dWeight.set(f32.subarray(4 * cap, 4 * cap + cols));
  }

  /** SwiGLU forward, out = SiLU(a)·b; see Backend.swiglu. Regions: a, b, out. */
  swiglu({ a, b, out }: SwigluArgs): void {
    const run = this.exports.swiglu as (a: number, b: number, out: number, n: number) => void;
    const f32 = this.f32;
    const cap = this.cap;
    for (let s = 0; s < out.length; s += CHUNK_FLOATS) {
      const e = Math.min(out.length, s + CHUNK_FLOATS);
      f32.set(a.subarray(s, e), 0);
      f32.set(b.subarray(s, e), cap);
      run(0, cap * 4, 2 * cap * 4, e - s);
      out.set(f32.subarray(2 * cap, 2 * cap + e - s), s);
    }
  }

  /** SwiGLU backward; see Backend.swigluBackward. Regions: a, b, g, da, db. */
  swigluBackward({ a, b, g, da, db }: SwigluBackwardArgs): void {
    const run = this.exports.swigluBackward as (...args: number[]) => void;
    const f32 = this.f32;
    const cap = this.cap;
    for (let s = 0; s < da.length; s += CHUNK_FLOATS) {
      const e = Math.min(da.length, s + CHUNK_FLOATS);
      f32.set(a.subarray(s, e), 0);
      f32.set(b.subarray(s, e), cap);
      f32.set(g.subarray(s, e), 2 * cap);
      run(0, cap * 4, 2 * cap * 4, 3 * cap * 4, 4 * cap * 4, e - s);
      da.set(f32.subarray(3 * cap, 3 * cap + e - s), s);
      db.set(f32.subarray(4 * cap, 4 * cap + e - s), s);
    }
  }

  /**
   * RoPE (see Backend.rope), one batch row at a time: the span of x's storage that row
   * covers is copied in (region 0), the rotated [T, H, d] block out (region 1); the angles of
   * positions start..start+T−1 go in as float64 (region 2). Returns false — the caller runs
   * the reference loop — for negative or zero strides, or when a row's span is more than
   * twice its elements (a copy would cost more than the loop saves).
   */
  rope({ x, offset, strides, out, cos, sin, start, sign, batch: B, seqLen: T, heads: H, headDim: d }: RopeArgs): boolean {
    const [sb, st, sh, si] = strides;
    const rowFloats = T * H * d;
    if (rowFloats === 0) return true;
    if (si < 1 || st < 0 || sh < 0) return false;
    const span = (T - 1) * st + (H - 1) * sh + (d - 1) * si + 1;
    if (span > 2 * rowFloats) return false;
    const half = d / 2;
    this.reserve(Math.max(span, rowFloats, 4 * T * half));
    const cap = this.cap;
    const f32 = this.f32;
    const angles = new Float64Array(this.memory.buffer, 8 * cap, 2 * T * half);
    angles.set(cos.subarray(start * half, (start + T) * half), 0);
    angles.set(sin.subarray(start * half, (start + T) * half), T * half);
    const run = this.exports.rope as (...a: number[]) => void;
    for (let b = 0; b < B; b++) {
      const base = offset + b * sb;
      f32.set(x.subarray(base, base + span), 0);
      run(0, cap * 4, 8 * cap, 8 * cap + 8 * T * half, T, H, half, st * 4, sh * 4, sign, si * 4);
      out.set(f32.subarray(cap, cap + rowFloats), b * rowFloats);
    }
    return true;
  }

  /** Row logsumexp: the kernel's max and Σ exp(x − max) per row, then m + log s in float64. */
  logSumExp(x: FloatArray, out: FloatArray, rows: number, cols: number): void {
    if (rows === 0) return;
    if (cols === 0) { out.fill(-Infinity, 0, rows); return; }
    this.reserve(cols);
    const run = this.exports.rowMaxSumExp as (...a: number[]) => void;
    const cap = this.cap;
    const f32 = this.f32;
    const per = Math.max(1, Math.floor(cap / cols));
    for (let r = 0; r < rows; r += per) {
      const nr = Math.min(per, rows - r);
      f32.set(x.subarray(r * cols, (r + nr) * cols), 0);
      run(0, cap * 4, 2 * cap * 4, nr, cols);
      for (let i = 0; i < nr; i++) out[r + i] = f32[cap + i]! + Math.log(f32[2 * cap + i]!);
    }
  }
}
