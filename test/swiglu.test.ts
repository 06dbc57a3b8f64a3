/**
 * lib/ops/swiglu.ts: the fused SwiGLU gate is `silu(a).mul(b)` — to the bit on the `ref`
 * backend (forward and both gradients, the reference kernels round where the two ops round),
 * within float32 tolerance on `fast` (SIMD σ) — and it rejects operands it cannot pair.
 */
import t from 'tap';
import { Rng, setBackend, silu, sum, swiglu, Tensor } from '../lib';

const rng = new Rng(77);
const n = 2 * 3 * 171; // 1026: not a multiple of 4, more than one SIMD block
const a0 = Float32Array.from({ length: n }, () => 4 * rng.normal());
const b0 = Float32Array.from({ length: n }, () => rng.normal());
const w0 = Float32Array.from({ length: n }, () => rng.normal());
a0.set([1000, -1000, 100, -100, NaN, 0], 0);
b0[7] = -1000;

/** y, ∂L/∂a and ∂L/∂b of L = Σ w ⊙ f(a, b) on the current backend. */
function run(f: (a: Tensor, b: Tensor) => Tensor): Float32Array[] {
  const a = new Tensor(a0.slice(), [2, 3, 171], true);
  const b = new Tensor(b0.slice(), [2, 3, 171], true);
  const y = f(a, b);
  sum(y.mul(new Tensor(w0.slice(), [2, 3, 171]))).backward();
  return [y.values() as Float32Array, a.grad!.values() as Float32Array, b.grad!.values() as Float32Array];
}
const unfused = (a: Tensor, b: Tensor): Tensor => silu(a).mul(b);

t.test('ref: swiglu is silu(a)·b to the bit, forward and backward', async (t) => {
  setBackend('ref');
  const want = run(unfused);
  const got = run(swiglu);
  ['y', '∂a', '∂b'].forEach((what, i) => t.same(got[i], want[i], `${what} identical`));
  t.ok(Number.isNaN(got[0]![4]!), 'NaN in a propagates to y');
});

t.test('fast: swiglu matches silu(a)·b on ref within float32 tolerance', async (t) => {
  setBackend('ref');
  const want = run(unfused);
  setBackend('fast');
  const got = run(swiglu);
  setBackend('ref');
  ['y', '∂a', '∂b'].forEach((what, k) => {
    let worst = 0;
    let nanOk = true;
    for (let i = 0; i < n; i++) {
      const g = got[k]![i]!, w = want[k]![i]!;
      if (Number.isNaN(w) || Number.isNaN(g)) { nanOk &&= Number.isNaN(w) === Number.isNaN(g); continue; }
      worst = Math.max(worst, Math.abs(g - w) / Math.max(1, Math.abs(w)));
    }
    t.ok(nanOk, `${what}: NaN where ref has NaN`);
    t.ok(worst < 1e-5, `${what}: max relative difference ${worst.toExponential(1)} < 1e-5`);
  });
});

t.test('swiglu rejects operands of different shapes or dtypes', async (t) => {
  const a = new Tensor(new Float32Array(6), [2, 3]);
  t.throws(() => swiglu(a, new Tensor(new Float32Array(3), [1, 3])), /swiglu: a and b must have the same shape, a is \[2, ?3\], b is \[1, ?3\]/);
  t.throws(() => swiglu(a, new Tensor(new Float64Array(6), [2, 3])), /swiglu: dtype mismatch/);
});
