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
