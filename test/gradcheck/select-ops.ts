/** Gradient-check cases for where, clamp, narrow, slice, concat, stack, expand, indexSelect, embedding, pad2d. */
import * as ops from '../../lib/ops';
import { Tensor } from '../../lib';
import { rnd } from '../helpers';
import type { GradCase } from './cases';

/** A fixed 0/1 mask (no gradient), float64 like the other inputs. */
function mask(shape: number[], bits: number[]): Tensor {
  return new Tensor(Float64Array.from(bits), shape, false);
}

export const selectCases: GradCase[] = [
  {
    op: 'where', what: 'mask [3,1] with a [3,4] and b [4] (three-way broadcast)',
    inputs: () => [mask([3, 1], [1, 0, 1]), rnd([3, 4], 101), rnd([4], 102)],
    fn: (c, a, b) => ops.where(c!, a!, b!),
  },
  {
    op: 'where', what: 'elementwise mask, b a plain number',
    inputs: () => [mask([2, 3], [1, 0, 0, 1, 1, 0]), rnd([2, 3], 103)],
    fn: (c, a) => ops.where(c!, a!, -1.5),
  },
  { op: 'clamp', what: 'both bounds, values on both sides', inputs: () => [rnd([3, 4], 104)], fn: (x) => ops.clamp(x, -0.5, 0.7) },
  { op: 'clamp', what: 'relu6 = clamp(x, 0, 6) on a wide range', inputs: () => [rnd([2, 5], 105, { scale: 4, offset: 2 })], fn: (x) => ops.clamp(x, 0, 6) },
  { op: 'clamp', what: 'min only', inputs: () => [rnd([4], 106)], fn: (x) => ops.clamp(x, 0.1) },
  { op: 'narrow', what: 'axis 1 of [2,5,3], start 1 length 3', inputs: () => [rnd([2, 5, 3], 107)], fn: (x) => ops.narrow(x, 1, 1, 3) },
  { op: 'narrow', what: 'of a permuted view, last axis, length 1', inputs: () => [rnd([3, 4], 108)], fn: (x) => ops.narrow(ops.permute(x, [1, 0]), -1, 2, 1) },
  { op: 'slice', what: '[[0,2], whole, [1,-1]] of [3,2,4]', inputs: () => [rnd([3, 2, 4], 109)], fn: (x) => ops.slice(x, [[0, 2], null, [1, -1]]) },
  { op: 'slice', what: 'slice of a slice, trailing axes whole', inputs: () => [rnd([5, 3], 110)], fn: (x) => ops.slice(ops.slice(x, [[1, 5]]), [[2, 4]]) },
  {
    op: 'concat', what: 'axis 1, sizes 2,1,3',
    inputs: () => [rnd([2, 2, 3], 111), rnd([2, 1, 3], 112), rnd([2, 3, 3], 113)],
    fn: (a, b, c) => ops.concat([a!, b!, c!], 1),
  },
  { op: 'concat', what: 'axis 0 with a size-1 part', inputs: () => [rnd([1, 4], 114), rnd([3, 4], 115)], fn: (a, b) => ops.concat([a!, b!], 0) },
  { op: 'concat', what: 'last axis, the same tensor twice', inputs: () => [rnd([2, 3], 116)], fn: (a) => ops.concat([a!, a!], -1) },
  { op: 'stack', what: 'three [2,3] on a new axis 1', inputs: () => [rnd([2, 3], 117), rnd([2, 3], 118), rnd([2, 3], 119)], fn: (a, b, c) => ops.stack([a!, b!, c!], 1) },
  { op: 'stack', what: 'new last axis', inputs: () => [rnd([3], 120), rnd([3], 121)], fn: (a, b) => ops.stack([a!, b!], -1) },
  { op: 'expand', what: '[3,1] -> [2,3,4]', inputs: () => [rnd([3, 1], 122)], fn: (x) => ops.expand(x, [2, 3, 4]) },
  { op: 'broadcastTo', what: 'alias of expand, size-1 leading axis', inputs: () => [rnd([1, 4], 123)], fn: (x) => ops.mul(ops.broadcastTo(x, [3, 4]), x) },
  { op: 'indexSelect', what: 'axis 1 with repeats [2,0,2,1]', inputs: () => [rnd([2, 3, 2], 124)], fn: (x) => ops.indexSelect(x, 1, [2, 0, 2, 1]) },
  { op: 'indexSelect', what: 'axis 0, single index', inputs: () => [rnd([4, 3], 125)], fn: (x) => ops.indexSelect(x, 0, Int32Array.from([3])) },
  { op: 'embedding', what: 'ids [[1,4],[1,0]] with a repeat, rows 2 and 3 unused', inputs: () => [rnd([5, 3], 126)], fn: (w) => ops.embedding(w, [1, 4, 1, 0], [2, 2]) },
  { op: 'embedding', what: 'flat ids, default idsShape', inputs: () => [rnd([3, 2], 127)], fn: (w) => ops.embedding(w, Int32Array.from([2, 2, 0])) },
  { op: 'pad2d', what: '[1,2,3,3] by [1,0,2,1] with value 0.5', inputs: () => [rnd([1, 2, 3, 3], 128)], fn: (x) => ops.pad2d(x, [1, 0, 2, 1], 0.5) },
  { op: 'pad2d', what: '[H,W] only, zero pads on some sides', inputs: () => [rnd([2, 3], 129)], fn: (x) => ops.pad2d(x, [0, 2, 1, 0]) },
];
