/**
 * The data movement behind conv2d and convTranspose2d: im2col over a whole batch, its
 * adjoint col2im, and the [N, C, L] ↔ [C, N·L] rearrangements around the one matrix product.
 *
 * Layout: columns are indexed by (n, oi, oj) across the *whole batch*, rows by (c, ki, kj):
 *
 *   cols [C·kh·kw, N·Ho·Wo],  cols[(c, ki, kj), (n, oi, oj)] = x[n, c, oi·sh − ph + ki·dh, oj·sw − pw + kj·dw]
 *
 * so one product W [O, C·kh·kw] · cols gives every image's output at once, as [O, N·Ho·Wo]
 * (one big matmul instead of N small ones: the backend's packing and scheduling costs are
 * paid once and its tiles are full). Rows of one group are contiguous, so a grouped conv is
 * G products over row blocks.
 *
 * Bounds: for kernel column kj, the output columns oj whose input column j is inside the
 * image form one interval [lo, hi) (likewise rows); it is computed once per tap, so the
 * inner loops have no bounds checks. Entries outside it are padding (0): callers pass a
 * freshly allocated (zero) `cols` and im2col leaves them untouched.
 */
import type { FloatArray } from '../tensor';

/** Where the kernel sits on the image: sizes, stride, padding, dilation and output size. */
export interface Geometry {
  channels: number;
  H: number; W: number;
  kh: number; kw: number;
  sh: number; sw: number;
  ph: number; pw: number;
  dh: number; dw: number;
  Ho: number; Wo: number;
}

/**
 * For each kernel tap t < k, the output positions o ∈ [lo[t], hi[t]) whose input position
 * o·stride − pad + t·dilation lies in [0, size). (The constraint is linear in o, so the
 * valid o are one interval; hi ≥ lo always.)
 */
export function validRanges(k: number, stride: number, pad: number, dilation: number, size: number, outSize: number): { lo: Int32Array; hi: Int32Array } {
  const lo = new Int32Array(k);
  const hi = new Int32Array(k);
  for (let t = 0; t < k; t++) {
    const shift = t * dilation - pad; // input position = o·stride + shift
    const first = Math.max(0, Math.ceil(-shift / stride));
    const last = Math.min(outSize - 1, Math.floor((size - 1 - shift) / stride));
    lo[t] = first;
    hi[t] = Math.max(first, last + 1);
  }
  return { lo, hi };
}

/** Unfold images [N, C, H, W] into `cols` [C·kh·kw, N·Ho·Wo] (see the file comment). `cols` must be zero. */
export function im2col(img: FloatArray, N: number, g: Geometry, cols: FloatArray): void {
  const { channels: C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, Ho, Wo } = g;
  const L = Ho * Wo;
  const NL = N * L;
  const rows = validRanges(kh, sh, ph, dh, H, Ho);
  const colsOk = validRanges(kw, sw, pw, dw, W, Wo);
  // Loop order keeps one image plane (n, c) hot while all kh·kw rows read from it.
  for (let c = 0; c < C; c++) {
    for (let n = 0; n < N; n++) {
      const plane = (n * C + c) * H * W;
      for (let ki = 0; ki < kh; ki++) {
        const iLo = rows.lo[ki]!, iHi = rows.hi[ki]!;
        for (let kj = 0; kj < kw; kj++) {
          const jLo = colsOk.lo[kj]!, jHi = colsOk.hi[kj]!;
          const dst = ((c * kh + ki) * kw + kj) * NL + n * L;
          for (let oi = iLo; oi < iHi; oi++) {
            const d = dst + oi * Wo;
            const s = plane + (oi * sh - ph + ki * dh) * W - pw + kj * dw; // input index of oj = 0
            for (let oj = jLo; oj < jHi; oj++) cols[d + oj] = img[s + oj * sw]!;
          }
        }
      }
    }
  }
}

/** The adjoint of im2col: add every entry of `cols` [C·kh·kw, N·Ho·Wo] onto the image pixel it was read from. */
export function col2im(cols: FloatArray, N: number, g: Geometry, img: FloatArray): void {
  const { channels: C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, Ho, Wo } = g;
  const L = Ho * Wo;
  const NL = N * L;
  const rows = validRanges(kh, sh, ph, dh, H, Ho);
  const colsOk = validRanges(kw, sw, pw, dw, W, Wo);
  for (let c = 0; c < C; c++) {
    for (let n = 0; n < N; n++) {
      const plane = (n * C + c) * H * W;
      for (let ki = 0; ki < kh; ki++) {
        const iLo = rows.lo[ki]!, iHi = rows.hi[ki]!;
        for (let kj = 0; kj < kw; kj++) {
          const jLo = colsOk.lo[kj]!, jHi = colsOk.hi[kj]!;
          const src = ((c * kh + ki) * kw + kj) * NL + n * L;
          for (let oi = iLo; oi < iHi; oi++) {
            const s = src + oi * Wo;
            const d = plane + (oi * sh - ph + ki * dh) * W - pw + kj * dw;
            for (let oj = jLo; oj < jHi; oj++) img[d + oj * sw] = img[d + oj * sw]! + cols[s + oj]!;
          }
        }
      }
    }
  }
}

/** A 4-D strided view [N, C, H, W] over `data` (as a Tensor's ndarray holds it). */
export interface View4 {
  data: FloatArray;
  stride: readonly number[];
  offset: number;
}

/**
 * [N, C, H, W] (any strides, e.g. a permuted view) → contiguous [C, N·H·W]: the im2col of a
 * 1×1, stride-1, unpadded kernel, and the layout the one-matmul products want.
 */
export function toChannelsMajor(x: View4, N: number, C: number, H: number, W: number, out: FloatArray): void {
  const { data, offset } = x;
  const [sn, sc, si, sj] = x.stride as [number, number, number, number];
  const L = H * W;
  for (let c = 0; c < C; c++) {
    for (let n = 0; n < N; n++) {
      let d = (c * N + n) * L;
      const plane = offset + n * sn + c * sc;
      if (sj === 1 && si === W) {
        // this plane is contiguous: a straight copy
        for (let l = 0; l < L; l++) out[d++] = data[plane + l]!;
        continue;
      }
      for (let i = 0; i < H; i++) {
        const row = plane + i * si;
        for (let j = 0; j < W; j++) out[d++] = data[row + j * sj]!;
      }
    }
  }
}

/** Contiguous [C, N·L] → [N, C, L], adding `bias[c]` when given (the output of a conv's product). */
export function fromChannelsMajor(src: FloatArray, N: number, C: number, L: number, out: FloatArray, bias?: FloatArray): void {
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      const s = (c * N + n) * L;
      const d = (n * C + c) * L;
      const b = bias ? bias[c]! : 0;
      for (let l = 0; l < L; l++) out[d + l] = src[s + l]! + b;
    }
  }
}

/** out [N, O, L] += bias[o] on every plane. */
export function addBias(out: FloatArray, bias: FloatArray, N: number, O: number, L: number): void {
  for (let n = 0; n < N; n++) {
    for (let o = 0; o < O; o++) {
      const b = bias[o]!;
      const at = (n * O + o) * L;
      for (let l = at; l < at + L; l++) out[l] = out[l]! + b;
    }
  }
}

/** Σ over n and l of g [N, O, L], per channel o: the gradient of a per-channel bias. */
export function channelSums(g: FloatArray, N: number, O: number, L: number, out: FloatArray): void {
  for (let o = 0; o < O; o++) {
    let acc = 0;
    for (let n = 0; n < N; n++) {
      const s = (n * O + o) * L;
      for (let l = 0; l < L; l++) acc += g[s + l]!;
    }
    out[o] = acc;
  }
}
