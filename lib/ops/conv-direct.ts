/**
 * Convolution as direct loops, no im2col and no matmul: for the convs where the product
 * would be thin. Depthwise convs (groups = C, MobileNet's 3×3 layers: each output channel
 * reads one input channel) would be C products of one row each, and convs with very few
 * output channels (a decoder's last conv to 1 or 3 channels) would pay for unfolding and
 * packing C·kh·kw·N·Ho·Wo numbers to do as many multiply-adds. Here the multiply-adds are
 * done in place. With groups G, output channel o (group q = ⌊o / Og⌋) reads input channels
 * q·Cg … q·Cg + Cg − 1:
 *
 *   out[n, o, oi, oj] = bias[o] + Σ_{c < Cg} Σ_{ki, kj} w[o, c, ki, kj] · x[n, q·Cg + c, oi·sh − ph + ki·dh, oj·sw − pw + kj·dw]
 *
 * For a tap (ki, kj) the output positions that read inside the image form one interval per
 * axis (validRanges), so the inner loops carry no bounds checks.
 *
 * Backward (the same loops with the roles of the arrays swapped):
 *   ∂L/∂x[n, q·Cg + c, i, j] = Σ_{o in group q} Σ_{taps reading (i, j)} w[o, c, ki, kj] · g[n, o, oi, oj]
 *   ∂L/∂w[o, c, ki, kj]      = Σ_n Σ_{oi, oj} g[n, o, oi, oj] · x[n, q·Cg + c, oi·sh − ph + ki·dh, oj·sw − pw + kj·dw]
 * (∂L/∂bias[o] = Σ_{n, oi, oj} g[n, o, oi, oj] is done by the caller).
 */
import { allocate, dtypeOf, type FloatArray } from '../tensor';
import { type Geometry, validRanges } from './conv-im2col';

/** Channels per group: each output channel sees `Cg` input channels; each group has `Og` outputs. */
export interface Groups {
  Cg: number;
  Og: number;
}

/**
 * One output pixel's sum over the in-bounds taps of one input plane, the slow, obvious way
 * (used for border pixels). `wAt` is the index of w[o, c, 0, 0].
 */
function tapSum(x: FloatArray, w: FloatArray, src: number, wAt: number, oi: number, oj: number, g: Geometry): number {
  const { H, W, kh, kw, sh, sw, ph, pw, dh, dw } = g;
  let acc = 0;
  for (let ki = 0; ki < kh; ki++) {
    const i = oi * sh - ph + ki * dh;
    if (i < 0 || i >= H) continue;
    for (let kj = 0; kj < kw; kj++) {
      const j = oj * sw - pw + kj * dw;
      if (j >= 0 && j < W) acc += w[wAt + ki * kw + kj]! * x[src + i * W + j]!;
    }
  }
  return acc;
}

/**
 * out plane += the 3×3 conv of one input plane (MobileNet's depthwise kernel). Inside the
 * rectangle [i0, i1) × [j0, j1) of output pixels whose nine taps are all in bounds, the nine
 * weights sit in locals and each output is read and written once; the border around it
 * goes through tapSum.
 */
function addConv3x3(x: FloatArray, src: number, w: FloatArray, wAt: number, g: Geometry, i0: number, i1: number, j0: number, j1: number, out: FloatArray, dst: number): void {
  const { W, sh, sw, ph, pw, dh, dw, Ho, Wo } = g;
  const w0 = w[wAt]!, w1 = w[wAt + 1]!, w2 = w[wAt + 2]!, w3 = w[wAt + 3]!, w4 = w[wAt + 4]!;
  const w5 = w[wAt + 5]!, w6 = w[wAt + 6]!, w7 = w[wAt + 7]!, w8 = w[wAt + 8]!;
  const dw2 = 2 * dw;
  for (let oi = i0; oi < i1; oi++) {
    const r0 = src + (oi * sh - ph) * W - pw; // input row of tap row 0, at oj = 0
    const r1 = r0 + dh * W;
    const r2 = r1 + dh * W;
    const d = dst + oi * Wo;
    for (let oj = j0; oj < j1; oj++) {
      const c = oj * sw;
      out[d + oj] = out[d + oj]!
        + w0 * x[r0 + c]! + w1 * x[r0 + c + dw]! + w2 * x[r0 + c + dw2]!
        + w3 * x[r1 + c]! + w4 * x[r1 + c + dw]! + w5 * x[r1 + c + dw2]!
        + w6 * x[r2 + c]! + w7 * x[r2 + c + dw]! + w8 * x[r2 + c + dw2]!;
    }
  }
  for (let oi = 0; oi < Ho; oi++) {
    const inside = oi >= i0 && oi < i1;
    for (let oj = 0; oj < Wo; oj++) {
      if (inside && oj >= j0 && oj < j1) continue; // interior, done above
      out[dst + oi * Wo + oj] = out[dst + oi * Wo + oj]! + tapSum(x, w, src, wAt, oi, oj, g);
    }
  }
}

/** out [N, O, Ho, Wo] = conv of x [N, C, H, W] with w [O, Cg, kh, kw] (+ bias); `out` starts at 0. */
export function directConvForward(x: FloatArray, w: FloatArray, N: number, { Cg, Og }: Groups, g: Geometry, out: FloatArray, bias?: FloatArray): void {
  const { channels: C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, Ho, Wo } = g;
  const rows = validRanges(kh, sh, ph, dh, H, Ho);
  const cols = validRanges(kw, sw, pw, dw, W, Wo);
  // Output pixels with every tap in bounds: the intersection of the per-tap intervals.
  const i0 = Math.max(...rows.lo), i1 = Math.max(i0, Math.min(...rows.hi));
  const j0 = Math.max(...cols.lo), j1 = Math.max(j0, Math.min(...cols.hi));
  const O = (C / Cg) * Og;
  const taps = kh * kw;
  for (let n = 0; n < N; n++) {
    for (let o = 0; o < O; o++) {
      const dst = (n * O + o) * Ho * Wo; // output plane (n, o)
      if (bias) out.fill(bias[o]!, dst, dst + Ho * Wo);
      const first = Math.floor(o / Og) * Cg; // first input channel of o's group
      for (let c = 0; c < Cg; c++) {
        const src = (n * C + first + c) * H * W; // input plane (n, first + c)
        const wAt = (o * Cg + c) * taps;
        if (kh === 3 && kw === 3) {
          addConv3x3(x, src, w, wAt, g, i0, i1, j0, j1, out, dst);
          continue;
        }
        // Any other kernel: one tap at a time, an axpy along each output row's valid interval.
        for (let ki = 0; ki < kh; ki++) {
          const iLo = rows.lo[ki]!, iHi = rows.hi[ki]!;
          for (let kj = 0; kj < kw; kj++) {
            const wv = w[wAt + ki * kw + kj]!;
            const jLo = cols.lo[kj]!, jHi = cols.hi[kj]!;
            for (let oi = iLo; oi < iHi; oi++) {
              const d = dst + oi * Wo;
              const s = src + (oi * sh - ph + ki * dh) * W - pw + kj * dw; // input index of oj = 0
              for (let oj = jLo; oj < jHi; oj++) out[d + oj] = out[d + oj]! + wv * x[s + oj * sw]!;
            }
          }
        }
      }
    }
  }
}

/**
 * dx [N, C, H, W] = ∂L/∂x from gOut [N, O, Ho, Wo] for stride 1, as a forward conv: with
 * stride 1, input pixel (i, j) is read by output (i + ph − ki·dh, j + pw − kj·dw) for every
 * tap, so ∂L/∂x = gOut ⋆ (w flipped in both axes, input and output channels swapped within
 * each group), padded by dh·(kh − 1) − ph (likewise w). That lets it use the fast 3×3 loop.
 * Returns false (nothing done) when the conv is strided or padded past its kernel.
 */
export function directConvBackwardInputStride1(gOut: FloatArray, w: FloatArray, N: number, { Cg, Og }: Groups, g: Geometry, dx: FloatArray): boolean {
  const { channels: C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, Ho, Wo } = g;
  const padH = dh * (kh - 1) - ph;
  const padW = dw * (kw - 1) - pw;
  if (sh !== 1 || sw !== 1 || padH < 0 || padW < 0) return false;
  const G = C / Cg;
  const taps = kh * kw;
  const flipped = allocate(dtypeOf(w), w.length); // [C, Og, kh, kw]
  for (let q = 0; q < G; q++) for (let o = 0; o < Og; o++) for (let c = 0; c < Cg; c++) {
    const from = ((q * Og + o) * Cg + c) * taps;
    const to = ((q * Cg + c) * Og + o) * taps;
    for (let t = 0; t < taps; t++) flipped[to + t] = w[from + taps - 1 - t]!;
  }
  const gradGeometry: Geometry = { channels: G * Og, H: Ho, W: Wo, kh, kw, sh: 1, sw: 1, ph: padH, pw: padW, dh, dw, Ho: H, Wo: W };
  directConvForward(gOut, flipped, N, { Cg: Og, Og: Cg }, gradGeometry, dx);
  return true;
}

/** dx [N, C, H, W] += ∂L/∂x from gOut [N, O, Ho, Wo], any stride (see the file comment). */
export function directConvBackwardInput(gOut: FloatArray, w: FloatArray, N: number, { Cg, Og }: Groups, g: Geometry, dx: FloatArray): void {
  const { channels: C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, Ho, Wo } = g;
  const rows = validRanges(kh, sh, ph, dh, H, Ho);
  const cols = validRanges(kw, sw, pw, dw, W, Wo);
  const O = (C / Cg) * Og;
  for (let n = 0; n < N; n++) {
    for (let o = 0; o < O; o++) {
      const src = (n * O + o) * Ho * Wo; // gradient plane of output (n, o)
      const first = Math.floor(o / Og) * Cg;
      for (let c = 0; c < Cg; c++) {
        const dst = (n * C + first + c) * H * W; // gradient plane of input (n, first + c)
        for (let ki = 0; ki < kh; ki++) {
          const iLo = rows.lo[ki]!, iHi = rows.hi[ki]!;
          for (let kj = 0; kj < kw; kj++) {
            const wv = w[((o * Cg + c) * kh + ki) * kw + kj]!;
            const jLo = cols.lo[kj]!, jHi = cols.hi[kj]!;
            for (let oi = iLo; oi < iHi; oi++) {
              const s = src + oi * Wo;
              const d = dst + (oi * sh - ph + ki * dh) * W - pw + kj * dw;
              for (let oj = jLo; oj < jHi; oj++) dx[d + oj * sw] = dx[d + oj * sw]! + wv * gOut[s + oj]!;
            }
          }
        }
      }
    }
  }
}

/** dw [O, Cg, kh, kw] += ∂L/∂w from gOut [N, O, Ho, Wo] and x [N, C, H, W] (see the file comment). */
export function directConvBackwardWeight(gOut: FloatArray, x: FloatArray, N: number, { Cg, Og }: Groups, g: Geometry, dw: FloatArray): void {
  const { channels: C, H, W, kh, kw, sh, sw, ph, pw, dh, dw: dilW, Ho, Wo } = g;
  const rows = validRanges(kh, sh, ph, dh, H, Ho);
  const cols = validRanges(kw, sw, pw, dilW, W, Wo);
  const O = (C / Cg) * Og;
  // Image by image, so that both planes stay in cache while all kh·kw taps read them.
  for (let n = 0; n < N; n++) {
    for (let o = 0; o < O; o++) {
      const gPlane = (n * O + o) * Ho * Wo; // gradient plane of output (n, o)
      const first = Math.floor(o / Og) * Cg;
      for (let c = 0; c < Cg; c++) {
        const src = (n * C + first + c) * H * W; // input plane (n, first + c)
        for (let ki = 0; ki < kh; ki++) {
          const iLo = rows.lo[ki]!, iHi = rows.hi[ki]!;
          for (let kj = 0; kj < kw; kj++) {
            const jLo = cols.lo[kj]!, jHi = cols.hi[kj]!;
            let acc = 0;
            for (let oi = iLo; oi < iHi; oi++) {
              const s = gPlane + oi * Wo;
              const xs = src + (oi * sh - ph + ki * dh) * W - pw + kj * dilW;
              for (let oj = jLo; oj < jHi; oj++) acc += gOut[s + oj]! * x[xs + oj * sw]!;
            }
            const t = ((o * Cg + c) * kh + ki) * kw + kj;
            dw[t] = dw[t]! + acc;
          }
        }
      }
    }
  }
}
