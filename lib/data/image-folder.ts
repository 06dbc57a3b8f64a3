/**
 * ImageNet-style folders: `root/<class>/*.png|jpg|jpeg`, one folder per class.
 *
 * Each image is decoded, centre-cropped to a square, resized to S × S (area averaging when
 * shrinking, bilinear when growing; see `resize.ts`) and stacked into `[N, C, S, S]`.
 * Classes are the sub-folders in sorted order (so label ids are stable across machines);
 * files within a class are taken in sorted order too. A class list file, when present,
 * turns folder names into readable words for prompts (see `class-list.ts`).
 *
 * Any bad file stops the load with an error naming it: a half-decoded dataset is never
 * returned.
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { Tensor } from '../tensor';
import { cachedDataset, describeSources, type CachedOptions } from './cache';
import { CLASS_LIST_FILES, readClassList } from './class-list';
import type { ImageDataset } from './dataset';
import { decodeImageFile, IMAGE_EXTENSIONS } from './decode';
import { progress } from './progress';
import { centerCropSquare, resizeSquare, rgbaToPlanes } from './resize';

/** Options for {@link loadImageFolder}. */
export interface ImageFolderOptions {
  /** Output side S (images become S × S). */
  size: number;
  /** 3 for RGB (default), 1 for grey (BT.601 luma). */
  channels?: 1 | 3;
  /** Which class folders: a list of folder names, or a number N for the first N in sorted order. Default: all. */
  classes?: string[] | number;
  /** At most this many images per class (the first ones in sorted file order). */
  maxPerClass?: number;
  /** Class list file mapping folder names to readable names; default: one of `CLASS_LIST_FILES` in root, if present. */
  classListFile?: string;
  /** Keep decoded, resized images in this directory and reuse them while nothing changed. */
  cacheDir?: string;
  /** Told whether the cache was used (only with `cacheDir`). */
  onCache?: CachedOptions['onCache'];
  /** jpeg-js memory bound per image in MB (default 256). */
  maxMemoryUsageInMB?: number;
  /** Refuse images over this many pixels before decoding them (default MAX_IMAGE_PIXELS, 40 megapixels). */
  maxPixels?: number;
  /** Show progress on stderr (default: only for more than 500 images). */
  progress?: boolean;
}

/** The class folders and files a load will read, before any decoding. */
interface FolderPlan {
  folders: string[];
  classNames: string[];
  files: string[][];
  classListFile: string | null;
}

/** Load `root/<class>/*.{png,jpg,jpeg}` as an {@link ImageDataset} of S × S images. */
export function loadImageFolder(root: string, opts: ImageFolderOptions): ImageDataset {
  const size = opts.size;
  const channels = opts.channels ?? 3;
  if (!Number.isInteger(size) || size < 1) throw new Error(`loadImageFolder: size must be a positive integer, got ${size}`);
  if (channels !== 1 && channels !== 3) throw new Error(`loadImageFolder: channels must be 1 or 3, got ${String(channels)}`);
  const plan = planFolder(root, opts);
  const build = () => decodeAll(root, plan, size, channels, opts);
  if (!opts.cacheDir) return build();

  const all = plan.files.flat();
  const sources = describeSources(plan.classListFile ? [...all, plan.classListFile] : all);
  const params = { kind: 'imagefolder', version: 1, root: path.resolve(root), size, channels, folders: plan.folders, classNames: plan.classNames, maxPerClass: opts.maxPerClass ?? null };
  const rootHash = crypto.createHash('sha256').update(path.resolve(root)).digest('hex').slice(0, 12);
  const file = path.join(opts.cacheDir, `imagefolder-${rootHash}-${size}px-${channels}c.arrads`);
  return cachedDataset(file, { params, sources }, build, { onCache: opts.onCache });
}

/**
 * The image files a {@link loadImageFolder} with the same options reads, in the dataset's row
 * order, as paths relative to `root` with `/` separators (`<class folder>/<file>`): stable keys
 * for a split that does not depend on where the folder lives (lib/data/split.ts).
 */
export function imageFolderFiles(root: string, opts: Pick<ImageFolderOptions, 'classes' | 'maxPerClass' | 'cacheDir'>): string[] {
  return planFolder(root, opts).files.flat().map((f) => path.relative(root, f).split(path.sep).join('/'));
}

function planFolder(root: string, opts: Pick<ImageFolderOptions, 'classes' | 'maxPerClass' | 'cacheDir' | 'classListFile'>): FolderPlan {
  if (!fs.existsSync(root)) throw new Error(`loadImageFolder: dataset root ${root} does not exist`);
  if (!fs.statSync(root).isDirectory()) throw new Error(`loadImageFolder: dataset root ${root} is not a directory`);
  const available = fs
    .readdirSync(root, { withFileTypes: true })
    // Hidden folders and a cache directory kept inside the root are not classes.
    .filter((e) => e.isDirectory() && !e.name.startsWith('.') && !(opts.cacheDir && path.resolve(root, e.name) === path.resolve(opts.cacheDir)))
    .map((e) => e.name)
    .sort();
  if (available.length === 0) throw new Error(`loadImageFolder: ${root} has no class sub-folders (expected root/<class>/*.png|jpg)`);

  let folders: string[];
  if (opts.classes === undefined) folders = available;
  else if (typeof opts.classes === 'number') {
    if (!Number.isInteger(opts.classes) || opts.classes < 1) throw new Error(`loadImageFolder: classes must be a positive integer or a list, got ${opts.classes}`);
    if (opts.classes > available.length) throw new Error(`loadImageFolder: asked for the first ${opts.classes} classes, ${root} has ${available.length}`);
    folders = available.slice(0, opts.classes);
  } else {
    const missing = opts.classes.filter((c) => !available.includes(c));
    if (missing.length > 0) throw new Error(`loadImageFolder: class folders ${missing.join(', ')} not found in ${root}`);
    folders = opts.classes.slice();
  }

  const classListFile = opts.classListFile ?? CLASS_LIST_FILES.map((f) => path.join(root, f)).find((f) => fs.existsSync(f)) ?? null;
  const names = classListFile ? readClassList(classListFile) : new Map<string, string>();
  const classNames = folders.map((f) => names.get(f) ?? f);
  // two folders under one name would be one class to a prompt and two to the labels
  const firstWith = new Map<string, string>();
  folders.forEach((folder, i) => {
    const other = firstWith.get(classNames[i]!);
    if (other !== undefined) {
      throw new Error(`loadImageFolder: class folders ${other} and ${folder} are both named '${classNames[i]}'${classListFile ? ` by ${classListFile}` : ''}; each class needs its own name`);
    }
    firstWith.set(classNames[i]!, folder);
  });

  const files = folders.map((folder) => {
    const dir = path.join(root, folder);
    let list = fs
      .readdirSync(dir)
      // only files: a folder named `x.png` is not an image (it would fail to read with EISDIR)
      .filter((f) => (IMAGE_EXTENSIONS as readonly string[]).includes(path.extname(f).toLowerCase()) && isFile(path.join(dir, f)))
      .sort()
      .map((f) => path.join(dir, f));
    if (list.length === 0) throw new Error(`loadImageFolder: class folder ${dir} holds no .png/.jpg/.jpeg images`);
    if (opts.maxPerClass !== undefined) list = list.slice(0, opts.maxPerClass);
    return list;
  });
  return { folders, classNames, files, classListFile };
}

/** A regular file (following links); false for folders and for what cannot be stat'ed. */
function isFile(file: string): boolean {
  try {
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

function decodeAll(root: string, plan: FolderPlan, size: number, channels: 1 | 3, opts: ImageFolderOptions): ImageDataset {
  const total = plan.files.reduce((a, f) => a + f.length, 0);
  const per = channels * size * size;
  const images = new Float32Array(total * per); // [N, C, S, S]
  const labels = new Int32Array(total);
  const bar = progress(total, `decode ${path.basename(path.resolve(root))}`, { silent: !(opts.progress ?? total > 500) });
  let n = 0;
  try {
    plan.files.forEach((files, label) => {
      for (const file of files) {
        const decoded = decodeImageFile(file, { maxMemoryUsageInMB: opts.maxMemoryUsageInMB, maxPixels: opts.maxPixels });
        if (decoded.width < 1 || decoded.height < 1) throw new Error(`${file}: image has no pixels (${decoded.width}×${decoded.height})`);
        const square = centerCropSquare(rgbaToPlanes(decoded.rgba, decoded.width, decoded.height, channels));
        images.set(resizeSquare(square, size).data, n * per);
        labels[n] = label;
        n++;
        bar.tick();
      }
    });
  } finally {
    bar.done();
  }
  return { images: new Tensor(images, [total, channels, size, size]), labels, classNames: plan.classNames, source: `imagefolder:${root}` };
}
