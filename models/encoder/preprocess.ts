/**
 * Getting images into the shape an encoder expects: grey → RGB and bilinear resizing.
 *
 * nsfwjs (dist/cjs/core.js, `infer`) prepares an image for its MobileNetV2 as
 * `pixels / 255` (so values in [0, 1], RGB), then, when the image is not 224×224,
 * `tf.image.resizeBilinear(img, [224, 224], alignCorners = true)`. {@link resizeBilinear}
 * implements exactly that resize, so features from our loader match nsfwjs's preprocessing.
 */
import { allocate, fmtShape, Tensor } from '../../lib';

/** [B, 1, H, W] → [B, 3, H, W] by repeating the grey channel; RGB passes through. No graph. */
export function greyToRgb(images: Tensor): Tensor {
  const [b, c, h, w] = images.shape as [number, number, number, number];
  if (c === 3) return images;
  if (c !== 1) throw new Error(`greyToRgb: expected 1 or 3 channels, got ${fmtShape(images.shape)}`);
  const src = images.values();
  const out = allocate(images.dtype, b * 3 * h * w);
  const plane = h * w;
  for (let n = 0; n < b; n++) {
    const s = src.subarray(n * plane, (n + 1) * plane);
    for (let k = 0; k < 3; k++) out.set(s, (n * 3 + k) * plane);
  }
  return new Tensor(out, [b, 3, h, w]);
}

/**
 * Bilinear resize of [B, C, H, W] to [B, C, size, size], as TF's `resizeBilinear` with
 * `alignCorners = true`: output pixel i samples input position i·(H − 1)/(size − 1), so the
 * corner pixels map onto each other exactly. No antialiasing (as in nsfwjs). No graph.
 */
export function resizeBilinear(images: Tensor, size: number): Tensor {
  const [b, c, h, w] = images.shape as [number, number, number, number];
  if (h === size && w === size) return images;
  const src = images.values();
  const out = allocate(images.dtype, b * c * size * size);
  const scaleY = size > 1 ? (h - 1) / (size - 1) : 0;
  const scaleX = size > 1 ? (w - 1) / (size - 1) : 0;
  for (let p = 0; p < b * c; p++) {
    const base = p * h * w;
    for (let i = 0; i < size; i++) {
      const y = i * scaleY;
      const y0 = Math.floor(y);
      const y1 = Math.min(y0 + 1, h - 1);
      const fy = y - y0;
      for (let j = 0; j < size; j++) {
        const x = j * scaleX;
        const x0 = Math.floor(x);
        const x1 = Math.min(x0 + 1, w - 1);
        const fx = x - x0;
        const top = src[base + y0 * w + x0]! + (src[base + y0 * w + x1]! - src[base + y0 * w + x0]!) * fx;
        const bottom = src[base + y1 * w + x0]! + (src[base + y1 * w + x1]! - src[base + y1 * w + x0]!) * fx;
        out[(p * size + i) * size + j] = top + (bottom - top) * fy;
      }
    }
  }
  return new Tensor(out, [b, c, size, size]);
}
