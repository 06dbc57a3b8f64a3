/**
 * Pixels to tensors: unpack decoded RGBA bytes into float planes, centre-crop to a square,
 * resize to S × S.
 *
 * Resizing is separable: every output pixel is a weighted sum of input pixels along x, then
 * along y, with weights from {@link axisWeights}:
 * - **shrinking** (n → m, m < n) uses *area averaging*: output pixel j covers the input
 *   interval [j·n/m, (j+1)·n/m), and each input pixel counts by how much of it lies inside
 *   (so 4 → 2 averages pairs exactly, and 5 → 2 gives weights 1, 1, ½ over 2.5 pixels).
 *   This is what PIL calls `BOX` and OpenCV `INTER_AREA`; it never aliases the way
 *   picking every k-th pixel does.
 * - **growing** (m > n) uses *bilinear* interpolation with pixel centres aligned
 *   (`align_corners = false`): output j samples the input at x = (j + ½)·n/m − ½.
 */

/** Decoded pixels as float planes: `data` is `[channels, height, width]`, values in [0, 1]. */
export interface Planes {
  width: number;
  height: number;
  channels: number;
  data: Float32Array;
}

/**
 * RGBA bytes (4 per pixel, row-major, as pngjs and jpeg-js return them) → planes. With one
 * channel the pixel becomes luma Y = 0.299 R + 0.587 G + 0.114 B (ITU-R BT.601, what PIL's
 * `convert('L')` uses). Alpha is dropped.
 */
export function rgbaToPlanes(rgba: Uint8Array, width: number, height: number, channels: 1 | 3): Planes {
  const hw = width * height;
  if (rgba.length < 4 * hw) throw new Error(`rgbaToPlanes: ${width}×${height} RGBA needs ${4 * hw} bytes, got ${rgba.length}`);
  const data = new Float32Array(channels * hw);
  for (let p = 0; p < hw; p++) {
    const r = rgba[4 * p]! / 255;
    const g = rgba[4 * p + 1]! / 255;
    const b = rgba[4 * p + 2]! / 255;
    if (channels === 1) {
      data[p] = 0.299 * r + 0.587 * g + 0.114 * b;
    } else {
      data[p] = r;
      data[hw + p] = g;
      data[2 * hw + p] = b;
    }
  }
  return { width, height, channels, data };
}

/** The largest centred square: side min(W, H), offset ⌊(W − side)/2⌋, ⌊(H − side)/2⌋. */
export function centerCropSquare(img: Planes): Planes {
  const side = Math.min(img.width, img.height);
  if (side === img.width && side === img.height) return img;
  const x0 = Math.floor((img.width - side) / 2);
  const y0 = Math.floor((img.height - side) / 2);
  const data = new Float32Array(img.channels * side * side);
  for (let c = 0; c < img.channels; c++) {
    for (let y = 0; y < side; y++) {
      const src = (c * img.height + y0 + y) * img.width + x0;
      data.set(img.data.subarray(src, src + side), (c * side + y) * side);
    }
  }
  return { width: side, height: side, channels: img.channels, data };
}

/** For each of `m` output pixels, the input pixels it reads and their weights (summing to 1). */
export interface AxisWeights {
  start: Int32Array;
  weights: Float64Array[];
}

/** Resampling weights along one axis from `n` input pixels to `m` output pixels (see the file comment). */
export function axisWeights(n: number, m: number): AxisWeights {
  const start = new Int32Array(m);
  const weights: Float64Array[] = [];
  if (m <= n) {
    // Area averaging: output j covers [lo, hi) in input coordinates.
    const scale = n / m;
    for (let j = 0; j < m; j++) {
      const lo = j * scale;
      const hi = (j + 1) * scale;
      const first = Math.floor(lo);
      const last = Math.min(n - 1, Math.ceil(hi) - 1);
      const w = new Float64Array(last - first + 1);
      for (let i = first; i <= last; i++) {
        const overlap = Math.min(hi, i + 1) - Math.max(lo, i);
        w[i - first] = overlap / scale;
      }
      start[j] = first;
      weights.push(w);
    }
  } else {
    // Bilinear: sample at x = (j + ½)·n/m − ½, clamped to the first/last pixel centre.
    for (let j = 0; j < m; j++) {
      const x = Math.min(n - 1, Math.max(0, ((j + 0.5) * n) / m - 0.5));
      const i0 = Math.min(Math.floor(x), Math.max(0, n - 2)); // keep i0 + 1 inside the image
      const t = x - i0;
      start[j] = i0;
      weights.push(n === 1 ? Float64Array.of(1) : Float64Array.of(1 - t, t));
    }
  }
  return { start, weights };
}

/** Resize square planes `[C, n, n]` to `[C, size, size]` (area average down, bilinear up). */
export function resizeSquare(img: Planes, size: number): Planes {
  const n = img.width;
  if (img.height !== n) throw new Error(`resizeSquare: expected a square image, got ${img.width}×${img.height}`);
  if (n === size) return img;
  const { start, weights } = axisWeights(n, size);
  const C = img.channels;
  // Pass 1, along x: [C, n, n] → [C, n, size]
  const rows = new Float32Array(C * n * size);
  for (let r = 0; r < C * n; r++) {
    for (let j = 0; j < size; j++) {
      const w = weights[j]!;
      const base = r * n + start[j]!;
      let acc = 0;
      for (let k = 0; k < w.length; k++) acc += w[k]! * img.data[base + k]!;
      rows[r * size + j] = acc;
    }
  }
  // Pass 2, along y: [C, n, size] → [C, size, size]
  const out = new Float32Array(C * size * size);
  for (let c = 0; c < C; c++) {
    for (let j = 0; j < size; j++) {
      const w = weights[j]!;
      for (let x = 0; x < size; x++) {
        let acc = 0;
        for (let k = 0; k < w.length; k++) acc += w[k]! * rows[(c * n + start[j]! + k) * size + x]!;
        out[(c * size + j) * size + x] = acc;
      }
    }
  }
  return { width: size, height: size, channels: C, data: out };
}
