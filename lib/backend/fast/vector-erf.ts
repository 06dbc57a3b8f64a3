/**
 * The normal CDF Φ(x) = ½(1 + erf(x/√2)) lane-wise in float32, for the exact GELU (the ARRA
 * projector's activation, ../../../shared/ARRA.md) and its derivative:
 *
 *   GELU(x) = x·Φ(x),   GELU′(x) = Φ(x) + x·φ(x),   φ(x) = e^(−x²/2)/√(2π).
 *
 * The reference computes erf in float64 by a series of up to 60 terms (reference.ts), which is
 * what float64 gradient checks need and, per float32 element, costs about as much as the
 * projector's matmuls. Here Φ comes from erfc without a series:
 *
 *   erfc(z) = t·q(t)·e^(−z²),   t = 1/(1 + z/2),   z = |x|/√2,
 *   ½erfc(z) = h = ½·t·q(t)·e^(−x²/2),   Φ(x) = 1 − h for x ≥ 0, h for x < 0,
 *
 * q a degree-9 polynomial in t (fitted by bench/tools/fit-erfc.py: relative error 6.5e-8 in
 * float64 arithmetic, 1.8e-7 with float32 Horner steps). Using erfc rather than erf keeps Φ
 * accurate in relative terms for negative x (Φ = h, no 1 − 0.999… cancellation), and
 * e^(−x²/2) is computed once and shared by φ in the derivative. Measured against the float64
 * reference (test/gelu-erf.test.ts): Φ within a few float32 ulp; GELU and GELU′ to ≈ 3e-7
 * absolute on |x| ≤ 1 and ≈ 4e-7 relative beyond.
 *
 * Edges: e^(−x²/2) is the x ≤ 0 exp (vector-emit.ts), which flushes results below 2⁻¹²⁶ to 0,
 * so h = 0 for |x| > 13.2 (where Φ(−|x|) < 1e-39): GELU(x) = −0 there, as the reference gives
 * from x < −8.5 on (its erf rounds to −1). ±∞ follow the formulas (GELU(+∞) = +∞, GELU(−∞)
 * = −∞·0 = NaN, GELU′(±∞) = NaN, as in float64); NaN stays NaN.
 */
import { emitExpNonPositive, type Fn } from './vector-emit';
import { V128 } from './wasm-emit';

/** q(t) ≈ erfcx(z)/t, constant term first (bench/tools/fit-erfc.py). */
const Q = [
  0.2820590138435364, 0.28297168016433716, 0.2376367747783661, 0.23045210540294647, -0.11295543611049652,
  0.4490540623664856, -0.7036952376365662, 0.4541477859020233, -0.133877232670784, 0.014206461608409882,
];

/**
 * Φ(x) into `phi` and e^(−x²/2) into `gauss` (v128 locals) — see the file comment.
 */
export function emitNormalCdf(f: Fn, x: number, phi: number, gauss: number): void {
  const c = f.code;
  const t = f.local(V128), q = f.local(V128), h = f.local(V128);
  // t = 1/(1 + z/2) with z/2 = |x|/(2√2)
  c.f32x4Const(1).f32x4Const(1).localGet(x).f32x4Abs().f32x4Const(0.5 / Math.SQRT2).f32x4Mul().f32x4Add().f32x4Div().localSet(t);
  // q(t) by Horner, highest power first
  c.f32x4Const(Q[Q.length - 1]!).localSet(q);
  for (let k = Q.length - 2; k >= 0; k--) c.localGet(q).localGet(t).f32x4Mul().f32x4Const(Q[k]!).f32x4Add().localSet(q);
  // e^(−x²/2) ≤ 1
  c.localGet(x).localGet(x).f32x4Mul().f32x4Const(-0.5).f32x4Mul().localSet(gauss);
  emitExpNonPositive(f, gauss, gauss);
  // h = ½·t·q·e^(−x²/2) = ½erfc(|x|/√2); Φ = 1 − h where x ≥ 0, h elsewhere (NaN: h, NaN)
  c.localGet(t).localGet(q).f32x4Mul().localGet(gauss).f32x4Mul().f32x4Const(0.5).f32x4Mul().localSet(h);
  c.f32x4Const(1).localGet(h).f32x4Sub();
  c.localGet(h);
  c.localGet(x).f32x4Const(0).f32x4Ge().v128Bitselect().localSet(phi);
}

/** y = x·Φ(x), the exact GELU. */
export function emitGeluErf(f: Fn, x: number, y: number): void {
  const g = f.local(V128);
  emitNormalCdf(f, x, y, g);
  f.code.localGet(y).localGet(x).f32x4Mul().localSet(y);
}

/** d = Φ(x) + x·e^(−x²/2)/√(2π), the exact GELU's derivative. */
export function emitGeluErfGrad(f: Fn, x: number, d: number): void {
  const g = f.local(V128);
  emitNormalCdf(f, x, d, g);
  f.code.localGet(d).localGet(x).localGet(g).f32x4Mul().f32x4Const(1 / Math.sqrt(2 * Math.PI)).f32x4Mul().f32x4Add().localSet(d);
}
