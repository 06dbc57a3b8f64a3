/**
 * The fast matmul's fused multiply-add (lib/backend/fast/fma.ts): the host probe, the option
 * and its environment variable, and what fusing changes in a product — one rounding per
 * multiply-add instead of two, so on a case built to show it the two kernels differ, and on
 * random data the fused one is closer to float64 (never farther in aggregate).
 */
import t from 'tap';
import { createFastBackend, fmaFromEnv } from '../lib/backend/fast';
import { relaxedMadd } from '../lib/backend/fast/fma';
import { GemmEngine } from '../lib/backend/fast/gemm';
import { Rng } from '../lib';

const host = relaxedMadd();
t.comment(`f32x4.relaxed_madd on this host: ${host}`);

/** C = A·B with A [m, k], B [k, n] row-major, on an engine. */
function product(engine: GemmEngine, a: Float32Array, b: Float32Array, m: number, k: number, n: number): Float32Array {
  const out = new Float32Array(m * n);
  engine.matmul({ a, b, out, m, k, n, transA: false, transB: false, aOffsets: [0], bOffsets: [0] });
  return out;
}

t.test('the probe answers one of three, and the same each time', async (t) => {
  t.ok(['fused', 'separate', 'unavailable'].includes(host));
  t.equal(relaxedMadd(), host);
});

t.test('one rounding or two: c + x·x with x = 1 + 2⁻¹², c = −(1 + 2⁻¹¹)', async (t) => {
  // k = 2: the kernel first accumulates c·1 (exact), then x·x. Exactly: 2⁻²⁴. With x·x rounded
  // to float32 first (a tie, to even: 1 + 2⁻¹¹) the sum is 0.
  const x = 1 + 2 ** -12;
  const a = Float32Array.of(-(1 + 2 ** -11), x); // [1, 2]
  const b = Float32Array.of(1, x); // [2, 1]
  const separate = new GemmEngine(1, false);
  const auto = new GemmEngine(1);
  t.teardown(() => { separate.dispose(); auto.dispose(); });
  t.equal(separate.fma, false);
  t.equal(product(separate, a, b, 1, 2, 1)[0], 0, 'separate multiply and add: two roundings');
  t.equal(auto.fma, host === 'fused', 'auto fuses exactly when the probe found a fused one');
  t.equal(product(auto, a, b, 1, 2, 1)[0], host === 'fused' ? 2 ** -24 : 0, 'auto: one rounding where fused');
  if (host === 'fused') {
    const required = new GemmEngine(1, true);
    t.teardown(() => required.dispose());
    t.equal(product(required, a, b, 1, 2, 1)[0], 2 ** -24, 'fma: true on a fused host');
  } else {
    t.throws(() => new GemmEngine(1, true), /a fused multiply-add was asked for, but on this host f32x4\.relaxed_madd is/);
  }
});

// With k terms a product's rounding is one error among ≈ k of the running sum's, so the gain shows
// when k is small (k = 4: 0.86× the rms error here) and fades as k grows (k = 1500: 0.998×, below the
// ≈ 1/√(m·n) ≈ 1.5% that other data would move the ratio by — so there only 'not worse beyond 3%').
for (const [m, k, n, note] of [[256, 4, 256, 'k = 4: products round as often as sums'], [64, 1500, 72, 'k = 1500 > 1000, several k-blocks']] as const) t.test(`on random data the fused kernel is closer to float64 over all of C (${note})`, { skip: host === 'fused' ? false : 'no fused multiply-add on this host' }, async (t) => {
  const r = new Rng(7);
  const a = Float32Array.from({ length: m * k }, () => r.normal());
  const b = Float32Array.from({ length: k * n }, () => r.normal());
  const exact = new Float64Array(m * n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
    let s = 0;
    for (let p = 0; p < k; p++) s += a[i * k + p]! * b[p * n + j]!; // float64 products of float32s are exact
    exact[i * n + j] = s;
  }
  const fused = new GemmEngine(2, true), separate = new GemmEngine(2, false);
  t.teardown(() => { fused.dispose(); separate.dispose(); });
  const err = (c: Float32Array): number => { let s = 0; for (let i = 0; i < c.length; i++) s += (c[i]! - exact[i]!) ** 2; return Math.sqrt(s / c.length); };
  const ef = err(product(fused, a, b, m, k, n)), es = err(product(separate, a, b, m, k, n));
  t.comment(`rms error vs float64: fused ${ef.toExponential(3)}, separate ${es.toExponential(3)}`);
  t.ok(ef > 0 && es > 0, 'both round somewhere (the test can see a difference)');
  t.ok(ef <= (k < 100 ? 0.9 : 1.03) * es, k < 100 ? 'fused is clearly closer' : 'fused is not worse beyond noise');
  t.ok(ef < 1e-5 * Math.sqrt(k) && es < 1e-5 * Math.sqrt(k), 'both within the parity tolerance');
});

t.test('the option and ARRA_FMA', async (t) => {
  t.equal(fmaFromEnv(undefined), 'auto');
  t.equal(fmaFromEnv(''), 'auto');
  t.equal(fmaFromEnv('auto'), 'auto');
  t.equal(fmaFromEnv('0'), false);
  t.equal(fmaFromEnv('1'), true);
  t.throws(() => fmaFromEnv('yes'), /ARRA_FMA must be auto, 0 or 1 .* got 'yes'/);
  const off = createFastBackend({ threads: 1, fma: false });
  t.teardown(() => off.dispose?.());
  t.equal(off.fma, false);
  const old = process.env.ARRA_FMA;
  process.env.ARRA_FMA = 'nope';
  try {
    t.throws(() => createFastBackend({ threads: 1 }), /ARRA_FMA must be auto, 0 or 1/, 'a bad value is refused when the backend is made, before any work');
  } finally {
    if (old === undefined) delete process.env.ARRA_FMA; else process.env.ARRA_FMA = old;
  }
});
