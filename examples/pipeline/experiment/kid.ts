/**
 * KID for the experiment, behind one small adapter: {@link kidOf} has the signature and the
 * defaults of `kidFromFeatures` in lib/eval/kid.ts (issue 14, being written in parallel), so
 * when that lands this file's body becomes `return kidFromFeatures(real, fake)`.
 *
 * KID (Bińkowski et al. 2018, "Demystifying MMD GANs", §4): the unbiased MMD² between the two
 * feature sets under the cubic kernel k(x, y) = (xᵀy/d + 1)³,
 *
 *     MMD²_u = Σ_{i≠j} k(xᵢ, xⱼ)/(m(m−1)) + Σ_{i≠j} k(yᵢ, yⱼ)/(m(m−1)) − 2·Σ_{i,j} k(xᵢ, yⱼ)/m²
 *
 * averaged over 50 random subsets of m = min(1000, ⌊min(N₁, N₂)/2⌋) vectors from each set
 * (without replacement), with the standard deviation over subsets (population form, as the
 * reference code's np.std). Unbiased at every m, so — unlike FID — it can be read at a few
 * hundred samples, and it may be slightly negative when the two sets agree.
 */
import { Rng, type Tensor } from '../../../lib';

export interface Kid {
  kid: number;
  std: number;
  subsets: number;
  subsetSize: number;
}

/** Distinct rows 0..n−1, `size` of them (partial Fisher–Yates). */
function drawRows(n: number, size: number, rng: Rng): Int32Array {
  const order = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = 0; i < size; i++) {
    const j = i + rng.int(n - i);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order.slice(0, size);
}

/** Σ k(a_i, b_j) over the given rows; `offDiagonal` leaves out i = j (same set, same rows). */
function kernelSum(a: Float64Array, ra: Int32Array, b: Float64Array, rb: Int32Array, d: number, offDiagonal: boolean): number {
  let s = 0;
  for (let p = 0; p < ra.length; p++) {
    const ai = ra[p]! * d;
    for (let q = offDiagonal ? p + 1 : 0; q < rb.length; q++) {
      const bj = rb[q]! * d;
      let dot = 0;
      for (let k = 0; k < d; k++) dot += a[ai + k]! * b[bj + k]!;
      s += (dot / d + 1) ** 3;
    }
  }
  return offDiagonal ? 2 * s : s; // k is symmetric: each unordered pair counted once above
}

/** KID of generated features `fake` [N₂, D] against real features `real` [N₁, D]: mean ± std over subsets. */
export function kidOf(real: Tensor, fake: Tensor, opts: { subsets?: number; subsetSize?: number; seed?: number } = {}): Kid {
  const [n1, d] = real.shape as [number, number];
  const [n2, d2] = fake.shape as [number, number];
  if (d !== d2) throw new Error(`kid: feature dimensions differ, [${real.shape.join(',')}] vs [${fake.shape.join(',')}]`);
  if (Math.min(n1, n2) < 4) throw new Error(`kid: need at least 4 vectors in each set, got ${n1} and ${n2}`);
  const m = opts.subsetSize ?? Math.max(2, Math.min(1000, Math.floor(Math.min(n1, n2) / 2)));
  if (!(Number.isInteger(m) && m >= 2 && m <= Math.min(n1, n2))) throw new Error(`kid: subsetSize must be an integer in 2..${Math.min(n1, n2)}, got ${m}`);
  const subsets = opts.subsets ?? 50;
  const x = Float64Array.from(real.values());
  const y = Float64Array.from(fake.values());
  const rng = new Rng(opts.seed ?? 0);
  const values: number[] = [];
  for (let s = 0; s < subsets; s++) {
    const rx = drawRows(n1, m, rng);
    const ry = drawRows(n2, m, rng);
    const kxx = kernelSum(x, rx, x, rx, d, true);
    const kyy = kernelSum(y, ry, y, ry, d, true);
    const kxy = kernelSum(x, rx, y, ry, d, false);
    values.push(kxx / (m * (m - 1)) + kyy / (m * (m - 1)) - (2 * kxy) / (m * m));
  }
  const kid = values.reduce((a, v) => a + v, 0) / subsets;
  const std = Math.sqrt(values.reduce((a, v) => a + (v - kid) ** 2, 0) / subsets);
  return { kid, std, subsets, subsetSize: m };
}
