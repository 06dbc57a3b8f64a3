/**
 * Precomputing the global features of a dataset once, and caching them on disk.
 *
 * The official ARRA code computes the frozen encoder's feature of every training image
 * offline, before training: the encoder never changes, so there is no reason to run it
 * again every epoch. {@link cachedFeatures} does the same: it encodes the images in
 * batches with a progress display and stores `features [N, dim]` as a safetensors file
 * whose metadata records what the features are *of*:
 *
 * - the encoder's name (which includes a weights digest for the in-project ConvNet),
 *   its input size and feature dimension;
 * - the dataset parameters the caller passes (name, split, limit, image size, seed, …);
 * - the number of images and a SHA-256 of their pixel values.
 *
 * A cache that disagrees on any of these, or cannot be read, is reported (`onCache`) and
 * rebuilt — never silently reused. Writes are atomic (temp file + rename), so an
 * interrupted run leaves the old cache or the new one, never half of one.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { canonicalJson, progress, Tensor } from '../../lib';
import { jsonMetadata, loadSafetensors, readJsonMetadata, saveSafetensors } from '../../lib/io';
import { checkImages, type FeatureExtractor } from './feature-extractor';

/** What a feature cache must match to be used. */
export interface FeatureCacheKey {
  encoder: string;
  inputSize: number;
  dim: number;
  /** Parameters of the dataset the images came from; compared as canonical JSON. */
  dataset: Record<string, unknown>;
  count: number;
  /** SHA-256 of the images' float32 values. */
  imagesDigest: string;
}

/** The outcome of {@link readFeatureCache}. */
export type FeatureCacheRead =
  | { status: 'hit'; features: Tensor }
  | { status: 'missing' | 'stale' | 'corrupt'; reason: string };

/** Options of {@link cachedFeatures} and {@link computeFeatures}. */
export interface FeatureCacheOptions {
  /** Images per extractor call (default 64). */
  batchSize?: number;
  /** No progress display. */
  silent?: boolean;
  /** Told whether the cache was used and, if not, why. */
  onCache?: (status: FeatureCacheRead['status'], reason: string, file: string) => void;
}

/** SHA-256 of a tensor's values (row-major float32/float64 bytes). */
export function tensorDigest(t: Tensor): string {
  const v = t.values();
  return createHash('sha256').update(new Uint8Array(v.buffer, v.byteOffset, v.byteLength)).digest('hex');
}

/** The cache key for these images under this extractor. */
export function featureCacheKey(extractor: FeatureExtractor, images: Tensor, dataset: Record<string, unknown>): FeatureCacheKey {
  return {
    encoder: extractor.name, inputSize: extractor.inputSize, dim: extractor.dim,
    dataset, count: images.shape[0]!, imagesDigest: tensorDigest(images),
  };
}

/** Encode all images in batches, with a progress display: [N, C, H, W] → [N, dim]. */
export function computeFeatures(extractor: FeatureExtractor, images: Tensor, opts: FeatureCacheOptions = {}): Tensor {
  const [n] = checkImages('computeFeatures', images, [1, 3]);
  const batchSize = opts.batchSize ?? 64;
  const per = images.size / n;
  const all = images.values();
  const out = new Float32Array(n * extractor.dim);
  const bar = progress(n, `features ${extractor.name}`, { silent: opts.silent });
  try {
    for (let start = 0; start < n; start += batchSize) {
      const b = Math.min(batchSize, n - start);
      const chunk = new Tensor(all.subarray(start * per, (start + b) * per), [b, ...images.shape.slice(1)]);
      out.set(extractor.extract(chunk).values(), start * extractor.dim);
      bar.tick(b);
    }
  } finally {
    bar.done();
  }
  return new Tensor(out, [n, extractor.dim]);
}

/** Read a feature cache and check it against `key`. Never throws for a bad cache: it says why it is unusable. */
export function readFeatureCache(file: string, key: FeatureCacheKey): FeatureCacheRead {
  if (!fs.existsSync(file)) return { status: 'missing', reason: `no cache file at ${file}` };
  let stored: FeatureCacheKey;
  let features: Tensor | undefined;
  try {
    const st = loadSafetensors(file);
    stored = readJsonMetadata<FeatureCacheKey>(st.metadata, 'featureCache', file);
    features = st.tensors.get('features');
  } catch (e) {
    return { status: 'corrupt', reason: (e as Error).message };
  }
  for (const field of ['encoder', 'inputSize', 'dim', 'dataset', 'count', 'imagesDigest'] as const) {
    const have = canonicalJson(stored[field]);
    const want = canonicalJson(key[field]);
    if (have !== want) return { status: 'stale', reason: `${field} differs: cache has ${have}, asked for ${want}` };
  }
  if (features === undefined || features.rank !== 2 || features.shape[0] !== key.count || features.shape[1] !== key.dim) {
    return { status: 'corrupt', reason: `${file}: 'features' should be [${key.count}, ${key.dim}], found ${features ? JSON.stringify(features.shape) : 'nothing'}` };
  }
  return { status: 'hit', features };
}

/**
 * The features of `images` under `extractor`: from the cache at `file` when it matches
 * (encoder, input size, dim, dataset parameters, image count and digest), otherwise computed
 * with a progress display and written atomically to `file`.
 */
export function cachedFeatures(
  file: string, extractor: FeatureExtractor, images: Tensor, dataset: Record<string, unknown>, opts: FeatureCacheOptions = {},
): Tensor {
  const key = featureCacheKey(extractor, images, dataset);
  const read = readFeatureCache(file, key);
  if (read.status === 'hit') {
    opts.onCache?.('hit', 'encoder, input size, dataset and images match', file);
    return read.features;
  }
  opts.onCache?.(read.status, read.reason, file);
  const features = computeFeatures(extractor, images, opts);
  saveSafetensors(file, new Map([['features', features]]), jsonMetadata({ featureCache: key }));
  return features;
}
