/**
 * Accuracy of the `fast` backend's two SIMD exps (lib/backend/fast/vector-emit.ts), measured
 * over dense sweeps against float64 `Math.exp`, in float32 ulps of the true value:
 * - emitExpNonPositive (softmax's exp(x − max), rowMaxSumExp, and e^(−|z|) inside sigmoid,
 *   SiLU, tanh-GELU and SwiGLU): every 61st float32 in [EXP_CUTOFF, 0] (≈ 18 M values) plus
 *   a uniform grid, ≤ {@link NONPOS_ULP} ulp; exactly 0 below the cutoff and at −∞, 1 at 0,
 *   NaN stays NaN;
 * - the sigmoid and SiLU kernels built on it, relative to float64 formulas over [−87, 40];
 * - emitExp (the `exp` op itself, which keeps subnormals and +∞ exact) over [−87, 88].
 * The parity suite (test/backend-parity.test.ts) then compares whole kernels with the
 * reference at its 1e-5 tolerances; this file pins the exps' own error bound.
 */
import t from 'tap';
import { createFastBackend } from '../lib';
import { EXP_CUTOFF, emitExp, emitExpNonPositive, Fn, whileBelow } from '../lib/backend/fast/vector-emit';
import { wasm } from '../lib/backend/fast/wasm-api';
import { assembleModule, I32, V128 } from '../lib/backend/fast/wasm-emit';

/** Measured worst of emitExpNonPositive: 2.22 ulp (both sweeps below); the bound leaves a little headroom. */
const NONPOS_ULP = 2.5;
/** Measured worst of emitExp over [−87, 88]: 0.97 ulp (Cephes' polynomial is degree 7). */
const GENERAL_ULP = 1.25;

/** A module with `exp(x, out, n)` (n a multiple of 4) running `body` four lanes at a time. */
function expKernel(body: (f: Fn, x: number, y: number) => void): (xs: Float32Array) => Float32Array {
  const f = new Fn('exp', [I32, I32, I32]);
  const c = f.code;
  const i = f.local(I32), end = f.local(I32), x = f.local(V128), y = f.local(V128);
  c.localGet(2).i32Const(2).i32Shl().localSet(end);
  whileBelow(c, i, end, 16, () => {
    c.localGet(0).localGet(i).i32Add().v128Load().localSet(x);
    body(f, x, y);
    c.localGet(1).localGet(i).i32Add().localGet(y).v128Store();
  });
  const pages = 64; // 4 MiB: two buffers of 2¹⁹ floats
  const memory = new wasm.Memory({ initial: pages, maximum: pages, shared: false });
  const mod = new wasm.Module(assembleModule([f.spec()], { initialPages: pages, maxPages: pages, shared: false }));
  const run = new wasm.Instance(mod, { env: { memory } }).exports.exp as (x: number, out: number, n: number) => void;
  const buf = new Float32Array(memory.buffer as ArrayBuffer), half = buf.length / 2;
  return (xs) => {
    const out = new Float32Array(xs.length);
    for (let s = 0; s < xs.length; s += half) {
      const n = Math.min(half, xs.length - s), n4 = Math.ceil(n / 4) * 4;
      buf.fill(0, 0, n4);
      buf.set(xs.subarray(s, s + n), 0);
      run(0, half * 4, n4);
      out.set(buf.subarray(half, half + n), s);
    }
    return out;
  };
}

/** |got − e^x| in ulps of e^x as a float32 (ulp = 2^(⌊log₂ e^x⌋ − 23), normal range). */
function ulpError(got: number, x: number): number {
  const want = Math.exp(x);
  return Math.abs(got - want) / 2 ** (Math.floor(Math.log2(want)) - 23);
}

/** The worst ulp error over xs, and where. */
function worstUlp(xs: Float32Array, got: Float32Array): { ulp: number; at: number } {
  let ulp = 0, at = NaN;
  for (let i = 0; i < xs.length; i++) {
    const e = ulpError(got[i]!, xs[i]!);
    if (!(e <= ulp)) { ulp = e; at = xs[i]!; }
  }
  return { ulp, at };
}

/** Every `step`-th float32 from a down to b (a, b ≤ 0, a > b), by their bit patterns. */
function float32sBetween(a: number, b: number, step: number): Float32Array {
  const bits = new Uint32Array(Float32Array.of(a, b).buffer);
  const lo = a === 0 ? 0x80000000 : bits[0]!, hi = bits[1]!; // negative floats: bits grow as the value falls
  const n = Math.floor((hi - lo) / step) + 1;
  const u = Uint32Array.from({ length: n }, (_, i) => lo + i * step);
  return new Float32Array(u.buffer);
}

t.test('emitExpNonPositive: error over [cutoff, 0] in float32 ulps', async (t) => {
  const exp = expKernel(emitExpNonPositive);
  const dense = float32sBetween(0, EXP_CUTOFF, 61);
  const grid = Float32Array.from({ length: 1 << 19 }, (_, i) => EXP_CUTOFF * (i / ((1 << 19) - 1)));
  for (const [what, xs] of [['every 61st float32', dense], ['a uniform grid of 2¹⁹', grid]] as const) {
    const { ulp, at } = worstUlp(xs, exp(xs));
    t.ok(ulp <= NONPOS_ULP, `${what} (${xs.length} values): worst ${ulp.toFixed(3)} ulp at x = ${at} (bound ${NONPOS_ULP})`);
  }
});

t.test('emitExpNonPositive: the edges', async (t) => {
  const exp = expKernel(emitExpNonPositive);
  const below = Math.fround(EXP_CUTOFF - 1e-5);
  const xs = Float32Array.from([0, -0, -Infinity, NaN, below, -88, -1000, EXP_CUTOFF]);
  const y = exp(xs);
  t.equal(y[0], 1, 'e⁰ = 1 exactly');
  t.equal(y[1], 1, 'e^−0 = 1 exactly');
  t.equal(y[2], 0, 'e^−∞ = 0 exactly (the causal mask)');
  t.ok(Number.isNaN(y[3]), 'NaN stays NaN');
  t.same([y[4], y[5], y[6]], [0, 0, 0], 'flushed to 0 below the cutoff (e^x would be subnormal)');
  t.ok(y[7]! >= 2 ** -126 && ulpError(y[7]!, EXP_CUTOFF) <= NONPOS_ULP, `at the cutoff: ${y[7]}, the smallest normal or just above`);
});

t.test('emitExp (the exp op): error over [−87, 88] in float32 ulps', async (t) => {
  const exp = expKernel(emitExp);
  const xs = Float32Array.from({ length: 1 << 20 }, (_, i) => -87 + 175 * (i / ((1 << 20) - 1)));
  const { ulp, at } = worstUlp(xs, exp(xs));
  t.ok(ulp <= GENERAL_ULP, `worst ${ulp.toFixed(3)} ulp at x = ${at} (bound ${GENERAL_ULP})`);
});

t.test('sigmoid and SiLU on the cheaper exp: relative error over [−87, 40]', async (t) => {
  const fast = createFastBackend({ threads: 1 });
  t.teardown(() => fast.dispose?.());
  const xs = Float32Array.from({ length: 1 << 19 }, (_, i) => -87 + 127 * (i / ((1 << 19) - 1)));
  const out = new Float32Array(xs.length);
  const sigma = (x: number): number => 1 / (1 + Math.exp(-x));
  for (const [kind, want] of [['sigmoid', sigma], ['silu', (x: number) => x * sigma(x)]] as const) {
    fast.unary(kind, xs, out);
    let worst = 0, at = NaN;
    for (let i = 0; i < xs.length; i++) {
      const w = want(xs[i]!);
      if (w === 0) continue;
      const e = Math.abs(out[i]! - w) / Math.abs(w);
      if (!(e <= worst)) { worst = e; at = xs[i]!; }
    }
    // e = e^(−|x|) is within 2.22 ulp, ≤ 2.22·2⁻²³ = 2.6e-7 relative; 1/(1 + e) and e/(1 + e)
    // pass a relative error of e on scaled by at most 1; then the add, the division and (SiLU)
    // the multiply by x each round, ≤ 2⁻²⁴ = 6e-8 each: ≤ 3.8e-7 (sigmoid), 4.4e-7 (SiLU).
    t.ok(worst <= 4.5e-7, `${kind}: worst relative error ${worst.toExponential(2)} at x = ${at} (bound 4.5e-7)`);
  }
});
