/**
 * Turning images into what the AR model trains on: VQ codes for every training image, and —
 * for ARRA — the frozen encoder's global feature of every training image, precomputed once
 * and cached on disk (as the official ARRA code does offline).
 */
import { join } from 'node:path';
import type { ImageDataset, SplitRecord, Tensor } from '../../lib';
import { cachedFeatures, type FeatureExtractor } from '../../models/encoder';
import type { VQTokenizer } from '../../models/vq';
import { encodeDataset } from './vq-trainer';

/** Where feature caches live: one file per (encoder, dataset) pair. */
export function featureCachePath(cacheDir: string, encoder: FeatureExtractor, dataKey: string): string {
  const safe = (s: string): string => s.replace(/[^A-Za-z0-9._@-]+/g, '_');
  return join(cacheDir, `features-${safe(encoder.name)}-${safe(dataKey)}.safetensors`);
}

/** f_GF for every image of `ds` through a frozen encoder: [N, dim], from the cache when it matches. */
export function globalFeatures(encoder: FeatureExtractor, ds: ImageDataset, dataKey: string, cacheDir: string, log = console.log, split?: SplitRecord): Tensor {
  const file = featureCachePath(cacheDir, encoder, dataKey);
  return cachedFeatures(file, encoder, ds.images, { data: dataKey, source: ds.source, split: split ?? null }, {
    onCache: (status, reason) => log(`feature cache ${status}: ${reason} (${file})`),
  });
}

/** VQ codes of every image: [N, h·w]. */
export function codesOf(vq: VQTokenizer, ds: ImageDataset): Int32Array {
  return encodeDataset(vq, ds);
}
