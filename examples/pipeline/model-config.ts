/** Fitting a transformer preset's sizes to the data: vocabulary, token grid and sequence length. */
import { transformerPresets, type TransformerPresetName } from '../../models/presets';
import { classConditionalLayout, type VocabLayout } from '../../models/sequence';
import type { TransformerConfig } from '../../models/transformer';
import type { VQTokenizer } from '../../models/vq';

export const MODEL_PRESETS = Object.keys(transformerPresets) as TransformerPresetName[];

/** The preset's width/depth/heads, with vocabulary and positions set by the tokenizer and the classes. */
export function modelConfigFor(preset: TransformerPresetName, vq: VQTokenizer, numClasses: number): { config: TransformerConfig; layout: VocabLayout } {
  const layout = classConditionalLayout(vq.config.codebookSize, numClasses);
  const base = transformerPresets[preset] as TransformerConfig;
  const grid = vq.gridSize;
  return {
    layout,
    config: { ...base, vocabSize: layout.vocabSize, rope: '2d', gridSize: grid, maxSeqLen: 2 + grid * grid },
  };
}
