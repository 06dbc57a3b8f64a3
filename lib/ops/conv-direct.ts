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

/**
 * One output pixel the slow, obvious way: Σ over the in-bounds taps (border pixels, and the
 * definition the faster loops below must agree with).
 */
function tapSum(x: FloatArray, w: FloatArray, src: number, o: number, oi: number, oj: number, g: Geometry): number {
  const { H, W, kh, kw, sh, sw, ph, pw, dh, dw } = g;
  let acc = 0;
  for (let ki = 0; ki < kh; ki++) {
    const i = oi * sh - ph + ki * dh;
    if (i < 0 || i >= H) continue;
    for (let kj = 0; kj < kw; kj++) {
      const j = oj * sw - pw + kj * dw;
      if (j >= 0 && j < W) acc += w[(o * kh + ki) * kw + kj]! * x[src + i * W + j]!;
    }
  }
  return acc;
}

/**
 * The 3×3 case (MobileNet's): inside the rectangle [i0, i1) × [j0, j1) of output pixels
 * whose nine taps are all in bounds, the nine weights sit in locals and each output is
 * written once; the border around it goes through {@link tapSum}.
 */
function depthwise3x3Plane(x: FloatArray, w: FloatArray, src: number, o: number, b: number, g: Geometry, i0: number, i1: number, j0: number, j1: number, out: FloatArray, dst: number): void {
  const { W, sh, sw, ph, pw, dh, dw, Ho, Wo } = g;
  const k = o * 9;
  const w0 = w[k]!, w1 = w[k + 1]!, w2 = w[k + 2]!, w3 = w[k + 3]!, w4 = w[k + 4]!, w5 = w[k + 5]!, w6 = w[k + 6]!, w7 = w[k + 7]!, w8 = w[k + 8]!;
  const dw2 = 2 * dw;
  for (let oi = i0; oi < i1; oi++) {
    const r0 = src + (oi * sh - ph) * W - pw; // input row of tap row 0, at oj = 0
    const r1 = r0 + dh * W;
    const r2 = r1 + dh * W;
    const d = dst + oi * Wo;
    for (let oj = j0; oj < j1; oj++) {
      const c = oj * sw;
      out[d + oj] = b
        + w0 * x[r0 + c]! + w1 * x[r0 + c + dw]! + w2 * x[r0 + c + dw2]!
        + w3 * x[r1 + c]! + w4 * x[r1 + c + dw]! + w5 * x[r1 + c + dw2]!
        + w6 * x[r2 + c]! + w7 * x[r2 + c + dw]! + w8 * x[r2 + c + dw2]!;
    }
  }
  for (let oi = 0; oi < Ho; oi++) {
    const inside = oi >= i0 && oi < i1;
    for (let oj = 0; oj < Wo; oj++) {
      if (inside && oj >= j0 && oj < j1) continue; // interior, done above
      out[dst + oi * Wo + oj] = b + tapSum(x, w, src, o, oi, oj, g);
    }
  }
}

/** out [N, C·M, Ho, Wo] = depthwise conv of x [N, C, H, W] with w [C·M, 1, kh, kw]; `out` starts at 0. */
export function depthwiseForward(x: FloatArray, w: FloatArray, N: number, M: number, g: Geometry, out: FloatArray, bias?: FloatArray): void {
  const { channels: C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, Ho, Wo } = g;
  const rows = validRanges(kh, sh, ph, dh, H, Ho);
  const cols = validRanges(kw, sw, pw, dw, W, Wo);
  // Output pixels with every tap in bounds: the intersection of the per-tap intervals.
  const i0 = Math.max(...rows.lo), i1 = Math.max(i0, Math.min(...rows.hi));
  const j0 = Math.max(...cols.lo), j1 = Math.max(j0, Math.min(...cols.hi));
  const O = C * M;
  for (let n = 0; n < N; n++) {
    for (let o = 0; o < O; o++) {
      const src = (n * C + Math.floor(o / M)) * H * W; // input plane (n, c)
      const dst = (n * O + o) * Ho * Wo; // output plane (n, o)
      const b = bias ? bias[o]! : 0;
      if (kh === 3 && kw === 3) {
        depthwise3x3Plane(x, w, src, o, b, g, i0, i1, j0, j1, out, dst);
        continue;
      }
      // Any other kernel: one tap at a time, an axpy along each output row's valid interval.
      if (b !== 0) out.fill(b, dst, dst + Ho * Wo);
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
