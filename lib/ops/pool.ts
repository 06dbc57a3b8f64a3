/**
 * Pooling over the last two axes of x [N, C, H, W]: average, max, and global average.
 * Windows are kernel kh×kw, moved by the stride, over an input padded on each side;
 * Ho = ⌊(H + 2·ph − kh) / sh⌋ + 1 (likewise Wo).
 */
import { record } from '../autograd';
import { fmtShape } from '../shape';
import { allocate, Tensor } from '../tensor';
import type { Pair } from './conv';
import { pair } from './strided';
import { mean } from './reduce';

interface Window {
  planes: number;
  H: number; W: number;
  kh: number; kw: number;
  sh: number; sw: number;
  ph: number; pw: number;
  Ho: number; Wo: number;
}

function windowOf(op: string, x: Tensor, kernel: Pair, stride: Pair, padding: Pair): Window {
  if (x.rank !== 4) throw new Error(`${op}: input must be [N, C, H, W], got ${fmtShape(x.shape)}`);
  const [N, C, H, W] = x.shape as [number, number, number, number];
  const [kh, kw] = pair(op, 'kernel', kernel, 1);
  const [sh, sw] = pair(op, 'stride', stride, 1);
  const [ph, pw] = pair(op, 'padding', padding, 0);
  if (ph * 2 > kh || pw * 2 > kw) throw new Error(`${op}: padding ${ph}×${pw} must be at most half the kernel ${kh}×${kw}`);
  const Ho = Math.floor((H + 2 * ph - kh) / sh) + 1;
  const Wo = Math.floor((W + 2 * pw - kw) / sw) + 1;
  if (Ho < 1 || Wo < 1) throw new Error(`${op}: kernel ${kh}×${kw} does not fit input ${H}×${W} with padding ${ph}×${pw}`);
  return { planes: N * C, H, W, kh, kw, sh, sw, ph, pw, Ho, Wo };
}

/**
 * The input rows [i0, i1) and columns [j0, j1) that output window (oi, oj) covers, clipped to
 * the image (padding is never read). Written into `box` to keep the loops allocation-free.
 */
function clipWindow(w: Window, oi: number, oj: number, box: Int32Array): void {
  const i = oi * w.sh - w.ph;
  const j = oj * w.sw - w.pw;
  box[0] = Math.max(i, 0);
  box[1] = Math.min(i + w.kh, w.H);
  box[2] = Math.max(j, 0);
  box[3] = Math.min(j + w.kw, w.W);
}

/**
 * Average over each window, padding counted as zeros (divisor kh·kw always, PyTorch's
 * default count_include_pad). ∂/∂x[i] = Σ over windows containing i of g[window] / (kh·kw).
 */
export function avgPool2d(x: Tensor, kernel: Pair, stride: Pair = kernel, padding: Pair = 0): Tensor {
  const win = windowOf('avgPool2d', x, kernel, stride, padding);
  const { planes, H, W, Ho, Wo } = win;
  const area = win.kh * win.kw;
  const v = x.values();
  const out = allocate(x.dtype, planes * Ho * Wo);
  const box = new Int32Array(4);
  for (let p = 0; p < planes; p++) {
    const src = p * H * W;
    for (let oi = 0; oi < Ho; oi++) {
      for (let oj = 0; oj < Wo; oj++) {
        clipWindow(win, oi, oj, box);
        let acc = 0;
        for (let i = box[0]!; i < box[1]!; i++) for (let j = box[2]!; j < box[3]!; j++) acc += v[src + i * W + j]!;
        out[(p * Ho + oi) * Wo + oj] = acc / area;
      }
    }
  }
  const shape = [x.shape[0]!, x.shape[1]!, Ho, Wo];
  return record('avgPool2d', new Tensor(out, shape), [x], (g) => {
    const gv = g.values();
    const dx = allocate(g.dtype, x.size);
    for (let p = 0; p < planes; p++) {
      const dst = p * H * W;
      for (let oi = 0; oi < Ho; oi++) {
        for (let oj = 0; oj < Wo; oj++) {
          clipWindow(win, oi, oj, box);
          const share = gv[(p * Ho + oi) * Wo + oj]! / area;
          for (let i = box[0]!; i < box[1]!; i++) for (let j = box[2]!; j < box[3]!; j++) dx[dst + i * W + j] = dx[dst + i * W + j]! + share;
        }
      }
    }
    return [new Tensor(dx, x.shape)];
  });
}

/**
 * Maximum over each window (padding never wins). The gradient goes to the window's arg-max;
 * on a tie to the first in row-major order. A NaN in a window makes its max NaN.
 */
export function maxPool2d(x: Tensor, kernel: Pair, stride: Pair = kernel, padding: Pair = 0): Tensor {
  const win = windowOf('maxPool2d', x, kernel, stride, padding);
  const { planes, H, W, Ho, Wo } = win;
  const v = x.values();
  const out = allocate(x.dtype, planes * Ho * Wo);
  const argmax = new Int32Array(out.length);
  const box = new Int32Array(4);
  for (let p = 0; p < planes; p++) {
    const src = p * H * W;
    for (let oi = 0; oi < Ho; oi++) {
      for (let oj = 0; oj < Wo; oj++) {
        clipWindow(win, oi, oj, box); // never empty: padding is at most half the kernel
        let best = src + box[0]! * W + box[2]!;
        for (let i = box[0]!; i < box[1]!; i++) {
          for (let j = box[2]!; j < box[3]!; j++) {
            const at = src + i * W + j;
            if (Number.isNaN(v[best]!)) break;
            if (v[at]! > v[best]! || Number.isNaN(v[at]!)) best = at;
          }
        }
        const o = (p * Ho + oi) * Wo + oj;
        out[o] = v[best]!;
        argmax[o] = best;
      }
    }
  }
  const shape = [x.shape[0]!, x.shape[1]!, Ho, Wo];
  return record('maxPool2d', new Tensor(out, shape), [x], (g) => {
    const gv = g.values();
    const dx = allocate(g.dtype, x.size);
    for (let o = 0; o < argmax.length; o++) dx[argmax[o]!] = dx[argmax[o]!]! + gv[o]!;
    return [new Tensor(dx, x.shape)];
  });
}

/** Mean over H and W: [N, C, H, W] → [N, C]. (A mean; its backward spreads g / (H·W).) */
export function globalAvgPool(x: Tensor): Tensor {
  if (x.rank !== 4) throw new Error(`globalAvgPool: input must be [N, C, H, W], got ${fmtShape(x.shape)}`);
  return mean(x, [2, 3]);
}
