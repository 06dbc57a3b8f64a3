/**
 * 2-D convolution layer over [N, C, H, W] images, as `torch.nn.Conv2d`.
 * The sliding-window math and its backward are in the `conv2d` op; this module owns the
 * kernel [out, in/groups, kh, kw] and bias [out].
 */
import { conv2d, type Conv2dOptions } from '../ops';
import type { Rng } from '../random';
import type { DType, Tensor } from '../tensor';
import { uniformParameter } from './init';
import { Module } from './module';

/** Options of the {@link Conv2d} layer: the `conv2d` op's stride, padding, dilation, groups, plus init. */
export interface Conv2dLayerOptions extends Conv2dOptions {
  /** Learn a bias (default true). */
  bias?: boolean;
  /** Generator for the initial weights (default: the global one). */
  rng?: Rng;
  dtype?: DType;
}

export class Conv2d extends Module {
  /** [out, in/groups, kh, kw], initialised U(−1/√fanIn, 1/√fanIn), fanIn = in/groups·kh·kw. */
  readonly weight: Tensor;
  /** [out], same init; null with `bias: false`. */
  readonly bias: Tensor | null;
  readonly stride: number | [number, number];
  readonly padding: number | [number, number];
  readonly dilation: number | [number, number];
  readonly groups: number;

  constructor(readonly inChannels: number, readonly outChannels: number, kernel: number | [number, number], opts: Conv2dLayerOptions = {}) {
    super();
    const [kh, kw] = typeof kernel === 'number' ? [kernel, kernel] : kernel;
    this.groups = opts.groups ?? 1;
    if (inChannels % this.groups !== 0 || outChannels % this.groups !== 0) {
      throw new Error(`Conv2d: in ${inChannels} and out ${outChannels} channels must both be divisible by groups ${this.groups}`);
    }
    this.stride = opts.stride ?? 1;
    this.padding = opts.padding ?? 0;
    this.dilation = opts.dilation ?? 1;
    const fanIn = (inChannels / this.groups) * kh * kw;
    const bound = 1 / Math.sqrt(fanIn);
    this.weight = uniformParameter([outChannels, inChannels / this.groups, kh, kw], bound, opts.rng, opts.dtype);
    this.bias = (opts.bias ?? true) ? uniformParameter([outChannels], bound, opts.rng, opts.dtype) : null;
  }

  /** x [N, in, H, W] → [N, out, H', W']. */
  forward(x: Tensor): Tensor {
    return conv2d(x, this.weight, this.bias ?? undefined, {
      stride: this.stride, padding: this.padding, dilation: this.dilation, groups: this.groups,
    });
  }
}
