/**
 * The one form every loader returns, and the helpers that work on it.
 *
 * An {@link ImageDataset} is a batch of images as a float32 tensor `[N, C, S, S]` with values
 * in [0, 1], one integer label per image, the names of the classes, and optionally one text
 * prompt per image (what a text-to-image model is conditioned on). Diffusion and
 * autoregressive image models usually want pixels in [-1, 1]: {@link toSignedRange}.
 */
import { Tensor } from '../tensor';
import { Rng } from '../random';
import { fmtShape } from '../shape';

/** Images, labels and names in the form every loader in `lib/data` returns. */
export interface ImageDataset {
  /** `[N, C, S, S]` float32, values in [0, 1]. */
  images: Tensor;
  /** `labels[i]` is the class of image i, an index into `classNames`. */
  labels: Int32Array;
  /** Readable class names (`"tench"`, `"seven"`, `"red circle"`). */
  classNames: string[];
  /** One caption per image, when the set has them (see `withPrompts`, `captionedShapes`). */
  prompts?: string[];
  /** Where the images came from (`"mnist:train"`, `"imagefolder:/data/imagenette"`). */
  source: string;
}

/** Number of images in a dataset. */
export function datasetSize(ds: ImageDataset): number {
  return ds.labels.length;
}

/** Check the parts of a dataset agree with each other; throws naming the first mismatch. */
export function checkDataset(ds: ImageDataset): void {
  const shape = ds.images.shape;
  if (shape.length !== 4 || shape[2] !== shape[3]) {
    throw new Error(`${ds.source}: images must be [N, C, S, S], got ${fmtShape(shape)}`);
  }
  if (shape[0] !== ds.labels.length) {
    throw new Error(`${ds.source}: ${shape[0]} images but ${ds.labels.length} labels`);
  }
  if (ds.prompts && ds.prompts.length !== ds.labels.length) {
    throw new Error(`${ds.source}: ${ds.labels.length} images but ${ds.prompts.length} prompts`);
  }
  for (let i = 0; i < ds.labels.length; i++) {
    const y = ds.labels[i]!;
    if (y < 0 || y >= ds.classNames.length) {
      throw new Error(`${ds.source}: label ${y} of image ${i} is outside the ${ds.classNames.length} classes`);
    }
  }
}

/** Map pixels from [0, 1] to [-1, 1] (`2x − 1`), the range diffusion and AR image models train on. A new tensor, no gradient. */
export function toSignedRange(images: Tensor): Tensor {
  const src = images.values();
  const out = new Float32Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = 2 * src[i]! - 1;
  return new Tensor(out, images.shape);
}

/** The inverse of {@link toSignedRange}: `(x + 1) / 2`, clamped to [0, 1] (for saving samples). */
export function fromSignedRange(images: Tensor): Tensor {
  const src = images.values();
  const out = new Float32Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = Math.min(1, Math.max(0, (src[i]! + 1) / 2));
  return new Tensor(out, images.shape);
}

/** Rows `indices` of the images, copied into a new `[indices.length, C, S, S]` tensor. */
export function gatherImages(images: Tensor, indices: ArrayLike<number>): Tensor {
  const [n, c, h, w] = images.shape as [number, number, number, number];
  const per = c * h * w;
  const src = images.values();
  const out = new Float32Array(indices.length * per);
  for (let k = 0; k < indices.length; k++) {
    const i = indices[k]!;
    if (!Number.isInteger(i) || i < 0 || i >= n) throw new Error(`gatherImages: index ${i} is outside 0..${n - 1}`);
    out.set(src.subarray(i * per, (i + 1) * per), k * per);
  }
  return new Tensor(out, [indices.length, c, h, w]);
}

/** A new dataset holding the images at `indices`, in that order (copies). */
export function subset(ds: ImageDataset, indices: ArrayLike<number>): ImageDataset {
  const labels = Int32Array.from(indices, (i) => ds.labels[i]!);
  const out: ImageDataset = {
    images: gatherImages(ds.images, indices),
    labels,
    classNames: ds.classNames.slice(),
    source: ds.source,
  };
  if (ds.prompts) {
    const prompts = ds.prompts;
    out.prompts = Array.from(indices, (i) => prompts[i]!);
  }
  return out;
}

/** A seeded random permutation of 0..n-1 (Fisher–Yates with `rng`). */
export function permutation(n: number, rng: Rng): Int32Array {
  const p = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = p[i]!;
    p[i] = p[j]!;
    p[j] = t;
  }
  return p;
}

/**
 * Shuffle with `seed`, then put `round(fraction · N)` images in `test` and the rest in
 * `train` (like scikit-learn's `test_size`). Same seed → same split.
 */
export function splitDataset(ds: ImageDataset, fraction: number, seed: number): { train: ImageDataset; test: ImageDataset } {
  if (!(fraction >= 0 && fraction <= 1)) throw new Error(`splitDataset: fraction must be in [0, 1], got ${fraction}`);
  const order = permutation(ds.labels.length, new Rng(seed));
  const nTest = Math.round(fraction * ds.labels.length);
  return {
    test: subset(ds, order.subarray(0, nTest)),
    train: subset(ds, order.subarray(nTest)),
  };
}

/** One minibatch from {@link batches}. */
export interface Batch {
  /** `[B, C, S, S]` float32 in [0, 1]. */
  images: Tensor;
  labels: Int32Array;
  /** Which rows of the dataset these are. */
  indices: Int32Array;
  /** The rows' prompts, when the dataset has them. */
  prompts?: string[];
}

/** Options for {@link batches}. */
export interface BatchOptions {
  /** Drop a last batch smaller than `batchSize` (default false). */
  dropLast?: boolean;
}

/**
 * Minibatches covering the dataset once (one epoch). With `rng`, the order is a fresh
 * seeded permutation; without, images come in dataset order.
 */
export function* batches(ds: ImageDataset, batchSize: number, rng?: Rng, opts: BatchOptions = {}): Generator<Batch> {
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`batches: batchSize must be a positive integer, got ${batchSize}`);
  const n = ds.labels.length;
  const order = rng ? permutation(n, rng) : Int32Array.from({ length: n }, (_, i) => i);
  for (let start = 0; start < n; start += batchSize) {
    const indices = order.slice(start, Math.min(n, start + batchSize));
    if (opts.dropLast && indices.length < batchSize) return;
    const batch: Batch = {
      images: gatherImages(ds.images, indices),
      labels: Int32Array.from(indices, (i) => ds.labels[i]!),
      indices,
    };
    if (ds.prompts) {
      const prompts = ds.prompts;
      batch.prompts = Array.from(indices, (i) => prompts[i]!);
    }
    yield batch;
  }
}
