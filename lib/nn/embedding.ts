/**
 * Embedding: a lookup table from integer ids to learned vectors, as `torch.nn.Embedding`.
 * The gradient of a looked-up row is scatter-added back into that row (see the
 * `embedding` op), so only the rows used in a batch receive gradient.
 */
import { embedding } from '../ops';
import type { Rng } from '../random';
import type { DType, Tensor } from '../tensor';
import { normalParameter } from './init';
import { Module } from './module';

/** Options of {@link Embedding}. */
export interface EmbeddingOptions {
  /** Generator for the initial table (default: the global one). */
  rng?: Rng;
  /** Standard deviation of the initial N(0, std²) entries (default 1, PyTorch's default). */
  std?: number;
  dtype?: DType;
}

export class Embedding extends Module {
  /** [num, dim], initialised N(0, std²). */
  readonly weight: Tensor;

  constructor(readonly numEmbeddings: number, readonly dim: number, opts: EmbeddingOptions = {}) {
    super();
    this.weight = normalParameter([numEmbeddings, dim], opts.std ?? 1, opts.rng, opts.dtype);
  }

  /** ids (flat, row-major) with shape `shape` (default [ids.length]) → [...shape, dim]. */
  forward(ids: Int32Array | number[], shape?: number[]): Tensor {
    return embedding(this.weight, ids, shape);
  }
}
