/**
 * Captioned shapes: a tiny text-to-image dataset made on the fly.
 *
 * Each image is an S × S RGB picture (default 32 px, black background) with one or two
 * coloured shapes — circle, square or triangle; small or large — each in its own cell of a
 * 3 × 3 grid, and a caption that says exactly what is drawn:
 * "a large red circle at the top left and a small blue square at the bottom".
 * Captions are generated from the same scene description the pixels are drawn from, so
 * they are always true; this is the smallest data on which a text-conditioned image model
 * can be seen to follow its prompt. The label is the first shape's colour + shape
 * ("red circle"), for classifiers and class-conditional baselines.
 *
 * Same seed → the same images and captions, bit for bit.
 */
import { Tensor } from '../tensor';
import { Rng } from '../random';
import type { ImageDataset } from './dataset';

/** The shape kinds, in label order. */
export const SHAPE_KINDS = ['circle', 'square', 'triangle'] as const;
/** The colours with their RGB values in [0, 1], in label order. */
export const SHAPE_COLORS: readonly { name: string; rgb: readonly [number, number, number] }[] = [
  { name: 'red', rgb: [1, 0, 0] },
  { name: 'green', rgb: [0, 1, 0] },
  { name: 'blue', rgb: [0, 0, 1] },
  { name: 'yellow', rgb: [1, 1, 0] },
  { name: 'purple', rgb: [0.6, 0, 0.8] },
  { name: 'cyan', rgb: [0, 1, 1] },
  { name: 'orange', rgb: [1, 0.5, 0] },
  { name: 'white', rgb: [1, 1, 1] },
];
/** Grid cells (row-major over the 3 × 3 grid) and how a caption says each. */
export const SHAPE_POSITIONS = [
  'at the top left',
  'at the top',
  'at the top right',
  'on the left',
  'in the centre',
  'on the right',
  'at the bottom left',
  'at the bottom',
  'at the bottom right',
] as const;

/** One drawn shape. Coordinates are in pixels, (0, 0) the top-left corner of the image. */
export interface ShapeSpec {
  kind: (typeof SHAPE_KINDS)[number];
  color: string;
  size: 'small' | 'large';
  /** Index into {@link SHAPE_POSITIONS} (row · 3 + column). */
  cell: number;
  cx: number;
  cy: number;
  /** Radius of a circle, half the side of a square, half the height and half the base of a triangle. */
  half: number;
}

/** Options for {@link captionedShapes}. */
export interface ShapesOptions {
  /** Image side in pixels (default 32, at least 12). */
  size?: number;
  /** Seed of the generator (default 0). */
  seed?: number;
  /** At most this many shapes per image, 1 or 2 (default 2). */
  maxShapes?: 1 | 2;
  /** Use only the first `colors` colours of {@link SHAPE_COLORS} (default all 8). */
  colors?: number;
}

/** A captioned-shapes set: an {@link ImageDataset} whose prompts are the captions, plus the scenes drawn. */
export interface CaptionedShapesDataset extends ImageDataset {
  prompts: string[];
  /** What is in each image, shape by shape, in caption order. */
  scenes: ShapeSpec[][];
}

/** Class names `"<colour> <shape>"`, label = colour index · 3 + shape index. */
export function shapeClassNames(colors = SHAPE_COLORS.length): string[] {
  return SHAPE_COLORS.slice(0, colors).flatMap((c) => SHAPE_KINDS.map((k) => `${c.name} ${k}`));
}

/** Make `n` seeded captioned images `[n, 3, S, S]` with their captions and labels. */
export function captionedShapes(n: number, opts: ShapesOptions = {}): CaptionedShapesDataset {
  const size = opts.size ?? 32;
  const maxShapes = opts.maxShapes ?? 2;
  const nColors = opts.colors ?? SHAPE_COLORS.length;
  if (!Number.isInteger(size) || size < 12) throw new Error(`captionedShapes: size must be an integer ≥ 12, got ${size}`);
  if (!Number.isInteger(nColors) || nColors < 1 || nColors > SHAPE_COLORS.length) throw new Error(`captionedShapes: colors must be 1..${SHAPE_COLORS.length}, got ${nColors}`);
  const rng = new Rng(opts.seed ?? 0);
  const per = 3 * size * size;
  const images = new Float32Array(n * per); // [N, 3, S, S]
  const labels = new Int32Array(n);
  const prompts: string[] = [];
  const scenes: ShapeSpec[][] = [];
  for (let i = 0; i < n; i++) {
    const scene = randomScene(rng, size, maxShapes, nColors);
    drawScene(scene, size, images.subarray(i * per, (i + 1) * per));
    const first = scene[0]!;
    labels[i] = SHAPE_COLORS.findIndex((c) => c.name === first.color) * SHAPE_KINDS.length + SHAPE_KINDS.indexOf(first.kind);
    prompts.push(captionOf(scene));
    scenes.push(scene);
  }
  return { images: new Tensor(images, [n, 3, size, size]), labels, classNames: shapeClassNames(nColors), prompts, scenes, source: `shapes:seed=${opts.seed ?? 0}` };
}

/** One random scene: 1..maxShapes shapes in distinct grid cells. */
export function randomScene(rng: Rng, size: number, maxShapes: number, nColors: number): ShapeSpec[] {
  const count = 1 + rng.int(maxShapes);
  const cells = rng.shuffle([0, 1, 2, 3, 4, 5, 6, 7, 8]).slice(0, count);
  const cellSide = size / 3;
  return cells.map((cell) => {
    const kind = SHAPE_KINDS[rng.int(SHAPE_KINDS.length)]!;
    const color = SHAPE_COLORS[rng.int(nColors)]!.name;
    const large = rng.int(2) === 1;
    // A large shape nearly fills its cell; a small one has room to wander inside it.
    const half = cellSide * (large ? 0.45 : 0.25);
    const slack = cellSide / 2 - half;
    const cx = ((cell % 3) + 0.5) * cellSide + (2 * rng.uniform() - 1) * slack * 0.8;
    const cy = (Math.floor(cell / 3) + 0.5) * cellSide + (2 * rng.uniform() - 1) * slack * 0.8;
    return { kind, color, size: large ? 'large' : 'small', cell, cx, cy, half };
  });
}

/** The caption of a scene: "a large red circle at the top left and a small blue square at the bottom". */
export function captionOf(scene: ShapeSpec[]): string {
  return scene.map((s) => `a ${s.size} ${s.color} ${s.kind} ${SHAPE_POSITIONS[s.cell]}`).join(' and ');
}

/** Whether the pixel whose centre is (x, y) lies inside the shape. */
export function insideShape(s: ShapeSpec, x: number, y: number): boolean {
  const dx = x - s.cx;
  const dy = y - s.cy;
  switch (s.kind) {
    case 'circle':
      return dx * dx + dy * dy <= s.half * s.half;
    case 'square':
      return Math.abs(dx) <= s.half && Math.abs(dy) <= s.half;
    case 'triangle':
      // Apex at (cx, cy − half), base from (cx ± half, cy + half): the half-width grows linearly from 0 at the apex to `half` at the base.
      return dy >= -s.half && dy <= s.half && Math.abs(dx) <= (dy + s.half) / 2;
  }
}

/** Draw `scene` into `out` (`[3, S, S]`, zero = black background), without anti-aliasing so every pixel is one colour. */
export function drawScene(scene: ShapeSpec[], size: number, out: Float32Array = new Float32Array(3 * size * size)): Float32Array {
  const hw = size * size;
  for (const s of scene) {
    const rgb = SHAPE_COLORS.find((c) => c.name === s.color)!.rgb;
    const x0 = Math.max(0, Math.floor(s.cx - s.half - 1));
    const x1 = Math.min(size - 1, Math.ceil(s.cx + s.half + 1));
    const y0 = Math.max(0, Math.floor(s.cy - s.half - 1));
    const y1 = Math.min(size - 1, Math.ceil(s.cy + s.half + 1));
    for (let y = y0; y <= y1; y++) {
      for (let x = x0; x <= x1; x++) {
        if (!insideShape(s, x + 0.5, y + 0.5)) continue;
        for (let c = 0; c < 3; c++) out[c * hw + y * size + x] = rgb[c]!;
      }
    }
  }
  return out;
}
