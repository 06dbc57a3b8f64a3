/**
 * Evaluating a trained AR model the way the paper does, at toy scale: sample images per
 * class prompt, decode them with the VQ tokenizer, and compare them with held-out real images.
 *
 * - **FID**: Fréchet distance between Gaussian fits of the FID network's features of real and
 *   generated images (lib/eval/fid.ts). The FID network must not be the encoder the model was
 *   aligned to — otherwise ARRA would be graded by the very features it was trained to predict.
 *   FID is biased at small N: compare models only at equal sample counts (reported).
 * - **Prompt accuracy**: the fraction of samples that the in-project classifier assigns to the
 *   class they were prompted with (models/encoder/convnet.ts `accuracy`).
 */
import { fidFromFeatures, indexSelect, noGrad, saveImageGrid, Tensor } from '../../lib';
import { accuracy, type ConvNet, type FeatureExtractor } from '../../models/encoder';
import { sampleImages } from '../../models/sampling';
import type { VocabLayout } from '../../models/sequence';
import type { Transformer } from '../../models/transformer';
import type { VQTokenizer } from '../../models/vq';

export interface SamplingSettings {
  temperature: number;
  topK?: number;
  cfgScale: number;
  seed: number;
}

export const DEFAULT_SAMPLING: SamplingSettings = { temperature: 1, cfgScale: 1.5, seed: 1234 };

/** Generate `perClass` images for each class, in class order: images [numClasses·perClass, C, S, S]. */
export function generate(model: Transformer, layout: VocabLayout, vq: VQTokenizer, classes: number[], s: SamplingSettings, chunk = 50): Tensor[] {
  const out: Tensor[] = [];
  for (let i = 0; i < classes.length; i += chunk) {
    const part = classes.slice(i, i + chunk);
    const codes = sampleImages(model, layout, {
      classes: part, numTokens: vq.gridSize * vq.gridSize, temperature: s.temperature, topK: s.topK, cfgScale: s.cfgScale, seed: s.seed + i,
    });
    out.push(noGrad(() => vq.decode(codes)).detach());
  }
  return out;
}

export interface EvalResult {
  fid: number;
  /** samples and real images the FID was computed from */
  numGenerated: number;
  numReal: number;
  promptAccuracy: number;
  /** FID network name (must differ from the alignment encoder) */
  fidNetwork: string;
}

/** Refuse to grade a model by the features it was aligned to. */
export function checkFidNetwork(fidNet: FeatureExtractor, alignEncoder: string | null): void {
  if (alignEncoder !== null && fidNet.name === alignEncoder) {
    throw new Error(
      `eval: the FID network '${fidNet.name}' is the encoder this model was aligned to; ` +
      'choose a different --fid-encoder (FID must be computed by an independent network)',
    );
  }
}

/** FID and prompt accuracy of generated images against real features computed once. */
export function scoreSamples(
  generated: Tensor, classes: ArrayLike<number>, realFeatures: Tensor, fidNet: FeatureExtractor, classifier: ConvNet,
): EvalResult {
  const fid = fidFromFeatures(realFeatures, fidNet.extract(generated));
  return {
    fid: fid.fid, numGenerated: fid.n2, numReal: fid.n1,
    promptAccuracy: accuracy(classifier, generated, Int32Array.from(classes)), fidNetwork: fidNet.name,
  };
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
