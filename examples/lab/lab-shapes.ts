/**
 * The lab's text-conditional data: captioned shapes (lib/data/shapes.ts) made in the page from a
 * seed — nothing is downloaded. One shape per image, three colours, 12 px RGB for the frozen
 * encoder and 8 px (area-averaged) for the tiny VQ, and each image's caption
 * ("a large red circle at the top left"), which is the prompt the text model is trained on.
 * No DOM and no Node API: the page and the Node tests run this same code.
 */
import { captionedShapes, resizeSquare, Tensor } from '../../lib';
import type { LabData } from './lab-data';

/** Images in the lab's shapes subset. */
export const SHAPES_COUNT = 360;
/** Side of the encoder's images (captionedShapes' smallest size). */
export const SHAPES_SIZE = 12;

/** `n` seeded captioned shapes as {@link LabData}: classes are the first shape's colour·3 + kind. */
export function shapesLabData(smallSize: number, n = SHAPES_COUNT, seed = 0): LabData {
  const ds = captionedShapes(n, { size: SHAPES_SIZE, maxShapes: 1, colors: 3, seed });
  const big = Float32Array.from(ds.images.values()); // [n, 3, 12, 12]
  const per = 3 * SHAPES_SIZE * SHAPES_SIZE;
  const small = new Float32Array(n * 3 * smallSize * smallSize);
  for (let i = 0; i < n; i++) {
    const planes = resizeSquare({ width: SHAPES_SIZE, height: SHAPES_SIZE, channels: 3, data: big.subarray(i * per, (i + 1) * per) }, smallSize);
    small.set(planes.data, i * 3 * smallSize * smallSize);
  }
  return {
    images28: ds.images, imagesSmall: new Tensor(small, [n, 3, smallSize, smallSize]), classes: Int32Array.from(ds.labels),
    prompts: ds.prompts, classNames: ds.classNames,
  };
}
