/**
 * Linear (fully connected) layer: y = x·Wᵀ + b, as `torch.nn.Linear`.
 * The weight is stored [out, in] so that row o holds the weights of output unit o.
 */
import { matmul, transpose } from '../ops';
import type { Rng } from '../random';
import { fmtShape } from '../shape';
import type { DType, Tensor } from '../tensor';
import { constantParameter, normalParameter, uniformParameter } from './init';
import { Module } from './module';

/** Options of {@link Linear}. */
export interface LinearOptions {
  /** Learn an additive bias (default true). */
  bias?: boolean;
  /** Generator for the initial weights (default: the global one). */
  rng?: Rng;
  /**
   * When set, the weight is drawn from N(0, std²) and the bias starts at 0 — LlamaGen's
   * `_init_weights` uses std = 0.02 for every Linear. Default (unset): PyTorch's
   * U(−1/√in, 1/√in) for both.
   */
  std?: number;
  dtype?: DType;
}

export class Linear extends Module {
  /** [out, in], initialised U(−1/√in, 1/√in) (or N(0, std²) with `std`). */
  readonly weight: Tensor;
  /** [out], initialised U(−1/√in, 1/√in) (or 0 with `std`); null with `bias: false`. */
  readonly bias: Tensor | null;

  constructor(readonly inFeatures: number, readonly outFeatures: number, opts: LinearOptions = {}) {
    super();
    const bound = 1 / Math.sqrt(inFeatures);
    const withBias = opts.bias ?? true;
    if (opts.std !== undefined) {
      if (!(opts.std >= 0)) throw new Error(`Linear: std should be a number ≥ 0, got ${opts.std}`);
      this.weight = normalParameter([outFeatures, inFeatures], opts.std, opts.rng, opts.dtype);
      this.bias = withBias ? constantParameter([outFeatures], 0, opts.dtype) : null;
    } else {
      this.weight = uniformParameter([outFeatures, inFeatures], bound, opts.rng, opts.dtype);
      this.bias = withBias ? uniformParameter([outFeatures], bound, opts.rng, opts.dtype) : null;
    }
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
