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
import { Code, type FuncSpec, I32, V128, type ValType } from './wasm-emit';

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

/** Vectors per step of {@link emitUnrolled} (measured on the map kernels: 4 gives 1.2×, 8 1.4×, 16 spills registers and falls back to 1.2×). */
export const UNROLL = 8;

/**
 * The vector part of a kernel, bytes [i, vend) of its arrays (i starts at 0, vend a multiple
 * of 16), {@link UNROLL} vectors per step: each step first loads all its vectors, then
 * computes each, then stores each; the vectors left over run one per step. `load(off, u)`,
 * `compute(u)` and `store(off, u)` emit the work of vector u (the caller's u-th set of
 * locals) at byte i + off. Why loads first: one vector's eˣ is a chain of ≈ 20 dependent
 * instructions, and written one vector after another (or not unrolled) the core's scheduler
 * fills with that chain before it reaches the next load — measured, unrolling without
 * grouping the loads gains nothing, grouped it is 1.4× on sigmoid/SiLU/exp. The
 * arithmetic of each vector, and the order of anything accumulated in `store`, is that of
 * the plain loop, so the results are the same bits.
 */
export function emitUnrolled(
  f: Fn, i: number, vend: number,
  step: { load: (off: number, u: number) => void; compute: (u: number) => void; store: (off: number, u: number) => void },
): void {
  const c = f.code;
  const vendU = f.local(I32);
  c.localGet(vend).i32Const(-16 * UNROLL).i32And().localSet(vendU);
  whileBelow(c, i, vendU, 16 * UNROLL, () => {
    for (let u = 0; u < UNROLL; u++) step.load(16 * u, u);
    for (let u = 0; u < UNROLL; u++) step.compute(u);
    for (let u = 0; u < UNROLL; u++) step.store(16 * u, u);
  });
  whileBelow(c, i, vend, 16, () => { step.load(0, 0); step.compute(0); step.store(0, 0); });
}

/** `n` fresh v128 locals (one per unrolled vector). */
export function v128Locals(f: Fn, n = UNROLL): number[] {
  return Array.from({ length: n }, () => f.local(V128));
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

// XNNPACK's rr2-p5 constants (src/f32-raddstoreexpminusmax/wasmsimd-rr2-p5*.c), as float32 hex.
/** log₂e rounded to float32 (0x1.715476p+0). */
const LOG2E_F32 = 1.4426950216293335;
/** 1.5·2²³ + 127 (0x1.8000FEp23): the rounded sum's low mantissa bits hold n + 127, 2ⁿ's exponent field. */
const ROUND_BIASED = 12583039;
/** −ln 2 split: LN2_HI (−0x1.62E4p-1) has 16 significant bits, so n·LN2_HI is exact for |n| ≤ 2⁸. */
const MINUS_LN2_HI = -0.693145751953125;
/** −ln 2 − MINUS_LN2_HI (−0x1.7F7D1Cp-20). */
const MINUS_LN2_LO = -1.428606765330187e-6;
/** Minimax coefficients of (eᵗ − 1)/t ≈ c₁ + c₂t + … + c₅t⁴ on |t| ≤ ½ln 2 (c₅ first). */
const P5 = [0.008289290592074394, 0.04189782217144966, 0.16667652130126953, 0.4999915063381195, 0.9999997019767761];
/** ln(2⁻¹²⁶) rounded up to float32 (−0x1.5D589Ep6): below it eˣ is subnormal and is flushed to 0. */
export const EXP_CUTOFF = -87.33654022216797;

/**
 * dst = eˣ lane-wise for x ≤ 0 (x, dst: v128 locals; dst may equal x) — the cheaper exp of the
 * softmax (x − max ≤ 0) and of the logistic (e^(−|z|)), 22 wasm SIMD instructions to emitExp's 35.
 * XNNPACK's `rr2-p5`:
 *
 *   n = round(x·log₂e) ∈ [−126, 0],  t = x − n·ln2_hi − n·ln2_lo ∈ [−½ln 2, ½ln 2]
 *   eᵗ ≈ 1 + t·p(t),  p(t) = c₁ + c₂t + c₃t² + c₄t³ + c₅t⁴   (degree-5 minimax for eᵗ)
 *   eˣ = 2ⁿ·eᵗ = s + (t·s)·p(t),  s = 2ⁿ from its exponent bits ((n + 127) << 23)
 *
 * Only one 2ⁿ factor is needed because n ≥ −126 keeps s a normal float. What it gives up
 * against emitExp: x > 0 (no overflow branch: results would be wrong above 88.7), and
 * gradual underflow — below EXP_CUTOFF (where eˣ < 2⁻¹²⁶ would be subnormal) the result is
 * exactly 0. For a softmax that cannot matter: the row sum Σ eˣ⁻ᵐᵃˣ ≥ 1, so a flushed term
 * changes a probability by < 2⁻¹²⁶ absolute. For the logistic it means σ(z) = 0 rather than
 * a subnormal for z < −87.3 (an absolute difference < 2⁻¹²⁶). Error: measured against
 * float64 Math.exp over every 61st float32 in [EXP_CUTOFF, 0] (test/fast-exp.test.ts), at
 * most 2.22 float32 ulp (≈ 2.6e-7 relative), against emitExp's 0.97 ulp: the degree-5
 * polynomial and the single float32 rounding of each Horner step, not the range reduction.
 * NaN stays NaN (every comparison with it is false); −∞ (the causal mask) gives exactly 0.
 */
export function emitExpNonPositive(f: Fn, x: number, dst: number): void {
  const c = f.code;
  const low = f.local(V128), xc = f.local(V128), n = f.local(V128), s = f.local(V128), t = f.local(V128), p = f.local(V128);
  // Lanes below the cutoff are computed on 0 and zeroed at the end: on −∞ the reduction
  // would give NaN, and near −87 the products t·s can be subnormal (a microcode assist).
  c.localGet(x).f32x4Const(EXP_CUTOFF).f32x4Lt().localSet(low);
  c.localGet(x).localGet(low).v128AndNot().localSet(xc);
  // n + 127 in the low bits of xc·log₂e + 1.5·2²³ + 127; s = 2ⁿ is those bits shifted into the exponent
  c.localGet(xc).f32x4Const(LOG2E_F32).f32x4Mul().f32x4Const(ROUND_BIASED).f32x4Add().localTee(n);
  c.i32Const(23).i32x4Shl().localSet(s);
  c.localGet(n).f32x4Const(ROUND_BIASED).f32x4Sub().localSet(n);
  // t = xc − n·ln 2 in two steps (Cody–Waite)
  c.localGet(n).f32x4Const(MINUS_LN2_HI).f32x4Mul().localGet(xc).f32x4Add();
  c.localGet(n).f32x4Const(MINUS_LN2_LO).f32x4Mul().f32x4Add().localSet(t);
  // p(t) by Horner
  c.f32x4Const(P5[0]!).localGet(t).f32x4Mul().f32x4Const(P5[1]!).f32x4Add().localSet(p);
  for (const coef of P5.slice(2)) c.localGet(p).localGet(t).f32x4Mul().f32x4Const(coef).f32x4Add().localSet(p);
  // eˣ = (t·s)·p + s, then 0 below the cutoff
  c.localGet(t).localGet(s).f32x4Mul().localGet(p).f32x4Mul().localGet(s).f32x4Add();
  c.localGet(low).v128AndNot().localSet(dst);
}

/** dst = num(x)/(1 + e), e = e^(−|z|): the overflow-free logistic of reference.ts, lane-wise. */
export function emitLogistic(f: Fn, z: number, numWhenNonNeg: (c: Code) => void, numWhenNeg: (c: Code, e: number) => void, dst: number): void {
  const c = f.code;
  const e = f.local(V128);
  c.localGet(z).f32x4Abs().f32x4Neg().localSet(e);
  emitExpNonPositive(f, e, e);
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
