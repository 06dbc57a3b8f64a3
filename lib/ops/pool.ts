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

/** Call visit(outIndex, inIndex) for every input pixel inside every window (padding skipped). */
function forEachWindowPixel(w: Window, visit: (o: number, i: number) => void): void {
  const { planes, H, W, kh, kw, sh, sw, ph, pw, Ho, Wo } = w;
  for (let p = 0; p < planes; p++) {
    for (let oi = 0; oi < Ho; oi++) {
      for (let oj = 0; oj < Wo; oj++) {
        const o = (p * Ho + oi) * Wo + oj;
        for (let ki = 0; ki < kh; ki++) {
          const i = oi * sh - ph + ki;
          if (i < 0 || i >= H) continue;
          for (let kj = 0; kj < kw; kj++) {
            const j = oj * sw - pw + kj;
            if (j >= 0 && j < W) visit(o, (p * H + i) * W + j);
          }
        }
      }
    }
  }
}

/**
 * Average over each window, padding counted as zeros (divisor kh·kw always, PyTorch's
 * default count_include_pad). ∂/∂x[i] = Σ over windows containing i of g[window] / (kh·kw).
 */
export function avgPool2d(x: Tensor, kernel: Pair, stride: Pair = kernel, padding: Pair = 0): Tensor {
  const win = windowOf('avgPool2d', x, kernel, stride, padding);
  const area = win.kh * win.kw;
  const v = x.values();
  const out = allocate(x.dtype, win.planes * win.Ho * win.Wo);
  forEachWindowPixel(win, (o, i) => (out[o] = out[o]! + v[i]!));
  for (let o = 0; o < out.length; o++) out[o] = out[o]! / area;
  const shape = [x.shape[0]!, x.shape[1]!, win.Ho, win.Wo];
  return record('avgPool2d', new Tensor(out, shape), [x], (g) => {
    const gv = g.values();
    const dx = allocate(g.dtype, x.size);
    forEachWindowPixel(win, (o, i) => (dx[i] = dx[i]! + gv[o]! / area));
    return [new Tensor(dx, x.shape)];
  });
}

/**
 * Maximum over each window (padding never wins). The gradient goes to the window's arg-max;
 * on a tie to the first in row-major order. A NaN in a window makes its max NaN.
 */
export function maxPool2d(x: Tensor, kernel: Pair, stride: Pair = kernel, padding: Pair = 0): Tensor {
  const win = windowOf('maxPool2d', x, kernel, stride, padding);
  const v = x.values();
  const out = allocate(x.dtype, win.planes * win.Ho * win.Wo).fill(-Infinity);
  const argmax = new Int32Array(out.length).fill(-1);
  forEachWindowPixel(win, (o, i) => {
    if (Number.isNaN(out[o]!)) return;
    if (argmax[o] === -1 || v[i]! > out[o]! || Number.isNaN(v[i]!)) {
      out[o] = v[i]!;
      argmax[o] = i;
    }
  });
  const shape = [x.shape[0]!, x.shape[1]!, win.Ho, win.Wo];
  return record('maxPool2d', new Tensor(out, shape), [x], (g) => {
    const gv = g.values();
    const dx = allocate(g.dtype, x.size);
    for (let o = 0; o < argmax.length; o++) if (argmax[o]! >= 0) dx[argmax[o]!] = dx[argmax[o]!]! + gv[o]!;
    return [new Tensor(dx, x.shape)];
  });
}

/** Mean over H and W: [N, C, H, W] → [N, C]. (A mean; its backward spreads g / (H·W).) */
export function globalAvgPool(x: Tensor): Tensor {
  if (x.rank !== 4) throw new Error(`globalAvgPool: input must be [N, C, H, W], got ${fmtShape(x.shape)}`);
  return mean(x, [2, 3]);
}
