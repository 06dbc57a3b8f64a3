/**
 * The grid's conditioning mode, built once for the whole experiment so every seed and arm
 * trains on the same prefixes (models/prefix.ts) and is scored the same way:
 *
 * - **class**: the class token; the score is prompt accuracy (the classifier agrees with the prompted class).
 * - **text**: the dataset's captions (shapes) or seeded template prompts ("a photo of a seven"),
 *   with one vocabulary (examples/pipeline/conditioning.ts, seed 0 for every seed of the grid);
 *   scored on held-out prompts by caption accuracy (shapes: every attribute of every object,
 *   judged by the attribute classifier) or by the class the prompt names.
 * - **none**: one constant prefix; the score is class coverage of the samples.
 */
import { join } from 'node:path';
import type { ImageDataset } from '../../../lib';
import type { CaptionScores, ConvNet } from '../../../models/encoder';
import type { ConditionSpec } from '../../../models/prefix';
import { attributeClassifierAt } from '../attribute-trainer';
import { textConditioning } from '../conditioning';
import type { ExperimentGrid } from './grid';

export interface Conditioning {
  spec: ConditionSpec;
  /** text: every training image's prompt as word ids */
  prompts?: Int32Array[];
  /** text on shapes: the attribute classifier that judges captions */
  attributes?: { net: ConvNet; heldOut: CaptionScores };
  /** what `promptAccuracy` measures in this mode (a column name in results.md) */
  scoreName: string;
}

/** The conditioning of `grid` on `data`; nothing is trained here (see {@link withAttributeClassifier}). */
export function conditioningFor(grid: ExperimentGrid, data: { train: ImageDataset; test: ImageDataset }): Conditioning {
  if (grid.condition === 'class') return { spec: { mode: 'class' }, scoreName: 'accuracy' };
  if (grid.condition === 'none') return { spec: { mode: 'none' }, scoreName: 'class coverage' };
  const text = textConditioning(data.train, 0);
  return { spec: text.spec, prompts: text.prompts, scoreName: 'scenes' in data.test ? 'caption accuracy (all attributes)' : 'class accuracy of the prompt' };
}

/** Text on shapes: add the attribute classifier that judges captions, trained once under `<out>/shared/` (after the budget check). */
export function withAttributeClassifier(cond: Conditioning, test: ImageDataset, outDir: string, log: (line: string) => void): Conditioning {
  if (cond.spec.mode !== 'text' || !('scenes' in test)) return cond;
  return { ...cond, attributes: attributeClassifierAt(join(outDir, 'shared', 'attributes.safetensors'), test.images.shape[2]!, log) };
}
