/**
 * What `arra eval` measures in each conditioning mode (models/prefix.ts), beside FID:
 *
 * - **class**: prompt accuracy — the classifier's arg-max matches the prompted class (evaluate.ts).
 * - **text**: the prompts are the held-out set's own (the shapes captions, or a seeded template
 *   with the held-out image's class name). Class accuracy judges the class the prompt names
 *   (for shapes: the first object's colour and shape, its label); on shapes, **caption
 *   accuracy** also judges every object of the caption with the attribute classifier
 *   (models/encoder/attributes.ts): position, shape, colour, size, and all of them at once.
 * - **none**: no prompt, so only how recognisable and how varied the samples are
 *   (class-scores.ts: mean confidence, class entropy, an Inception-Score-style figure, coverage).
 *
 * The same number of images is generated in every mode (classes × `perClass`), so FID is
 * compared at equal N across modes too.
 */
import { type ImageDataset, promptsForLabels, type Tensor } from '../../lib';
import type { ShapeSpec } from '../../lib/data/shapes';
import { UsageError } from '../../lib/cli';
import { accuracy, captionScores, type CaptionScores, type ConvNet, predictCells, weightsDigest } from '../../models/encoder';
import type { ConditionSpec } from '../../models/prefix';
import { classifierDistribution, type ClassDistributionScores } from './class-scores';
import { encodePrompts } from './conditioning';
import type { GenerationRequest } from './generate';

/** The held-out prompts of a text evaluation: n of them, cycling through the held-out set. */
export interface EvalPrompts {
  texts: string[];
  /** the class each prompt names (shapes: its first object) */
  labels: Int32Array;
  /** shapes only: what each prompt describes */
  scenes?: ShapeSpec[][];
}

/** n held-out prompts (template prompts are seeded with `seed` when the data has no captions). */
export function heldOutPrompts(test: ImageDataset, n: number, seed: number): EvalPrompts {
  const texts = test.prompts ?? promptsForLabels(test.labels, test.classNames, seed);
  const m = test.labels.length;
  const idx = Array.from({ length: n }, (_, i) => i % m);
  const scenes = (test as ImageDataset & { scenes?: ShapeSpec[][] }).scenes;
  return {
    texts: idx.map((i) => texts[i]!), labels: Int32Array.from(idx, (i) => test.labels[i]!),
    scenes: scenes ? idx.map((i) => scenes[i]!) : undefined,
  };
}

/** The generation request for a text evaluation; a held-out word the model never saw is a usage error naming it. */
export function textRequest(condition: ConditionSpec, prompts: EvalPrompts): GenerationRequest {
  try {
    return { mode: 'text', prompts: encodePrompts(condition, prompts.texts, 'held-out prompts'), promptLen: condition.promptLen! };
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    throw new UsageError(`${err.message}. The model's vocabulary comes from its training prompts: train on more images (--train-limit) so that every word of the held-out prompts occurs`, '--train-limit');
  }
}

// FID and KID are computed the same way in every mode (evaluate.ts); re-exported for callers.
export { fidOf } from './evaluate';

export interface TextEvalResult {
  /** the classifier's arg-max equals the class the prompt names */
  classAccuracy: number;
  /** shapes: per-attribute and all-attributes-correct caption accuracy of the samples */
  captionAccuracy?: CaptionScores;
  /** shapes: the attribute classifier's own scores on held-out real shapes (the judge's ceiling) */
  attributeClassifierHeldOut?: CaptionScores;
  /** shapes: digest of the attribute classifier's weights (convnet.ts `weightsDigest`), to show it is its own network */
  attributeClassifierDigest?: string;
}

/** Class accuracy and, with scenes and an attribute classifier, caption accuracy of text-prompted samples. */
export function scoreTextSamples(
  generated: Tensor, prompts: EvalPrompts, classifier: ConvNet, attributes?: { net: ConvNet; heldOut: CaptionScores },
): TextEvalResult {
  const out: TextEvalResult = { classAccuracy: accuracy(classifier, generated, prompts.labels) };
  if (prompts.scenes && attributes) {
    out.captionAccuracy = captionScores(predictCells(attributes.net, generated), prompts.scenes);
    out.attributeClassifierHeldOut = attributes.heldOut;
    out.attributeClassifierDigest = weightsDigest(attributes.net);
  }
  return out;
}

/** The class-distribution figures of unconditional samples (class-scores.ts). */
export function scoreUnconditionalSamples(generated: Tensor, classifier: ConvNet): ClassDistributionScores {
  return classifierDistribution(classifier, generated);
}

/** One line for the console: the mode's headline figures. */
export function describeModeScores(mode: ConditionSpec['mode'], r: { text?: TextEvalResult; unconditional?: ClassDistributionScores }): string {
  const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;
  if (mode === 'text' && r.text) {
    const c = r.text.captionAccuracy;
    return `class accuracy ${pct(r.text.classAccuracy)}` + (c
      ? `; caption accuracy: shape ${pct(c.shape)}, colour ${pct(c.colour)}, size ${pct(c.size)}, position ${pct(c.position)}, layout ${pct(c.layout)}, all attributes ${pct(c.allCorrect)} (${c.images} images, ${c.objects} objects)`
      : '');
  }
  if (mode === 'none' && r.unconditional) {
    const u = r.unconditional;
    return `mean confidence ${pct(u.meanConfidence)}, class entropy ${u.meanClassEntropy.toFixed(3)} nats, IS-style ${u.inceptionScore.toFixed(2)} of ${u.numClasses}, coverage ${pct(u.coverage)}`;
  }
  return '';
}
