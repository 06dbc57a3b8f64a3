/**
 * 2-D convolution by im2col (as in Caffe and cs231n's fast layers): unfold every receptive
 * field of the input into a column, then one batched matrix product with the weights does
 * all the multiply-adds on the backend's matmul kernel.
 *
 *   cols[n] : [C·kh·kw, Ho·Wo]   (row (c, ki, kj), column (oi, oj))
 *   out[n, g] = W_g [O/G, C/G·kh·kw] · cols[n, g] [C/G·kh·kw, Ho·Wo]
 *
 * The backward of im2col is col2im (scatter-add the columns back into the image), and the
 * transposed convolution is exactly conv2d's input-gradient used as a forward pass.
 */
import { record } from '../autograd';
import { backend } from '../backend';
import { fmtShape, sizeOf } from '../shape';
import { allocate, type FloatArray, Tensor } from '../tensor';
import { pair } from './strided';
import { checkSameDtype } from './util';

/** A size given once for both axes or as [height, width]. */
export type Pair = number | [number, number];

export interface Conv2dOptions {
  stride?: Pair;
  padding?: Pair;
  dilation?: Pair;
  /** Split channels into this many independent groups; groups = C is a depthwise conv. */
  groups?: number;
}

export interface ConvTranspose2dOptions {
  stride?: Pair;
  padding?: Pair;
  /** Extra rows/columns added at the bottom/right of the output (resolves the size ambiguity when stride > 1). */
  outputPadding?: Pair;
}

/** Where the kernel sits on the image: sizes, stride, padding, dilation and output size. */
interface Geometry {
  channels: number;
  H: number; W: number;
  kh: number; kw: number;
  sh: number; sw: number;
  ph: number; pw: number;
  dh: number; dw: number;
  Ho: number; Wo: number;
}

/**
 * Unfold `images` [N, C, H, W] into columns [N, C·kh·kw, Ho·Wo]; padding reads as 0.
 * Element (c, ki, kj) of output position (oi, oj) is image[c, oi·sh − ph + ki·dh, oj·sw − pw + kj·dw].
 */
function im2col(img: FloatArray, N: number, g: Geometry, out: FloatArray): void {
  const { channels, H, W, kh, kw, sh, sw, ph, pw, dh, dw, Ho, Wo } = g;
  const L = Ho * Wo;
  let row = 0;
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < channels; c++) {
      const base = (n * channels + c) * H * W;
      for (let ki = 0; ki < kh; ki++) {
        for (let kj = 0; kj < kw; kj++, row++) {
          const dst = row * L;
          for (let oi = 0; oi < Ho; oi++) {
            const i = oi * sh - ph + ki * dh;
            const rowOut = dst + oi * Wo;
            if (i < 0 || i >= H) {
              out.fill(0, rowOut, rowOut + Wo);
              continue;
            }
            for (let oj = 0; oj < Wo; oj++) {
              const j = oj * sw - pw + kj * dw;
              out[rowOut + oj] = j < 0 || j >= W ? 0 : img[base + i * W + j]!;
            }
          }
        }
      }
    }
  }
}

/** The adjoint of im2col: add every column entry back onto the image pixel it was read from. */
function col2im(cols: FloatArray, N: number, g: Geometry, img: FloatArray): void {
  const { channels, H, W, kh, kw, sh, sw, ph, pw, dh, dw, Ho, Wo } = g;
  const L = Ho * Wo;
  let row = 0;
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < channels; c++) {
      const base = (n * channels + c) * H * W;
      for (let ki = 0; ki < kh; ki++) {
        for (let kj = 0; kj < kw; kj++, row++) {
          const src = row * L;
          for (let oi = 0; oi < Ho; oi++) {
            const i = oi * sh - ph + ki * dh;
            if (i < 0 || i >= H) continue;
            for (let oj = 0; oj < Wo; oj++) {
              const j = oj * sw - pw + kj * dw;
              if (j >= 0 && j < W) img[base + i * W + j] = img[base + i * W + j]! + cols[src + oi * Wo + oj]!;
            }
          }
        }
      }
    }
  }
}

/** `count` products of the same sizes through the backend; offsets step by the given strides (0 = shared). */
function batchedMatmul(
  a: FloatArray, aStep: (i: number) => number, b: FloatArray, bStep: (i: number) => number,
  count: number, m: number, k: number, n: number, transA: boolean, transB: boolean, out: FloatArray,
): void {
  const idx = Array.from({ length: count }, (_, i) => i);
  backend().matmul({ a, b, out, m, k, n, transA, transB, aOffsets: idx.map(aStep), bOffsets: idx.map(bStep) });
}

/** out[n, o, ...] += bias[o] for out [N, O, L]. */
function addBias(out: FloatArray, bias: FloatArray, N: number, O: number, L: number): void {
  for (let n = 0; n < N; n++) for (let o = 0; o < O; o++) {
    const base = (n * O + o) * L;
    for (let l = 0; l < L; l++) out[base + l] = out[base + l]! + bias[o]!;
  }
}

/** ∂/∂bias[o] = Σ_{n, l} g[n, o, l] for g [N, O, L]. */
function biasGrad(g: Tensor, N: number, O: number, L: number): Tensor {
  const perImage = allocate(g.dtype, N * O);
  backend().sumMiddle(g.values(), perImage, N * O, L, 1);
  const db = allocate(g.dtype, O);
  backend().sumMiddle(perImage, db, 1, N, O);
  return new Tensor(db, [O]);
}

function checkBias(op: string, bias: Tensor | undefined, O: number, x: Tensor): void {
  if (bias === undefined) return;
  if (bias.rank !== 1 || bias.shape[0] !== O) throw new Error(`${op}: bias must be [${O}] (one per output channel), got ${fmtShape(bias.shape)}`);
  checkSameDtype(op, x, bias);
}

/**
 * 2-D cross-correlation (what deep-learning libraries call convolution).
 * x [N, C, H, W], w [O, C/groups, kh, kw], bias [O] → [N, O, Ho, Wo] with
 * Ho = ⌊(H + 2·ph − dh·(kh − 1) − 1) / sh⌋ + 1 (likewise Wo).
 *
 * Backward, per image n and group g (cols = im2col(x)):
 *   ∂L/∂W_g    = Σ_n ∂L/∂out[n,g] · cols[n,g]ᵀ
 *   ∂L/∂cols   = W_gᵀ · ∂L/∂out[n,g],   then ∂L/∂x = col2im(∂L/∂cols)
 *   ∂L/∂bias_o = Σ_{n,i,j} ∂L/∂out[n,o,i,j]
 */
export function conv2d(x: Tensor, w: Tensor, bias?: Tensor, opts: Conv2dOptions = {}): Tensor {
  if (x.rank !== 4) throw new Error(`conv2d: input must be [N, C, H, W], got ${fmtShape(x.shape)}`);
  if (w.rank !== 4) throw new Error(`conv2d: weight must be [O, C/groups, kh, kw], got ${fmtShape(w.shape)}`);
  checkSameDtype('conv2d', x, w);
  const [N, C, H, W] = x.shape as [number, number, number, number];
  const [O, Cg, kh, kw] = w.shape as [number, number, number, number];
  const G = opts.groups ?? 1;
  if (!Number.isInteger(G) || G < 1) throw new Error(`conv2d: groups must be a positive integer, got ${G}`);
  if (C !== Cg * G) throw new Error(`conv2d: input channels ${C} do not match weight's ${Cg} × groups ${G} (x ${fmtShape(x.shape)}, w ${fmtShape(w.shape)})`);
  if (O % G !== 0) throw new Error(`conv2d: output channels ${O} are not divisible by groups ${G}`);
  checkBias('conv2d', bias, O, x);
  const [sh, sw] = pair('conv2d', 'stride', opts.stride ?? 1, 1);
  const [ph, pw] = pair('conv2d', 'padding', opts.padding ?? 0, 0);
  const [dh, dw] = pair('conv2d', 'dilation', opts.dilation ?? 1, 1);
  const Ho = Math.floor((H + 2 * ph - dh * (kh - 1) - 1) / sh) + 1;
  const Wo = Math.floor((W + 2 * pw - dw * (kw - 1) - 1) / sw) + 1;
  if (Ho < 1 || Wo < 1) {
    throw new Error(`conv2d: kernel ${kh}×${kw} (dilation ${dh}×${dw}) does not fit input ${H}×${W} with padding ${ph}×${pw}`);
  }
  const geo: Geometry = { channels: C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, Ho, Wo };
  const Og = O / G;
  const K = Cg * kh * kw; // rows of one group's columns
  const L = Ho * Wo; // output positions
  const cols = allocate(x.dtype, N * C * kh * kw * L); // [N, G, K, L]
  im2col(x.values(), N, geo, cols);
  const wv = w.values(); // [G, Og, K]
  const out = allocate(x.dtype, N * O * L); // [N, G, Og, L]
  batchedMatmul(wv, (i) => (i % G) * Og * K, cols, (i) => i * K * L, N * G, Og, K, L, false, false, out);
  if (bias) addBias(out, bias.values(), N, O, L);
  const inputs = bias ? [x, w, bias] : [x, w];
  return record('conv2d', new Tensor(out, [N, O, Ho, Wo]), inputs, (g) => {
    const gv = g.values(); // [N, G, Og, L]
    let dx: Tensor | null = null;
    if (x.requiresGrad) {
      // dCols[n,g] = W_gᵀ [K, Og] · g[n,g] [Og, L]
      const dcols = allocate(g.dtype, cols.length);
      batchedMatmul(wv, (i) => (i % G) * Og * K, gv, (i) => i * Og * L, N * G, K, Og, L, true, false, dcols);
      const dimg = allocate(g.dtype, x.size);
      col2im(dcols, N, geo, dimg);
      dx = new Tensor(dimg, x.shape);
    }
    let dw: Tensor | null = null;
    if (w.requiresGrad) {
      // dW_g = Σ_n g[n,g] [Og, L] · cols[n,g]ᵀ [L, K]: one product per (n, g), then sum over n
      const perImage = allocate(g.dtype, N * G * Og * K);
      batchedMatmul(gv, (i) => i * Og * L, cols, (i) => i * K * L, N * G, Og, L, K, false, true, perImage);
      const dwv = allocate(g.dtype, w.size);
      backend().sumMiddle(perImage, dwv, 1, N, G * Og * K);
      dw = new Tensor(dwv, w.shape);
    }
    const db = bias?.requiresGrad ? biasGrad(g, N, O, L) : null;
    return bias ? [dx, dw, db] : [dx, dw];
  });
}

/**
 * Transposed convolution ("deconvolution"): the input-gradient of conv2d used as a forward
 * pass, so it maps [N, C, H, W] to [N, O, Hout, Wout] with
 * Hout = (H − 1)·sh − 2·ph + kh + outputPadding (likewise Wout). Weight [C, O, kh, kw].
 *
 *   cols[n] = Wᵀ [O·kh·kw, C] · x[n] [C, H·W];  out[n] = col2im(cols[n])
 * Backward (the adjoints, in reverse):
 *   ∂L/∂x[n] = W [C, O·kh·kw] · im2col(∂L/∂out[n]),   ∂L/∂W = Σ_n x[n] · im2col(∂L/∂out[n])ᵀ.
 */
export function convTranspose2d(x: Tensor, w: Tensor, bias?: Tensor, opts: ConvTranspose2dOptions = {}): Tensor {
  if (x.rank !== 4) throw new Error(`convTranspose2d: input must be [N, C, H, W], got ${fmtShape(x.shape)}`);
  if (w.rank !== 4) throw new Error(`convTranspose2d: weight must be [C, O, kh, kw], got ${fmtShape(w.shape)}`);
  checkSameDtype('convTranspose2d', x, w);
  const [N, C, H, W] = x.shape as [number, number, number, number];
  const [Cw, O, kh, kw] = w.shape as [number, number, number, number];
  if (C !== Cw) throw new Error(`convTranspose2d: input channels ${C} do not match weight's ${Cw} (x ${fmtShape(x.shape)}, w ${fmtShape(w.shape)})`);
  checkBias('convTranspose2d', bias, O, x);
  const [sh, sw] = pair('convTranspose2d', 'stride', opts.stride ?? 1, 1);
  const [ph, pw] = pair('convTranspose2d', 'padding', opts.padding ?? 0, 0);
  const [oph, opw] = pair('convTranspose2d', 'outputPadding', opts.outputPadding ?? 0, 0);
  if (oph >= sh || opw >= sw) throw new Error(`convTranspose2d: outputPadding ${oph}×${opw} must be smaller than stride ${sh}×${sw}`);
  const Hout = (H - 1) * sh - 2 * ph + kh + oph;
  const Wout = (W - 1) * sw - 2 * pw + kw + opw;
  if (Hout < 1 || Wout < 1) throw new Error(`convTranspose2d: output size ${Hout}×${Wout} is empty (padding ${ph}×${pw} too large)`);
  // The conv2d whose input-gradient this is: it runs over the *output* image and has H×W positions.
  const geo: Geometry = { channels: O, H: Hout, W: Wout, kh, kw, sh, sw, ph, pw, dh: 1, dw: 1, Ho: H, Wo: W };
  const K = O * kh * kw;
  const L = H * W;
  const xv = x.values();
  const wv = w.values(); // [C, K]
  const cols = allocate(x.dtype, N * K * L);
  batchedMatmul(wv, () => 0, xv, (n) => n * C * L, N, K, C, L, true, false, cols);
  const out = allocate(x.dtype, N * O * Hout * Wout);
  col2im(cols, N, geo, out);
  if (bias) addBias(out, bias.values(), N, O, Hout * Wout);
  const inputs = bias ? [x, w, bias] : [x, w];
  return record('convTranspose2d', new Tensor(out, [N, O, Hout, Wout]), inputs, (g) => {
    const gcols = allocate(g.dtype, N * K * L);
    im2col(g.values(), N, geo, gcols);
    let dx: Tensor | null = null;
    if (x.requiresGrad) {
      const dxv = allocate(g.dtype, x.size);
      batchedMatmul(wv, () => 0, gcols, (n) => n * K * L, N, C, K, L, false, false, dxv);
      dx = new Tensor(dxv, x.shape);
    }
    let dw: Tensor | null = null;
    if (w.requiresGrad) {
      const perImage = allocate(g.dtype, N * C * K);
      batchedMatmul(xv, (n) => n * C * L, gcols, (n) => n * K * L, N, C, L, K, false, true, perImage);
      const dwv = allocate(g.dtype, w.size);
      backend().sumMiddle(perImage, dwv, 1, N, C * K);
      dw = new Tensor(dwv, w.shape);
    }
    const db = bias?.requiresGrad ? biasGrad(g, N, O, Hout * Wout) : null;
    return bias ? [dx, dw, db] : [dx, dw];
  });
}

/**
 * Nearest-neighbour upsampling of the last two axes by an integer factor:
 * out[..., i, j] = x[..., ⌊i/s⌋, ⌊j/s⌋].  ∂/∂x[..., a, b] = Σ of g over its s×s block.
 */
export function upsampleNearest(x: Tensor, scale: number): Tensor {
  if (x.rank < 2) throw new Error(`upsampleNearest: expected at least [H, W], got ${fmtShape(x.shape)}`);
  if (!Number.isInteger(scale) || scale < 1) throw new Error(`upsampleNearest: scale must be a positive integer, got ${scale}`);
  const H = x.shape[x.rank - 2]!;
  const W = x.shape[x.rank - 1]!;
  const planes = sizeOf(x.shape.slice(0, -2));
  const Ho = H * scale;
  const Wo = W * scale;
  const v = x.values();
  const out = allocate(x.dtype, planes * Ho * Wo);
  for (let p = 0; p < planes; p++) {
    for (let i = 0; i < Ho; i++) {
      for (let j = 0; j < Wo; j++) out[(p * Ho + i) * Wo + j] = v[(p * H + Math.floor(i / scale)) * W + Math.floor(j / scale)]!;
    }
  }
  const shape = [...x.shape.slice(0, -2), Ho, Wo];
  return record('upsampleNearest', new Tensor(out, shape), [x], (g) => {
    const gv = g.values();
    const dx = allocate(g.dtype, x.size);
    for (let p = 0; p < planes; p++) {
      for (let i = 0; i < Ho; i++) {
        for (let j = 0; j < Wo; j++) {
          const d = (p * H + Math.floor(i / scale)) * W + Math.floor(j / scale);
          dx[d] = dx[d]! + gv[(p * Ho + i) * Wo + j]!;
        }
      }
    }
    return [new Tensor(dx, x.shape)];
  });
}
