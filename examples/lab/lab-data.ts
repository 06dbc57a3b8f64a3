/**
 * Parsing the lab's MNIST subset (format in data-file.ts) into tensors the tiny models read:
 * 28 px images for the frozen encoder and 8 px images (area-averaged, lib/data/resize.ts) for the
 * tiny VQ tokenizer. No DOM and no Node API: the page and the Node tests run this same code.
 */
import { resizeSquare, Tensor } from '../../lib';

/** The digits the tiny preset's three classes stand for. */
export const LAB_CLASSES = [0, 1, 2];

/** The subset, as the lab uses it. */
export interface LabData {
  /** [n, C, 28, 28] in [0, 1]: what the frozen encoder sees (C = 1 for digits; 12 px RGB for shapes, lab-shapes.ts) */
  images28: Tensor;
  /** [n, C, S, S] in [0, 1], S = the VQ's image size */
  imagesSmall: Tensor;
  /** [n] class index into {@link LAB_CLASSES} (digits) or into `classNames` */
  classes: Int32Array;
  /** each image's caption, when the data has them (captioned shapes): what text conditioning trains on */
  prompts?: string[];
  /** class names, when they are not the digits of {@link LAB_CLASSES} */
  classNames?: string[];
}

/** Bytes of the "ARLB" file → tensors; `smallSize` is the tokenizer's image side (8 for the tiny VQ). */
export function parseLabData(bytes: Uint8Array, smallSize: number): LabData {
  const magic = String.fromCharCode(...bytes.subarray(0, 4));
  if (bytes.length < 12 || magic !== 'ARLB') throw new Error(`parseLabData: expected an "ARLB" file, got ${bytes.length} bytes starting "${magic}"`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = view.getUint32(4, true);
  const side = view.getUint32(8, true);
  const px = side * side;
  if (bytes.length !== 12 + n * (1 + px)) throw new Error(`parseLabData: header says ${n} images of ${side}×${side}, expected ${12 + n * (1 + px)} bytes, got ${bytes.length}`);
  const classes = new Int32Array(n);
  const big = new Float32Array(n * px);
  const small = new Float32Array(n * smallSize * smallSize);
  for (let i = 0; i < n; i++) {
    const c = LAB_CLASSES.indexOf(bytes[12 + i]!);
    if (c < 0) throw new Error(`parseLabData: image ${i} has label ${bytes[12 + i]}, expected one of ${LAB_CLASSES.join(', ')}`);
    classes[i] = c;
    for (let p = 0; p < px; p++) big[i * px + p] = bytes[12 + n + i * px + p]! / 255;
    const planes = resizeSquare({ width: side, height: side, channels: 1, data: big.subarray(i * px, (i + 1) * px) }, smallSize);
    small.set(planes.data, i * smallSize * smallSize);
  }
  return { images28: new Tensor(big, [n, 1, side, side]), imagesSmall: new Tensor(small, [n, 1, smallSize, smallSize]), classes };
}
