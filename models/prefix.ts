/**
 * The three ways a sequence can be conditioned, and the prefixes that say so. The prefix is
 * everything before the first image token; its last token is always begin-image, so the
 * output there predicts z_1 (sequence.ts):
 *
 *   class   [class c]                  [begin-image]      prefixLen 2
 *   text    [pad … pad w_1 … w_m]      [begin-image]      prefixLen P + 1 (prompt slot of P words)
 *   none    [null]                     [begin-image]      prefixLen 2: one constant prefix
 *
 * The *unconditional* prefix — what a dropped condition becomes during training (p = 0.1,
 * LlamaGen) and what classifier-free guidance contrasts against at sampling — is the same rule
 * in every mode: `[pad … pad null begin-image]` at the mode's prefix length. It is built here
 * and only here ({@link unconditionalPrefix}), so a trainer and a sampler can never disagree
 * about it. In `none` mode every prefix is the unconditional one, so there is nothing to guide.
 */
import type { VocabLayout } from './sequence';

/** How the model is told what to draw. */
export type ConditionMode = 'class' | 'text' | 'none';
export const CONDITION_MODES: readonly ConditionMode[] = ['class', 'text', 'none'];

/** What a checkpoint records about its conditioning (so `sample`/`eval` need no extra flags). */
export interface ConditionSpec {
  mode: ConditionMode;
  /** text: P, words per prompt slot (shorter prompts are left-padded) */
  promptLen?: number;
  /** text: the word tokenizer's vocabulary in id order (lib/data/tokenizer.ts `toJSON().vocab`) */
  vocab?: string[];
}

/** Positions before the first image token: 2 for class and none, P + 1 for text. */
export function prefixLength(spec: ConditionSpec): number {
  if (spec.mode !== 'text') return 2;
  const P = spec.promptLen;
  if (P === undefined || !Number.isInteger(P) || P < 1) throw new Error(`prefixLength: text conditioning needs a prompt slot promptLen ≥ 1, got ${P}`);
  return P + 1;
}

/** Vocabulary layout without condition ids: codes | null | begin-image | pad. */
export function unconditionalLayout(numCodes: number): VocabLayout {
  const nullClass = numCodes;
  return { numCodes, numClasses: 0, codeOffset: 0, classOffset: nullClass, nullClass, beginImage: nullClass + 1, pad: nullClass + 2, vocabSize: nullClass + 3 };
}

/**
 * `count` copies of the unconditional prefix `[pad … pad null begin-image]`, [count, prefixLen]
 * row-major. prefixLen 2 gives `[null begin-image]` (class and none modes).
 */
export function unconditionalPrefix(layout: VocabLayout, prefixLen: number, count = 1): Int32Array {
  if (!Number.isInteger(prefixLen) || prefixLen < 2) throw new Error(`unconditionalPrefix: prefixLen must be an integer ≥ 2 (null, begin-image), got ${prefixLen}`);
  const out = new Int32Array(count * prefixLen).fill(layout.pad);
  for (let b = 0; b < count; b++) {
    out[b * prefixLen + prefixLen - 2] = layout.nullClass;
    out[b * prefixLen + prefixLen - 1] = layout.beginImage;
  }
  return out; // [count, prefixLen]
}

/** Class prefixes `[class c] [begin-image]`, [B, 2] row-major. */
export function classPrefixes(layout: VocabLayout, classes: ArrayLike<number>): Int32Array {
  const out = new Int32Array(classes.length * 2);
  for (let b = 0; b < classes.length; b++) {
    const c = classes[b]!;
    if (!Number.isInteger(c) || c < 0 || c >= layout.numClasses) throw new Error(`classPrefixes: class ${c} at row ${b} is outside [0, ${layout.numClasses})`);
    out[b * 2] = layout.classOffset + c;
    out[b * 2 + 1] = layout.beginImage;
  }
  return out; // [B, 2]
}

/**
 * Text prefixes `[pad … pad w_1 … w_m] [begin-image]`, [B, P + 1] row-major: each prompt (word
 * ids in [0, textVocab)) is left-padded to the slot so the image starts at the same position
 * in every row (2-D RoPE and batching need that).
 */
export function textPrefixes(layout: VocabLayout, prompts: readonly ArrayLike<number>[], promptLen: number): Int32Array {
  const { textOffset, textVocab } = layout;
  if (textOffset === undefined || textVocab === undefined) throw new Error('textPrefixes: the layout has no text vocabulary (use textConditionalLayout)');
  const L = promptLen + 1;
  const out = new Int32Array(prompts.length * L).fill(layout.pad);
  prompts.forEach((prompt, b) => {
    if (prompt.length > promptLen) throw new Error(`textPrefixes: prompt ${b} has ${prompt.length} words, the slot holds ${promptLen}`);
    for (let j = 0; j < prompt.length; j++) {
      const w = prompt[j]!;
      if (!Number.isInteger(w) || w < 0 || w >= textVocab) throw new Error(`textPrefixes: word ${w} in prompt ${b} is outside [0, ${textVocab})`);
      out[b * L + promptLen - prompt.length + j] = textOffset + w;
    }
    out[b * L + promptLen] = layout.beginImage;
  });
  return out; // [B, P + 1]
}
