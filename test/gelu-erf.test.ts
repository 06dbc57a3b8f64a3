/**
 * Accuracy of the `fast` backend's float32 exact GELU and its derivative
 * (lib/backend/fast/vector-erf.ts: Φ from a fitted erfc, no series), over a dense sweep of
 * [−14, 14], against Φ computed here independently in float64 — erfc by its continued fraction
 * for z ≥ 2, 1 − erf below (the reference's erf, whose own 1 + erf(x) would lose the relative
 * accuracy of Φ for x ≪ 0 that the float32 kernel keeps). Bounds, each a little above what was
 * measured when the kernel was written:
 * - |x| ≤ 1: absolute error ≤ 2.5e-7 (measured 1.1e-7 for GELU, 2.1e-7 for GELU′);
 * - |x| > 1: relative error ≤ 1e-6 + 3e-8·x² (measured 5e-7 to 7e-7 for |x| ≤ 4, 4.1e-6 at
 *   |x| = 12–14: the float32 rounding of x²/2 inside e^(−x²/2), relative error ≈ (x²/2)·2⁻²⁴).
 * Also: GELU(x) = x·Φ(x) and GELU′ agree with the float64 reference kernels in float64
 * (the backward's formula is unchanged there), and the edges of the file comment.
 */
import t from 'tap';
import { createFastBackend } from '../lib';
import { erf, referenceBackend } from '../lib/backend/reference';

const fast = createFastBackend();

/** erfc(z), z ≥ 0, to ≈ 1e-15 relative. */
function erfc(z: number): number {
  if (z < 2) return 1 - erf(z);
  // erfc z = e^(−z²)/√π · 1/(z + ½/(z + 1/(z + (3/2)/(z + …)))), evaluated from the bottom up
  let f = z;
  for (let n = 200; n >= 1; n--) f = z + n / 2 / f;
  return Math.exp(-z * z) / Math.sqrt(Math.PI) / f;
}
const Phi = (x: number): number => (x >= 0 ? 1 - 0.5 * erfc(x / Math.SQRT2) : 0.5 * erfc(-x / Math.SQRT2));
const gelu = (x: number): number => x * Phi(x);
const geluGrad = (x: number): number => Phi(x) + (x * Math.exp(-0.5 * x * x)) / Math.sqrt(2 * Math.PI);

function run(kind: 'geluErf' | 'geluErfGrad', xs: Float32Array): Float32Array {
  const out = new Float32Array(xs.length);
  fast.unary(kind, xs, out);
  return out;
}

t.test('float32 GELU and GELU′ over [−14, 14] within the stated bounds', (t) => {
  const n = 400_001; // not a multiple of 4: the tail runs too
  const xs = Float32Array.from({ length: n }, (_, i) => -14 + (28 * i) / (n - 1));
  for (const [kind, truth] of [['geluErf', gelu], ['geluErfGrad', geluGrad]] as const) {
    const got = run(kind, xs);
    let worstAbs = 0, worstRatio = 0, at = 0;
    for (let i = 0; i < n; i++) {
      const x = xs[i]!, want = truth(x), err = Math.abs(got[i]! - want);
      if (Math.abs(x) <= 1) worstAbs = Math.max(worstAbs, err);
      else if (Math.abs(want) > 1e-37) {
        const ratio = err / Math.abs(want) / (1e-6 + 3e-8 * x * x);
        if (ratio > worstRatio) { worstRatio = ratio; at = x; }
      }
    }
    t.ok(worstAbs <= 2.5e-7, `${kind}: |x| ≤ 1 absolute error ${worstAbs.toExponential(2)} ≤ 2.5e-7`);
    t.ok(worstRatio <= 1, `${kind}: |x| > 1 relative error at most ${worstRatio.toFixed(2)} of its bound (worst at x = ${at.toFixed(3)})`);
  }
  t.end();
});

t.test('the float64 kernels are the reference formulas (gradient checks see no change)', (t) => {
  const xs = Float64Array.from([-7, -3.2, -1, -0.3, 0, 0.4, 1.7, 5]);
  const y = new Float64Array(xs.length), d = new Float64Array(xs.length);
  fast.unary('geluErf', xs, y);
  fast.unary('geluErfGrad', xs, d);
  for (let i = 0; i < xs.length; i++) {
    const x = xs[i]!;
    t.equal(y[i], 0.5 * x * (1 + erf(x / Math.SQRT2)), `GELU(${x})`);
    t.equal(d[i], 0.5 * (1 + erf(x / Math.SQRT2)) + x * (1 / Math.sqrt(2 * Math.PI)) * Math.exp(-0.5 * x * x), `GELU′(${x})`);
    t.ok(Math.abs(d[i]! - geluGrad(x)) < 1e-14, `GELU′(${x}) within 1e-14 of the independent Φ`);
  }
  t.end();
});

t.test('edges: signs, underflow of Φ, ±∞ and NaN', (t) => {
  const xs = Float32Array.from([0, -0, 20, -13.1, -13.5, -20, Infinity, -Infinity, NaN]);
  const y = run('geluErf', xs), d = run('geluErfGrad', xs);
  t.equal(y[0], 0, 'GELU(0) = 0');
  t.equal(d[0], 0.5, 'GELU′(0) = ½');
  t.equal(y[2], 20, 'GELU(20) = 20 (Φ rounds to 1)');
  t.equal(d[2], 1, 'GELU′(20) = 1');
  t.ok(y[3]! < 0 && y[3]! > -1e-36, `GELU(−13.1) a tiny negative number (${y[3]})`);
  t.ok(Object.is(y[4], -0) && Object.is(y[5], -0), 'GELU(x) = −0 once Φ(x) underflows (|x| > 13.2)');
  t.equal(d[5], 0, 'GELU′(−20) = 0');
  t.equal(y[6], Infinity, 'GELU(+∞) = +∞');
  t.ok(Number.isNaN(y[7]!), 'GELU(−∞) = −∞·0 = NaN, as in float64');
  const ref = new Float64Array(xs.length);
  referenceBackend.unary('geluErf', Float64Array.from(xs), ref);
  t.ok(Number.isNaN(ref[7]!), '(the reference gives NaN there too)');
  t.ok(Number.isNaN(d[6]!) && Number.isNaN(d[7]!), 'GELU′(±∞) = NaN (x·φ(x) = ∞·0), as in float64');
  t.ok(Number.isNaN(y[8]!) && Number.isNaN(d[8]!), 'NaN stays NaN');
  t.end();
});
