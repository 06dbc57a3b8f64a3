/**
 * Error messages: each names the op and shows what was expected and what arrived, so a
 * learner can fix the call without a debugger. Anomaly mode names the first op that
 * produced a NaN or an infinity, forward or backward.
 */
import t from 'tap';
import * as ops from '../lib/ops';
import { setAnomalyMode, tensor, zeros } from '../lib';

t.test('shape mismatches name the op and both shapes', async (t) => {
  t.throws(() => ops.add(zeros([2, 3]), zeros([4])), /add: shapes \[2,3\] and \[4\] cannot be broadcast/);
  t.throws(() => ops.matmul(zeros([2, 3]), zeros([4, 5])), /matmul: inner dimensions differ, a is \[2,3\], b is \[4,5\]/);
  t.throws(() => ops.concat([zeros([2, 3]), zeros([3, 4])], 1), /concat: tensor 1 has shape \[3,4\], tensor 0 has shape \[2,3\]/);
  t.throws(() => ops.conv2d(zeros([1, 3, 5, 5]), zeros([2, 4, 3, 3])), /conv2d: input channels 3 do not match weight's 4 × groups 1.*x \[1,3,5,5\], w \[2,4,3,3\]/);
  t.throws(() => ops.conv2d(zeros([1, 4, 5, 5]), zeros([3, 2, 3, 3]), undefined, { groups: 2 }), /conv2d: output channels 3 are not divisible by groups 2/);
  t.throws(() => ops.conv2d(zeros([1, 1, 2, 2]), zeros([1, 1, 3, 3])), /conv2d: kernel 3×3 .* does not fit input 2×2/);
  t.throws(() => ops.stack([zeros([2]), zeros([3])]), /stack: tensor 1 has shape \[3\], tensor 0 has shape \[2\]/);
  t.throws(() => ops.expand(zeros([2, 3]), [4, 3]), /expand: cannot broadcast \[2,3\] to \[4,3\]/);
  t.throws(() => ops.layerNorm(zeros([2, 3]), zeros([4])), /layerNorm: weight must be \[3\] .* got \[4\]/);
});

t.test('index and range errors say what was allowed', async (t) => {
  t.throws(() => ops.embedding(zeros([5, 2]), [1, 5]), /embedding: index 5 at position 1 is out of range for a table with rows of size 5/);
  t.throws(() => ops.crossEntropy(zeros([2, 3]), [0, 3]), /crossEntropy: target 3 at row 1 is not a class in \[0, 3\)/);
  t.throws(() => ops.crossEntropy(zeros([2, 3]), [0]), /crossEntropy: 2 rows of logits \[2,3\] need 2 targets, got 1/);
  t.throws(() => ops.narrow(zeros([2, 3]), 1, 2, 2), /narrow: start 2 and length 2 do not fit axis 1 of size 3/);
  t.throws(() => ops.slice(zeros([2, 3]), [[0, 3]]), /slice: range \[0, 3\) does not fit axis 0 of size 2/);
  t.throws(() => ops.softmax(zeros([2, 3]), 2), /softmax: axis 2 is out of range for a tensor of rank 2/);
  t.throws(() => ops.dropout(zeros([2]), 1.5, true), /dropout: p must be in \[0, 1\], got 1.5/);
});

t.test('dtype mismatch', async (t) => {
  const a = tensor([1, 2], undefined, { dtype: 'float32' });
  const b = tensor([1, 2], undefined, { dtype: 'float64' });
  t.throws(() => ops.add(a, b), /add: dtype mismatch, a is float32 \[2\], b is float64 \[2\]/);
  t.throws(() => ops.matmul(zeros([2, 2]), zeros([2, 2], { dtype: 'float64' })), /matmul: dtype mismatch/);
  t.throws(() => ops.concat([a, b]), /concat: dtype mismatch, tensor 0 is float32, tensor 1 is float64/);
});

t.test('backward on a non-scalar needs an upstream gradient', async (t) => {
  const x = zeros([2, 3], { requiresGrad: true });
  t.throws(() => ops.mul(x, 2).backward(), /backward: a non-scalar tensor of shape \[2,3\] needs an explicit upstream gradient/);
  t.throws(() => ops.mul(x, 2).backward(zeros([3])), /backward: gradient shape \[3\] does not match its input's shape \[2,3\]/);
});

t.test('anomaly mode stops at the first op that produces NaN or Inf', async (t) => {
  setAnomalyMode(true);
  try {
    const x = tensor([1, -1], undefined, { requiresGrad: true });
    t.throws(() => ops.log(x), /anomaly: forward of log produced NaN at flat index 1/);
    // sqrt(0) = 0 is fine forward; its derivative 1/(2·√0) is Infinity
    const z = tensor([0, 4], undefined, { requiresGrad: true });
    const y = ops.sum(ops.sqrt(z));
    t.throws(() => y.backward(), /anomaly: backward of sqrt \(input 0\) produced Infinity at flat index 0/);
  } finally {
    setAnomalyMode(false);
  }
  const quiet = ops.log(tensor([-1]));
  t.ok(Number.isNaN(quiet.item()), 'with anomaly mode off, NaN flows through silently');
});
