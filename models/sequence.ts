/**
 * Building the token sequences the transformer trains on, and the vocabulary layout
 * they use (LlamaGen c2i, as the paper's §3 uses them):
 *
 *   position   0            1              2     3         …  N+1
 *   token      [class|null] [begin-image]  z_1   z_2       …  z_N
 *   target     –            z_1            z_2   z_3       …  –       (−1 = not scored)
 *
 * The output at position t predicts token t+1, so positions 1..N are the ones whose output
 * predicts an image token: ARRA's `<HYBNEXT>` positions (`imageMask`).
 *
 * One vocabulary [0, V): image codes first (so a code's token id is the code itself), then
 * the condition ids, then the specials.
 *
 *   class-conditional:  [0, K) codes | [K, K+C) classes | null | begin-image | pad
 *   text-conditional:   [0, K) codes | [K, K+W) text words | null | begin-image | pad
 *   unconditional:      [0, K) codes | null | begin-image | pad          (prefix.ts)
 *
 * The prefixes themselves (class, text, and the unconditional one a dropped condition
 * becomes) are built in prefix.ts.
 */
import { crossEntropy, type Rng, type Tensor } from '../lib';
import { textPrefixes, unconditionalPrefix } from './prefix';

/** Where each kind of token lives in the vocabulary. */
export interface VocabLayout {
  /** K: image codebook size */
  numCodes: number;
  /** C: number of classes (0 for text conditioning) */
  numClasses: number;
  /** token id of code 0 */
  codeOffset: number;
  /** token id of class 0 */
  classOffset: number;
  /** the "no condition" token, used for classifier-free guidance */
  nullClass: number;
  /** the token before the first image code */
  beginImage: number;
  /** filler for prompts shorter than the prompt slot */
  pad: number;
  /** V: total vocabulary size */
  vocabSize: number;
  /** token id of text word 0 (text conditioning) */
  textOffset?: number;
  /** W: number of text words (text conditioning) */
  textVocab?: number;
}

/** Codes, then classes, then null / begin-image / pad. */
export function classConditionalLayout(numCodes: number, numClasses: number): VocabLayout {
  const classOffset = numCodes;
  const nullClass = classOffset + numClasses;
  return {
    numCodes, numClasses, codeOffset: 0, classOffset,
    nullClass, beginImage: nullClass + 1, pad: nullClass + 2, vocabSize: nullClass + 3,
  };
}

/** Codes, then text words, then null / begin-image / pad. */
export function textConditionalLayout(numCodes: number, textVocab: number): VocabLayout {
  const textOffset = numCodes;
  const nullClass = textOffset + textVocab;
  return {
    numCodes, numClasses: 0, codeOffset: 0, classOffset: textOffset, textOffset, textVocab,
    nullClass, beginImage: nullClass + 1, pad: nullClass + 2, vocabSize: nullClass + 3,
  };
}

/** A batch of training sequences. */
export interface SequenceBatch {
  /** [B·T] row-major token ids */
  tokens: Int32Array;
  /** [B, T] */
  shape: [number, number];
  /** [B·T] the token each position should predict, −1 where not scored */
  targets: Int32Array;
  /** [B·T] 1 where the output predicts an image token (the `<HYBNEXT>` positions) */
  imageMask: Uint8Array;
}

/** Fill positions prefixLen−1 .. prefixLen+N−2 of row b: targets z_1..z_N and the image mask. */
function writeImagePart(layout: VocabLayout, codes: Int32Array, N: number, b: number, T: number, prefixLen: number, out: SequenceBatch): void {
  const row = b * T;
  out.tokens[row + prefixLen - 1] = layout.beginImage;
  for (let n = 0; n < N; n++) {
    const code = codes[b * N + n]!;
    if (code < 0 || code >= layout.numCodes) throw new Error(`buildSequences: code ${code} at [${b}, ${n}] is outside [0, ${layout.numCodes})`);
    const id = layout.codeOffset + code;
    out.tokens[row + prefixLen + n] = id; // z_{n+1} as input
    out.targets[row + prefixLen - 1 + n] = id; // predicted by the position before it
    out.imageMask[row + prefixLen - 1 + n] = 1;
  }
}

function emptyBatch(B: number, T: number): SequenceBatch {
  return { tokens: new Int32Array(B * T), shape: [B, T], targets: new Int32Array(B * T).fill(-1), imageMask: new Uint8Array(B * T) };
}

/**
 * Class-conditional sequences [B, 2 + N]: `[class or null] [begin-image] z_1..z_N`.
 * Each row's class is replaced by the null class with probability `dropCondProb` (0.1 in
 * LlamaGen), which trains the unconditional model classifier-free guidance needs.
 * codes: [B, N] code indices in [0, numCodes); classes: [B].
 */
export function buildClassSequences(
  layout: VocabLayout, codes: Int32Array, classes: Int32Array, opts: { dropCondProb: number; rng: Rng },
): SequenceBatch {
  const B = classes.length;
  if (B === 0 || codes.length % B !== 0) throw new Error(`buildClassSequences: ${codes.length} codes do not split into ${B} rows`);
  const N = codes.length / B;
  const T = 2 + N;
  const out = emptyBatch(B, T);
  for (let b = 0; b < B; b++) {
    const c = classes[b]!;
    if (c < 0 || c >= layout.numClasses) throw new Error(`buildClassSequences: class ${c} at row ${b} is outside [0, ${layout.numClasses})`);
    const dropped = opts.dropCondProb > 0 && opts.rng.uniform() < opts.dropCondProb;
    out.tokens.set(dropped ? unconditionalPrefix(layout, 2) : [layout.classOffset + c, layout.beginImage], b * T);
    writeImagePart(layout, codes, N, b, T, 2, out);
  }
  return out;
}

/**
 * Text-conditional sequences [B, P + 1 + N]: `[w_1..w_P, left-padded] [begin-image] z_1..z_N`.
 * `prompts[b]` are word ids in [0, textVocab) (e.g. from lib/data's TextTokenizer); every prompt
 * is left-padded with `pad` to `promptLen` so the image always starts at the same position
 * (2-D RoPE needs that: set the model's `prefixLen` to promptLen + 1). A dropped condition
 * is the prompt `[pad … pad null]`.
 */
export function buildTextSequences(
  layout: VocabLayout, codes: Int32Array, prompts: Int32Array[], opts: { promptLen: number; dropCondProb: number; rng: Rng },
): SequenceBatch {
  const { textOffset, textVocab } = layout;
  if (textOffset === undefined || textVocab === undefined) throw new Error('buildTextSequences: the layout has no text vocabulary (use textConditionalLayout)');
  const B = prompts.length;
  if (B === 0 || codes.length % B !== 0) throw new Error(`buildTextSequences: ${codes.length} codes do not split into ${B} rows`);
  const N = codes.length / B;
  const P = opts.promptLen;
  const T = P + 1 + N;
  const out = emptyBatch(B, T);
  for (let b = 0; b < B; b++) {
    const prompt = prompts[b]!;
    if (prompt.length > P) throw new Error(`buildTextSequences: prompt ${b} has ${prompt.length} words, the slot holds ${P}`);
    const dropped = opts.dropCondProb > 0 && opts.rng.uniform() < opts.dropCondProb;
    out.tokens.set(dropped ? unconditionalPrefix(layout, P + 1) : textPrefixes(layout, [prompt], P), b * T);
    writeImagePart(layout, codes, N, b, T, P + 1, out);
  }
  return out;
}

/**
 * Unconditional sequences [B, 2 + N]: `[null] [begin-image] z_1..z_N` — one constant prefix,
 * so the model learns p(image) and nothing in the prompt says which image it is drawing.
 * codes: [B, N] code indices in [0, numCodes).
 */
export function buildUnconditionalSequences(layout: VocabLayout, codes: Int32Array, batchSize: number): SequenceBatch {
  const B = batchSize;
  if (B === 0 || codes.length % B !== 0) throw new Error(`buildUnconditionalSequences: ${codes.length} codes do not split into ${B} rows`);
  const N = codes.length / B;
  const T = 2 + N;
  const out = emptyBatch(B, T);
  const prefix = unconditionalPrefix(layout, 2);
  for (let b = 0; b < B; b++) {
    out.tokens.set(prefix, b * T);
    writeImagePart(layout, codes, N, b, T, 2, out);
  }
  return out;
}

/**
 * L_AR: cross-entropy of logits [B, T, V] against `targets` [B·T], averaged over the
 * positions whose target is not −1 — the image-token positions (the paper, §3; the prompt
 * and the position after the last image token are not scored).
 */
export function imageTokenLoss(logits: Tensor, targets: Int32Array): Tensor {
  const V = logits.shape[logits.rank - 1]!;
  return crossEntropy(logits.reshape([-1, V]), targets, { ignoreIndex: -1 }); // scalar
}
