/**
 * Depthwise convolution (groups = C, as in MobileNet's 3×3 layers) as direct loops: each
 * output channel o = c·M + m reads only input channel c (M = O / C filters per channel, the
 * "channel multiplier"). im2col would build C·kh·kw rows to feed C products of one row
 * each, so here the multiply-adds are done in place, one kernel tap at a time:
 *
 *   out[n, o, oi, oj] = bias[o] + Σ_{ki, kj} w[o, 0, ki, kj] · x[n, c, oi·sh − ph + ki·dh, oj·sw − pw + kj·dw]
 *
 * For a tap (ki, kj) and an output row oi, the valid oj form one interval (validRanges), so
 * the innermost loop is a bounds-free axpy along the row.
 *
 * Backward (same loops, the roles of the arrays swapped):
 *   ∂L/∂x[n, c, i, j]   = Σ_m Σ_{taps with i = oi·sh − ph + ki·dh, j = oj·sw − pw + kj·dw} w[o, 0, ki, kj] · g[n, o, oi, oj]
 *   ∂L/∂w[o, 0, ki, kj] = Σ_n Σ_{oi, oj} g[n, o, oi, oj] · x[n, c, oi·sh − ph + ki·dh, oj·sw − pw + kj·dw]
 * (and ∂L/∂bias[o] = Σ_{n, oi, oj} g[n, o, oi, oj], done by the caller).
 */
import type { FloatArray } from '../tensor';
import { type Geometry, validRanges } from './conv-im2col';

/** out [N, C·M, Ho, Wo] = depthwise conv of x [N, C, H, W] with w [C·M, 1, kh, kw]; `out` starts at 0. */
export function depthwiseForward(x: FloatArray, w: FloatArray, N: number, M: number, g: Geometry, out: FloatArray, bias?: FloatArray): void {
  const { channels: C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, Ho, Wo } = g;
  const rows = validRanges(kh, sh, ph, dh, H, Ho);
  const cols = validRanges(kw, sw, pw, dw, W, Wo);
  const O = C * M;
  for (let n = 0; n < N; n++) {
    for (let o = 0; o < O; o++) {
      const src = (n * C + Math.floor(o / M)) * H * W; // input plane (n, c)
      const dst = (n * O + o) * Ho * Wo; // output plane (n, o)
      if (bias) out.fill(bias[o]!, dst, dst + Ho * Wo);
      for (let ki = 0; ki < kh; ki++) {
        const iLo = rows.lo[ki]!, iHi = rows.hi[ki]!;
        for (let kj = 0; kj < kw; kj++) {
          const wv = w[(o * kh + ki) * kw + kj]!;
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

/** dx [N, C, H, W] += ∂L/∂x from gOut [N, C·M, Ho, Wo] (see the file comment). */
export function depthwiseBackwardInput(gOut: FloatArray, w: FloatArray, N: number, M: number, g: Geometry, dx: FloatArray): void {
  const { channels: C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, Ho, Wo } = g;
  const rows = validRanges(kh, sh, ph, dh, H, Ho);
  const cols = validRanges(kw, sw, pw, dw, W, Wo);
  const O = C * M;
  for (let n = 0; n < N; n++) {
    for (let o = 0; o < O; o++) {
      const dst = (n * C + Math.floor(o / M)) * H * W; // gradient plane of input (n, c)
      const src = (n * O + o) * Ho * Wo; // gradient plane of output (n, o)
      for (let ki = 0; ki < kh; ki++) {
        const iLo = rows.lo[ki]!, iHi = rows.hi[ki]!;
        for (let kj = 0; kj < kw; kj++) {
          const wv = w[(o * kh + ki) * kw + kj]!;
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

/** dw [C·M, 1, kh, kw] += ∂L/∂w from gOut [N, C·M, Ho, Wo] and x [N, C, H, W] (see the file comment). */
export function depthwiseBackwardWeight(gOut: FloatArray, x: FloatArray, N: number, M: number, g: Geometry, dw: FloatArray): void {
  const { channels: C, H, W, kh, kw, sh, sw, ph, pw, dh, dw: dilW, Ho, Wo } = g;
  const rows = validRanges(kh, sh, ph, dh, H, Ho);
  const cols = validRanges(kw, sw, pw, dilW, W, Wo);
  const O = C * M;
  // Image by image, so that both planes stay in cache while all kh·kw taps read them.
  for (let n = 0; n < N; n++) {
    for (let o = 0; o < O; o++) {
      const src = (n * C + Math.floor(o / M)) * H * W; // input plane (n, c)
      const gPlane = (n * O + o) * Ho * Wo; // gradient plane of output (n, o)
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
          const t = (o * kh + ki) * kw + kj;
          dw[t] = dw[t]! + acc;
        }
      }
    }
  }
}
