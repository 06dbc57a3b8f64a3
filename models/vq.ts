/**
 * The VQ image tokenizer: images ↔ grids of discrete codes (van den Oord et al. 2017,
 * "Neural Discrete Representation Learning"; LlamaGen's VQGAN without the perceptual and
 * GAN terms: the tokenizer of the LlamaGen baseline the paper builds on).
 *
 *   image x [B, C, S, S]
 *     ──Encoder (convs, L stride-2 steps)──▶ z [B, d, h, w]        h = w = S / 2^L
 *     ──L2-normalise each z vector, nearest L2-normalised codebook entry──▶ indices [B, h, w]
 *     ──z_q = codebook rows, straight-through──▶ [B, d, h, w]
 *     ──Decoder (transposed convs)──▶ x̂ [B, C, S, S]
 *
 *   loss = ‖x − x̂‖²  +  ‖sg(z) − z_q‖²  +  β·‖z − sg(z_q)‖²        (β = 0.25)
 *          recon        codebook term     commitment term
 *
 * Both the encoder output and the codebook are L2-normalised before the look-up (LlamaGen,
 * following ViT-VQGAN): on the unit sphere the nearest entry is the one with the largest
 * dot product, and codes cannot win by being large.
 *
 * **Dead codes.** A code no encoder output picks gets no codebook gradient and stays dead
 * forever. Rule used here: in training mode, every `reviveEvery` calls of {@link VQTokenizer.loss}
 * (default 100), each code that was picked by no encoder output since the last check is
 * overwritten with an L2-normalised encoder output drawn at random (seeded) from the current
 * batch, and the counts restart. (The same idea as the "random restart" of Dhariwal et al.
 * 2020, Jukebox, §3.2 / Appendix; the count over a window, not an EMA, keeps it easy to read.)
 */
import {
  allocate, clamp, Conv2d, convTranspose2d, type DType, fmtShape, indexSelect, l1, matmul, Module, mse,
  noGrad, normalize, record, Rng, streamSeed, silu, Tensor,
} from '../lib';
import { uniformParameter } from '../lib/nn/init';

/** Sizes and options of a {@link VQTokenizer}. */
export interface VQConfig {
  /** image side S (28–64 px) */
  imageSize: number;
  /** image channels C (1 grey, 3 RGB) */
  channels: number;
  /** S / h, a power of two (default 4: 28 px → 7×7, 32 px → 8×8 tokens) */
  downsample?: number;
  /** K: number of codebook entries */
  codebookSize: number;
  /** d: dimension of a code vector */
  codeDim: number;
  /** channel width at each of the log2(downsample) resolutions below S (default [32, 64, …]) */
  hidden?: number[];
  /** weight β of the commitment term (default 0.25) */
  commitmentWeight?: number;
  /** reconstruction loss (default 'mse') */
  reconLoss?: 'mse' | 'l1';
  /** dead-code check period in training steps (default 100; 0 = never) */
  reviveEvery?: number;
  dtype?: DType;
  seed?: number;
}

/** What {@link VQTokenizer.loss} reports for one batch. */
export interface VQLoss {
  /** recon + codebook + β·commitment (what to backpropagate) */
  loss: Tensor;
  recon: Tensor;
  codebook: Tensor;
  commitment: Tensor;
  /** the reconstruction x̂ [B, C, S, S] */
  output: Tensor;
  /** code of every latent position, [B·h·w] (row-major [B, h, w]) */
  indices: Int32Array;
  /** exp(entropy) of this batch's code histogram: the number of codes "in effective use" */
  perplexity: number;
  /** fraction of the K codes used at least once in this batch */
  usage: number;
  /** codes re-initialised by the dead-code rule at this step (0 on most steps) */
  revived: number;
}

/**
 * He (Kaiming) uniform initialisation, U(−√(6/fanIn), √(6/fanIn)), and zero biases, for every
 * conv of the tokenizer. PyTorch's default bound 1/√fanIn shrinks the signal about threefold
 * per layer; through the eight SiLU convs of encoder + decoder the encoder's gradients
 * arrived ~1e-9 times smaller than the output's and the network only learned the mean image.
 * He's bound keeps the activation scale roughly constant through ReLU-like layers.
 */
function heInit(weight: Tensor, bias: Tensor | null, fanIn: number, rng: Rng): void {
  const bound = Math.sqrt(6 / fanIn);
  const w = weight.nd.data;
  for (let i = 0; i < w.length; i++) w[i] = (2 * rng.uniform() - 1) * bound;
  bias?.nd.data.fill(0);
}

function heInitConv(conv: Conv2d, rng: Rng): void {
  const [, cin, kh, kw] = conv.weight.shape as [number, number, number, number];
  heInit(conv.weight, conv.bias, cin * kh * kw, rng);
}

/**
 * A learnable ×2 upsampler: transposed convolution, kernel 4, stride 2, padding 1
 * (H → 2H). Weight [in, out, 4, 4]; each output pixel sums in·2·2 taps, so its fan-in for
 * the He initialisation is 4·in.
 */
export class UpConv extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor;

  constructor(readonly inChannels: number, readonly outChannels: number, opts: { rng?: Rng; dtype?: DType } = {}) {
    super();
    this.weight = uniformParameter([inChannels, outChannels, 4, 4], 1, opts.rng, opts.dtype);
    this.bias = uniformParameter([outChannels], 0, opts.rng, opts.dtype);
    heInit(this.weight, this.bias, 4 * inChannels, opts.rng ?? new Rng(0));
  }

  /** x [N, in, H, W] → [N, out, 2H, 2W]. */
  forward(x: Tensor): Tensor {
    return convTranspose2d(x, this.weight, this.bias, { stride: 2, padding: 1 });
  }
}

/** Image → latent grid: conv in, L stride-2 convs, one more conv, 1×1 to the code dimension. */
export class Encoder extends Module {
  readonly convIn: Conv2d;
  readonly down: Conv2d[];
  readonly mid: Conv2d;
  readonly toCode: Conv2d;

  constructor(channels: number, hidden: number[], codeDim: number, opts: { rng: Rng; dtype?: DType }) {
    super();
    const o = { rng: opts.rng, dtype: opts.dtype };
    const last = hidden[hidden.length - 1]!;
    this.convIn = new Conv2d(channels, hidden[0]!, 3, { padding: 1, ...o });
    this.down = hidden.map((w, l) => new Conv2d(hidden[Math.max(l - 1, 0)]!, w, 3, { stride: 2, padding: 1, ...o }));
    this.mid = new Conv2d(last, last, 3, { padding: 1, ...o });
    this.toCode = new Conv2d(last, codeDim, 1, o);
    for (const conv of [this.convIn, ...this.down, this.mid, this.toCode]) heInitConv(conv, opts.rng);
  }

  /** x [B, C, S, S] → z [B, d, S/2^L, S/2^L]. */
  forward(x: Tensor): Tensor {
    let h = silu(this.convIn.forward(x)); // [B, h0, S, S]
    for (const conv of this.down) h = silu(conv.forward(h)); // halves the side each time
    h = silu(this.mid.forward(h)); // [B, hL, h, w]
    return this.toCode.forward(h); // [B, d, h, w]
  }
}

/**
 * Latent grid → image, the mirror of {@link Encoder}. The last layer is linear, as in LlamaGen's
 * decoder: with a sigmoid there, training on mostly-black MNIST drives the output logits so far
 * negative within the first hundred steps that the sigmoid's gradient vanishes and the decoder
 * stays at one black image whatever the codes say (measured with the demo's recipe: 3 of 4 seeds,
 * held-out MSE 0.104 = E[x²]; linear: 0.015 after 150 steps on the same seeds).
 * {@link VQTokenizer.decode} clamps to [0, 1] for everything downstream.
 */
export class Decoder extends Module {
  readonly fromCode: Conv2d;
  readonly mid: Conv2d;
  readonly up: UpConv[];
  readonly convOut: Conv2d;

  constructor(channels: number, hidden: number[], codeDim: number, opts: { rng: Rng; dtype?: DType }) {
    super();
    const o = { rng: opts.rng, dtype: opts.dtype };
    const L = hidden.length;
    const last = hidden[L - 1]!;
    this.fromCode = new Conv2d(codeDim, last, 1, o);
    this.mid = new Conv2d(last, last, 3, { padding: 1, ...o });
    // up[j] undoes down[L−1−j]: width hidden[l] → hidden[l−1] (hidden[0] at the top)
    this.up = Array.from({ length: L }, (_, j) => {
      const l = L - 1 - j;
      return new UpConv(hidden[l]!, hidden[Math.max(l - 1, 0)]!, o);
    });
    this.convOut = new Conv2d(hidden[0]!, channels, 3, { padding: 1, ...o });
    for (const conv of [this.fromCode, this.mid, this.convOut]) heInitConv(conv, opts.rng);
  }

  /** z_q [B, d, h, w] → x̂ [B, C, S, S], unbounded (the reconstruction loss pulls it into [0, 1]). */
  forward(zq: Tensor): Tensor {
    let h = silu(this.fromCode.forward(zq)); // [B, hL, h, w]
    h = silu(this.mid.forward(h));
    for (const up of this.up) h = silu(up.forward(h)); // doubles the side each time
    return this.convOut.forward(h); // [B, C, S, S]
  }
}

/**
 * The straight-through estimator (van den Oord et al. 2017, §3.2) as one op: the forward
 * value is z_q, the backward copies the gradient to z unchanged (∂L/∂z := ∂L/∂z_q), as if
 * the quantiser were the identity. z_q itself gets no gradient from this path. Written
 * as its own op rather than `z + sg(z_q − z)` so the forward value is z_q exactly.
 */
export function straightThrough(z: Tensor, zq: Tensor): Tensor {
  if (z.shape.join() !== zq.shape.join()) throw new Error(`straightThrough: z ${fmtShape(z.shape)} and z_q ${fmtShape(zq.shape)} differ in shape`);
  const out = new Tensor(zq.values().slice(), zq.shape);
  return record('straightThrough', out, [z], (g) => [g]);
}

/** What {@link quantize} returns. */
export interface Quantized {
  /** nearest code of each row, [M] */
  indices: Int32Array;
  /** the chosen (normalised) codebook rows, [M, d]; carries the codebook's gradient */
  zq: Tensor;
  /** z_q forward, identity backward to z: what the decoder reads, [M, d] */
  zst: Tensor;
  /** ‖sg(ẑ) − z_q‖² averaged: moves the codebook toward the encoder outputs */
  codebook: Tensor;
  /** ‖ẑ − sg(z_q)‖² averaged: keeps the encoder close to its codes */
  commitment: Tensor;
  /** the L2-normalised encoder outputs ẑ, [M, d] */
  zn: Tensor;
}

/**
 * The vector quantiser on rows: z [M, d], codebook [K, d].
 *   ẑ = z/‖z‖,  ê_k = e_k/‖e_k‖,  index = argmax_k ẑ·ê_k  (= argmin ‖ẑ − ê_k‖², ties → lowest k)
 */
export function quantize(z: Tensor, codebook: Tensor): Quantized {
  const zn = normalize(z, -1); // [M, d]
  const cbn = normalize(codebook, -1); // [K, d]
  const [M, d] = zn.shape as [number, number];
  const K = cbn.shape[0]!;
  if (cbn.shape[1] !== d) throw new Error(`quantize: codebook ${fmtShape(codebook.shape)} does not match code dimension ${d} of z ${fmtShape(z.shape)}`);
  // The look-up is not differentiable: compute it without recording.
  const indices = new Int32Array(M);
  noGrad(() => {
    const sim = matmul(zn, cbn.transpose()).values(); // [M, K]
    for (let m = 0; m < M; m++) {
      let best = 0;
      for (let k = 1; k < K; k++) if (sim[m * K + k]! > sim[m * K + best]!) best = k;
      indices[m] = best;
    }
  });
  const zq = indexSelect(cbn, 0, indices); // [M, d]
  const codebookTerm = mse(zn.detach(), zq);
  const commitment = mse(zn, zq.detach());
  return { indices, zq, zst: straightThrough(zn, zq), codebook: codebookTerm, commitment, zn };
}

/** exp(−Σ p log p) of the code histogram, and the fraction of codes used. */
export function codeStats(indices: Int32Array, K: number): { perplexity: number; usage: number; counts: Int32Array } {
  const counts = new Int32Array(K);
  for (const i of indices) counts[i] = counts[i]! + 1;
  let entropy = 0;
  let used = 0;
  for (const c of counts) {
    if (c === 0) continue;
    used++;
    const p = c / indices.length;
    entropy -= p * Math.log(p);
  }
  return { perplexity: Math.exp(entropy), usage: used / K, counts };
}

export class VQTokenizer extends Module {
  readonly config: Required<Omit<VQConfig, 'dtype'>> & { dtype: DType };
  readonly encoder: Encoder;
  readonly decoder: Decoder;
  /** K code vectors [K, d], initialised N(0, 1) (uniform directions once normalised). */
  readonly codebook: Tensor;
  /** latent grid side h = w = S / downsample */
  readonly gridSize: number;
  /** how often each code was picked since the last dead-code check (training only) */
  private hits: Float64Array;
  private steps = 0;
  private readonly reviveRng: Rng;

  constructor(config: VQConfig) {
    super();
    const downsample = config.downsample ?? 4;
    const levels = Math.log2(downsample);
    if (!Number.isInteger(levels) || levels < 1) throw new Error(`VQTokenizer: downsample must be a power of two ≥ 2, got ${downsample}`);
    if (config.imageSize % downsample !== 0) throw new Error(`VQTokenizer: imageSize ${config.imageSize} is not divisible by downsample ${downsample}`);
    const hidden = config.hidden ?? Array.from({ length: levels }, (_, l) => 32 << l);
    if (hidden.length !== levels) throw new Error(`VQTokenizer: hidden needs one width per level, ${levels} for downsample ${downsample}, got [${hidden.join(', ')}]`);
    this.config = {
      imageSize: config.imageSize, channels: config.channels, downsample, codebookSize: config.codebookSize, codeDim: config.codeDim,
      hidden, commitmentWeight: config.commitmentWeight ?? 0.25, reconLoss: config.reconLoss ?? 'mse',
      reviveEvery: config.reviveEvery ?? 100, dtype: config.dtype ?? 'float32', seed: config.seed ?? 0,
    };
    const rng = new Rng(this.config.seed);
    const dtype = this.config.dtype;
    this.encoder = new Encoder(config.channels, hidden, config.codeDim, { rng, dtype });
    this.decoder = new Decoder(config.channels, hidden, config.codeDim, { rng, dtype });
    const cb = allocate(dtype, config.codebookSize * config.codeDim);
    for (let i = 0; i < cb.length; i++) cb[i] = rng.normal();
    this.codebook = new Tensor(cb, [config.codebookSize, config.codeDim], true);
    this.gridSize = config.imageSize / downsample;
    this.hits = new Float64Array(config.codebookSize);
    this.reviveRng = new Rng(streamSeed(this.config.seed, 1));
  }

  private checkImages(images: Tensor, op: string): [number, number] {
    const { channels: C, imageSize: S } = this.config;
    const [B, c, h, w] = images.shape as [number, number, number, number];
    if (images.rank !== 4 || c !== C || h !== S || w !== S) {
      throw new Error(`VQTokenizer.${op}: expected images [B, ${C}, ${S}, ${S}], got ${fmtShape(images.shape)}`);
    }
    return [B, this.gridSize];
  }

  /** Encoder output as rows: [B, C, S, S] → z [B·h·w, d] (row-major over [B, h, w]). */
  private latentRows(images: Tensor): Tensor {
    const z = this.encoder.forward(images); // [B, d, h, w]
    return z.permute([0, 2, 3, 1]).reshape([-1, this.config.codeDim]); // [B·h·w, d]
  }

  /** Rows [B·h·w, d] back to a decoder input [B, d, h, w]. */
  private grid(rows: Tensor, B: number): Tensor {
    const g = this.gridSize;
    return rows.reshape([B, g, g, this.config.codeDim]).permute([0, 3, 1, 2]); // [B, d, h, w]
  }

  /** images [B, C, S, S] → codes, flat Int32Array [B, h, w] (no gradient). */
  encode(images: Tensor): Int32Array {
    this.checkImages(images, 'encode');
    return noGrad(() => quantize(this.latentRows(images), this.codebook).indices);
  }

  /** codes [B, h, w] (flat) → images [B, C, S, S] clamped to [0, 1]. Differentiable w.r.t. the decoder and codebook (zero gradient where clamped). */
  decode(codes: Int32Array): Tensor {
    return clamp(this.decodeUnclamped(codes), 0, 1); // [B, C, S, S]
  }

  /** The decoder's raw output for `codes` — what the reconstruction loss sees (it is not clamped: see {@link Decoder}). */
  decodeUnclamped(codes: Int32Array): Tensor {
    const perImage = this.gridSize * this.gridSize;
    if (codes.length === 0 || codes.length % perImage !== 0) throw new Error(`VQTokenizer.decode: expected a multiple of ${perImage} codes (${this.gridSize}×${this.gridSize} per image), got ${codes.length}`);
    const zq = indexSelect(normalize(this.codebook, -1), 0, codes); // [B·h·w, d]
    return this.decoder.forward(this.grid(zq, codes.length / perImage)); // [B, C, S, S]
  }

  /** images → reconstruction through the quantiser (straight-through), [B, C, S, S]. */
  forward(images: Tensor): Tensor {
    return this.loss(images).output;
  }

  /** One training step's losses and code statistics (see the file comment for the terms). */
  loss(images: Tensor): VQLoss {
    const [B] = this.checkImages(images, 'loss');
    const z = this.latentRows(images); // [B·h·w, d]
    const q = quantize(z, this.codebook);
    const output = this.decoder.forward(this.grid(q.zst, B)); // [B, C, S, S]
    const recon = this.config.reconLoss === 'l1' ? l1(output, images) : mse(output, images);
    const loss = recon.add(q.codebook).add(q.commitment.mul(this.config.commitmentWeight));
    const stats = codeStats(q.indices, this.config.codebookSize);
    const revived = this.training ? this.trackAndRevive(stats.counts, q.zn) : 0;
    return { loss, recon, codebook: q.codebook, commitment: q.commitment, output, indices: q.indices, perplexity: stats.perplexity, usage: stats.usage, revived };
  }

  /** The dead-code rule (file comment): count hits; every `reviveEvery` steps restart unused codes. */
  private trackAndRevive(counts: Int32Array, zn: Tensor): number {
    for (let k = 0; k < counts.length; k++) this.hits[k] = this.hits[k]! + counts[k]!;
    this.steps++;
    const every = this.config.reviveEvery;
    if (every <= 0 || this.steps % every !== 0) return 0;
    const rows = zn.values(); // [M, d], already on the unit sphere
    const d = this.config.codeDim;
    const M = rows.length / d;
    const cb = this.codebook.nd.data;
    let revived = 0;
    for (let k = 0; k < this.hits.length; k++) {
      if (this.hits[k]! > 0) continue;
      const m = this.reviveRng.int(M);
      for (let j = 0; j < d; j++) cb[k * d + j] = rows[m * d + j]!;
      revived++;
    }
    this.hits.fill(0);
    return revived;
  }

  /** Reconstruct images through encode → decode, without gradients: [B, C, S, S]. */
  reconstruct(images: Tensor): Tensor {
    return noGrad(() => this.decode(this.encode(images)));
  }
}
