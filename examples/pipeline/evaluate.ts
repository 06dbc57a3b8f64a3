/**
 * Evaluating a trained AR model the way the paper does, at toy scale: sample images per
 * class prompt, decode them with the VQ tokenizer, and compare them with held-out real images.
 *
 * - **FID**: Fréchet distance between Gaussian fits of the FID network's features of real and
 *   generated images (lib/eval/fid.ts). The FID network must not be the encoder the model was
 *   aligned to — otherwise ARRA would be graded by the very features it was trained to predict.
 *   FID is biased at small N: compare models only at equal sample counts (reported).
 * - **KID**: the unbiased MMD² with the cubic kernel on the same features, mean ± std over
 *   subsets (lib/eval/kid.ts); unbiased, so comparable across N, with its uncertainty.
 * - **Prompt accuracy**: the fraction of samples that the in-project classifier assigns to the
 *   class they were prompted with (models/encoder/convnet.ts `accuracy`).
 *
 * The FID/KID network, the classifier and the alignment encoder must be three different
 * networks, checked by weight digest (independence.ts), and every evaluation carries the
 * warnings of guards.ts.
 */
import { fidFromFeatures, indexSelect, kidFromFeatures, type KidOptions, noGrad, saveImageGrid, Tensor } from '../../lib';
import { accuracy, type ConvNet, type FeatureExtractor } from '../../models/encoder';
import type { VocabLayout } from '../../models/sequence';
import type { Transformer } from '../../models/transformer';
import type { VQTokenizer } from '../../models/vq';
import { generateImages } from './generate';

export interface SamplingSettings {
  temperature: number;
  topK?: number;
  cfgScale: number;
  seed: number;
}

export const DEFAULT_SAMPLING: SamplingSettings = { temperature: 1, cfgScale: 1.5, seed: 1234 };

/**
 * Generate images for the given class ids, in order: images [numClasses·perClass, C, S, S] in
 * chunks. The class-conditional case of generate.ts `generateImages` (same chunks, same seeds).
 */
export function generate(model: Transformer, layout: VocabLayout, vq: VQTokenizer, classes: number[], s: SamplingSettings, chunk = 50): Tensor[] {
  return generateImages(model, layout, vq, { mode: 'class', classes }, s, chunk);
}

/** FID and KID of generated images against held-out real features (every conditioning mode). */
export interface FidKidResult {
  fid: number;
  /** KID (lib/eval/kid.ts): mean and std of the unbiased MMD² over subsets */
  kid: number;
  kidStd: number;
  kidSubsets: number;
  kidSubsetSize: number;
  /** samples and real images the FID and KID were computed from */
  numGenerated: number;
  numReal: number;
  /** FID/KID network name (must differ from the alignment encoder) */
  fidNetwork: string;
  /** its feature dimension */
  featureDim: number;
}

/** A class-conditional evaluation: FID, KID and prompt accuracy. */
export interface EvalResult extends FidKidResult {
  promptAccuracy: number;
}

// The independence check and the guards live in their own files; re-exported for callers.
export { checkFidNetwork, checkIndependence, type ScoringNetwork, scoringNetwork } from './independence';
export { evaluationWarnings, MIN_HELD_OUT, MIN_HELD_OUT_PER_CLASS, printWarnings } from './guards';

/** FID and KID of generated images against real features computed once. */
export function fidOf(generated: Tensor, realFeatures: Tensor, fidNet: FeatureExtractor, kidOptions: KidOptions = {}): FidKidResult {
  const genFeatures = fidNet.extract(generated);
  const fid = fidFromFeatures(realFeatures, genFeatures);
  const kid = kidFromFeatures(realFeatures, genFeatures, kidOptions);
  return {
    fid: fid.fid, kid: kid.kid, kidStd: kid.std, kidSubsets: kid.subsets, kidSubsetSize: kid.subsetSize,
    numGenerated: fid.n2, numReal: fid.n1, fidNetwork: fidNet.name, featureDim: fidNet.dim,
  };
}

/** FID, KID and prompt accuracy of class-prompted images against real features computed once. */
export function scoreSamples(
  generated: Tensor, classes: ArrayLike<number>, realFeatures: Tensor, fidNet: FeatureExtractor, classifier: ConvNet, kidOptions: KidOptions = {},
): EvalResult {
  return { ...fidOf(generated, realFeatures, fidNet, kidOptions), promptAccuracy: accuracy(classifier, generated, Int32Array.from(classes)) };
}

/** Concatenate image batches [b_i, C, S, S] into one [Σb_i, C, S, S] tensor (no gradient). */
export function catImages(parts: Tensor[]): Tensor {
  const [, C, H, W] = parts[0]!.shape as [number, number, number, number];
  const n = parts.reduce((s, p) => s + p.shape[0]!, 0);
  const data = new Float32Array(n * C * H * W);
  let off = 0;
  for (const p of parts) {
    data.set(p.values(), off);
    off += p.size;
  }
  return new Tensor(data, [n, C, H, W]);
}

/** A sample grid PNG with one row per class prompt. */
export function saveSampleGrid(images: Tensor, rows: number, path: string): void {
  saveImageGrid(images, path, { rows, upscale: 2, padding: 2 });
}

/** From images ordered class by class (`perClass` each), the first `show` of every class, in rows. */
export function firstPerClass(images: Tensor, numClasses: number, perClass: number, show: number): Tensor {
  const rows = Array.from({ length: numClasses * show }, (_, i) => Math.floor(i / show) * perClass + (i % show));
  return noGrad(() => indexSelect(images, 0, rows));
}
