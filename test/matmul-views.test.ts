/**
 * lib/ops/matmul.ts hands views with unit-step rows or columns (attention's permuted heads,
 * kᵀ, their gradients) to a backend with `stridedMatmul` as their storage, without copying
 * them. The product and both gradients must be the bits of the same product of contiguous
 * copies; a view spanning far more storage than it shows is still copied, with the same bits.
 */
import t from 'tap';
import { matmul, narrow, Rng, setBackend, sum, Tensor } from '../lib';

const rng = new Rng(9);
const randn = (n: number): Float32Array => Float32Array.from({ length: n }, () => rng.normal());
const [B, T, H, hd] = [3, 13, 4, 6];
const qData = randn(B * T * H * hd), kData = randn(B * T * H * hd), w = randn(B * H * T * T);

/** scores = q·kᵀ over heads [B, H, T, hd] viewed from [B, T, H, hd] (or copied first), and ∂q, ∂k. */
function attentionScores(copy: boolean): Float32Array[] {
  const q0 = new Tensor(qData.slice(), [B, T, H, hd], true);
  const k0 = new Tensor(kData.slice(), [B, T, H, hd], true);
  const view = (x: Tensor): Tensor => {
    const p = x.permute([0, 2, 1, 3]); // [B, H, T, hd], not contiguous
    return copy ? p.mul(1) : p; // mul(1) is exact: a contiguous copy with the same values
  };
  const s = matmul(view(q0), view(k0).transpose(-2, -1)); // [B, H, T, T]
  sum(s.mul(new Tensor(w, [B, H, T, T]))).backward();
  return [s.values() as Float32Array, q0.grad!.values() as Float32Array, k0.grad!.values() as Float32Array];
}

t.test('fast: products of permuted views are the bits of the products of their copies', async (t) => {
  setBackend('fast');
  const viewed = attentionScores(false);
  const copied = attentionScores(true);
  ['scores', '∂q', '∂k'].forEach((what, i) => t.same(viewed[i], copied[i], `${what} identical`));
  setBackend('ref');
  const ref = attentionScores(false);
  let worst = 0;
  for (let i = 0; i < ref[0]!.length; i++) worst = Math.max(worst, Math.abs(ref[0]![i]! - viewed[0]![i]!));
  t.ok(worst < 1e-5, `and match ref (max difference ${worst.toExponential(1)})`);
});

t.test('fast: column windows (narrow) of narrow and of wide storage — read in place and copied — give the bits of their copies', async (t) => {
  setBackend('fast');
  const x = randn(7 * 40);
  for (const width of [12, 1000]) { // span ≈ 40·width floats: in place for 12, copied for 1000
    const data = randn(40 * width);
    const grads = (copy: boolean): Float32Array[] => {
      const wide = new Tensor(data.slice(), [40, width], true);
      const xs = new Tensor(x.slice(), [7, 40], true);
      const win = narrow(wide, 1, 3, 5); // [40, 5], rows `width` apart
      const y = matmul(xs, copy ? win.mul(1) : win); // [7, 5]
      sum(y.mul(y)).backward();
      return [y.values() as Float32Array, xs.grad!.values() as Float32Array, wide.grad!.values() as Float32Array];
    };
    const viewed = grads(false), copied = grads(true);
    ['y', '∂x', '∂wide'].forEach((what, i) => t.same(viewed[i], copied[i], `width ${width}: ${what} identical`));
  }
  setBackend('ref');
});

// Linear's x·Wᵀ: dW is computed as gᵀ·x straight into W's layout (matmul.ts, gradOfB), so the
// weight's gradient is contiguous — and must be the bits of (xᵀ·g)ᵀ, the product it replaces.
for (const name of ['fast', 'ref']) {
  t.test(`${name}: the gradient of a transposed weight is contiguous and the bits of (xᵀ·g)ᵀ`, async (t) => {
    setBackend(name);
    t.teardown(() => setBackend('fast'));
    const [N, inF, outF] = [70, 19, 37];
    const x = new Tensor(randn(N * inF), [N, inF]);
    const weight = new Tensor(randn(outF * inF), [outF, inF], true);
    const g = new Tensor(randn(N * outF), [N, outF]);
    matmul(x, weight.transpose()).backward(g);
    t.ok(weight.grad!.isContiguous, 'weight.grad is contiguous');
    const direct = matmul(x.transpose(), g).transpose().mul(1).values(); // (xᵀ·g)ᵀ, copied contiguous
    t.same(Array.from(weight.grad!.values(), String), Array.from(direct, String), 'same bits as (xᵀ·g)ᵀ');
  });
}
