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
 * networks, checked by weight digest ({@link checkIndependence}), and every evaluation
 * carries the warnings of {@link evaluationWarnings}.
 */
import { fidFromFeatures, indexSelect, kidFromFeatures, type KidOptions, noGrad, saveImageGrid, Tensor } from '../../lib';
import { UsageError } from '../../lib/cli';
import { accuracy, type ConvNet, type FeatureExtractor, parametersDigest } from '../../models/encoder';
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
  /** KID (lib/eval/kid.ts): mean and std of the unbiased MMD² over subsets */
  kid: number;
  kidStd: number;
  kidSubsets: number;
  kidSubsetSize: number;
  /** samples and real images the FID and KID were computed from */
  numGenerated: number;
  numReal: number;
  promptAccuracy: number;
  /** FID/KID network name (must differ from the alignment encoder) */
  fidNetwork: string;
  /** its feature dimension */
  featureDim: number;
}

/** A network taking part in an evaluation, with the digest of its weights. */
export interface ScoringNetwork {
  /** what it does here: 'FID/KID network', 'accuracy classifier', 'alignment encoder' */
  role: string;
  /** the flag that chose it (for the error message) */
  flag: string;
  name: string;
  /** `parametersDigest` of its weights (models/encoder/feature-extractor.ts) */
  digest: string;
}

/** The network entry of a feature extractor or classifier. */
export function scoringNetwork(role: string, flag: string, net: { name?: string; parameters(): Tensor[] }, name?: string): ScoringNetwork {
  return { role, flag, name: name ?? net.name ?? role, digest: parametersDigest(net.parameters()) };
}

/**
 * Refuse an evaluation whose FID/KID network, accuracy classifier and alignment encoder are
 * not three different networks, compared by the digest of their weights (not by name:
 * `mobilenet@64` and `mobilenet@96` are one network). A grader that is the alignment target
 * scores ARRA by the features it was trained to predict; a classifier that is the FID network
 * makes the two figures one measurement.
 */
export function checkIndependence(nets: readonly ScoringNetwork[]): void {
  for (let i = 0; i < nets.length; i++) {
    for (let j = i + 1; j < nets.length; j++) {
      const [a, b] = [nets[i]!, nets[j]!];
      if (a.digest !== b.digest && a.name !== b.name) continue;
      const alignment = [a, b].find((n) => n.role === 'alignment encoder');
      const other = alignment ? (alignment === a ? b : a) : b;
      const why = alignment
        ? `the ${other.role} '${other.name}' is the encoder this model was aligned to (same weights, digest ${a.digest}); choose a different ${other.flag}`
        : `the ${a.role} '${a.name}' and the ${b.role} '${b.name}' are one network (weights digest ${a.digest}); choose a different ${b.flag}`;
      throw new UsageError(`${other.flag}: ${why} (the FID/KID network, the classifier and the alignment encoder must be independent)`, other.flag);
    }
  }
}

/** Refuse to grade a model by the features it was aligned to (by name and, when recorded, by weights). */
export function checkFidNetwork(fidNet: FeatureExtractor, alignEncoder: string | null, alignDigest?: string): void {
  if (alignEncoder === null) return;
  checkIndependence([
    scoringNetwork('FID/KID network', '--fid-encoder', fidNet),
    { role: 'alignment encoder', flag: '--align-encoder', name: alignEncoder, digest: alignDigest ?? `name:${alignEncoder}` },
  ]);
}

/** Below this many held-out images (or this many per class) FID and accuracy say little. */
export const MIN_HELD_OUT = 200;
export const MIN_HELD_OUT_PER_CLASS = 10;

/**
 * The loud warnings an evaluation must print with its numbers: a scoring network near
 * chance on held-out images, fewer samples than feature dimensions (a singular covariance:
 * FID is then mostly bias), a held-out set too small to stand for the data. Each is a
 * sentence; an empty list means none applies.
 */
export function evaluationWarnings(g: {
  numGenerated: number; numReal: number; featureDim: number; numClasses: number;
  /** held-out accuracy of each classifier-like network, with its role */
  heldOutAccuracy: { role: string; accuracy: number }[];
}): string[] {
  const out: string[] = [];
  const chance = 1 / g.numClasses;
  const nearChance = chance + 0.25 * (1 - chance); // a quarter of the way from chance to perfect
  for (const { role, accuracy: acc } of g.heldOutAccuracy) {
    if (acc <= nearChance) {
      out.push(`the ${role} is near chance on the held-out images: ${(100 * acc).toFixed(1)}% with ${g.numClasses} classes (chance ${(100 * chance).toFixed(1)}%); its scores mean little`);
    }
  }
  for (const [what, n] of [['generated', g.numGenerated], ['held-out real', g.numReal]] as const) {
    if (n <= g.featureDim) {
      out.push(`${n} ${what} images for ${g.featureDim}-d features: the covariance is singular (N ≤ D) and FID is dominated by its small-sample bias; use N well above ${g.featureDim}`);
    }
  }
  const perClass = g.numReal / g.numClasses;
  if (g.numReal < MIN_HELD_OUT || perClass < MIN_HELD_OUT_PER_CLASS) {
    out.push(`the held-out set is too small: ${g.numReal} images (${perClass.toFixed(1)} per class); at least ${MIN_HELD_OUT} and ${MIN_HELD_OUT_PER_CLASS} per class are needed for FID, KID or accuracy to mean much`);
  }
  return out;
}

/** Print warnings so nobody can miss them (stderr, boxed). */
export function printWarnings(warnings: readonly string[], log: (s: string) => void = (s) => process.stderr.write(`${s}\n`)): void {
  if (warnings.length === 0) return;
  log('!'.repeat(78));
  for (const w of warnings) log(`!! WARNING: ${w}`);
  log('!'.repeat(78));
}

/** FID, KID and prompt accuracy of generated images against real features computed once. */
export function scoreSamples(
  generated: Tensor, classes: ArrayLike<number>, realFeatures: Tensor, fidNet: FeatureExtractor, classifier: ConvNet, kidOptions: KidOptions = {},
): EvalResult {
  const genFeatures = fidNet.extract(generated);
  const fid = fidFromFeatures(realFeatures, genFeatures);
  const kid = kidFromFeatures(realFeatures, genFeatures, kidOptions);
  return {
    fid: fid.fid, kid: kid.kid, kidStd: kid.std, kidSubsets: kid.subsets, kidSubsetSize: kid.subsetSize, numGenerated: fid.n2, numReal: fid.n1,
    promptAccuracy: accuracy(classifier, generated, Int32Array.from(classes)), fidNetwork: fidNet.name, featureDim: fidNet.dim,
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
