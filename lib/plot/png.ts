/**
 * PNG output for looking at what a model does: a grid of images (samples, reconstructions,
 * dataset batches) and a colour-mapped heatmap (attention maps, alignment scores).
 *
 * Pixels are built as plain RGBA bytes (`RgbaImage`), which the tests can inspect directly,
 * then encoded with pngjs (`PNG.sync.write`) and written atomically.
 */
import { PNG } from 'pngjs';
import { atomicWriteFile } from '../io/atomic';
import type { Tensor } from '../tensor';

/** An image as 8-bit RGBA bytes, row-major: pixel (x, y) starts at `4·(y·width + x)`. */
export interface RgbaImage {
  width: number;
  height: number;
  data: Uint8Array;
}

/** Options of {@link imageGrid} / {@link saveImageGrid}. */
export interface GridOptions {
  /** Number of rows (default: ⌈N / ⌈√N⌉⌉, i.e. a near-square grid); columns = ⌈N / rows⌉. */
  rows?: number;
  /** Pixels of border around and between images, counted after upscaling (default 2). */
  padding?: number;
  /** Grey level of the border in [0, 1] (default 1, white). */
  padValue?: number;
  /** Integer factor to enlarge each image pixel into a square block (nearest neighbour; default 1). */
  upscale?: number;
}

/** [0, 1] → 0…255, clamped; NaN becomes 0. */
function toByte(v: number): number {
  if (!(v > 0)) return 0;
  return v >= 1 ? 255 : Math.round(v * 255);
}

function checkUpscale(op: string, s: number): void {
  if (!Number.isInteger(s) || s < 1) throw new Error(`${op}: upscale must be a positive integer, got ${s}`);
}

/**
 * Tile images [N, C, H, W] with values in [0, 1] (C = 1 grey or C = 3 RGB) into one RGBA
 * image, row by row: image i goes to row ⌊i / cols⌋, column i mod cols. Cells without an
 * image stay border-coloured.
 */
export function imageGrid(images: Tensor, opts: GridOptions = {}): RgbaImage {
  if (images.rank !== 4 || (images.shape[1] !== 1 && images.shape[1] !== 3)) {
    throw new Error(`imageGrid: expected images [N, C, H, W] with C = 1 or 3, got [${images.shape.join(',')}]`);
  }
  const [n, c, h, w] = images.shape as [number, number, number, number];
  const { padding = 2, padValue = 1, upscale = 1 } = opts;
  checkUpscale('imageGrid', upscale);
  if (!Number.isInteger(padding) || padding < 0) throw new Error(`imageGrid: padding must be a non-negative integer, got ${padding}`);
  if (opts.rows !== undefined && (!Number.isInteger(opts.rows) || opts.rows < 1)) throw new Error(`imageGrid: rows must be a positive integer, got ${opts.rows}`);
  const rows = opts.rows ?? Math.max(1, Math.ceil(n / Math.max(1, Math.ceil(Math.sqrt(n)))));
  const cols = Math.max(1, Math.ceil(n / rows));
  const cellW = w * upscale;
  const cellH = h * upscale;
  const width = cols * cellW + (cols + 1) * padding;
  const height = rows * cellH + (rows + 1) * padding;
  const data = new Uint8Array(width * height * 4);
  const pad = toByte(padValue);
  for (let i = 0; i < data.length; i += 4) data.set([pad, pad, pad, 255], i);

  const v = images.values(); // [N, C, H, W]
  const plane = h * w;
  for (let img = 0; img < n; img++) {
    const x0 = padding + (img % cols) * (cellW + padding);
    const y0 = padding + Math.floor(img / cols) * (cellH + padding);
    const base = img * c * plane;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const p = y * w + x;
        const r = toByte(v[base + p]!);
        const g = c === 3 ? toByte(v[base + plane + p]!) : r;
        const b = c === 3 ? toByte(v[base + 2 * plane + p]!) : r;
        for (let dy = 0; dy < upscale; dy++) {
          let o = ((y0 + y * upscale + dy) * width + x0 + x * upscale) * 4;
          for (let dx = 0; dx < upscale; dx++, o += 4) {
            data[o] = r;
            data[o + 1] = g;
            data[o + 2] = b;
            data[o + 3] = 255;
          }
        }
      }
    }
  }
  return { width, height, data };
}

/** Encode RGBA bytes as a PNG file's bytes. */
export function encodePng(image: RgbaImage): Buffer {
  if (image.data.length !== image.width * image.height * 4) {
    throw new Error(`encodePng: ${image.width}×${image.height} RGBA needs ${image.width * image.height * 4} bytes, got ${image.data.length}`);
  }
  const png = new PNG({ width: image.width, height: image.height });
  png.data = Buffer.from(image.data.buffer, image.data.byteOffset, image.data.byteLength);
  return PNG.sync.write(png);
}

/** Write images [N, C, H, W] in [0, 1] as one PNG grid (atomically); returns the pixel size written. */
export function saveImageGrid(images: Tensor, path: string, opts: GridOptions = {}): { width: number; height: number } {
  const grid = imageGrid(images, opts);
  atomicWriteFile(path, encodePng(grid));
  return { width: grid.width, height: grid.height };
}

/** Colour maps for {@link heatmapImage}. */
export type ColorMap = 'viridis' | 'gray';

/** matplotlib's viridis at 0, 0.1, …, 1 (perceptually uniform, readable in greyscale and by colour-blind readers). */
const VIRIDIS: readonly (readonly [number, number, number])[] = [
  [68, 1, 84], [72, 36, 117], [65, 68, 135], [53, 95, 141], [42, 120, 142], [33, 145, 140],
  [34, 168, 132], [68, 191, 112], [122, 209, 81], [189, 223, 38], [253, 231, 37],
];

/** The colour for t ∈ [0, 1] (clamped): piecewise-linear through the map's anchors. */
export function colorAt(t: number, map: ColorMap = 'viridis'): [number, number, number] {
  const u = Math.min(1, Math.max(0, t));
  if (map === 'gray') {
    const g = Math.round(u * 255);
    return [g, g, g];
  }
  const pos = u * (VIRIDIS.length - 1);
  const i = Math.min(VIRIDIS.length - 2, Math.floor(pos));
  const f = pos - i;
  const a = VIRIDIS[i]!;
  const b = VIRIDIS[i + 1]!;
  return [0, 1, 2].map((k) => Math.round(a[k]! + f * (b[k]! - a[k]!))) as [number, number, number];
}

/** Options of {@link heatmapImage} / {@link heatmapPng}. */
export interface HeatmapOptions {
  /** Integer upscale factor: each value becomes a scale×scale block (default 1). */
  scale?: number;
  /** Value mapped to the low end of the colour map (default: the smallest finite value). */
  min?: number;
  /** Value mapped to the high end (default: the largest finite value). */
  max?: number;
  /** Colour map (default 'viridis'). */
  colormap?: ColorMap;
}

/**
 * Colour-map a 2-D array of values [h, w] (a Tensor or nested arrays) into RGBA pixels.
 * Values are scaled linearly from [min, max] to [0, 1]; NaN is drawn magenta so it stands out.
 */
export function heatmapImage(values: Tensor | number[][], opts: HeatmapOptions = {}): RgbaImage {
  let h: number;
  let w: number;
  let flat: ArrayLike<number>;
  if (Array.isArray(values)) {
    h = values.length;
    w = values[0]?.length ?? 0;
    if (values.some((row) => row.length !== w)) throw new Error(`heatmapImage: rows have different lengths (${values.map((r) => r.length).join(', ')})`);
    flat = values.flat();
  } else {
    if (values.rank !== 2) throw new Error(`heatmapImage: expected values [h, w], got [${values.shape.join(',')}]`);
    [h, w] = values.shape as [number, number];
    flat = values.values();
  }
  const { scale = 1, colormap = 'viridis' } = opts;
  checkUpscale('heatmapImage', scale);
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < flat.length; i++) {
    if (Number.isFinite(flat[i]!)) {
      lo = Math.min(lo, flat[i]!);
      hi = Math.max(hi, flat[i]!);
    }
  }
  lo = opts.min ?? lo;
  hi = opts.max ?? hi;
  const span = hi > lo ? hi - lo : 1;
  const width = w * scale;
  const height = h * scale;
  const data = new Uint8Array(width * height * 4);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const v = flat[y * w + x]!;
      const [r, g, b] = Number.isNaN(v) ? [255, 0, 255] : colorAt((v - lo) / span, colormap);
      for (let dy = 0; dy < scale; dy++) {
        for (let dx = 0; dx < scale; dx++) data.set([r, g, b, 255], ((y * scale + dy) * width + x * scale + dx) * 4);
      }
    }
  }
  return { width, height, data };
}

/** Write a heatmap of values [h, w] as a PNG (atomically); see {@link heatmapImage}. */
export function heatmapPng(values: Tensor | number[][], path: string, opts: HeatmapOptions = {}): { width: number; height: number } {
  const img = heatmapImage(values, opts);
  atomicWriteFile(path, encodePng(img));
  return { width: img.width, height: img.height };
}
