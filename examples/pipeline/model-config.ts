/** Fitting a transformer preset's sizes to the data: vocabulary, token grid and sequence length. */
import { transformerPresets, type TransformerPresetName } from '../../models/presets';
import { prefixLength, unconditionalLayout, type ConditionSpec } from '../../models/prefix';
import { classConditionalLayout, textConditionalLayout, type VocabLayout } from '../../models/sequence';
import type { TransformerConfig } from '../../models/transformer';
import type { VQTokenizer } from '../../models/vq';

export const MODEL_PRESETS = Object.keys(transformerPresets) as TransformerPresetName[];

/** The vocabulary layout of a conditioning mode: classes, text words (the tokenizer's vocabulary) or neither. */
export function layoutFor(numCodes: number, numClasses: number, condition: ConditionSpec = { mode: 'class' }): VocabLayout {
  switch (condition.mode) {
    case 'class':
      return classConditionalLayout(numCodes, numClasses);
    case 'text':
      if (!condition.vocab) throw new Error('layoutFor: text conditioning needs the tokenizer vocabulary');
      return textConditionalLayout(numCodes, condition.vocab.length);
    case 'none':
      return unconditionalLayout(numCodes);
  }
}

/**
 * The preset's width/depth/heads, with vocabulary and positions set by the tokenizer, the
 * classes and the conditioning mode (default class: the original behaviour, unchanged).
 */
export function modelConfigFor(
  preset: TransformerPresetName, vq: VQTokenizer, numClasses: number, condition: ConditionSpec = { mode: 'class' },
): { config: TransformerConfig; layout: VocabLayout } {
  const layout = layoutFor(vq.config.codebookSize, numClasses, condition);
  const base = transformerPresets[preset] as TransformerConfig;
  const grid = vq.gridSize;
  const prefixLen = prefixLength(condition);
  const config: TransformerConfig = { ...base, vocabSize: layout.vocabSize, rope: '2d', gridSize: grid, maxSeqLen: prefixLen + grid * grid };
  if (condition.mode === 'text') config.prefixLen = prefixLen; // class/none keep the default 2 (and their saved config bit-for-bit)
  return { layout, config };
}
