/**
 * softmax and logSoftmax along one axis. Both subtract the row maximum before exp, so
 * softmax([1000, −1000]) = [1, 0] and logSoftmax stays finite. softmax's forward and
 * backward are backend kernels (they sit in every attention layer); an axis other than the
 * last is first moved last (see `rowsAlong`).
 */
import { record } from '../autograd';
import { backend } from '../backend';
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
 * y = x − logsumexp(x) = (x − m) − log Σ exp(x − m), m the row max.
 * Backward: ∂y_i/∂x_j = δ_ij − softmax_j, so dx = g − softmax(x) · Σ_i g_i, softmax = exp(y).
 */
export function logSoftmax(x: Tensor, axis = -1): Tensor {
  const { data, rows, cols, restore } = rowsAlong('logSoftmax', x, axis);
  const y = allocate(x.dtype, data.length);
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    let m = -Infinity;
    for (let c = 0; c < cols; c++) m = Math.max(m, data[o + c]!);
    let s = 0;
    for (let c = 0; c < cols; c++) s += Math.exp(data[o + c]! - m);
    const lse = m + Math.log(s);
    for (let c = 0; c < cols; c++) y[o + c] = data[o + c]! - lse;
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
