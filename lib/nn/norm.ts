/**
 * Normalisation layers over the last axis: LayerNorm (Ba et al. 2016) and RMSNorm
 * (Zhang & Sennrich 2019). The math and its backward live in the `layerNorm` and `rmsNorm`
 * ops; these modules only own the learned gain (and bias).
 */
import { layerNorm, rmsNorm } from '../ops';
import type { DType, Tensor } from '../tensor';
import { constantParameter } from './init';
import { Module } from './module';

/** Options of {@link LayerNorm}. */
export interface LayerNormOptions {
  /** Added to the variance before the square root (default 1e-5). */
  eps?: number;
  /** Learn a bias β (default true). */
  bias?: boolean;
  dtype?: DType;
}

/** y = (x − mean) / √(var + eps) · γ + β over the last axis (population variance). */
export class LayerNorm extends Module {
  /** γ [dim], starts at 1. */
  readonly weight: Tensor;
  /** β [dim], starts at 0; null with `bias: false`. */
  readonly bias: Tensor | null;
  readonly eps: number;

  constructor(readonly dim: number, opts: LayerNormOptions = {}) {
    super();
    this.eps = opts.eps ?? 1e-5;
    this.weight = constantParameter([dim], 1, opts.dtype);
    this.bias = (opts.bias ?? true) ? constantParameter([dim], 0, opts.dtype) : null;
  }

  /** x [..., dim] → [..., dim]. */
  forward(x: Tensor): Tensor {
    return layerNorm(x, this.weight, this.bias ?? undefined, this.eps);
  }
}

/** y = x / √(mean(x²) + eps) · γ over the last axis: LayerNorm without centring or bias. */
export class RMSNorm extends Module {
  /** γ [dim], starts at 1. */
  readonly weight: Tensor;

  constructor(readonly dim: number, readonly eps = 1e-6, opts: { dtype?: DType } = {}) {
    super();
    this.weight = constantParameter([dim], 1, opts.dtype);
  }

  /** x [..., dim] → [..., dim]. */
  forward(x: Tensor): Tensor {
    return rmsNorm(x, this.weight, this.eps);
  }
}
