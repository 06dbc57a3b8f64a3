/**
 * Linear (fully connected) layer: y = x·Wᵀ + b, as `torch.nn.Linear`.
 * The weight is stored [out, in] so that row o holds the weights of output unit o.
 */
import { matmul, transpose } from '../ops';
import type { Rng } from '../random';
import { fmtShape } from '../shape';
import type { DType, Tensor } from '../tensor';
import { uniformParameter } from './init';
import { Module } from './module';

/** Options of {@link Linear}. */
export interface LinearOptions {
  /** Learn an additive bias (default true). */
  bias?: boolean;
  /** Generator for the initial weights (default: the global one). */
  rng?: Rng;
  dtype?: DType;
}

export class Linear extends Module {
  /** [out, in], initialised U(−1/√in, 1/√in). */
  readonly weight: Tensor;
  /** [out], initialised U(−1/√in, 1/√in); null with `bias: false`. */
  readonly bias: Tensor | null;

  constructor(readonly inFeatures: number, readonly outFeatures: number, opts: LinearOptions = {}) {
    super();
    const bound = 1 / Math.sqrt(inFeatures);
    this.weight = uniformParameter([outFeatures, inFeatures], bound, opts.rng, opts.dtype);
    this.bias = (opts.bias ?? true) ? uniformParameter([outFeatures], bound, opts.rng, opts.dtype) : null;
  }

  /** x [..., in] → [..., out]. */
  forward(x: Tensor): Tensor {
    const shape = x.shape;
    if (shape.length === 0 || shape[shape.length - 1] !== this.inFeatures) {
      throw new Error(`Linear: input's last axis should be ${this.inFeatures}, got shape ${fmtShape(shape)}`);
    }
    const lead = shape.slice(0, -1);
    const rows = x.reshape([-1, this.inFeatures]); // [N, in], N = product of leading axes
    let y = matmul(rows, transpose(this.weight)); // [N, out]
    if (this.bias !== null) y = y.add(this.bias); // bias [out] broadcasts over N
    return y.reshape([...lead, this.outFeatures]); // [..., out]
  }
}
