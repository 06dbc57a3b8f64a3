/**
 * The gradient-check table: one or more cases per op. Split by op family (one file each)
 * so the table stays readable; test/ops-gradcheck.test.ts runs all of them and fails when
 * an op in lib/ops OP_NAMES has no entry here.
 */
import type { Tensor } from '../../lib';

export interface GradCase {
  /** the op under test (must be a name in OP_NAMES) */
  op: string;
  /** what this case exercises, e.g. 'broadcast [3,1] with [4]' */
  what: string;
  /** builds fresh float64 inputs (requiresGrad on those to check) */
  inputs: () => Tensor[];
  fn: (...xs: Tensor[]) => Tensor;
  /** looser tolerance, with the reason, when a kink or the op's numerics need it */
  tol?: { atol: number; rtol: number; why: string };
}
