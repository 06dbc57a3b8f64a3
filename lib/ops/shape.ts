/**
 * Shape ops that move no arithmetic: reshape, permute, transpose. Their backward is the
 * inverse rearrangement.
 */
import { record } from '../autograd';
import { fmtShape, normAxis, sizeOf } from '../shape';
import { Tensor } from '../tensor';

/**
 * Same values, new shape (one entry may be −1: inferred). A view when the data is
 * contiguous, otherwise a packed copy. ∂/∂x = g reshaped back.
 */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  const target = [...shape];
  const unknown = target.indexOf(-1);
  if (unknown >= 0) {
    const known = sizeOf(target.filter((_, i) => i !== unknown));
    target[unknown] = known === 0 ? 0 : x.size / known;
  }
  if (sizeOf(target) !== x.size || target.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new Error(`reshape: cannot reshape ${fmtShape(x.shape)} (${x.size} elements) into ${fmtShape(shape)}`);
  }
  const out = new Tensor(x.values(), target);
  return record('reshape', out, [x], (g) => [new Tensor(g.values(), x.shape)]);
}

/**
 * Reorder axes: output axis i is input axis `order[i]`. A view (no copy) over the same
 * storage. ∂/∂x = g permuted by the inverse order.
 */
export function permute(x: Tensor, order: readonly number[]): Tensor {
  const rank = x.rank;
  const ord = order.map((a) => normAxis('permute', a, rank));
  if (ord.length !== rank || new Set(ord).size !== rank) {
    throw new Error(`permute: order ${fmtShape(order)} is not a permutation of the ${rank} axes of ${fmtShape(x.shape)}`);
  }
  const out = new Tensor(x.nd.transpose(...ord));
  const inverse = new Array<number>(rank);
  ord.forEach((a, i) => (inverse[a] = i));
  return record('permute', out, [x], (g) => [new Tensor(g.nd.transpose(...inverse))]);
}

/** Swap two axes (default: the last two, a matrix transpose). */
export function transpose(x: Tensor, axis0 = -2, axis1 = -1): Tensor {
  const a = normAxis('transpose', axis0, x.rank);
  const b = normAxis('transpose', axis1, x.rank);
  const order = Array.from({ length: x.rank }, (_, i) => (i === a ? b : i === b ? a : i));
  return permute(x, order);
}
