/**
 * Multi-head causal self-attention with rotary positions and an optional KV cache
 * (Vaswani et al. 2017, §3.2; LlamaGen's `Attention`).
 *
 *   q, k, v = x·Wq, x·Wk, x·Wv                 split into H heads of size hd = D/H
 *   q, k    = RoPE(q), RoPE(k)                  (positions, see rope.ts)
 *   A       = softmax(q·kᵀ/√hd + causal mask)   mask = −∞ where key position > query position
 *   out     = (A·v) merged back to D, then ·Wo
 *
 * With a {@link LayerCache} the keys and values of earlier positions are reused: a sampling
 * step feeds only the new token(s), attends to cached keys plus its own, and appends its
 * keys/values to the cache. The arithmetic per new position is the same as in a full
 * forward, so the logits agree up to float rounding (test/sampling.test.ts checks it).
 */
import { type DType, full, Linear, matmul, maskedSoftmax, Module, type Rng, Tensor } from '../lib';
import { KVBuffer } from './kv-buffer';
import { applyRope, type RopeTable } from './rope';

/**
 * Keys and values of the positions seen so far, per layer (null before the first step), in
 * storage that grows in place (kv-buffer.ts): kᵀ as [B, H, hd, S] and v as [B, H, S, hd].
 */
export interface LayerCache {
  k: KVBuffer | null;
  v: KVBuffer | null;
}

/** Options of {@link CausalSelfAttention}. */
export interface AttentionOptions {
  rng?: Rng;
  dtype?: DType;
  /** Linear weights from N(0, std²) (LlamaGen: 0.02); default PyTorch's uniform init. */
  linearStd?: number;
}

/**
 * The additive causal mask for T new queries at positions start..start+T−1 over S = start+T
 * keys: 0 where key s ≤ query position, −∞ after it. [T, S]. Adding −∞ before softmax gives
 * those keys weight exactly 0, which is what makes causality bit-exact.
 */
export function causalMask(T: number, start: number, dtype: DType): Tensor {
  const S = start + T;
  const mask = full([T, S], 0, { dtype });
  const m = mask.nd.data;
  for (let t = 0; t < T; t++) for (let s = start + t + 1; s < S; s++) m[t * S + s] = -Infinity;
  return mask;
}

export class CausalSelfAttention extends Module {
  readonly wq: Linear;
  readonly wk: Linear;
  readonly wv: Linear;
  readonly wo: Linear;
  readonly headDim: number;

  constructor(readonly dModel: number, readonly nHeads: number, opts: AttentionOptions = {}) {
    super();
    if (dModel % nHeads !== 0) throw new Error(`CausalSelfAttention: dModel ${dModel} is not divisible by nHeads ${nHeads}`);
    this.headDim = dModel / nHeads;
    // No biases, as in Llama / LlamaGen.
    const lin = { bias: false, rng: opts.rng, dtype: opts.dtype, std: opts.linearStd };
    this.wq = new Linear(dModel, dModel, lin);
    this.wk = new Linear(dModel, dModel, lin);
    this.wv = new Linear(dModel, dModel, lin);
    this.wo = new Linear(dModel, dModel, lin);
  }

  /**
   * x [B, T, D] at positions start..start+T−1 (start = cached length) → [B, T, D].
   * When `cache` is given its k/v grow by T positions.
   */
  forward(x: Tensor, rope: RopeTable, cache?: LayerCache): Tensor {
    const [B, T, D] = x.shape as [number, number, number];
    const H = this.nHeads;
    const hd = this.headDim;
    const start = cache?.k ? cache.k.length : 0;

    const split = (t: Tensor): Tensor => t.reshape([B, T, H, hd]); // [B, T, H, hd]
    const q = applyRope(split(this.wq.forward(x)), rope, start).permute([0, 2, 1, 3]); // [B, H, T, hd]
    const k = applyRope(split(this.wk.forward(x)), rope, start).permute([0, 2, 1, 3]); // [B, H, T, hd]
    let v = split(this.wv.forward(x)).permute([0, 2, 1, 3]); // [B, H, T, hd]
    let kT = k.transpose(-2, -1); // [B, H, hd, T]
    if (cache) {
      cache.k ??= new KVBuffer(B, H, hd, 'columns', x.dtype);
      cache.v ??= new KVBuffer(B, H, hd, 'rows', x.dtype);
      kT = cache.k.append(k); // [B, H, hd, S], S = start + T
      v = cache.v.append(v); // [B, H, S, hd]
    }

    // q·kᵀ/√hd with the scale applied to q: the same product, but scaling [B, H, T, hd] is
    // cheaper than scaling [B, H, T, S] (and packs the permuted q for the matmul on the way).
    const scores = matmul(q.mul(1 / Math.sqrt(hd)), kT); // [B, H, T, S]
    const weights = maskedSoftmax(scores, causalMask(T, start, x.dtype)); // [B, H, T, S] = softmax(scores + mask) in one pass
    const heads = matmul(weights, v); // [B, H, T, hd]
    const merged = heads.permute([0, 2, 1, 3]).reshape([B, T, D]); // [B, T, D]
    return this.wo.forward(merged); // [B, T, D]
  }
}
