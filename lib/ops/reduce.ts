/**
 * Reductions along axes, with `keepdim`. `axes` undefined means every axis (a scalar
 * result). Backward broadcasts the upstream gradient back over the reduced axes.
 */
import { record } from '../autograd';
import { backend } from '../backend';
import { normAxes, sizeOf } from '../shape';
import { allocate, type FloatArray, Tensor } from '../tensor';
import { broadcastValues } from './util';

/** Shape with the reduced axes set to 1 (keepdim) or removed. */
function reducedShape(shape: readonly number[], axes: readonly number[], keepdim: boolean): number[] {
  return keepdim ? shape.map((d, i) => (axes.includes(i) ? 1 : d)) : shape.filter((_, i) => !axes.includes(i));
}

/** Sum over `axes` into a keepdim-shaped array, one axis at a time through the backend. */
function sumValues(x: Tensor, axes: readonly number[]): FloatArray {
  let data = x.values();
  let cur = x.shape;
  for (const ax of axes) {
    const outer = sizeOf(cur.slice(0, ax));
    const inner = sizeOf(cur.slice(ax + 1));
    const out = allocate(x.dtype, outer * inner);
    backend().sumMiddle(data, out, outer, cur[ax]!, inner);
    data = out;
    cur = [...cur.slice(0, ax), 1, ...cur.slice(ax + 1)];
  }
  return data;
}

/** Upstream gradient (reduced shape) → keepdim shape → broadcast to `shape`, times `scale`. */
function spread(g: Tensor, keepShape: readonly number[], shape: readonly number[], scale = 1): Tensor {
  const v = broadcastValues(new Tensor(g.values(), keepShape), shape);
  const out = scale === 1 ? v : v.map((e) => e * scale);
  return new Tensor(out, shape);
}

/** Σ over axes. ∂/∂x[i] = g[reduced index of i]. */
export function sum(x: Tensor, axes?: number | number[], keepdim = false): Tensor {
  const ax = normAxes('sum', axes, x.rank);
  const keepShape = reducedShape(x.shape, ax, true);
  const out = new Tensor(sumValues(x, ax), reducedShape(x.shape, ax, keepdim));
  return record('sum', out, [x], (g) => [spread(g, keepShape, x.shape)]);
}

/** Mean over axes. ∂/∂x[i] = g / n, n = number of elements averaged. */
export function mean(x: Tensor, axes?: number | number[], keepdim = false): Tensor {
  const ax = normAxes('mean', axes, x.rank);
  const n = sizeOf(ax.map((a) => x.shape[a]!));
  const keepShape = reducedShape(x.shape, ax, true);
  const out = new Tensor(sumValues(x, ax).map((v) => v / n), reducedShape(x.shape, ax, keepdim));
  return record('mean', out, [x], (g) => [spread(g, keepShape, x.shape, 1 / n)]);
}

/**
 * Iterate over every output position of a keepdim reduction and call `visit` with the flat
 * indices of the input elements that reduce into it.
 */
function forEachGroup(shape: readonly number[], axes: readonly number[], visit: (outIndex: number, members: number[]) => void): void {
  const keep = reducedShape(shape, axes, true);
  const strides = shape.map((_, i) => sizeOf(shape.slice(i + 1)));
  const groupShape = axes.map((a) => shape[a]!);
  const nGroup = sizeOf(groupShape);
  const members = new Array<number>(nGroup);
  const outCount = sizeOf(keep);
  for (let o = 0; o < outCount; o++) {
    // base flat index of this output position in the input
    let rem = o;
    let base = 0;
    for (let i = keep.length - 1; i >= 0; i--) {
      const c = rem % keep[i]!;
      rem = Math.floor(rem / keep[i]!);
      base += c * strides[i]!;
    }
    for (let m = 0; m < nGroup; m++) {
      let r = m;
      let off = base;
      for (let j = axes.length - 1; j >= 0; j--) {
        const c = r % groupShape[j]!;
        r = Math.floor(r / groupShape[j]!);
        off += c * strides[axes[j]!]!;
      }
      members[m] = off;
    }
    visit(o, members);
  }
}

/**
 * Maximum over axes. The gradient goes to the arg-max; on ties it goes to the *first*
 * maximal element in row-major order (a subgradient; PyTorch's `amax` would split it).
 * A NaN anywhere in a group makes that group's max NaN.
 */
export function max(x: Tensor, axes?: number | number[], keepdim = false): Tensor {
  const ax = normAxes('max', axes, x.rank);
  const v = x.values();
  const keepShape = reducedShape(x.shape, ax, true);
  const out = allocate(x.dtype, sizeOf(keepShape));
  const argmax = new Int32Array(out.length);
  forEachGroup(x.shape, ax, (o, members) => {
    let best = members[0]!;
    for (const m of members) {
      if (Number.isNaN(v[m]!)) { best = m; break; }
      if (v[m]! > v[best]!) best = m;
    }
    out[o] = v[best]!;
    argmax[o] = best;
  });
  const result = new Tensor(out, reducedShape(x.shape, ax, keepdim));
  return record('max', result, [x], (g) => {
    const gv = g.values();
    const gx = allocate(x.dtype, x.size);
    for (let o = 0; o < argmax.length; o++) gx[argmax[o]!] = gx[argmax[o]!]! + gv[o]!;
    return [new Tensor(gx, x.shape)];
  });
}

/**
 * Variance over axes: mean((x − μ)²) · n/(n − correction); `correction = 1` (Bessel) by
 * default as in PyTorch, 0 for the population variance (what LayerNorm uses).
 * ∂var/∂x_i = 2(x_i − μ) / (n − correction)  (the μ-dependence cancels since Σ(x − μ) = 0).
 */
export function variance(x: Tensor, axes?: number | number[], keepdim = false, correction = 1): Tensor {
  const ax = normAxes('variance', axes, x.rank);
  const n = sizeOf(ax.map((a) => x.shape[a]!));
  const keepShape = reducedShape(x.shape, ax, true);
  const mu = broadcastValues(new Tensor(sumValues(x, ax).map((s) => s / n), keepShape), x.shape);
  const xv = x.values();
  const centred = xv.map((e, i) => e - mu[i]!);
  const sq = new Tensor(centred.map((c) => c * c), x.shape);
  const denom = n - correction;
  const out = new Tensor(sumValues(sq, ax).map((s) => s / denom), reducedShape(x.shape, ax, keepdim));
  return record('variance', out, [x], (g) => {
    const gs = spread(g, keepShape, x.shape).values();
    return [new Tensor(gs.map((e, i) => (2 * e * centred[i]!) / denom), x.shape)];
  });
}

/**
 * log Σ exp(x) over axes, computed as m + log Σ exp(x − m) with m the max, so that
 * logsumexp([1000, 1000]) = 1000 + ln 2 instead of Infinity.
 * ∂/∂x_i = exp(x_i − out) = softmax(x)_i.
 */
export function logsumexp(x: Tensor, axes?: number | number[], keepdim = false): Tensor {
  const ax = normAxes('logsumexp', axes, x.rank);
  const v = x.values();
  const keepShape = reducedShape(x.shape, ax, true);
  const out = allocate(x.dtype, sizeOf(keepShape));
  forEachGroup(x.shape, ax, (o, members) => {
    let m = -Infinity;
    for (const i of members) m = Math.max(m, v[i]!);
    if (m === -Infinity || m === Infinity) { out[o] = m; return; }
    let s = 0;
    for (const i of members) s += Math.exp(v[i]! - m);
    out[o] = m + Math.log(s);
  });
  const result = new Tensor(out, reducedShape(x.shape, ax, keepdim));
  return record('logsumexp', result, [x], (g) => {
    const gs = spread(g, keepShape, x.shape).values();
    const lse = broadcastValues(new Tensor(out, keepShape), x.shape);
    return [new Tensor(gs.map((e, i) => e * Math.exp(v[i]! - lse[i]!)), x.shape)];
  });
}
