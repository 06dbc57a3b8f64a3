/**
 * Selecting, combining and padding: where, clamp, narrow, slice, concat, stack, expand,
 * indexSelect, embedding, pad2d. None of them does arithmetic on values, so each backward
 * routes the upstream gradient back to where each output element came from — and where
 * one input element fed several outputs (expand, indexSelect with repeats), sums them.
 */
import { record } from '../autograd';
import { broadcastShapes, fmtShape, normAxis, sameShape, sizeOf, stridesOf } from '../shape';
import { allocate, Tensor, type TensorLike } from '../tensor';
import { reshape } from './shape';
import { embedInZeros, view, writeInto } from './strided';
import { broadcastValues, operands, sumToShape } from './util';

/**
 * Elementwise choice: `out = cond ? a : b`, where `cond` is a 0/1 mask (any nonzero value
 * counts as 1). All three broadcast together. ∂/∂a = g·cond, ∂/∂b = g·(1 − cond); the mask
 * gets no gradient.
 */
export function where(cond: Tensor, a: TensorLike, b: TensorLike): Tensor {
  const [ta, tb] = operands('where', a, b);
  const shape = broadcastShapes('where', cond.shape, broadcastShapes('where', ta.shape, tb.shape));
  const c = broadcastValues(cond, shape);
  const av = broadcastValues(ta, shape);
  const bv = broadcastValues(tb, shape);
  const out = allocate(ta.dtype, sizeOf(shape));
  for (let i = 0; i < out.length; i++) out[i] = c[i] !== 0 ? av[i]! : bv[i]!;
  return record('where', new Tensor(out, shape), [ta, tb], (g) => {
    const gv = g.values();
    const ga = allocate(g.dtype, gv.length);
    const gb = allocate(g.dtype, gv.length);
    for (let i = 0; i < gv.length; i++) {
      if (c[i] !== 0) ga[i] = gv[i]!;
      else gb[i] = gv[i]!;
    }
    return [
      ta.requiresGrad ? sumToShape(new Tensor(ga, shape), ta.shape) : null,
      tb.requiresGrad ? sumToShape(new Tensor(gb, shape), tb.shape) : null,
    ];
  });
}

/**
 * Clip into [min, max] (either bound optional): `relu6(x) = clamp(x, 0, 6)`.
 * ∂/∂x = 1 where min ≤ x ≤ max, else 0 (at a bound the gradient passes, as in PyTorch).
 * NaN stays NaN.
 */
export function clamp(x: Tensor, min = -Infinity, max = Infinity): Tensor {
  if (min > max) throw new Error(`clamp: min ${min} is greater than max ${max}`);
  const v = x.values();
  const out = allocate(x.dtype, v.length);
  for (let i = 0; i < v.length; i++) {
    const e = v[i]!;
    out[i] = e < min ? min : e > max ? max : e; // NaN fails both tests and passes through
  }
  return record('clamp', new Tensor(out, x.shape), [x], (g) => {
    const gv = g.values();
    const gx = allocate(g.dtype, gv.length);
    for (let i = 0; i < gv.length; i++) if (v[i]! >= min && v[i]! <= max) gx[i] = gv[i]!;
    return [new Tensor(gx, x.shape)];
  });
}

/**
 * A box of `x`: along each axis, elements `starts[i] … starts[i] + shape[i] − 1`. A view
 * over x's storage (nothing copied). ∂/∂x = g placed in that box of a zero tensor.
 */
function box(x: Tensor, starts: number[], shape: number[]): { out: Tensor; backward: (g: Tensor) => Tensor[] } {
  const { data, stride, offset } = x.nd;
  const off = starts.reduce((acc, s, i) => acc + s * stride[i]!, offset);
  return { out: new Tensor(view(data, shape, stride, off)), backward: (g) => [embedInZeros(g, x.shape, starts, g.dtype)] };
}

/** Elements `start … start + length − 1` of one axis (a view, like `torch.narrow`). */
export function narrow(x: Tensor, axis: number, start: number, length: number): Tensor {
  const ax = normAxis('narrow', axis, x.rank);
  const dim = x.shape[ax]!;
  if (!Number.isInteger(start) || !Number.isInteger(length) || start < 0 || length < 0 || start + length > dim) {
    throw new Error(`narrow: start ${start} and length ${length} do not fit axis ${axis} of size ${dim} (shape ${fmtShape(x.shape)})`);
  }
  const starts = x.shape.map(() => 0);
  starts[ax] = start;
  const shape = x.shape;
  shape[ax] = length;
  const { out, backward } = box(x, starts, shape);
  return record('narrow', out, [x], backward);
}

/**
 * Per-axis ranges `[start, end)` (`null` = the whole axis; missing trailing axes are whole;
 * negative indices count from the end, as in Python). A view.
 */
export function slice(x: Tensor, ranges: ([number, number] | null)[]): Tensor {
  if (ranges.length > x.rank) throw new Error(`slice: ${ranges.length} ranges for a tensor of rank ${x.rank} (shape ${fmtShape(x.shape)})`);
  const starts: number[] = [];
  const shape: number[] = [];
  x.shape.forEach((dim, i) => {
    const r = ranges[i] ?? null;
    if (r === null) {
      starts.push(0);
      shape.push(dim);
      return;
    }
    const s = r[0] < 0 ? r[0] + dim : r[0];
    const e = r[1] < 0 ? r[1] + dim : r[1];
    if (!Number.isInteger(s) || !Number.isInteger(e) || s < 0 || e > dim || s > e) {
      throw new Error(`slice: range [${r[0]}, ${r[1]}) does not fit axis ${i} of size ${dim} (shape ${fmtShape(x.shape)})`);
    }
    starts.push(s);
    shape.push(e - s);
  });
  const { out, backward } = box(x, starts, shape);
  return record('slice', out, [x], backward);
}

/**
 * Join tensors along an existing axis; all other sizes must agree. Seen as
 * [outer, size_i·inner] blocks, concat interleaves contiguous blocks of each input.
 * ∂/∂xs[i] = the matching block of g.
 */
export function concat(xs: Tensor[], axis = 0): Tensor {
  if (xs.length === 0) throw new Error('concat: needs at least one tensor, got an empty list');
  const first = xs[0]!;
  const ax = normAxis('concat', axis, first.rank);
  xs.forEach((x, i) => {
    if (x.dtype !== first.dtype) throw new Error(`concat: dtype mismatch, tensor 0 is ${first.dtype}, tensor ${i} is ${x.dtype}`);
    const ok = x.rank === first.rank && x.shape.every((d, k) => k === ax || d === first.shape[k]);
    if (!ok) {
      throw new Error(`concat: tensor ${i} has shape ${fmtShape(x.shape)}, tensor 0 has shape ${fmtShape(first.shape)}; all sizes but axis ${ax} must match`);
    }
  });
  const outer = sizeOf(first.shape.slice(0, ax));
  const inner = sizeOf(first.shape.slice(ax + 1));
  const widths = xs.map((x) => x.shape[ax]! * inner);
  const total = widths.reduce((a, b) => a + b, 0);
  const shape = first.shape;
  shape[ax] = xs.reduce((a, x) => a + x.shape[ax]!, 0);
  const out = allocate(first.dtype, outer * total);
  let col = 0;
  xs.forEach((x, i) => {
    const v = x.values();
    const w = widths[i]!;
    for (let o = 0; o < outer; o++) out.set(v.subarray(o * w, (o + 1) * w), o * total + col);
    col += w;
  });
  return record('concat', new Tensor(out, shape), xs, (g) => {
    const gv = g.values();
    let start = 0;
    return xs.map((x, i) => {
      const w = widths[i]!;
      const gx = allocate(g.dtype, outer * w);
      for (let o = 0; o < outer; o++) gx.set(gv.subarray(o * total + start, o * total + start + w), o * w);
      start += w;
      return x.requiresGrad ? new Tensor(gx, x.shape) : null;
    });
  });
}

/**
 * Join same-shape tensors along a new axis: each becomes size 1 on `axis`, then concat.
 * (Its backward is concat's followed by reshape's.)
 */
export function stack(xs: Tensor[], axis = 0): Tensor {
  if (xs.length === 0) throw new Error('stack: needs at least one tensor, got an empty list');
  const shape = xs[0]!.shape;
  const ax = normAxis('stack', axis, shape.length + 1);
  xs.forEach((x, i) => {
    if (!sameShape(x.shape, shape)) throw new Error(`stack: tensor ${i} has shape ${fmtShape(x.shape)}, tensor 0 has shape ${fmtShape(shape)}; all must match`);
  });
  const withAxis = [...shape.slice(0, ax), 1, ...shape.slice(ax)];
  return concat(xs.map((x) => reshape(x, withAxis)), ax);
}

/**
 * Broadcast `x` to `shape` without copying: repeated axes get stride 0 in the view.
 * ∂/∂x = g summed over the repeated axes (sumToShape).
 */
export function expand(x: Tensor, shape: readonly number[]): Tensor {
  const target = [...shape];
  const lead = target.length - x.rank;
  const ok = lead >= 0 && x.shape.every((d, i) => d === target[lead + i] || d === 1);
  if (!ok) throw new Error(`expand: cannot broadcast ${fmtShape(x.shape)} to ${fmtShape(shape)}`);
  const { data, stride, offset } = x.nd;
  const strides = target.map((d, i) => (i < lead || x.shape[i - lead] !== d ? 0 : stride[i - lead]!));
  const out = new Tensor(view(data, target, strides, offset));
  return record('expand', out, [x], (g) => [sumToShape(g, x.shape)]);
}

/** Alias of {@link expand} (NumPy's name). */
export const broadcastTo = expand;

/** Validate integer indices into an axis of size `dim`; returns them as an Int32Array. */
function checkIndices(op: string, indices: Int32Array | readonly number[], dim: number, what: string): Int32Array {
  const idx = Int32Array.from(indices);
  for (let i = 0; i < indices.length; i++) {
    const v = indices[i]!;
    if (!Number.isInteger(v) || v < 0 || v >= dim) throw new Error(`${op}: index ${v} at position ${i} is out of range for ${what} of size ${dim}`);
  }
  return idx;
}

/**
 * Gather slices along `axis`: `out[..., j, ...] = x[..., indices[j], ...]`. Indices may repeat.
 * Backward is a scatter-add: ∂/∂x[..., i, ...] = Σ_{j: indices[j] = i} g[..., j, ...].
 */
export function indexSelect(x: Tensor, axis: number, indices: Int32Array | number[]): Tensor {
  const ax = normAxis('indexSelect', axis, x.rank);
  const dim = x.shape[ax]!;
  const idx = checkIndices('indexSelect', indices, dim, `axis ${ax} of ${fmtShape(x.shape)}`);
  const outer = sizeOf(x.shape.slice(0, ax));
  const inner = sizeOf(x.shape.slice(ax + 1));
  const n = idx.length;
  const v = x.values();
  const out = allocate(x.dtype, outer * n * inner);
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < n; j++) out.set(v.subarray((o * dim + idx[j]!) * inner, (o * dim + idx[j]! + 1) * inner), (o * n + j) * inner);
  }
  const shape = x.shape;
  shape[ax] = n;
  return record('indexSelect', new Tensor(out, shape), [x], (g) => {
    const gv = g.values();
    const gx = allocate(g.dtype, x.size);
    for (let o = 0; o < outer; o++) {
      for (let j = 0; j < n; j++) {
        const src = (o * n + j) * inner;
        const dst = (o * dim + idx[j]!) * inner;
        for (let k = 0; k < inner; k++) gx[dst + k] = gx[dst + k]! + gv[src + k]!;
      }
    }
    return [new Tensor(gx, x.shape)];
  });
}

/**
 * Table lookup: row `ids[i]` of `weight` [V, D] for every id; the result has shape
 * [...idsShape, D] (idsShape defaults to [ids.length]).
 * ∂/∂weight[v] = Σ_{i: ids[i] = v} g[i] (rows of ids that never occur get 0).
 */
export function embedding(weight: Tensor, ids: Int32Array | number[], idsShape?: number[]): Tensor {
  if (weight.rank !== 2) throw new Error(`embedding: weight must be [V, D], got ${fmtShape(weight.shape)}`);
  const [vocab, dim] = weight.shape as [number, number];
  const shape = idsShape ?? [ids.length];
  if (sizeOf(shape) !== ids.length) throw new Error(`embedding: idsShape ${fmtShape(shape)} holds ${sizeOf(shape)} ids, got ${ids.length}`);
  const idx = checkIndices('embedding', ids, vocab, 'a table with rows');
  const w = weight.values();
  const out = allocate(weight.dtype, idx.length * dim); // [N, D]
  for (let i = 0; i < idx.length; i++) out.set(w.subarray(idx[i]! * dim, (idx[i]! + 1) * dim), i * dim);
  return record('embedding', new Tensor(out, [...shape, dim]), [weight], (g) => {
    const gv = g.values();
    const gw = allocate(g.dtype, weight.size);
    for (let i = 0; i < idx.length; i++) {
      const dst = idx[i]! * dim;
      for (let k = 0; k < dim; k++) gw[dst + k] = gw[dst + k]! + gv[i * dim + k]!;
    }
    return [new Tensor(gw, weight.shape)];
  });
}

/**
 * Pad the last two axes (H, W) of x [..., H, W] by [top, bottom, left, right] with a
 * constant. ∂/∂x = the centre box of g (the padding got no input).
 */
export function pad2d(x: Tensor, pads: [number, number, number, number], value = 0): Tensor {
  if (x.rank < 2) throw new Error(`pad2d: expected at least [H, W], got ${fmtShape(x.shape)}`);
  const [top, bottom, left, right] = pads;
  if (pads.some((p) => !Number.isInteger(p) || p < 0)) throw new Error(`pad2d: pads must be non-negative integers, got [${pads.join(', ')}]`);
  const r = x.rank;
  const shape = x.shape;
  shape[r - 2] = shape[r - 2]! + top + bottom;
  shape[r - 1] = shape[r - 1]! + left + right;
  const out = allocate(x.dtype, sizeOf(shape)).fill(value);
  const st = stridesOf(shape);
  writeInto(view(out, x.shape, st, top * st[r - 2]! + left), x.values());
  return record('pad2d', new Tensor(out, shape), [x], (g) => {
    const centre = new Tensor(view(g.values(), x.shape, st, top * st[r - 2]! + left));
    return [new Tensor(centre.values(), x.shape)];
  });
}
