/**
 * 2-D convolution by im2col (as in Caffe and cs231n's fast layers): unfold every receptive
 * field of the whole batch into a column, then one matrix product with the weights does all
 * the multiply-adds on the backend's matmul kernel (conv-im2col.ts has the layout):
 *
 *   cols : [C·kh·kw, N·Ho·Wo]   (row (c, ki, kj), column (n, oi, oj))
 *   out_g [O/G, N·Ho·Wo] = W_g [O/G, C/G·kh·kw] · cols_g [C/G·kh·kw, N·Ho·Wo],  then → [N, O, Ho, Wo]
 *
 * One product for the whole batch, not one per image: a per-image product such as
 * [16, 9] · [9, 784] is far too small for the backend's packing and tiling to pay off.
 * Three kinds of conv take another route, each because the product would be a poor fit:
 * - 1×1, stride 1, unpadded (most of MobileNetV2): no unfolding at all. On maps of ≥ 4×4
 *   pixels, one product per image reading x and writing the output where they lie
 *   (pointwiseConv2d); on smaller maps the images side by side as [C, N·H·W].
 * - depthwise (groups = C) and convs with ≤ 4 outputs per group: direct loops
 *   (conv-direct.ts); their products would be a few rows against all of cols.
 *
 * The backward of im2col is col2im (scatter-add the columns back into the image), and the
 * transposed convolution is exactly conv2d's input-gradient used as a forward pass.
 */
import { record } from '../autograd';
import { backend } from '../backend';
import { fmtShape, sizeOf } from '../shape';
import { allocate, dtypeOf, type FloatArray, Tensor } from '../tensor';
import { directConvBackwardInput, directConvBackwardInputStride1, directConvBackwardWeight, directConvForward, type Groups } from './conv-direct';
import { addBias, channelSums, col2im, fromChannelsMajor, type Geometry, im2col, toChannelsMajor } from './conv-im2col';
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

/**
 * G products of the same sizes through the backend, one per group: `out[g] = op(A_g) · op(B_g)`
 * with A_g at g·aStep and B_g at g·bStep. G = 1 is a single plain matmul.
 */
function groupedMatmul(
  a: FloatArray, aStep: number, b: FloatArray, bStep: number, G: number,
  m: number, k: number, n: number, transA: boolean, transB: boolean, out: FloatArray,
): void {
  const aOffsets = Array.from({ length: G }, (_, g) => g * aStep);
  const bOffsets = Array.from({ length: G }, (_, g) => g * bStep);
  backend().matmul({ a, b, out, m, k, n, transA, transB, aOffsets, bOffsets });
}

/**
 * Up to this many output channels per group, conv2d runs as direct loops: the product would
 * be a few rows against C·kh·kw·N·Ho·Wo unfolded (and then packed) numbers, as many
 * copies as multiply-adds. (Measured, fast backend, 3×3 conv of 64 × 16 × 28 × 28,
 * forward + backward: direct is ~2× faster at 1 output, ~1.3× at 3, even at 4, slower at 8.)
 */
const DIRECT_MAX_OUTPUTS = 4;

/**
 * A 1×1 conv on maps of at least this many pixels runs as one product per image (see
 * pointwiseConv2d); below it, the per-image products are too narrow for the backend's tiles
 * and the images are laid side by side instead. (Measured on MobileNetV2's 1×1 convs at
 * batch 32: per image is faster from 4×4 maps up, slower at 2×2.)
 */
const PER_IMAGE_MIN_POSITIONS = 16;

/** A tensor's storage as a strided 4-D view (no copy, whatever its strides). */
function view4(t: Tensor): { data: FloatArray; stride: readonly number[]; offset: number } {
  return { data: t.nd.data, stride: t.nd.stride, offset: t.nd.offset };
}

/** [N, C, H, W] → contiguous [C, N·H·W]; when N = 1 and x is contiguous this is x's storage itself. */
function channelsMajor(x: Tensor): FloatArray {
  const [N, C, H, W] = x.shape as [number, number, number, number];
  if (N === 1 && x.isContiguous) return x.nd.data;
  const out = allocate(x.dtype, x.size);
  toChannelsMajor(view4(x), N, C, H, W, out);
  return out;
}

/** ∂/∂bias[o] = Σ_{n, l} g[n, o, l] for g [N, O, L]. */
function biasGrad(g: FloatArray, N: number, O: number, L: number): Tensor {
  const db = allocate(dtypeOf(g), O);
  channelSums(g, N, O, L, db);
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
 * Backward, per group g, with cols = im2col(x) [K, N·L] and gOut rearranged to [O, N·L]:
 *   ∂L/∂W_g    = gOut_g [O/G, N·L] · cols_gᵀ [N·L, K]      (the sum over images is inside the product)
 *   ∂L/∂cols_g = W_gᵀ [K, O/G] · gOut_g [O/G, N·L],   then ∂L/∂x = col2im(∂L/∂cols)
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
  const inputs = bias ? [x, w, bias] : [x, w];
  const Og = O / G;
  const pointwise = kh === 1 && kw === 1 && sh === 1 && sw === 1 && ph === 0 && pw === 0;
  if ((G > 1 && Cg === 1) || (Og <= DIRECT_MAX_OUTPUTS && !pointwise)) return directConv2d(x, w, bias, inputs, N, { Cg, Og }, geo);
  if (pointwise && H * W >= PER_IMAGE_MIN_POSITIONS && x.isContiguous) return pointwiseConv2d(x, w, bias, inputs, G);

  const K = Cg * kh * kw; // rows of one group's columns
  const L = Ho * Wo; // output positions per image
  const NL = N * L;
  // The columns [C·kh·kw, N·L]; for a 1×1, stride-1, unpadded kernel they are x itself as [C, N·L].
  let cols: FloatArray;
  if (pointwise) {
    cols = channelsMajor(x);
  } else {
    cols = allocate(x.dtype, C * kh * kw * NL);
    im2col(x.values(), N, geo, cols);
  }
  const wv = w.values(); // [G, Og, K]
  const product = allocate(x.dtype, O * NL); // [G, Og, N·L]
  groupedMatmul(wv, Og * K, cols, K * NL, G, Og, K, NL, false, false, product);
  const out = allocate(x.dtype, N * O * L);
  fromChannelsMajor(product, N, O, L, out, bias?.values()); // [N, O, L]
  return record('conv2d', new Tensor(out, [N, O, Ho, Wo]), inputs, (g) => {
    const gv = g.values(); // [N, O, L]
    const gRows = x.requiresGrad || w.requiresGrad ? channelsMajor(g) : gv; // [O, N·L]
    let dx: Tensor | null = null;
    if (x.requiresGrad) {
      // dCols_g [K, N·L] = W_gᵀ [K, Og] · gOut_g [Og, N·L]
      const dcols = allocate(g.dtype, C * kh * kw * NL);
      groupedMatmul(wv, Og * K, gRows, Og * NL, G, K, Og, NL, true, false, dcols);
      const dimg = allocate(g.dtype, x.size);
      if (pointwise) fromChannelsMajor(dcols, N, C, L, dimg);
      else col2im(dcols, N, geo, dimg);
      dx = new Tensor(dimg, x.shape);
    }
    let dW: Tensor | null = null;
    if (w.requiresGrad) {
      // dW_g [Og, K] = gOut_g [Og, N·L] · cols_gᵀ [N·L, K]
      const dwv = allocate(g.dtype, w.size);
      groupedMatmul(gRows, Og * NL, cols, K * NL, G, Og, NL, K, false, true, dwv);
      dW = new Tensor(dwv, w.shape);
    }
    const db = bias?.requiresGrad ? biasGrad(gv, N, O, L) : null;
    return bias ? [dx, dW, db] : [dx, dW];
  });
}

/**
 * A 1×1, stride-1, unpadded conv on maps of at least PER_IMAGE_MIN_POSITIONS pixels:
 * per image and group, out[n, g] [Og, L] = W_g [Og, Cg] · x[n, g] [Cg, L], all in one
 * backend call with per-image offsets, reading x and writing the output in place (no
 * rearrangement). Backward: ∂L/∂x[n, g] = W_gᵀ · ∂L/∂out[n, g] the same way, and
 * ∂L/∂W_g = ∂L/∂out_g [Og, N·L] · x_gᵀ [N·L, Cg] as one product over channels-major copies
 * (the sum over images inside the product).
 */
function pointwiseConv2d(x: Tensor, w: Tensor, bias: Tensor | undefined, inputs: Tensor[], G: number): Tensor {
  const [N, C, H, W] = x.shape as [number, number, number, number];
  const O = w.shape[0]!;
  const Cg = C / G;
  const Og = O / G;
  const L = H * W;
  const xv = x.values(); // [N, C, L], contiguous
  const wv = w.values(); // [G, Og, Cg]
  // Product i = n·G + g: A = W_g, B = x[n, g]; it writes at i·Og·L = (n·O + g·Og)·L, i.e. out[n, g·Og].
  const wOffsets = Array.from({ length: N * G }, (_, i) => (i % G) * Og * Cg);
  const xOffsets = Array.from({ length: N * G }, (_, i) => i * Cg * L);
  const out = allocate(x.dtype, N * O * L);
  backend().matmul({ a: wv, b: xv, out, m: Og, k: Cg, n: L, transA: false, transB: false, aOffsets: wOffsets, bOffsets: xOffsets });
  if (bias) addBias(out, bias.values(), N, O, L);
  return record('conv2d', new Tensor(out, [N, O, H, W]), inputs, (g) => {
    const gv = g.values(); // [N, O, L]
    let dx: Tensor | null = null;
    if (x.requiresGrad) {
      // dx[n, g] [Cg, L] = W_gᵀ [Cg, Og] · g[n, g] [Og, L]; product i writes at i·Cg·L = (n·C + g·Cg)·L
      const dxv = allocate(g.dtype, x.size);
      const gOffsets = Array.from({ length: N * G }, (_, i) => i * Og * L);
      backend().matmul({ a: wv, b: gv, out: dxv, m: Cg, k: Og, n: L, transA: true, transB: false, aOffsets: wOffsets, bOffsets: gOffsets });
      dx = new Tensor(dxv, x.shape);
    }
    let dW: Tensor | null = null;
    if (w.requiresGrad) {
      const NL = N * L;
      const gRows = channelsMajor(g); // [O, N·L]
      const xRows = channelsMajor(x); // [C, N·L]
      const dwv = allocate(g.dtype, w.size);
      groupedMatmul(gRows, Og * NL, xRows, Cg * NL, G, Og, NL, Cg, false, true, dwv);
      dW = new Tensor(dwv, w.shape);
    }
    const db = bias?.requiresGrad ? biasGrad(gv, N, O, L) : null;
    return bias ? [dx, dW, db] : [dx, dW];
  });
}

/** conv2d as direct loops (conv-direct.ts): depthwise convs and convs with very few output channels. */
function directConv2d(x: Tensor, w: Tensor, bias: Tensor | undefined, inputs: Tensor[], N: number, groups: Groups, geo: Geometry): Tensor {
  const { Ho, Wo } = geo;
  const O = w.shape[0]!;
  const xv = x.values();
  const wv = w.values();
  const out = allocate(x.dtype, N * O * Ho * Wo);
  directConvForward(xv, wv, N, groups, geo, out, bias?.values());
  return record('conv2d', new Tensor(out, [N, O, Ho, Wo]), inputs, (g) => {
    const gv = g.values(); // [N, O, Ho, Wo]
    let dx: Tensor | null = null;
    if (x.requiresGrad) {
      const dxv = allocate(g.dtype, x.size);
      if (!directConvBackwardInputStride1(gv, wv, N, groups, geo, dxv)) directConvBackwardInput(gv, wv, N, groups, geo, dxv);
      dx = new Tensor(dxv, x.shape);
    }
    let dW: Tensor | null = null;
    if (w.requiresGrad) {
      const dwv = allocate(g.dtype, w.size);
      directConvBackwardWeight(gv, xv, N, groups, geo, dwv);
      dW = new Tensor(dwv, w.shape);
    }
    const db = bias?.requiresGrad ? biasGrad(gv, N, O, Ho * Wo) : null;
    return bias ? [dx, dW, db] : [dx, dW];
  });
}

/**
 * Transposed convolution ("deconvolution"): the input-gradient of conv2d used as a forward
 * pass, so it maps [N, C, H, W] to [N, O, Hout, Wout] with
 * Hout = (H − 1)·sh − 2·ph + kh + outputPadding (likewise Wout). Weight [C, O, kh, kw].
 * With x as [C, N·H·W] (channels major) and K = O·kh·kw:
 *
 *   cols [K, N·H·W] = Wᵀ [K, C] · x;   out = col2im(cols)
 * Backward (the adjoints, in reverse), with gcols = im2col(∂L/∂out) [K, N·H·W]:
 *   ∂L/∂x = W [C, K] · gcols,   ∂L/∂W = x [C, N·H·W] · gcolsᵀ.
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
  const NL = N * H * W;
  const xRows = channelsMajor(x); // [C, N·H·W]
  const wv = w.values(); // [C, K]
  const cols = allocate(x.dtype, K * NL);
  groupedMatmul(wv, 0, xRows, 0, 1, K, C, NL, true, false, cols);
  const out = allocate(x.dtype, N * O * Hout * Wout);
  col2im(cols, N, geo, out);
  if (bias) addBias(out, bias.values(), N, O, Hout * Wout);
  const inputs = bias ? [x, w, bias] : [x, w];
  return record('convTranspose2d', new Tensor(out, [N, O, Hout, Wout]), inputs, (g) => {
    const gv = g.values();
    let gcols: FloatArray | null = null;
    if (x.requiresGrad || w.requiresGrad) {
      gcols = allocate(g.dtype, K * NL);
      im2col(gv, N, geo, gcols);
    }
    let dx: Tensor | null = null;
    if (x.requiresGrad) {
      const dxRows = allocate(g.dtype, C * NL); // [C, N·H·W]
      groupedMatmul(wv, 0, gcols!, 0, 1, C, K, NL, false, false, dxRows);
      const dxv = allocate(g.dtype, x.size);
      fromChannelsMajor(dxRows, N, C, H * W, dxv);
      dx = new Tensor(dxv, x.shape);
    }
    let dW: Tensor | null = null;
    if (w.requiresGrad) {
      const dwv = allocate(g.dtype, w.size);
      groupedMatmul(xRows, 0, gcols!, 0, 1, C, NL, K, false, true, dwv);
      dW = new Tensor(dwv, w.shape);
    }
    const db = bias?.requiresGrad ? biasGrad(gv, N, O, Hout * Wout) : null;
    return bias ? [dx, dW, db] : [dx, dW];
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
