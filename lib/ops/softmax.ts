/**
 * softmax and logSoftmax along one axis. Both subtract the row maximum before exp, so
 * softmax([1000, −1000]) = [1, 0] and logSoftmax stays finite. softmax's forward and
 * backward are backend kernels (they sit in every attention layer); an axis other than the
 * last is first moved last (see `rowsAlong`).
 */
import { record } from '../autograd';
import { backend } from '../backend';
import { referenceLogSumExp, referenceMaskedSoftmax } from '../backend/reference';
import { allocate, Tensor } from '../tensor';
import { rowsAlong } from './strided';

/**
 * y = exp(x − max) / Σ exp(x − max) along `axis`.
 * Backward (Jacobian ∂y_i/∂x_j = y_i(δ_ij − y_j)):  dx = y ⊙ (g − Σ_j g_j y_j).
 */
export function softmax(x: Tensor, axis = -1): Tensor {
  const { data, rows, cols, restore } = rowsAlong('softmax', x, axis);
  const y = allocate(x.dtype, data.length);
  backend().softmax(data, y, rows, cols);
  return record('softmax', restore(y), [x], (g) => {
    const dx = allocate(g.dtype, y.length);
    backend().softmaxBackward(y, rowsAlong('softmax', g, axis).data, dx, rows, cols);
    return [restore(dx)];
  });
}

/**
 * softmax(x + mask) along the last axis, as one op: `mask` is constant (no gradient) and has
 * the shape of x's last two axes [T, S] (leading 1s allowed), repeated over the others —
 * attention's causal mask. Equal to `softmax(x.add(mask), -1)` to the bit on every backend
 * (the fused kernel adds in x's dtype first, as the add op did), with one pass and one array
 * fewer. Backward: the mask is a constant shift, so dx = softmax's dx = y ⊙ (g − Σ_j g_j y_j).
 */
export function maskedSoftmax(x: Tensor, mask: Tensor): Tensor {
  const n = x.shape.length;
  const [T, S] = [x.shape[n - 2], x.shape[n - 1]];
  const ms = mask.shape;
  if (n < 2 || ms.length < 2 || ms[ms.length - 2] !== T || ms[ms.length - 1] !== S || ms.slice(0, -2).some((d) => d !== 1)) {
    throw new Error(`maskedSoftmax: expected a mask of shape [${T}, ${S}] (x's last two axes, leading 1s allowed) for x [${x.shape.join(', ')}], got [${ms.join(', ')}]`);
  }
  if (mask.requiresGrad) throw new Error('maskedSoftmax: the mask is a constant and must not require a gradient');
  if (mask.dtype !== x.dtype) throw new Error(`maskedSoftmax: mask dtype ${mask.dtype} differs from x's ${x.dtype}`);
  const { data, rows, cols, restore } = rowsAlong('maskedSoftmax', x, -1);
  const y = allocate(x.dtype, data.length);
  const be = backend();
  if (be.maskedSoftmax) be.maskedSoftmax(data, mask.values(), y, rows, cols, T!);
  else referenceMaskedSoftmax(be, data, mask.values(), y, rows, cols, T!);
  return record('maskedSoftmax', restore(y), [x], (g) => {
    const dx = allocate(g.dtype, y.length);
    backend().softmaxBackward(y, rowsAlong('maskedSoftmax', g, -1).data, dx, rows, cols);
    return [restore(dx)];
  });
}

/**
 * y = x − logsumexp(x) = (x − m) − log Σ exp(x − m), m the row max.
 * Backward: ∂y_i/∂x_j = δ_ij − softmax_j, so dx = g − softmax(x) · Σ_i g_i, softmax = exp(y).
 */
export function logSoftmax(x: Tensor, axis = -1): Tensor {
  const { data, rows, cols, restore } = rowsAlong('logSoftmax', x, axis);
  const y = allocate(x.dtype, data.length);
  const lse = new Float64Array(rows); // per row m + log Σ exp(x − m), in float64 as before
  referenceLogSumExp(data, lse, rows, cols);
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    for (let c = 0; c < cols; c++) y[o + c] = data[o + c]! - lse[r]!;
  }
  return record('logSoftmax', restore(y), [x], (g) => {
    const gv = rowsAlong('logSoftmax', g, axis).data;
    const dx = allocate(g.dtype, y.length);
    for (let r = 0; r < rows; r++) {
      const o = r * cols;
      let gsum = 0;
      for (let c = 0; c < cols; c++) gsum += gv[o + c]!;
      for (let c = 0; c < cols; c++) dx[o + c] = gv[o + c]! - Math.exp(y[o + c]!) * gsum;
    }
    return [restore(dx)];
  });
}
