/**
 * Losses and vector similarities: crossEntropy, mse, l1, cosineSimilarity, normalize.
 * crossEntropy and the two normalisations have hand-written backwards (they run on every
 * step and a composition would keep several [N, C] intermediates alive); mse and l1 are
 * compositions of existing ops, so their backward is the chain rule through those.
 */
import { record } from '../autograd';
import { backend } from '../backend';
import { referenceLogSumExp } from '../backend/reference';
import { broadcastShapes, fmtShape, normAxis } from '../shape';
import { allocate, Tensor } from '../tensor';
import { abs } from './unary';
import { mean, sum } from './reduce';
import { mul, sub } from './binary';
import { rowsAlong } from './strided';
import { broadcastValues, checkSameDtype, sumToShape } from './util';

/** How a per-element loss is reduced: averaged, summed, or returned as is. */
export type Reduction = 'mean' | 'sum' | 'none';

export interface CrossEntropyOptions {
  /** Targets equal to this contribute no loss and no gradient (default −100, as in PyTorch). */
  ignoreIndex?: number;
  /** 'mean' (over non-ignored targets, the default), 'sum', or 'none' (one loss per row). */
  reduction?: Reduction;
}

/**
 * Softmax cross-entropy from unnormalised logits [..., C] and integer class targets (one
 * per row; leading axes are flattened, so [B, T, V] logits take B·T targets).
 *
 * loss_r = logsumexp(x_r) − x_r[t_r]   (log-softmax form: no exp overflow, no log(0))
 * ∂loss_r/∂x_r[c] = softmax(x_r)_c − 1[c = t_r];  times 1/count for 'mean', where count is
 * the number of non-ignored targets. With every target ignored, 'mean' is 0/0 = NaN
 * (as in PyTorch): there is nothing to average.
 */
export function crossEntropy(logits: Tensor, targets: Int32Array | number[], opts: CrossEntropyOptions = {}): Tensor {
  const { ignoreIndex = -100, reduction = 'mean' } = opts;
  if (logits.rank < 1) throw new Error(`crossEntropy: logits must be [N, C], got ${fmtShape(logits.shape)}`);
  const classes = logits.shape[logits.rank - 1]!;
  const rows = classes === 0 ? 0 : logits.size / classes;
  if (targets.length !== rows) {
    throw new Error(`crossEntropy: ${rows} rows of logits ${fmtShape(logits.shape)} need ${rows} targets, got ${targets.length}`);
  }
  const t = Int32Array.from(targets);
  for (let r = 0; r < rows; r++) {
    const v = targets[r]!;
    if (v !== ignoreIndex && (!Number.isInteger(v) || v < 0 || v >= classes)) {
      throw new Error(`crossEntropy: target ${v} at row ${r} is not a class in [0, ${classes}) nor ignoreIndex ${ignoreIndex}`);
    }
  }
  const x = logits.values();
  const perRow = allocate(logits.dtype, rows);
  // logsumexp of every row is a backend kernel (the exps are most of the forward's work);
  // ignored rows are computed too and then skipped.
  const lse = new Float64Array(rows); // float64 as before: the ref backend's losses stay bit-identical
  (backend().logSumExp ?? referenceLogSumExp)(x, lse, rows, classes);
  let count = 0;
  let total = 0;
  for (let r = 0; r < rows; r++) {
    if (t[r] === ignoreIndex) continue;
    perRow[r] = lse[r]! - x[r * classes + t[r]!]!;
    total += perRow[r]!;
    count++;
  }
  const leading = logits.shape.slice(0, -1);
  const out = reduction === 'none' ? new Tensor(perRow, leading) : new Tensor(allocate(logits.dtype, 1).fill(reduction === 'sum' ? total : total / count), []);
  return record('crossEntropy', out, [logits], (g) => {
    const gv = g.values();
    // softmax(x) row by row through the backend kernel (the exps are most of the work),
    // then scaled per row, minus the scale at the target; ignored rows get 0.
    const dx = allocate(g.dtype, logits.size);
    backend().softmax(x, dx, rows, classes);
    for (let r = 0; r < rows; r++) {
      const o = r * classes;
      if (t[r] === ignoreIndex) { dx.fill(0, o, o + classes); continue; }
      const scale = reduction === 'none' ? gv[r]! : reduction === 'sum' ? gv[0]! : gv[0]! / count;
      for (let c = 0; c < classes; c++) dx[o + c] = scale * dx[o + c]!;
      dx[o + t[r]!] = dx[o + t[r]!]! - scale;
    }
    return [new Tensor(dx, logits.shape)];
  });
}

function reduce(op: string, perElement: Tensor, reduction: Reduction): Tensor {
  if (reduction === 'mean') return mean(perElement);
  if (reduction === 'sum') return sum(perElement);
  if (reduction === 'none') return perElement;
  throw new Error(`${op}: reduction must be 'mean', 'sum' or 'none', got '${String(reduction)}'`);
}

/** Mean squared error: reduce((a − b)²). Composed of sub, mul and mean (their backwards chain). */
export function mse(a: Tensor, b: Tensor, reduction: Reduction = 'mean'): Tensor {
  const d = sub(a, b);
  return reduce('mse', mul(d, d), reduction);
}

/** Mean absolute error: reduce(|a − b|). ∂/∂a = sign(a − b) (0 where a = b). */
export function l1(a: Tensor, b: Tensor, reduction: Reduction = 'mean'): Tensor {
  return reduce('l1', abs(sub(a, b)), reduction);
}

/**
 * Cosine similarity along `axis` (which is reduced away): a·b / max(‖a‖·‖b‖, eps).
 * Both broadcast to a common shape first.
 * Backward, with d = ‖a‖‖b‖ > eps and y the output:
 *   ∂y/∂a = b/d − y·a/‖a‖²,   ∂y/∂b = a/d − y·b/‖b‖²;
 * when clamped (d ≤ eps) the denominator is constant: ∂y/∂a = b/eps, ∂y/∂b = a/eps.
 */
export function cosineSimilarity(a: Tensor, b: Tensor, axis = -1, eps = 1e-8): Tensor {
  checkSameDtype('cosineSimilarity', a, b);
  const shape = broadcastShapes('cosineSimilarity', a.shape, b.shape);
  const ab = new Tensor(broadcastValues(a, shape), shape);
  const bb = new Tensor(broadcastValues(b, shape), shape);
  const A = rowsAlong('cosineSimilarity', ab, axis);
  const B = rowsAlong('cosineSimilarity', bb, axis);
  const { rows, cols } = A;
  const y = allocate(a.dtype, rows);
  const aa = new Float64Array(rows);
  const bbn = new Float64Array(rows);
  const den = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let dot = 0;
    let na = 0;
    let nb = 0;
    for (let c = 0; c < cols; c++) {
      const av = A.data[r * cols + c]!;
      const bv = B.data[r * cols + c]!;
      dot += av * bv;
      na += av * av;
      nb += bv * bv;
    }
    aa[r] = na;
    bbn[r] = nb;
    den[r] = Math.max(Math.sqrt(na * nb), eps);
    y[r] = dot / den[r]!;
  }
  const ax = normAxis('cosineSimilarity', axis, shape.length);
  const reducedShape = shape.filter((_, i) => i !== ax); // the similarity axis is reduced away
  return record('cosineSimilarity', new Tensor(y, reducedShape), [a, b], (g) => {
    const gv = g.values();
    const ga = allocate(g.dtype, rows * cols);
    const gb = allocate(g.dtype, rows * cols);
    for (let r = 0; r < rows; r++) {
      const clamped = Math.sqrt(aa[r]! * bbn[r]!) <= eps;
      const yr = y[r]!;
      for (let c = 0; c < cols; c++) {
        const i = r * cols + c;
        const av = A.data[i]!;
        const bv = B.data[i]!;
        ga[i] = gv[r]! * (clamped ? bv / eps : bv / den[r]! - (yr * av) / aa[r]!);
        gb[i] = gv[r]! * (clamped ? av / eps : av / den[r]! - (yr * bv) / bbn[r]!);
      }
    }
    return [
      a.requiresGrad ? sumToShape(A.restore(ga), a.shape) : null,
      b.requiresGrad ? sumToShape(B.restore(gb), b.shape) : null,
    ];
  });
}

/**
 * L2-normalise along `axis`: y = x / max(‖x‖, eps).
 * Backward with n = ‖x‖ > eps:  dx = (g − y·(g·y)) / n  (the radial part of g is removed);
 * when clamped: dx = g / eps.
 */
export function normalize(x: Tensor, axis = -1, eps = 1e-12): Tensor {
  const { data, rows, cols, restore } = rowsAlong('normalize', x, axis);
  const y = allocate(x.dtype, data.length);
  const norms = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let c = 0; c < cols; c++) s += data[r * cols + c]! ** 2;
    norms[r] = Math.sqrt(s);
    const d = Math.max(norms[r]!, eps);
    for (let c = 0; c < cols; c++) y[r * cols + c] = data[r * cols + c]! / d;
  }
  return record('normalize', restore(y), [x], (g) => {
    const gv = rowsAlong('normalize', g, axis).data;
    const dx = allocate(g.dtype, y.length);
    for (let r = 0; r < rows; r++) {
      const o = r * cols;
      if (norms[r]! <= eps) {
        for (let c = 0; c < cols; c++) dx[o + c] = gv[o + c]! / eps;
        continue;
      }
      let dot = 0;
      for (let c = 0; c < cols; c++) dot += gv[o + c]! * y[o + c]!;
      for (let c = 0; c < cols; c++) dx[o + c] = (gv[o + c]! - y[o + c]! * dot) / norms[r]!;
    }
    return [restore(dx)];
  });
}
