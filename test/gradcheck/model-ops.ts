/**
 * Gradient-check cases for the differentiable ops that live with the models rather than in
 * lib/ops: the VQ straight-through estimator (models/vq.ts) and RoPE (models/rope.ts).
 */
import { applyRope, ropeTable } from '../../models/rope';
import { straightThrough } from '../../models/vq';
import { rnd } from '../helpers';
import type { GradCase } from './cases';

export const modelCases: GradCase[] = [
  {
    // straightThrough's forward is z_q and its backward the identity to z, the gradient of
    // z + sg(z_q − z). Checked where that is the true derivative: z_q computed from z (here
    // z_q = sg(z), re-evaluated at every perturbed z), so d/dz of the output is exactly 1.
    op: 'straightThrough', what: 'z_q = sg(z): identity backward is the true derivative',
    inputs: () => [rnd([3, 4], 61)], fn: (z) => straightThrough(z, z.detach()),
  },
  {
    op: 'rope', what: '1-D, x [2, 5, 2, 8], start offset 1',
    inputs: () => [rnd([2, 5, 2, 8], 62)], fn: (x) => applyRope(x, ropeTable({ kind: '1d', headDim: 8, maxSeqLen: 8 }), 1),
  },
  {
    op: 'rope', what: '2-D (grid 2, prefix 2), x [1, 6, 1, 8]',
    inputs: () => [rnd([1, 6, 1, 8], 63)], fn: (x) => applyRope(x, ropeTable({ kind: '2d', headDim: 8, maxSeqLen: 6, gridSize: 2 })),
  },
];
