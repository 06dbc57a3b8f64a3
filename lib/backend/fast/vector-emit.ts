/**
 * The building blocks of the WebAssembly SIMD vector kernels (vector-kernels.ts): a function
 * under construction, the loop shapes every kernel shares (over a row's bytes, over rows) and
 * the lane-wise math (eˣ, the logistic, a four-lane sum).
 *
 * **exp** (Cody–Waite range reduction and a minimax polynomial, as Cephes' `expf` and the
 * vectorised exps in XNNPACK and SLEEF):
 *
 *   n = round(x·log₂e),  r = x − n·C₁ − n·C₂   (rounding by adding and subtracting 1.5·2²³)   (C₁ + C₂ = ln 2, C₁ with few bits so n·C₁ is exact)
 *   eʳ ≈ 1 + r + r²·P(r)   (|r| ≤ ½ln 2, Cephes' degree-5 P: relative error ≈ 1e-7)
 *   eˣ = eʳ · 2^⌊n/2⌋ · 2^(n−⌊n/2⌋)
 *
 * The two powers of two are built by writing the exponent bits of a float32 directly
 * ((k + 127) << 23). Splitting 2ⁿ in two keeps each factor a normal float for every n in
 * [−150, 128], so results that are subnormal in float32 come out right (gradual underflow)
 * and results above float32's range overflow to +∞, both as `Math.fround(Math.exp(x))` does.
 * x is clamped to [−104, 89] first; below −104 the result is exactly 0 (e⁻¹⁰⁴ < 2⁻¹⁵⁰, and the
 * causal mask's −∞ must give weight exactly 0). NaN propagates (the clamp's pseudo-min/max keep a NaN first operand).
 *
 */
import { Code, type FuncSpec, V128, type ValType } from './wasm-emit';

/** A function under construction: its parameters, the locals it allocates, its body. */
export class Fn {
  readonly code = new Code();
  private readonly locals: ValType[] = [];

  constructor(readonly name: string, private readonly params: ValType[]) {}

  /** A new local of type `t`; returns its index. */
  local(t: ValType): number {
    this.locals.push(t);
    return this.params.length + this.locals.length - 1;
  }

  spec(): FuncSpec {
    return { name: this.name, params: this.params, locals: this.locals, body: this.code };
  }
}

/** `while (i < end) { body(); i += step }` for unsigned byte offsets `i`, `end` (locals). */
export function whileBelow(c: Code, i: number, end: number, step: number, body: () => void): void {
  c.block().loop();
  c.localGet(i).localGet(end).i32GeU().brIf(1);
  body();
  c.localGet(i).i32Const(step).i32Add().localSet(i);
  c.br(0).end().end();
}

// Cephes expf constants.
const LOG2E = 1.44269504088896341;
const C1 = 0.693359375;
const C2 = -2.12194440e-4;
const P = [1.9875691500e-4, 1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1];

/** 1.5·2²³: adding it to |t| < 2²² rounds t to an integer and leaves that integer in the low mantissa bits. */
const ROUND = 12582912;
/** The bit pattern of ROUND as a float32. */
const ROUND_BITS = 0x4b400000;

/** dst = eˣ lane-wise (x, dst: v128 locals; dst may equal x). See the file comment. */
export function emitExp(f: Fn, x: number, dst: number): void {
  const c = f.code;
  const xc = f.local(V128), n = f.local(V128), r = f.local(V128), p = f.local(V128), k = f.local(V128), h = f.local(V128), low = f.local(V128);
  // Clamp with the pseudo-min/max (single instructions) and x first, so a NaN x stays NaN.
  // Lanes below −104 (−∞: the causal mask) come out exactly 0 at the end whatever is computed
  // for them, so they are computed on 0, not on −104: e⁻¹⁰⁴'s 2ⁿ product is subnormal, and a
  // subnormal multiply costs a microcode assist (≈ 100 cycles) — half the attention scores
  // are masked. Lanes ≥ −104 are unchanged.
  c.localGet(x).f32x4Const(-104).f32x4Lt().localSet(low);
  c.localGet(x).f32x4Const(-104).f32x4Pmax().f32x4Const(89).f32x4Pmin().localGet(low).v128AndNot().localSet(xc);
  // n = round(xc·log₂e) by the 1.5·2²³ trick (faster than f32x4.nearest + a saturating
  // conversion); k = n as an integer, read from the mantissa bits of the rounded sum.
  c.localGet(xc).f32x4Const(LOG2E).f32x4Mul().f32x4Const(ROUND).f32x4Add().localTee(k);
  c.f32x4Const(ROUND).f32x4Sub().localSet(n);
  c.localGet(k).i32x4Const(ROUND_BITS).i32x4Sub().localSet(k);
  // r = xc − n·C₁ − n·C₂
  c.localGet(xc).localGet(n).f32x4Const(C1).f32x4Mul().f32x4Sub().localGet(n).f32x4Const(C2).f32x4Mul().f32x4Sub().localSet(r);
  // P(r) by Horner, then eʳ ≈ P(r)·r² + r + 1
  c.f32x4Const(P[0]!).localSet(p);
  for (const coef of P.slice(1)) c.localGet(p).localGet(r).f32x4Mul().f32x4Const(coef).f32x4Add().localSet(p);
  c.localGet(p).localGet(r).f32x4Mul().localGet(r).f32x4Mul().localGet(r).f32x4Add().f32x4Const(1).f32x4Add().localSet(p);
  // h = k >> 1; the factors 2ʰ and 2^(k−h) from their exponent bits
  c.localGet(k).i32Const(1).i32x4ShrS().localSet(h);
  c.localGet(p);
  c.localGet(h).i32x4Const(127).i32x4Add().i32Const(23).i32x4Shl().f32x4Mul();
  c.localGet(k).localGet(h).i32x4Sub().i32x4Const(127).i32x4Add().i32Const(23).i32x4Shl().f32x4Mul();
  // exactly 0 below −104 (−∞ included); NaN compares false and stays NaN
  c.localGet(low).v128AndNot().localSet(dst);
}

/** dst = num(x)/(1 + e), e = e^(−|z|): the overflow-free logistic of reference.ts, lane-wise. */
export function emitLogistic(f: Fn, z: number, numWhenNonNeg: (c: Code) => void, numWhenNeg: (c: Code, e: number) => void, dst: number): void {
  const c = f.code;
  const e = f.local(V128);
  c.localGet(z).f32x4Abs().f32x4Neg().localSet(e);
  emitExp(f, e, e);
  numWhenNonNeg(c);
  numWhenNeg(c, e);
  c.localGet(z).f32x4Const(0).f32x4Ge().v128Bitselect();
  c.localGet(e).f32x4Const(1).f32x4Add().f32x4Div().localSet(dst);
}

/**
 * The loop every row kernel shares: rowBytes = 4·cols and vend = 4·⌊cols/4⌋ (where the SIMD
 * part of a row ends, in bytes), then `while (rows > 0) { body(); p += rowBytes for each row
 * pointer; p += 4 for each per-row scalar pointer; rows-- }`.
 */
export function emitRowLoop(
  c: Code, l: { rows: number; cols: number; rowBytes: number; vend: number },
  advance: { rowPointers: readonly number[]; scalarPointers?: readonly number[] }, body: () => void,
): void {
  c.localGet(l.cols).i32Const(2).i32Shl().localSet(l.rowBytes);
  c.localGet(l.cols).i32Const(-4).i32And().i32Const(2).i32Shl().localSet(l.vend);
  c.block().loop();
  c.localGet(l.rows).i32Eqz().brIf(1);
  body();
  for (const p of advance.rowPointers) c.localGet(p).localGet(l.rowBytes).i32Add().localSet(p);
  for (const p of advance.scalarPointers ?? []) c.localGet(p).i32Const(4).i32Add().localSet(p);
  c.localGet(l.rows).i32Const(1).i32Sub().localSet(l.rows);
  c.br(0).end().end();
}

/** Sum of the four lanes of v128 local v, as (l₀ + l₁) + (l₂ + l₃), left on the stack. */
export function emitLaneSum(c: Code, v: number): void {
  c.localGet(v).f32x4ExtractLane(0).localGet(v).f32x4ExtractLane(1).f32Add();
  c.localGet(v).f32x4ExtractLane(2).localGet(v).f32x4ExtractLane(3).f32Add().f32Add();
}
