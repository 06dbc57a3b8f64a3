/**
 * Helpers for ops that read or write a rectangular region of a tensor (narrow, slice, pad2d)
 * or work along one axis (softmax, normalize): strided views over a typed array, copying
 * into them, and moving an axis to the end so that kernels see contiguous rows. Also the
 * `[h, w]` argument parsing that conv and pooling share.
 */
import ndarray from 'ndarray';
import type { NdArray } from 'ndarray';
import { normAxis, sizeOf, stridesOf } from '../shape';
import { allocate, type DType, type FloatArray, Tensor } from '../tensor';

/** A view of `shape` over `data`, starting at `offset`, with the given strides. */
export function view(data: FloatArray, shape: readonly number[], stride: readonly number[], offset: number): NdArray<FloatArray> {
  return ndarray(data, [...shape], [...stride], offset);
}

/**
 * Walk `dst` (a possibly strided view) in row-major order and write `src[i]` into it
 * (`add`: accumulate instead, for scatter-add in backward passes).
 */
export function writeInto(dst: NdArray<FloatArray>, src: FloatArray, add = false): void {
  const { shape, stride, data } = dst;
  const rank = shape.length;
  const n = sizeOf(shape);
  if (n === 0) return;
  const idx = new Array<number>(rank).fill(0);
  let p = dst.offset;
  for (let i = 0; i < n; i++) {
    data[p] = add ? data[p]! + src[i]! : src[i]!;
    for (let ax = rank - 1; ax >= 0; ax--) {
      idx[ax]!++;
      p += stride[ax]!;
      if (idx[ax]! < shape[ax]!) break;
      p -= stride[ax]! * shape[ax]!;
      idx[ax] = 0;
    }
  }
}

/**
 * The region of a fresh zero tensor of `fullShape` that starts at `starts` and has the
 * shape of `g`, filled with g's values: the backward of every "take a box" op.
 */
export function embedInZeros(g: Tensor, fullShape: readonly number[], starts: readonly number[], dtype: DType): Tensor {
  const out = allocate(dtype, sizeOf(fullShape));
  const st = stridesOf(fullShape);
  const offset = starts.reduce((acc, s, i) => acc + s * st[i]!, 0);
  writeInto(view(out, g.shape, st, offset), g.values());
  return new Tensor(out, fullShape);
}

/** A tensor's values laid out with `axis` moved last: `rows × cols` contiguous rows. */
export interface Rows {
  data: FloatArray;
  rows: number;
  cols: number;
  /** Turn a rows×cols array in this layout back into a tensor of the original shape. */
  restore: (data: FloatArray) => Tensor;
}

/**
 * Move `axis` of `x` to the end (a copy only when it is not already last), so that
 * per-row kernels can reduce along contiguous memory. `restore` undoes the permutation
 * as a view, so no second copy is made.
 */
export function rowsAlong(op: string, x: Tensor, axis: number): Rows {
  const rank = x.rank;
  const ax = normAxis(op, axis, rank);
  const cols = rank === 0 ? 1 : x.shape[ax]!;
  const rows = cols === 0 ? 0 : x.size / cols;
  if (rank === 0 || ax === rank - 1) {
    const shape = x.shape;
    return { data: x.values(), rows, cols, restore: (d) => new Tensor(d, shape) };
  }
  // order: every other axis in place, then `ax` last
  const order = [...Array.from({ length: rank }, (_, i) => i).filter((i) => i !== ax), ax];
  const inverse = new Array<number>(rank);
  order.forEach((a, i) => (inverse[a] = i));
  const moved = new Tensor(x.nd.transpose(...order));
  const movedShape = moved.shape;
  return {
    data: moved.values(),
    rows,
    cols,
    restore: (d) => new Tensor(new Tensor(d, movedShape).nd.transpose(...inverse)),
  };
}

/** [h, w] from a size given once or as a pair, checked to be integers ≥ `min`. */
export function pair(op: string, name: string, v: number | [number, number], min: number): [number, number] {
  const p: [number, number] = typeof v === 'number' ? [v, v] : v;
  if (p.some((e) => !Number.isInteger(e) || e < min)) throw new Error(`${op}: ${name} must be integers ≥ ${min}, got ${JSON.stringify(v)}`);
  return p;
}
