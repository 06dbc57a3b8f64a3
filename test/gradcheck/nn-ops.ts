/**
 * Gradient-check cases for softmax, losses, norms, dropout, convolution and pooling.
 * Pooling and clamped losses avoid ties/kinks by construction (gradients there are
 * subgradients that central differences cannot see).
 */
import * as ops from '../../lib/ops';
import { Rng, Tensor } from '../../lib';
import { rnd } from '../helpers';
import type { GradCase } from './cases';

export const nnCases: GradCase[] = [
  { op: 'softmax', what: 'last axis, logits of scale 3', inputs: () => [rnd([3, 5], 201, { scale: 3 })], fn: (x) => ops.softmax(x) },
  { op: 'softmax', what: 'axis 1 of [2,3,4] (not last)', inputs: () => [rnd([2, 3, 4], 202)], fn: (x) => ops.softmax(x, 1) },
  { op: 'softmax', what: 'size-1 axis (output is all ones)', inputs: () => [rnd([3, 1], 203)], fn: (x) => ops.mul(ops.softmax(x, -1), x) },
  { op: 'maskedSoftmax', what: 'x [2, 3, 4] + a [3, 4] mask with −∞ above the diagonal', inputs: () => [rnd([2, 3, 4], 204, { scale: 2 })], fn: (x) => ops.maskedSoftmax(x, ops.astype(new Tensor(Float64Array.from({ length: 12 }, (_, i) => (i % 4 > Math.floor(i / 4) + 1 ? -Infinity : 0.1 * i)), [3, 4]), x.dtype)) },
  { op: 'logSoftmax', what: 'last axis', inputs: () => [rnd([3, 5], 204, { scale: 3 })], fn: (x) => ops.logSoftmax(x) },
  { op: 'logSoftmax', what: 'axis 0 of [4,2,3]', inputs: () => [rnd([4, 2, 3], 205)], fn: (x) => ops.logSoftmax(x, 0) },
  { op: 'crossEntropy', what: 'mean', inputs: () => [rnd([4, 5], 206, { scale: 2 })], fn: (x) => ops.crossEntropy(x, [1, 0, 4, 4]) },
  { op: 'crossEntropy', what: 'ignoreIndex -100 on two rows, mean over the other two', inputs: () => [rnd([4, 3], 207)], fn: (x) => ops.crossEntropy(x, [2, -100, 0, -100]) },
  { op: 'crossEntropy', what: 'custom ignoreIndex 0, sum', inputs: () => [rnd([3, 4], 208)], fn: (x) => ops.crossEntropy(x, [0, 3, 1], { ignoreIndex: 0, reduction: 'sum' }) },
  { op: 'crossEntropy', what: "[B,T,V] logits, reduction 'none'", inputs: () => [rnd([2, 3, 4], 209)], fn: (x) => ops.crossEntropy(x, [0, 1, 2, 3, 2, 1], { reduction: 'none' }) },
  { op: 'mse', what: 'mean', inputs: () => [rnd([3, 4], 210), rnd([3, 4], 211)], fn: (a, b) => ops.mse(a!, b!) },
  { op: 'mse', what: "broadcast [3,4] vs [4], 'none'", inputs: () => [rnd([3, 4], 212), rnd([4], 213)], fn: (a, b) => ops.mse(a!, b!, 'none') },
  { op: 'l1', what: 'mean', inputs: () => [rnd([3, 4], 214), rnd([3, 4], 215)], fn: (a, b) => ops.l1(a!, b!) },
  { op: 'l1', what: 'sum', inputs: () => [rnd([5], 216), rnd([5], 217)], fn: (a, b) => ops.l1(a!, b!, 'sum') },
  { op: 'cosineSimilarity', what: 'last axis', inputs: () => [rnd([3, 4], 218), rnd([3, 4], 219)], fn: (a, b) => ops.cosineSimilarity(a!, b!) },
  { op: 'cosineSimilarity', what: 'broadcast [3,1,4] vs [2,4]', inputs: () => [rnd([3, 1, 4], 220), rnd([2, 4], 221)], fn: (a, b) => ops.cosineSimilarity(a!, b!) },
  { op: 'cosineSimilarity', what: 'axis 0', inputs: () => [rnd([4, 2], 222), rnd([4, 2], 223)], fn: (a, b) => ops.cosineSimilarity(a!, b!, 0) },
  { op: 'normalize', what: 'last axis', inputs: () => [rnd([3, 4], 224)], fn: (x) => ops.normalize(x) },
  { op: 'normalize', what: 'axis 1 of [2,3,2]', inputs: () => [rnd([2, 3, 2], 225)], fn: (x) => ops.normalize(x, 1) },
  { op: 'layerNorm', what: 'weight and bias, [2,3,5]', inputs: () => [rnd([2, 3, 5], 226), rnd([5], 227, { offset: 1 }), rnd([5], 228)], fn: (x, w, b) => ops.layerNorm(x!, w, b) },
  { op: 'layerNorm', what: 'no affine, size-1 leading dims', inputs: () => [rnd([1, 1, 4], 229, { scale: 3 })], fn: (x) => ops.layerNorm(x!) },
  { op: 'layerNorm', what: 'weight only, eps 1e-3', inputs: () => [rnd([3, 4], 230), rnd([4], 231)], fn: (x, w) => ops.layerNorm(x!, w, undefined, 1e-3) },
  { op: 'rmsNorm', what: 'with weight', inputs: () => [rnd([2, 3, 4], 232), rnd([4], 233, { offset: 1 })], fn: (x, w) => ops.rmsNorm(x!, w) },
  { op: 'rmsNorm', what: 'no weight', inputs: () => [rnd([3, 5], 234)], fn: (x) => ops.rmsNorm(x!) },
  { op: 'dropout', what: 'training, p 0.4, fixed mask (seeded Rng per call)', inputs: () => [rnd([4, 5], 235)], fn: (x) => ops.dropout(x, 0.4, true, new Rng(7)) },
  { op: 'dropout', what: 'eval mode is the identity', inputs: () => [rnd([3], 236)], fn: (x) => ops.dropout(x, 0.5, false), notRecorded: 'in eval mode dropout returns its input unchanged, recording nothing' },
  {
    op: 'conv2d', what: '3x3, padding 1, bias',
    inputs: () => [rnd([2, 3, 5, 5], 237), rnd([4, 3, 3, 3], 238), rnd([4], 239)],
    fn: (x, w, b) => ops.conv2d(x!, w!, b, { padding: 1 }),
  },
  {
    op: 'conv2d', what: 'stride 2, padding [1,0], dilation 2, 2x3 kernel, no bias',
    inputs: () => [rnd([1, 2, 7, 6], 240), rnd([3, 2, 2, 3], 241)],
    fn: (x, w) => ops.conv2d(x!, w!, undefined, { stride: 2, padding: [1, 0], dilation: 2 }),
  },
  {
    op: 'conv2d', what: 'groups 2 (4 -> 6 channels), stride [1,2]',
    inputs: () => [rnd([2, 4, 4, 5], 242), rnd([6, 2, 3, 3], 243), rnd([6], 244)],
    fn: (x, w, b) => ops.conv2d(x!, w!, b, { groups: 2, stride: [1, 2] }),
  },
  {
    op: 'conv2d', what: 'depthwise (groups = C = 3), multiplier 2, padding 1',
    inputs: () => [rnd([1, 3, 4, 4], 245), rnd([6, 1, 3, 3], 246)],
    fn: (x, w) => ops.conv2d(x!, w!, undefined, { groups: 3, padding: 1 }),
  },
  {
    op: 'conv2d', what: '1x1 kernel on a size-1 batch',
    inputs: () => [rnd([1, 3, 2, 3], 247), rnd([2, 3, 1, 1], 248), rnd([2], 249)],
    fn: (x, w, b) => ops.conv2d(x!, w!, b),
  },
  {
    op: 'convTranspose2d', what: 'kernel 4, stride 2, padding 1 (exact 2x upsampling), bias',
    inputs: () => [rnd([2, 3, 3, 3], 250), rnd([3, 2, 4, 4], 251), rnd([2], 252)],
    fn: (x, w, b) => ops.convTranspose2d(x!, w!, b, { stride: 2, padding: 1 }),
  },
  {
    op: 'convTranspose2d', what: 'stride 1, no padding, no bias',
    inputs: () => [rnd([1, 2, 3, 2], 253), rnd([2, 3, 2, 2], 254)],
    fn: (x, w) => ops.convTranspose2d(x!, w!),
  },
  {
    op: 'convTranspose2d', what: 'stride [2,3], outputPadding 1',
    inputs: () => [rnd([1, 2, 2, 2], 255), rnd([2, 1, 3, 3], 256)],
    fn: (x, w) => ops.convTranspose2d(x!, w!, undefined, { stride: [2, 3], outputPadding: 1 }),
  },
  { op: 'upsampleNearest', what: '[1,2,2,3] by 2', inputs: () => [rnd([1, 2, 2, 3], 257)], fn: (x) => ops.upsampleNearest(x, 2) },
  { op: 'upsampleNearest', what: '[H,W] by 3', inputs: () => [rnd([2, 2], 258)], fn: (x) => ops.upsampleNearest(x, 3) },
  { op: 'avgPool2d', what: 'kernel 2 (stride 2)', inputs: () => [rnd([2, 2, 4, 4], 259)], fn: (x) => ops.avgPool2d(x, 2) },
  { op: 'avgPool2d', what: 'kernel 3, stride 2, padding 1 (overlapping windows)', inputs: () => [rnd([1, 2, 5, 5], 260)], fn: (x) => ops.avgPool2d(x, 3, 2, 1) },
  { op: 'maxPool2d', what: 'kernel 2 (distinct values, no ties)', inputs: () => [rnd([2, 2, 4, 4], 261)], fn: (x) => ops.maxPool2d(x, 2) },
  { op: 'maxPool2d', what: 'kernel 3, stride 2, padding 1 (overlapping)', inputs: () => [rnd([1, 2, 5, 5], 262)], fn: (x) => ops.maxPool2d(x, 3, 2, 1) },
  { op: 'globalAvgPool', what: '[2,3,2,4] -> [2,3]', inputs: () => [rnd([2, 3, 2, 4], 263)], fn: (x) => ops.globalAvgPool(x) },
];
