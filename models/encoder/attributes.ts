/**
 * The attribute classifier that judges a captioned-shapes image against its caption
 * (lib/data/shapes.ts): for each cell of the 3 × 3 grid, is it empty, and if not, which
 * shape, which colour, which size? Trained on the generator's own labels, so it is a network
 * separate from both the FID network and ARRA's alignment encoder.
 *
 *   image [B, 3, S, S] ──resize──▶ [B, 3, 36, 36] ──cut the 3 × 3 grid──▶ cells [B·9, 3, 12, 12]
 *   cells ──ConvNet (convnet.ts, 14 outputs)──▶ logits [B·9, 14] = [ kind 4 | colour 8 | size 2 ]
 *                                                  kind: empty, circle, square, triangle
 *
 * A shape never leaves its cell (shapes.ts keeps it inside), so each 12-pixel cell is a
 * self-contained little classification problem; one small ConvNet shared by all cells learns
 * it in seconds. The three heads are three softmaxes over slices of the same output.
 */
import { crossEntropy, narrow, noGrad, Tensor } from '../../lib';
import { SHAPE_COLORS, SHAPE_KINDS, type ShapeSpec } from '../../lib/data/shapes';
import { ConvNet } from './convnet';
import { resizeBilinear } from './preprocess';

/** Side of one cell crop (the image is resized to 3 × CELL first). */
export const CELL = 12;
/** Output slices: [kind (empty + 3 shapes) | colour | size]. */
export const ATTRIBUTE_HEADS = { kind: 1 + SHAPE_KINDS.length, colour: SHAPE_COLORS.length, size: 2 } as const;
export const ATTRIBUTE_OUTPUTS = ATTRIBUTE_HEADS.kind + ATTRIBUTE_HEADS.colour + ATTRIBUTE_HEADS.size;

/** A ConvNet sized for cell crops with the 14 attribute outputs. */
export function attributeNet(rng?: ConstructorParameters<typeof ConvNet>[1]): ConvNet {
  return new ConvNet({ inChannels: 3, imageSize: CELL, widths: [16, 32], featureDim: 64, numClasses: ATTRIBUTE_OUTPUTS }, rng);
}

/** The nine cells of every image, row-major over the grid: [B, 3, S, S] → [B·9, 3, 12, 12]. */
export function cellCrops(images: Tensor): Tensor {
  const [B, C] = images.shape as [number, number];
  if (images.rank !== 4 || C !== 3) throw new Error(`cellCrops: expected RGB images [B, 3, S, S], got [${images.shape.join(', ')}]`);
  const S = 3 * CELL;
  const x = resizeBilinear(images, S).values(); // [B, 3, 36, 36]
  const out = new Float32Array(B * 9 * 3 * CELL * CELL);
  let o = 0;
  for (let b = 0; b < B; b++) {
    for (let cell = 0; cell < 9; cell++) {
      const y0 = Math.floor(cell / 3) * CELL;
      const x0 = (cell % 3) * CELL;
      for (let c = 0; c < 3; c++) {
        for (let y = 0; y < CELL; y++) {
          const row = ((b * 3 + c) * S + y0 + y) * S + x0;
          for (let dx = 0; dx < CELL; dx++) out[o++] = x[row + dx]!;
        }
      }
    }
  }
  return new Tensor(out, [B * 9, 3, CELL, CELL]);
}

/** Per-cell targets of scenes, [B·9] each: kind 0 = empty; colour and size −1 (not scored) for empty cells. */
export function cellTargets(scenes: readonly ShapeSpec[][]): { kind: Int32Array; colour: Int32Array; size: Int32Array } {
  const n = scenes.length * 9;
  const kind = new Int32Array(n);
  const colour = new Int32Array(n).fill(-1);
  const size = new Int32Array(n).fill(-1);
  scenes.forEach((scene, b) => {
    for (const s of scene) {
      const i = b * 9 + s.cell;
      kind[i] = 1 + SHAPE_KINDS.indexOf(s.kind);
      colour[i] = SHAPE_COLORS.findIndex((c) => c.name === s.color);
      size[i] = s.size === 'large' ? 1 : 0;
    }
  });
  return { kind, colour, size };
}

/** Sum of the three heads' cross-entropies (colour and size only on cells that hold a shape). */
export function attributeLoss(net: ConvNet, crops: Tensor, t: ReturnType<typeof cellTargets>): Tensor {
  const logits = net.forward(crops); // [B·9, 14]
  const { kind: K, colour: Q } = ATTRIBUTE_HEADS;
  const lKind = crossEntropy(narrow(logits, 1, 0, K), t.kind);
  const lColour = crossEntropy(narrow(logits, 1, K, Q), t.colour, { ignoreIndex: -1 });
  const lSize = crossEntropy(narrow(logits, 1, K + Q, ATTRIBUTE_HEADS.size), t.size, { ignoreIndex: -1 });
  return lKind.add(lColour).add(lSize); // scalar
}

/** What the classifier sees in one cell. */
export interface CellPrediction {
  /** 'empty' or a shape kind */
  kind: 'empty' | (typeof SHAPE_KINDS)[number];
  colour: string;
  size: 'small' | 'large';
}

const argmax = (v: ArrayLike<number>, start: number, n: number): number => {
  let best = 0;
  for (let j = 1; j < n; j++) if (v[start + j]! > v[start + best]!) best = j;
  return best;
};

/** The nine cell predictions of every image: [B][9], in eval mode under no-grad, `batch` images at a time. */
export function predictCells(net: ConvNet, images: Tensor, batch = 100): CellPrediction[][] {
  net.eval();
  const B = images.shape[0]!;
  const out: CellPrediction[][] = [];
  const { kind: K, colour: Q } = ATTRIBUTE_HEADS;
  for (let start = 0; start < B; start += batch) {
    const n = Math.min(batch, B - start);
    const logits = noGrad(() => net.forward(cellCrops(narrow(images, 0, start, n)))).values(); // [n·9, 14]
    for (let b = 0; b < n; b++) {
      const cells: CellPrediction[] = [];
      for (let c = 0; c < 9; c++) {
        const row = (b * 9 + c) * ATTRIBUTE_OUTPUTS;
        const k = argmax(logits, row, K);
        cells.push({
          kind: k === 0 ? 'empty' : SHAPE_KINDS[k - 1]!,
          colour: SHAPE_COLORS[argmax(logits, row + K, Q)]!.name,
          size: argmax(logits, row + K + Q, 2) === 1 ? 'large' : 'small',
        });
      }
      out.push(cells);
    }
  }
  return out;
}

/** Caption accuracy: per attribute over every object a caption names, and per image with all of them right. */
export interface CaptionScores {
  /** the named cell holds a shape */
  position: number;
  shape: number;
  colour: number;
  size: number;
  /** images whose non-empty cells are exactly the caption's cells (nothing missing, nothing extra) */
  layout: number;
  /** images with the right layout and every named object's four attributes right */
  allCorrect: number;
  /** objects and images scored */
  objects: number;
  images: number;
}

/**
 * Judge images against the scenes their prompts describe. An object's position is right when
 * its cell is not empty; its shape, colour and size count only at a non-empty cell, so a shape
 * drawn in the wrong place scores on no attribute. Per image, the layout is right when the
 * non-empty cells are exactly the caption's (a smeared image that "fills" every cell is wrong),
 * and all-attributes-correct needs the layout and every object right.
 */
export function captionScores(predictions: readonly CellPrediction[][], scenes: readonly ShapeSpec[][]): CaptionScores {
  if (predictions.length !== scenes.length) throw new Error(`captionScores: ${predictions.length} images but ${scenes.length} scenes`);
  const right = { position: 0, shape: 0, colour: 0, size: 0 };
  let objects = 0;
  let all = 0;
  let layouts = 0;
  scenes.forEach((scene, i) => {
    const named = new Set(scene.map((s) => s.cell));
    const layout = predictions[i]!.every((p, cell) => (p.kind !== 'empty') === named.has(cell));
    if (layout) layouts++;
    let every = layout;
    for (const s of scene) {
      const p = predictions[i]![s.cell]!;
      const here = p.kind !== 'empty';
      const ok = { position: here, shape: here && p.kind === s.kind, colour: here && p.colour === s.color, size: here && p.size === s.size };
      for (const k of Object.keys(right) as (keyof typeof right)[]) if (ok[k]) right[k]++;
      every &&= ok.position && ok.shape && ok.colour && ok.size;
      objects++;
    }
    if (every) all++;
  });
  const f = (x: number): number => (objects === 0 ? 0 : x / objects);
  return {
    position: f(right.position), shape: f(right.shape), colour: f(right.colour), size: f(right.size),
    layout: scenes.length === 0 ? 0 : layouts / scenes.length, allCorrect: scenes.length === 0 ? 0 : all / scenes.length, objects, images: scenes.length,
  };
}
