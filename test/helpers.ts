/** Shared test helpers: seeded float64 inputs and value comparison with stated tolerances. */
import { Rng, Tensor, type DType } from '../lib';

/** Seeded normal tensor (float64 by default, requiresGrad on) — the usual gradcheck input. */
export function rnd(shape: number[], seed: number, opts: { dtype?: DType; scale?: number; offset?: number; grad?: boolean } = {}): Tensor {
  const rng = new Rng(seed);
  const { dtype = 'float64', scale = 1, offset = 0, grad = true } = opts;
  const n = shape.reduce((a, b) => a * b, 1);
  const data = dtype === 'float64' ? new Float64Array(n) : new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = offset + scale * rng.normal();
  return new Tensor(data, shape, grad);
}

/** Positive inputs (for log, sqrt, pow with a real exponent): uniform in [lo, hi). */
export function positive(shape: number[], seed: number, lo = 0.5, hi = 2): Tensor {
  const rng = new Rng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  return new Tensor(Float64Array.from({ length: n }, () => lo + (hi - lo) * rng.uniform()), shape, true);
}

/** Largest |a − b| / max(|b|, 1) over all elements (NaN if the shapes differ or a NaN appears). */
export function maxRelDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return NaN;
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!) / Math.max(Math.abs(b[i]!), 1);
    if (Number.isNaN(d)) return NaN;
    worst = Math.max(worst, d);
  }
  return worst;
}

/** Direct 7-loop convolution, the definition (no im2col, no interior/border split): the forward tests' reference. */
export function naiveConv(x: Tensor, w: Tensor, bias: Tensor | undefined, s: [number, number], p: [number, number], d: [number, number], G: number): number[] {
  const [N, C, H, W] = x.shape as [number, number, number, number];
  const [O, Cg, kh, kw] = w.shape as [number, number, number, number];
  const Ho = Math.floor((H + 2 * p[0] - d[0] * (kh - 1) - 1) / s[0]) + 1;
  const Wo = Math.floor((W + 2 * p[1] - d[1] * (kw - 1) - 1) / s[1]) + 1;
  const xv = x.values();
  const wv = w.values();
  const bv = bias?.values();
  const out: number[] = [];
  for (let n = 0; n < N; n++) for (let o = 0; o < O; o++) for (let i = 0; i < Ho; i++) for (let j = 0; j < Wo; j++) {
    let acc = bv ? bv[o]! : 0;
    const g = Math.floor(o / (O / G));
    for (let c = 0; c < Cg; c++) for (let a = 0; a < kh; a++) for (let b = 0; b < kw; b++) {
      const ii = i * s[0] - p[0] + a * d[0];
      const jj = j * s[1] - p[1] + b * d[1];
      if (ii < 0 || ii >= H || jj < 0 || jj >= W) continue;
      acc += xv[((n * C + g * Cg + c) * H + ii) * W + jj]! * wv[((o * Cg + c) * kh + a) * kw + b]!;
    }
    out.push(acc);
  }
  return out;
}
