/**
 * Forward values of the ops whose gradients test/ops-gradcheck.test.ts checks: a gradient
 * check cannot see a forward pass that is consistently wrong (say, a transposed kernel), so
 * here each op is compared with a direct loop or with hand-computed numbers.
 */
import t from 'tap';
import * as ops from '../lib/ops';
import { tensor, type Tensor } from '../lib';
import { maxRelDiff, naiveConv, rnd } from './helpers';


t.test('conv2d matches the direct definition', async (t) => {
  const cases: [number[], number[], boolean, [number, number], [number, number], [number, number], number][] = [
    [[2, 3, 5, 5], [4, 3, 3, 3], true, [1, 1], [1, 1], [1, 1], 1],
    [[1, 2, 7, 6], [3, 2, 2, 3], false, [2, 2], [1, 0], [2, 2], 1],
    [[2, 4, 4, 5], [6, 2, 3, 3], true, [1, 2], [0, 0], [1, 1], 2],
    [[1, 3, 4, 4], [6, 1, 3, 3], false, [1, 1], [1, 1], [1, 1], 3],
  ];
  cases.forEach(([xs, ws, hasBias, s, p, d, G], k) => {
    const x = rnd(xs, 300 + k);
    const w = rnd(ws, 310 + k);
    const b = hasBias ? rnd([ws[0]!], 320 + k) : undefined;
    const y = ops.conv2d(x, w, b, { stride: s, padding: p, dilation: d, groups: G });
    t.ok(maxRelDiff(y.values(), naiveConv(x, w, b, s, p, d, G)) < 1e-12, `case ${k}: x ${xs}, w ${ws}, groups ${G}`);
  });
});

t.test('convTranspose2d scatters each input pixel times the kernel', async (t) => {
  const x = rnd([1, 2, 3, 2], 330);
  const w = rnd([2, 3, 4, 4], 331);
  const [s, p] = [2, 1];
  const y = ops.convTranspose2d(x, w, undefined, { stride: s, padding: p });
  t.same(y.shape, [1, 3, 6, 4]); // (H − 1)·s − 2p + k = 6, (W − 1)·s − 2p + k = 4
  const Ho = 6, Wo = 4;
  const ref = new Array<number>(3 * Ho * Wo).fill(0);
  const xv = x.values();
  const wv = w.values();
  for (let c = 0; c < 2; c++) for (let i = 0; i < 3; i++) for (let j = 0; j < 2; j++) for (let o = 0; o < 3; o++)
    for (let a = 0; a < 4; a++) for (let b = 0; b < 4; b++) {
      const oi = i * s - p + a;
      const oj = j * s - p + b;
      if (oi < 0 || oi >= Ho || oj < 0 || oj >= Wo) continue;
      ref[(o * Ho + oi) * Wo + oj]! += xv[(c * 3 + i) * 2 + j]! * wv[((c * 3 + o) * 4 + a) * 4 + b]!;
    }
  t.ok(maxRelDiff(y.values(), ref) < 1e-12);
});

t.test('pooling and upsampling values', async (t) => {
  const x = tensor([[[[1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 12], [13, 14, 15, 16]]]]);
  t.same(ops.maxPool2d(x, 2).toArray(), [[[[6, 8], [14, 16]]]]);
  t.same(ops.avgPool2d(x, 2).toArray(), [[[[3.5, 5.5], [11.5, 13.5]]]]);
  // padding counts as zeros in the average: top-left window holds only 1 → 1/9
  t.ok(Math.abs((ops.avgPool2d(x, 3, 2, 1).values()[0]!) - (1 + 2 + 5 + 6) / 9) < 1e-6);
  t.same(ops.maxPool2d(tensor([[[[-5, -6], [-7, -8]]]]), 3, 1, 1).toArray(), [[[[-5, -5], [-5, -5]]]], 'padding never wins a max');
  t.same(ops.globalAvgPool(x).toArray(), [[8.5]]);
  t.same(ops.upsampleNearest(tensor([[1, 2]]), 2).toArray(), [[1, 1, 2, 2], [1, 1, 2, 2]]);
});

t.test('select ops values', async (t) => {
  const x = tensor([[1, 2, 3], [4, 5, 6]]);
  t.same(ops.concat([x, tensor([[7], [8]])], 1).toArray(), [[1, 2, 3, 7], [4, 5, 6, 8]]);
  t.same(ops.stack([x, x], 2).toArray(), [[[1, 1], [2, 2], [3, 3]], [[4, 4], [5, 5], [6, 6]]]);
  t.same(ops.narrow(x, 1, 1, 2).toArray(), [[2, 3], [5, 6]]);
  t.same(ops.slice(x, [[1, 2], [0, -1]]).toArray(), [[4, 5]]);
  t.same(ops.expand(tensor([[1], [2]]), [2, 2, 2]).toArray(), [[[1, 1], [2, 2]], [[1, 1], [2, 2]]]);
  t.same(ops.indexSelect(x, 1, [2, 0, 2]).toArray(), [[3, 1, 3], [6, 4, 6]]);
  t.same(ops.embedding(x, [1, 1, 0], [3]).toArray(), [[4, 5, 6], [4, 5, 6], [1, 2, 3]]);
  t.same(ops.pad2d(tensor([[1, 2]]), [1, 0, 0, 1], 9).toArray(), [[9, 9, 9], [1, 2, 9]]);
  t.same(ops.where(tensor([1, 0, 1]), tensor([1, 2, 3]), 0).toArray(), [1, 0, 3]);
  t.same(ops.clamp(tensor([-1, 0.5, 9]), 0, 6).toArray(), [0, 0.5, 6]);
});

t.test('softmax, losses and norms values', async (t) => {
  const sm = ops.softmax(tensor([[1, 2], [3, 5]]), 0).values();
  t.ok(Math.abs(sm[0]! - 1 / (1 + Math.exp(2))) < 1e-6 && Math.abs(sm[1]! - 1 / (1 + Math.exp(3))) < 1e-6, 'softmax along axis 0 normalises columns');
  const ce = ops.crossEntropy(tensor([[1, 2, 3], [0, 0, 0]]), [2, 1]).item();
  const want = (Math.log(Math.exp(1) + Math.exp(2) + Math.exp(3)) - 3 + Math.log(3)) / 2;
  t.ok(Math.abs(ce - want) < 1e-6, `crossEntropy ${ce} vs ${want}`);
  t.ok(Math.abs(ops.crossEntropy(tensor([[1, 2, 3], [0, 0, 0]]), [2, -100]).item() - (want * 2 - Math.log(3))) < 1e-6, 'ignored rows leave the mean');
  t.same(ops.mse(tensor([1, 2]), tensor([0, 4])).item(), 2.5);
  t.same(ops.l1(tensor([1, 2]), tensor([0, 4]), 'sum').item(), 3);
  t.ok(Math.abs(ops.cosineSimilarity(tensor([[1, 0]]), tensor([[1, 1]])).item() - Math.SQRT1_2) < 1e-6);
  t.same(ops.cosineSimilarity(tensor([[0, 0]]), tensor([[1, 1]])).toArray(), [0], 'zero vector: clamped denominator, no NaN');
  t.ok(maxRelDiff(ops.normalize(tensor([3, 4])).values(), [0.6, 0.8]) < 1e-6);
  t.ok(maxRelDiff(ops.layerNorm(tensor([1, 2, 3]), tensor([2, 2, 2]), tensor([1, 1, 1]), 0).values(), [1 - 2 * Math.sqrt(1.5), 1, 1 + 2 * Math.sqrt(1.5)]) < 1e-6);
  t.ok(maxRelDiff(ops.rmsNorm(tensor([3, 4]), undefined, 0).values(), [3 / Math.sqrt(12.5), 4 / Math.sqrt(12.5)]) < 1e-6);
});

t.test('dropout: eval is the identity, training keeps E[y] = x', async (t) => {
  const x = tensor(new Float32Array(20000).fill(1));
  t.equal(ops.dropout(x, 0.5, false), x);
  const y = ops.dropout(x, 0.25, true).values();
  const kept = y.filter((v) => v !== 0);
  t.ok(kept.every((v) => Math.abs(v - 1 / 0.75) < 1e-6), 'survivors scaled by 1/(1 − p)');
  t.ok(Math.abs(kept.length / y.length - 0.75) < 0.02, `kept fraction ${kept.length / y.length}`);
  t.same(ops.dropout(x, 1, true).values().every((v) => v === 0), true, 'p = 1 drops everything');
});
