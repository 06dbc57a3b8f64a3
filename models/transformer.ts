/**
 * The autoregressive transformer: a decoder-only, Llama-style network as in LlamaGen
 * (Sun et al. 2024, "Autoregressive Model Beats Diffusion", §2.2), the model ARRA trains.
 *
 *   tokens [B, T] ──embedding──▶ h⁰ [B, T, D]
 *   for i = 0..L−1:   h ← h + Attn(RMSNorm(h))        (causal, rotary positions)
 *                     h ← h + SwiGLU(RMSNorm(h))      hiddens[i] = h   ◀── ARRA aligns one of these
 *   logits = RMSNorm(h) · W_head                      [B, T, V], W_head starts at 0
 *
 * One vocabulary holds image codes, class ids / text tokens and specials (see sequence.ts);
 * the model itself does not know which is which. `forward` returns the logits *and* the
 * residual stream after every block, because ARRA's alignment loss reads block i's output at
 * every next-image-token position (the paper, §3.2).
 *
 * Reference implementations: LlamaGen `autoregressive/models/gpt.py`, nanoGPT `model.py`.
 */
import { type DType, Embedding, Linear, Module, Rng, RMSNorm, type Tensor } from '../lib';
import { CausalSelfAttention, type LayerCache } from './attention';
import { SwiGLU } from './mlp';
import { ropeTable, type RopeTable } from './rope';

/** Sizes and options of a {@link Transformer}. */
export interface TransformerConfig {
  /** vocabulary size V (image codes + conditions + specials; see sequence.ts) */
  vocabSize: number;
  /** width D of the residual stream */
  dModel: number;
  /** number of blocks L */
  nLayers: number;
  /** attention heads H (head size D/H) */
  nHeads: number;
  /** SwiGLU hidden size (LlamaGen: ≈ 8/3·D) */
  mlpHidden: number;
  /** longest sequence (positions precomputed for RoPE) */
  maxSeqLen: number;
  /** rotary positions: '1d' over the sequence, '2d' over the image grid (LlamaGen) */
  rope: '1d' | '2d';
  /** 2-D RoPE: image tokens per side */
  gridSize?: number;
  /** 2-D RoPE: positions before the first image token (default 2: condition, begin-image) */
  prefixLen?: number;
  /** RoPE frequency base (default 10 000) */
  ropeBase?: number;
  /** RMSNorm epsilon (default 1e-5, LlamaGen's) */
  normEps?: number;
  /** parameter dtype (default float32; float64 for gradient checks) */
  dtype?: DType;
  /** seed of the parameter initialisation (default 0) */
  seed?: number;
  /**
   * Initialisation of the Linear weights: `llamagen` (default) draws them from N(0, 0.02²) as
   * LlamaGen's `_init_weights` does (`initializer_range = 0.02`); `pytorch` uses PyTorch's
   * U(−1/√in, 1/√in). Embeddings are N(0, 0.02²) and the output head starts at 0 either way.
   * Checkpoints written before this option existed were trained with `pytorch`; their weights
   * load the same either way (init only matters for a fresh model).
   */
  init?: 'llamagen' | 'pytorch';
}

/** Per-layer keys and values, for incremental decoding (see sampling.ts). */
export interface KVCache {
  layers: LayerCache[];
}

/** An empty cache for a model with `nLayers` blocks. */
export function emptyCache(nLayers: number): KVCache {
  return { layers: Array.from({ length: nLayers }, () => ({ k: null, v: null })) };
}

/** The std of the Linear weights' N(0, std²) init, or undefined for PyTorch's uniform init. */
export function linearInitStd(config: TransformerConfig): number | undefined {
  const init = config.init ?? 'llamagen';
  if (init !== 'llamagen' && init !== 'pytorch') throw new Error(`Transformer: init should be 'llamagen' or 'pytorch', got '${String(init)}'`);
  return init === 'llamagen' ? 0.02 : undefined;
}

/** One pre-norm block: h + Attn(norm(h)), then + SwiGLU(norm(·)). */
export class Block extends Module {
  readonly attnNorm: RMSNorm;
  readonly attn: CausalSelfAttention;
  readonly mlpNorm: RMSNorm;
  readonly mlp: SwiGLU;

  constructor(config: TransformerConfig, rng: Rng) {
    super();
    const dtype = config.dtype;
    const eps = config.normEps ?? 1e-5;
    this.attnNorm = new RMSNorm(config.dModel, eps, { dtype });
    const linearStd = linearInitStd(config);
    this.attn = new CausalSelfAttention(config.dModel, config.nHeads, { rng, dtype, linearStd });
    this.mlpNorm = new RMSNorm(config.dModel, eps, { dtype });
    this.mlp = new SwiGLU(config.dModel, config.mlpHidden, { rng, dtype, linearStd });
  }

  /** h [B, T, D] → [B, T, D]. */
  forward(h: Tensor, rope: RopeTable, cache?: LayerCache): Tensor {
    const afterAttn = h.add(this.attn.forward(this.attnNorm.forward(h), rope, cache)); // [B, T, D]
    return afterAttn.add(this.mlp.forward(this.mlpNorm.forward(afterAttn))); // [B, T, D]
  }
}

export class Transformer extends Module {
  readonly config: TransformerConfig;
  readonly embed: Embedding;
  readonly blocks: Block[];
  readonly norm: RMSNorm;
  readonly head: Linear;
  /** cos/sin of every (position, pair): not a parameter, recomputed from the config. */
  private readonly rope: RopeTable;

  constructor(config: TransformerConfig) {
    super();
    this.config = { ...config };
    const { vocabSize, dModel, nLayers, nHeads, maxSeqLen, dtype } = config;
    if (dModel % nHeads !== 0) throw new Error(`Transformer: dModel ${dModel} is not divisible by nHeads ${nHeads}`);
    const rng = new Rng(config.seed ?? 0);
    // LlamaGen initialises embeddings with N(0, 0.02²).
    this.embed = new Embedding(vocabSize, dModel, { rng, std: 0.02, dtype });
    this.blocks = Array.from({ length: nLayers }, () => new Block(config, rng));
    this.norm = new RMSNorm(dModel, config.normEps ?? 1e-5, { dtype });
    this.head = new Linear(dModel, vocabSize, { bias: false, rng, dtype });
    // Output head starts at zero (LlamaGen): every first prediction is uniform over V,
    // so the initial loss is exactly ln V.
    this.head.weight.nd.data.fill(0);
    this.rope = ropeTable({
      kind: config.rope, headDim: dModel / nHeads, maxSeqLen,
      base: config.ropeBase, gridSize: config.gridSize, prefixLen: config.prefixLen,
    });
  }

  /**
   * tokens: flat Int32Array, row-major [B, T]. With a `cache` the tokens are the next T
   * positions after those already cached (incremental decoding).
   * Returns logits [B, T, V] and hiddens[i] [B, T, D], block i's output before the final norm.
   */
  forward(tokens: Int32Array, shape: [number, number], cache?: KVCache): { logits: Tensor; hiddens: Tensor[] } {
    const [B, T] = shape;
    if (tokens.length !== B * T) throw new Error(`Transformer: shape [${B}, ${T}] needs ${B * T} tokens, got ${tokens.length}`);
    const start = cache?.layers[0]?.k?.length ?? 0;
    if (start + T > this.config.maxSeqLen) {
      throw new Error(`Transformer: positions up to ${start + T} exceed maxSeqLen ${this.config.maxSeqLen}`);
    }
    let h = this.embed.forward(tokens, [B, T]); // [B, T, D]
    const hiddens: Tensor[] = [];
    this.blocks.forEach((block, i) => {
      h = block.forward(h, this.rope, cache?.layers[i]); // [B, T, D]
      hiddens.push(h);
    });
    const logits = this.head.forward(this.norm.forward(h)); // [B, T, V]
    return { logits, hiddens };
  }
}

// The loss over image-token positions lives with the targets it reads (sequence.ts).
export { imageTokenLoss } from './sequence';
