/**
 * Fast paths for the memory-bound kernels (elementwise, softmax, sums) in plain TypeScript.
 *
 * These kernels do one or two flops per element loaded, so SIMD barely matters: the time
 * goes to memory traffic and, in the reference loops, to calling a closure per element and
 * walking a general broadcasting odometer. Each fast path below picks the loop for a common
 * layout once (same shape, scalar, a row vector `[..., n] ∘ [n]` or any repeated trailing
 * block, a column `[..., r, n] ∘ [..., r, 1]`) with the operator inlined, and anything else
 * goes to the reference kernels.
 * (For add/mul-like ops, copying into wasm memory and back would cost more than the operation
 * itself. Kernels that compute an exp per element — softmax, sigmoid, SiLU — do run as SIMD
 * wasm (vector-kernels.ts); their loops here are the scalar versions, kept for bench/kernels.ts
 * to compare against.)
 */
import type { FloatArray } from '../../tensor';
import type { BinaryKind, UnaryKind } from '../backend';
import { referenceBackend } from '../reference';
import { fastExp } from './fast-exp';

/** `out[i] = a[i·sa + (i % n)·ta] ∘ b[…]` in the layouts described above; false when none applies. */
export function fastBinary(kind: BinaryKind, a: FloatArray, aShape: readonly number[], b: FloatArray, bShape: readonly number[], out: FloatArray): boolean {
  const size = out.length;
  if (a.length === size && b.length === size) { sameShape(kind, a, b, out); return true; }
  if (a.length === size && b.length === 1) { withScalar(kind, a, b[0]!, out, false); return true; }
  if (b.length === size && a.length === 1) { withScalar(kind, b, a[0]!, out, true); return true; }
  if (a.length === size && isTrailingBlock(bShape, aShape)) { withRow(kind, a, b, out, false); return true; }
  if (b.length === size && isTrailingBlock(aShape, bShape)) { withRow(kind, b, a, out, true); return true; }
  if (a.length === size && isColumn(bShape, aShape)) { withColumn(kind, a, b, out, aShape[aShape.length - 1]!, false); return true; }
  if (b.length === size && isColumn(aShape, bShape)) { withColumn(kind, b, a, out, bShape[bShape.length - 1]!, true); return true; }
  return false;
}

/**
 * `small` is 1s followed by `full`'s trailing axes: one block repeated along the leading axes,
 * so `small[i % small.length]` pairs with `full[i]`. A row vector [1, …, 1, n] is the common
 * case; attention's causal mask [1, 1, T, S] over scores [B, H, T, S] is another.
 */
function isTrailingBlock(small: readonly number[], full: readonly number[]): boolean {
  if (small.length === 0 || small.length !== full.length) return false;
  let i = 0;
  while (i < small.length - 1 && small[i] === 1) i++;
  for (; i < small.length; i++) if (small[i] !== full[i]) return false;
  return true;
}

/** `small` is `full` with its last axis set to 1 (one value per row). */
function isColumn(small: readonly number[], full: readonly number[]): boolean {
  const r = full.length;
  if (r === 0 || small.length !== r || small[r - 1] !== 1 || full[r - 1] === 1) return false;
  for (let i = 0; i < r - 1; i++) if (small[i] !== full[i]) return false;
  return true;
}

function sameShape(kind: BinaryKind, a: FloatArray, b: FloatArray, out: FloatArray): void {
  const n = out.length;
  switch (kind) {
    case 'add': for (let i = 0; i < n; i++) out[i] = a[i]! + b[i]!; return;
    case 'sub': for (let i = 0; i < n; i++) out[i] = a[i]! - b[i]!; return;
    case 'mul': for (let i = 0; i < n; i++) out[i] = a[i]! * b[i]!; return;
    case 'div': for (let i = 0; i < n; i++) out[i] = a[i]! / b[i]!; return;
    default: referenceBackend.binary(kind, a, [n], b, [n], out, [n]);
  }
}

/** `x ∘ s` (or `s ∘ x` when `swapped`). */
function withScalar(kind: BinaryKind, x: FloatArray, s: number, out: FloatArray, swapped: boolean): void {
  const n = out.length;
  switch (kind) {
    case 'add': for (let i = 0; i < n; i++) out[i] = x[i]! + s; return;
    case 'mul': for (let i = 0; i < n; i++) out[i] = x[i]! * s; return;
    case 'sub':
      if (swapped) for (let i = 0; i < n; i++) out[i] = s - x[i]!;
      else for (let i = 0; i < n; i++) out[i] = x[i]! - s;
      return;
    case 'div':
      if (swapped) for (let i = 0; i < n; i++) out[i] = s / x[i]!;
      else for (let i = 0; i < n; i++) out[i] = x[i]! / s;
      return;
    default: {
      const sv = x instanceof Float32Array ? Float32Array.of(s) : Float64Array.of(s);
      if (swapped) referenceBackend.binary(kind, sv, [1], x, [n], out, [n]);
      else referenceBackend.binary(kind, x, [n], sv, [1], out, [n]);
    }
  }
}

/** `x[r, c] ∘ v[c]` over rows of length v.length (or `v[c] ∘ x[r, c]` when `swapped`); v may be a whole trailing block. */
function withRow(kind: BinaryKind, x: FloatArray, v: FloatArray, out: FloatArray, swapped: boolean): void {
  const cols = v.length;
  const rows = out.length / cols;
  if (kind !== 'add' && kind !== 'mul' && kind !== 'sub' && kind !== 'div') {
    const xs = [rows, cols];
    if (swapped) referenceBackend.binary(kind, v, [1, cols], x, xs, out, xs);
    else referenceBackend.binary(kind, x, xs, v, [1, cols], out, xs);
    return;
  }
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    switch (kind) {
      case 'add': for (let c = 0; c < cols; c++) out[o + c] = x[o + c]! + v[c]!; break;
      case 'mul': for (let c = 0; c < cols; c++) out[o + c] = x[o + c]! * v[c]!; break;
      case 'sub':
        if (swapped) for (let c = 0; c < cols; c++) out[o + c] = v[c]! - x[o + c]!;
        else for (let c = 0; c < cols; c++) out[o + c] = x[o + c]! - v[c]!;
        break;
      case 'div':
        if (swapped) for (let c = 0; c < cols; c++) out[o + c] = v[c]! / x[o + c]!;
        else for (let c = 0; c < cols; c++) out[o + c] = x[o + c]! / v[c]!;
        break;
    }
  }
}

/** `x[r, c] ∘ v[r]` (or `v[r] ∘ x[r, c]` when `swapped`). */
function withColumn(kind: BinaryKind, x: FloatArray, v: FloatArray, out: FloatArray, cols: number, swapped: boolean): void {
  const rows = v.length;
  const f = (a: number, b: number): number => {
    switch (kind) {
      case 'add': return a + b;
      case 'sub': return a - b;
      case 'mul': return a * b;
      case 'div': return a / b;
      case 'pow': return Math.pow(a, b);
      case 'maximum': return Math.max(a, b);
      case 'minimum': return Math.min(a, b);
    }
  };
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    const s = v[r]!;
    if (kind === 'mul') for (let c = 0; c < cols; c++) out[o + c] = x[o + c]! * s;
    else if (kind === 'add') for (let c = 0; c < cols; c++) out[o + c] = x[o + c]! + s;
    else if (swapped) for (let c = 0; c < cols; c++) out[o + c] = f(s, x[o + c]!);
    else for (let c = 0; c < cols; c++) out[o + c] = f(x[o + c]!, s);
  }
}

/**
 * Unary kernels with the function inlined per kind; the formulas match reference.ts, with
 * {@link fastExp} (float32-accurate) in place of `Math.exp`.
 */
export function fastUnary(kind: UnaryKind, x: FloatArray, out: FloatArray): boolean {
  const n = x.length;
  switch (kind) {
    case 'neg': for (let i = 0; i < n; i++) out[i] = -x[i]!; return true;
    case 'exp': for (let i = 0; i < n; i++) out[i] = fastExp(x[i]!); return true;
    case 'relu': for (let i = 0; i < n; i++) { const v = x[i]!; out[i] = v > 0 ? v : v <= 0 ? 0 : v; } return true;
    case 'silu':
      for (let i = 0; i < n; i++) {
        const v = x[i]!;
        if (v >= 0) out[i] = v / (1 + fastExp(-v));
        else { const e = fastExp(v); out[i] = (v * e) / (1 + e); }
      }
      return true;
    case 'sigmoid':
      for (let i = 0; i < n; i++) {
        const v = x[i]!;
        if (v >= 0) out[i] = 1 / (1 + fastExp(-v));
        else { const e = fastExp(v); out[i] = e / (1 + e); }
      }
      return true;
    case 'rsqrt': for (let i = 0; i < n; i++) out[i] = 1 / Math.sqrt(x[i]!); return true;
    default: return false;
  }
}

/**
 * Row softmax: the max, then exp and sum together in one pass, then one multiply by 1/sum
 * (cheaper than a divide per element). `fastExp` instead of `Math.exp` halves the time: exp
 * is most of the work. A masked score (−∞) gives exactly 0.
 */
export function fastSoftmax(x: FloatArray, out: FloatArray, rows: number, cols: number): void {
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    let max = -Infinity;
    for (let c = 0; c < cols; c++) { const v = x[o + c]!; max = v > max || v !== v ? v : max; }
    let sum = 0;
    for (let c = 0; c < cols; c++) { const e = fastExp(x[o + c]! - max); out[o + c] = e; sum += e; }
    const inv = 1 / sum;
    for (let c = 0; c < cols; c++) out[o + c] = out[o + c]! * inv;
  }
}

/** `dx = y ⊙ (dy − Σ_c dy⊙y)` row-wise, as in the reference. */
export function fastSoftmaxBackward(y: FloatArray, dy: FloatArray, out: FloatArray, rows: number, cols: number): void {
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    let dot = 0;
    for (let c = 0; c < cols; c++) dot += dy[o + c]! * y[o + c]!;
    for (let c = 0; c < cols; c++) out[o + c] = y[o + c]! * (dy[o + c]! - dot);
  }
}

/** `out[o, i] = Σ_m x[o, m, i]`, with the inner = 1 case (row sums) as its own loop. */
export function fastSumMiddle(x: FloatArray, out: FloatArray, outer: number, mid: number, inner: number): void {
  if (inner === 1) {
    for (let o = 0; o < outer; o++) {
      let s = 0;
      const base = o * mid;
      for (let m = 0; m < mid; m++) s += x[base + m]!;
      out[o] = s;
    }
    return;
  }
  out.fill(0);
  for (let o = 0; o < outer; o++) {
    const dst = o * inner;
    for (let m = 0; m < mid; m++) {
      const src = (o * mid + m) * inner;
      for (let i = 0; i < inner; i++) out[dst + i] = out[dst + i]! + x[src + i]!;
    }
  }
}
