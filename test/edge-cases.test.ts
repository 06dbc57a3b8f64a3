/**
 * Numeric edge cases, in the spirit of tfjs-core's per-kernel specs: huge logits, NaN
 * propagation, empty and size-1 axes, long dot products, and float32 against float64 for
 * every op in the gradient-check tables.
 */
import t from 'tap';
import * as ops from '../lib/ops';
import { Tensor, tensor, zeros } from '../lib';
import type { GradCase } from './gradcheck/cases';
import { coreCases } from './gradcheck/core-ops';
import { nnCases } from './gradcheck/nn-ops';
import { selectCases } from './gradcheck/select-ops';
import { rnd } from './helpers';

t.test('softmax / logSoftmax / logsumexp on ±1000', async (t) => {
  for (const dtype of ['float32', 'float64'] as const) {
    t.same(Array.from(ops.softmax(tensor([1000, -1000], undefined, { dtype })).values()), [1, 0], `softmax ${dtype}`);
    const ls = Array.from(ops.logSoftmax(tensor([1000, -1000], undefined, { dtype })).values());
    t.ok(ls.every(Number.isFinite), `logSoftmax ${dtype} finite: ${ls}`);
    t.same(ls, [0, -2000]);
    const lse = ops.logsumexp(tensor([1000, 1000], undefined, { dtype })).item();
    t.ok(Math.abs(lse - (1000 + Math.LN2)) <= (dtype === 'float64' ? 1e-12 : 1e-4), `logsumexp ${dtype} = ${lse}`);
  }
  const ce = ops.crossEntropy(tensor([[1000, -1000, 0]], undefined, { dtype: 'float64' }), [1]).item();
  t.equal(ce, 2000, 'crossEntropy of a hopeless target is large but finite');
});

t.test('NaN propagates through every kind of op', async (t) => {
  const withNaN = tensor([[1, NaN], [2, 3]]);
  const isNaNAt = (x: Tensor, i: number): boolean => Number.isNaN(x.values()[i]!);
  t.ok(isNaNAt(ops.add(withNaN, 1), 1), 'add');
  t.ok(isNaNAt(ops.exp(withNaN), 1), 'exp');
  t.ok(isNaNAt(ops.relu(withNaN), 1), 'relu (not clipped to 0)');
  const mm = ops.matmul(withNaN, tensor([[1, 0], [0, 1]]));
  t.ok(isNaNAt(mm, 0) && isNaNAt(mm, 1) && !isNaNAt(mm, 2), 'matmul: the NaN row only');
  const sm = ops.softmax(withNaN);
  t.ok(isNaNAt(sm, 0) && isNaNAt(sm, 1) && !isNaNAt(sm, 2), 'softmax: the NaN row only');
  t.ok(isNaNAt(ops.max(withNaN, 1), 0) && !isNaNAt(ops.max(withNaN, 1), 1), 'max along rows');
  t.ok(Number.isNaN(ops.max(tensor([NaN, 5])).item()), 'max: NaN first');
  t.ok(Number.isNaN(ops.max(tensor([5, NaN])).item()), 'max: NaN last');
  t.ok(Number.isNaN(ops.sum(withNaN).item()), 'sum');
  t.ok(Number.isNaN(ops.maxPool2d(tensor([[[[NaN, 1], [2, 3]]]]), 2).item()), 'maxPool2d');
  t.ok(Number.isNaN(ops.clamp(tensor([NaN]), 0, 1).item()), 'clamp');
});

t.test('size-1 and empty leading axes', async (t) => {
  const empty = zeros([0, 3]);
  t.same(ops.sum(empty, 0).toArray(), [0, 0, 0], 'sum over an empty axis is 0');
  t.same(ops.sum(empty).item(), 0);
  t.same(ops.sum(empty, 1).shape, [0]);
  t.same(ops.mean(empty, 1).shape, [0]);
  t.same(ops.softmax(empty).shape, [0, 3]);
  t.same(ops.logSoftmax(empty).shape, [0, 3]);
  t.same(ops.layerNorm(zeros([0, 4])).shape, [0, 4]);
  t.same(ops.matmul(zeros([0, 3]), zeros([3, 2])).shape, [0, 2]);
  t.same(ops.matmul(zeros([2, 0]), zeros([0, 2])).toArray(), [[0, 0], [0, 0]], 'inner dimension 0 gives zeros');
  t.same(ops.concat([empty, tensor([[1, 2, 3]])], 0).toArray(), [[1, 2, 3]]);
  t.same(ops.add(empty, tensor([1, 2, 3])).shape, [0, 3]);
  t.same(ops.embedding(zeros([4, 2]), [], [0]).shape, [0, 2]);
  const leaf = zeros([0, 3]).requireGrad();
  ops.sum(ops.mul(leaf, 2)).backward();
  t.same(leaf.grad?.shape, [0, 3], 'backward through an empty tensor');

  const one = rnd([1, 1, 3], 400, { grad: false });
  t.same(ops.softmax(one, 0).toArray(), [[[1, 1, 1]]], 'softmax over a size-1 axis is 1');
  t.same(ops.sum(one, [0, 1]).shape, [3]);
  t.same(ops.matmul(rnd([1, 1, 1], 401), rnd([1, 1], 402)).shape, [1, 1, 1]);
});

t.test('matmul with inner dimension 1500 agrees with a float64 naive sum', async (t) => {
  const k = 1500;
  const a = rnd([3, k], 403, { dtype: 'float32', grad: false });
  const b = rnd([k, 2], 404, { dtype: 'float32', grad: false });
  const av = a.values();
  const bv = b.values();
  const got = ops.matmul(a, b).values();
  for (let i = 0; i < 3; i++) {
    for (let j = 0; j < 2; j++) {
      let exact = 0;
      let scale = 0; // Σ|a·b|: the size rounding errors are measured against
      for (let p = 0; p < k; p++) {
        exact += av[i * k + p]! * bv[p * 2 + j]!;
        scale += Math.abs(av[i * k + p]! * bv[p * 2 + j]!);
      }
      t.ok(Math.abs(got[i * 2 + j]! - exact) <= 1e-5 * scale, `[${i},${j}]: ${got[i * 2 + j]} vs ${exact}`);
    }
  }
});

t.test('float32 forward agrees with float64 forward for every op', async (t) => {
  const cases: GradCase[] = [...coreCases, ...selectCases, ...nnCases];
  const toF32 = (x: Tensor): Tensor => new Tensor(Float32Array.from(x.values()), x.shape, x.requiresGrad);
  for (const c of cases) {
    const inputs64 = c.inputs();
    const want = c.fn(...inputs64).values();
    const got = c.fn(...inputs64.map(toF32));
    // |f32 − f64| ≤ 1e-5 · max(|f64|, 1): float32 has ~7 significant digits; 1e-5 allows a few roundings.
    let worst = 0;
    const gv = got.values();
    for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(gv[i]! - want[i]!) / Math.max(Math.abs(want[i]!), 1));
    t.ok(gv.length === want.length && worst <= 1e-5, `${c.op} (${c.what}): worst relative difference ${worst.toExponential(2)}`);
    t.ok(c.op === 'astype' || got.dtype === 'float32', `${c.op} keeps float32`);
  }
});

t.test('a shape with a negative or fractional axis is refused when the tensor is made', (t) => {
  // [-1, -2] multiplies to 2 and used to pass the length check, then hang every loop over its axes
  t.throws(() => new Tensor(new Float32Array(2), [-1, -2]), /Tensor: shape \[-1, ?-2\]: axis 0 is -1; expected non-negative integer sizes/);
  t.throws(() => new Tensor(new Float32Array(3), [1.5, 2]), /axis 0 is 1\.5/);
  t.throws(() => new Tensor(new Float32Array(2), [2, NaN]), /axis 1 is NaN/);
  t.equal(new Tensor(new Float32Array(0), [0, 3]).size, 0, 'a zero-size axis is still fine');
  t.end();
});
