/**
 * Gradient-check cases for softmax, losses, norms, dropout, convolution and pooling.
 * Pooling and clamped losses avoid ties/kinks by construction (gradients there are
 * subgradients that central differences cannot see).
 */
import * as ops from '../../lib/ops';
import { Rng } from '../../lib';
import { rnd } from '../helpers';
import type { GradCase } from './cases';

export const nnCases: GradCase[] = [
  { op: 'softmax', what: 'last axis, logits of scale 3', inputs: () => [rnd([3, 5], 201, { scale: 3 })], fn: (x) => ops.softmax(x) },
  { op: 'softmax', what: 'axis 1 of [2,3,4] (not last)', inputs: () => [rnd([2, 3, 4], 202)], fn: (x) => ops.softmax(x, 1) },
  { op: 'softmax', what: 'size-1 axis (output is all ones)', inputs: () => [rnd([3, 1], 203)], fn: (x) => ops.mul(ops.softmax(x, -1), x) },
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
  { op: 'dropout', what: 'eval mode is the identity', inputs: () => [rnd([3], 236)], fn: (x) => ops.dropout(x, 0.5, false) },
];
