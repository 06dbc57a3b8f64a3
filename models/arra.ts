/**
 * The ARRA objective (Xie et al., arXiv 2503.07334, §3): next-token prediction plus global
 * visual alignment of the hidden states that predict image tokens.
 *
 *   L_ARRA = L_AR + λ · L_GVA                                          (§3.2, Eq. 4)
 *   L_GVA  = 1 − mean_t cos(A_phi(h_t^(i)), f_GF)                       (§3.2, Eq. 3)
 *
 * h_t^(i) is block i's output at a position t whose output predicts an image token (the
 * paper's hybrid next token `<HYBNEXT>`, §3.1: every such position plays both roles);
 * A_phi is the training-only {@link Projector}; f_GF is the frozen encoder's pooled feature
 * of the whole target image, precomputed under no-grad. Walkthrough: docs/arra.md.
 */
import { cosineSimilarity, indexSelect, mse, noGrad, normalize, reshape, scalar, sub, type Tensor } from '../lib';
import type { Projector } from './projector';
import { imageTokenLoss } from './sequence';
import type { Transformer } from './transformer';

/** The alignment objectives {@link globalVisualAlignment} implements. */
export const ARRA_OBJECTIVES = ['cosine', 'mse', 'mse-normalized'] as const;
export type ArraObjective = (typeof ARRA_OBJECTIVES)[number];

/** The encoder pooling choices (which encoders offer which: examples/pipeline/encoders.ts). */
export const ENCODER_POOLINGS = ['penultimate', 'avg', 'max', 'both'] as const;
export type EncoderPooling = (typeof ENCODER_POOLINGS)[number];

/** The switches the paper ablates (its ablation study, §4: alignment token, λ, objective, projector, pooling, layer, encoder). */
export interface ArraConfig {
  /** `off` = plain LlamaGen baseline; `hybnext` = every image-predicting position aligns; `rep` = only the first one (the paper's `<REP>`). */
  mode: 'off' | 'hybnext' | 'rep';
  /**
   * 0-based index of the block whose output is aligned. Default 0 (the paper's "layer 1"):
   * the paper's text argues for an early layer and the later official code release aligns
   * layer 1 at every image position, which is our default mode; its own ablation table is best
   * at layer 30 of 32 and the first code release used that. The sources disagree, so this is
   * a setting to measure (docs/arra.md, "Which layer?").
   */
  alignLayer: number;
  /** Weight of L_GVA (default 1, the paper's best of 0.5 … 2). */
  lambda: number;
  /**
   * `cosine` (the paper's Eq. 3): 1 − mean_t cos(f_A,t, f_GF).
   * `mse`: the mean squared error between the projector output and the *raw* target feature,
   * averaged over every element, (1 / (P·D_enc)) Σ_t ‖f_A,t − f_GF‖² (torch's
   * `F.mse_loss(f_A, f_GF)`); its scale is that of the encoder's features (their mean squared
   * entry), so λ means something different than with `cosine`: see docs/arra.md.
   * `mse-normalized`: mean_t ‖â_t − b̂_t‖² on unit vectors, which is exactly 2·(1 − mean cos),
   * i.e. the cosine objective at twice the weight (kept, and named as such, for comparison).
   */
  objective: ArraObjective;
  /** Width p of the projector's hidden layer. */
  projectorHidden: number;
  /**
   * How the encoder's output was pooled into f_GF when it was precomputed (recorded; the
   * feature cache key holds it through the encoder's name). ConvNet: `penultimate` (default)
   * or `avg` (global average of the last conv map) or `both` (concatenated). MobileNetV2:
   * `avg` (its own global average pool, default), `max` (global max of the same map) or
   * `both` (avg ⊕ max).
   */
  pooling?: EncoderPooling;
  /** Which frozen encoder produced f_GF (recorded with checkpoints; FID must use a different one). */
  encoderName: string;
  /** `parametersDigest` (models/encoder) of that encoder's weights: evaluation refuses an FID network or classifier with the same weights. */
  encoderDigest?: string;
}

/** The defaults argued for in {@link ArraConfig}; pass the encoder and any overrides. */
export function arraConfig(overrides: Partial<ArraConfig> & { encoderName: string }): ArraConfig {
  return { mode: 'hybnext', alignLayer: 0, lambda: 1, objective: 'cosine', projectorHidden: 128, ...overrides };
}

/** One training batch: the sequences of models/sequence.ts plus the precomputed global features. */
export interface ArraBatch {
  tokens: Int32Array;
  shape: [number, number];
  /** [B*T] next-token targets, −1 where not scored. */
  targets: Int32Array;
  /** [B*T] 1 where the position's output predicts an image token (`<HYBNEXT>` positions). */
  imageMask: Uint8Array;
  /** [B, D_enc] f_GF = pool(E(image)), from the frozen encoder; treated as a constant. */
  globalFeatures: Tensor;
}

/** Both losses (for logging) and what was aligned. */
export interface ArraLoss {
  /** L_AR + λ·L_GVA: call `.backward()` on this. */
  loss: Tensor;
  lossAR: Tensor;
  /** 0 (a constant) when mode is `off`. */
  lossGVA: Tensor;
  alignedPositions: number;
  /** [P] flat indices into [B*T] of the aligned positions. */
  positions: Int32Array;
  /** [P] cos(f_A,t, f_GF) at each aligned position (no gradient). */
  perPositionCos: Float32Array;
}

/** L_ARRA for one batch (§3.2). `projector` may be null only when mode is `off`. */
export function arraLoss(model: Transformer, projector: Projector | null, batch: ArraBatch, cfg: ArraConfig): ArraLoss {
  checkArraConfig(cfg, model.config.nLayers);
  const { logits, hiddens } = model.forward(batch.tokens, batch.shape); // [B,T,V], nLayers × [B,T,D]
  const lossAR = imageTokenLoss(logits, batch.targets); // cross-entropy on image-token targets only
  if (cfg.mode === 'off') {
    const zero = scalar(0, lossAR.dtype);
    return { loss: lossAR, lossAR, lossGVA: zero, alignedPositions: 0, positions: new Int32Array(0), perPositionCos: new Float32Array(0) };
  }
  if (projector === null) throw new Error(`arraLoss: mode '${cfg.mode}' needs a projector, got null`);
  const positions = alignedPositions(batch.imageMask, batch.shape, cfg.mode); // [P]
  const gva = globalVisualAlignment(hiddens[cfg.alignLayer]!, projector, batch.globalFeatures, positions, cfg.objective);
  const loss = lossAR.add(gva.loss.mul(cfg.lambda));
  return { loss, lossAR, lossGVA: gva.loss, alignedPositions: positions.length, positions, perPositionCos: gva.perPositionCos };
}

/**
 * L_GVA from block i's hidden states: select the aligned positions by index (so gradient
 * reaches those positions only), project, compare with the global feature of each position's
 * own image.
 */
export function globalVisualAlignment(
  hidden: Tensor, // [B, T, D]
  projector: Projector,
  globalFeatures: Tensor, // [B, D_enc]
  positions: Int32Array, // [P] flat indices into [B*T]
  objective: ArraConfig['objective'],
): { loss: Tensor; perPositionCos: Float32Array } {
  const [B, T, D] = hidden.shape as [number, number, number];
  checkFeatures(globalFeatures, B, projector, D);
  if (positions.length === 0) throw new Error('globalVisualAlignment: no position to align (imageMask has no 1s)');
  const sequenceOf = positions.map((p) => Math.floor(p / T)); // [P] which image each position belongs to
  const h = indexSelect(reshape(hidden, [B * T, D]), 0, positions); // [P, D]   h_t^(i)
  const fA = projector.forward(h); // [P, D_enc]  f_A,t = A_phi(h_t^(i))
  const fGF = indexSelect(constant(globalFeatures, hidden.dtype), 0, sequenceOf); // [P, D_enc]  sg(f_GF)
  const cos = cosineSimilarity(fA, fGF, -1); // [P]
  let loss: Tensor;
  if (objective === 'cosine') loss = sub(1, cos.mean()); // 1 − mean_t cos
  else if (objective === 'mse') loss = mse(fA, fGF, 'mean'); // (1/(P·D_enc)) Σ_t ‖f_A,t − f_GF‖², raw features
  else loss = mse(normalize(fA, -1), normalize(fGF, -1), 'sum').div(positions.length); // mean_t ‖â_t − b̂_t‖² = 2(1 − mean cos)
  return { loss, perPositionCos: Float32Array.from(cos.values()) };
}

/**
 * Flat indices (into [B*T]) of the positions that align. `hybnext`: every position whose
 * output predicts an image token. `rep`: per sequence, only the first such position (the
 * begin-image token, whose output predicts z_1; §4.3 `<REP>`). Prompt and padding positions
 * have imageMask 0 and never align.
 */
export function alignedPositions(imageMask: Uint8Array, shape: readonly [number, number], mode: 'hybnext' | 'rep'): Int32Array {
  const [B, T] = shape;
  if (imageMask.length !== B * T) throw new Error(`alignedPositions: imageMask has ${imageMask.length} entries, expected B·T = ${B}·${T} = ${B * T}`);
  const out: number[] = [];
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      if (imageMask[b * T + t] !== 1) continue;
      out.push(b * T + t);
      if (mode === 'rep') break;
    }
  }
  return Int32Array.from(out);
}

/**
 * The transformer's own state dict: what an inference checkpoint holds. The projector is a
 * separate module, so nothing of it is here; the check below keeps it that way.
 */
export function inferenceStateDict(model: Transformer): Map<string, Tensor> {
  const state = model.stateDict();
  for (const name of state.keys()) {
    if (name.startsWith('projector')) throw new Error(`inferenceStateDict: the transformer holds '${name}'; the projector must stay outside it`);
  }
  return state;
}

/** Model and projector together (`projector.` prefix), for resuming training. */
export function trainingStateDict(model: Transformer, projector: Projector | null): Map<string, Tensor> {
  const state = inferenceStateDict(model);
  for (const [name, t] of projector?.stateDict() ?? []) state.set(`projector.${name}`, t);
  return state;
}

/** Throw naming the setting when a config cannot be used with a model of `nLayers` blocks. */
export function checkArraConfig(cfg: ArraConfig, nLayers: number): void {
  if (!['off', 'hybnext', 'rep'].includes(cfg.mode)) throw new Error(`ArraConfig.mode: expected 'off', 'hybnext' or 'rep', got '${String(cfg.mode)}'`);
  if (!(ARRA_OBJECTIVES as readonly string[]).includes(cfg.objective)) {
    throw new Error(`ArraConfig.objective: expected one of ${ARRA_OBJECTIVES.join(', ')}, got '${String(cfg.objective)}'`);
  }
  if (!Number.isInteger(cfg.alignLayer) || cfg.alignLayer < 0 || cfg.alignLayer >= nLayers) {
    throw new Error(`ArraConfig.alignLayer: expected a block index in 0..${nLayers - 1}, got ${cfg.alignLayer}`);
  }
  if (!Number.isFinite(cfg.lambda) || cfg.lambda < 0) throw new Error(`ArraConfig.lambda: expected a finite number ≥ 0, got ${cfg.lambda}`);
}

function checkFeatures(f: Tensor, B: number, projector: Projector, D: number): void {
  if (projector.dModel !== D) throw new Error(`arra: projector reads width ${projector.dModel}, the hidden state has width ${D}`);
  if (f.rank !== 2 || f.shape[0] !== B || f.shape[1] !== projector.encoderDim) {
    throw new Error(`arra: globalFeatures should be [B, D_enc] = [${B}, ${projector.encoderDim}], got [${f.shape.join(', ')}]`);
  }
}

/** f_GF as a constant of the model's dtype: the frozen encoder never receives a gradient (§3.2). */
function constant(f: Tensor, dtype: Tensor['dtype']): Tensor {
  const c = f.requiresGrad || f.gradFn !== null ? f.detach() : f;
  return c.dtype === dtype ? c : noGrad(() => c.astype(dtype));
}
