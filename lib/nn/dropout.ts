/**
 * Dropout (Srivastava et al. 2014): in training, zero each element with probability p and
 * scale the survivors by 1/(1−p) so the expected value is unchanged; in eval, the identity.
 * Which mode applies is the module's `training` flag, set by `train()` / `eval()`.
 */
import { dropout } from '../ops';
import type { Rng } from '../random';
import type { Tensor } from '../tensor';
import { Module } from './module';

export class Dropout extends Module {
  constructor(readonly p: number, readonly rng?: Rng) {
    super();
    if (!(p >= 0 && p < 1)) throw new Error(`Dropout: p should be in [0, 1), got ${p}`);
  }

  forward(x: Tensor): Tensor {
    return dropout(x, this.p, this.training, this.rng);
  }
}
