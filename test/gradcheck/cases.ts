/**
 * The gradient-check table: one or more cases per op. Split by op family (one file each)
 * so the table stays readable; test/ops-gradcheck.test.ts runs all of them and fails when
 * an op exported by lib/ops, or a name passed to `record` anywhere in lib/ or models/, has
 * no entry here.
 */
import type { GradcheckOptions, Tensor } from '../../lib';

export interface GradCase {
  /** the op under test: an export of lib/ops or a name recorded by `record` (the case must record it) */
  op: string;
  /** what this case exercises, e.g. 'broadcast [3,1] with [4]' */
  what: string;
  /** builds fresh float64 inputs (requiresGrad on those to check) */
  inputs: () => Tensor[];
  fn: (...xs: Tensor[]) => Tensor;
  /** looser tolerance, with the reason, when a kink or the op's numerics need it */
  tol?: { atol: number; rtol: number; why: string };
  /** why this case does not record `op` itself (it must, unless this says why) */
  notRecorded?: string;
  /** other gradcheck options (a step ε, float32 inputs), with the reason */
  options?: GradcheckOptions & { why: string };
}
