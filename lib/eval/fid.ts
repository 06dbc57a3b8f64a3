/**
 * Fréchet distance between two sets of feature vectors — the FID of Heusel et al. 2017
 * ("GANs Trained by a Two Time-Scale Update Rule Converge to a Local Nash Equilibrium",
 * eq. 6) when the features come from an image encoder.
 *
 * Each set is summarised by a Gaussian N(μ, Σ) fitted to its features, and the distance is
 * the squared 2-Wasserstein (Fréchet) distance between the two Gaussians (Dowson & Landau
 * 1982):
 *
 *     d² = ‖μ₁ − μ₂‖² + tr(Σ₁ + Σ₂ − 2·(Σ₁^½ Σ₂ Σ₁^½)^½)
 *
 * The reference code (pytorch-fid) computes `sqrtm(Σ₁Σ₂)` of a non-symmetric product; here
 * we use the symmetric form above, which has the same trace (Σ₁Σ₂ and Σ₁^½Σ₂Σ₁^½ are similar
 * matrices), so only symmetric eigenproblems are needed: one for Σ₁ = VΛVᵀ (which gives
 * Σ₁^½ = VΛ^½Vᵀ, see `sqrtmPsd`) and one, eigenvalues only, for the trace of the outer
 * square root, solved in Σ₁'s eigenbasis.
 *
 * The covariance is the unbiased one (divide by N − 1, like `numpy.cov`). With N ≤ D the
 * covariance is singular — still fine here, since singular PSD matrices have square roots —
 * but FID from few samples is strongly biased upwards; compare scores only at equal N.
 * Rounding can make the FID of (nearly) identical sets a tiny negative number (~1e-12·tr Σ).
 */
import type { Tensor } from '../tensor';
import { clampedEigenvalues, matMulSquare, type PsdOptions, symmetricEigen, trace, traceSqrtPsd, transposeSquare } from './linalg';

/** Mean and covariance of a feature set, as {@link featureStatistics} returns them. */
export interface FeatureStatistics {
  /** The mean feature vector μ, length D. */
  mu: Float64Array;
  /** The D×D covariance Σ (row-major, unbiased: divides by N − 1). */
  sigma: Float64Array;
  /** Number of feature vectors N. */
  n: number;
  /** Feature dimension D. */
  dim: number;
}

/** What {@link fidFromFeatures} returns. */
export interface FidResult {
  /** The Fréchet distance between the two fitted Gaussians. */
  fid: number;
  /** Number of feature vectors in the first set. */
  n1: number;
  /** Number of feature vectors in the second set. */
  n2: number;
}

function checkFeatures(op: string, features: Tensor): [number, number] {
  if (features.rank !== 2) throw new Error(`${op}: expected features of shape [N, D], got [${features.shape.join(',')}]`);
  const [n, d] = features.shape as [number, number];
  if (n < 2) throw new Error(`${op}: need at least 2 feature vectors for a covariance, got ${n}`);
  // a NaN here would otherwise surface far away, as a failed eigen-decomposition
  const v = features.values();
  for (let i = 0; i < v.length; i++) {
    if (!Number.isFinite(v[i]!)) throw new Error(`${op}: feature ${Math.floor(i / d)} holds ${v[i]} at dimension ${i % d}; features must be finite (a diverged or corrupt feature network?)`);
  }
  return [n, d];
}

/** Mean μ and unbiased covariance Σ = (X − μ)ᵀ(X − μ)/(N − 1) of features [N, D], in float64. */
export function featureStatistics(features: Tensor): FeatureStatistics {
  const [n, d] = checkFeatures('featureStatistics', features);
  const x = features.values(); // [N, D]
  const mu = new Float64Array(d);
  for (let r = 0; r < n; r++) for (let j = 0; j < d; j++) mu[j] += x[r * d + j]!;
  for (let j = 0; j < d; j++) mu[j] /= n;

  // Σ accumulated one sample at a time as outer products of the centred row (upper triangle)
  const sigma = new Float64Array(d * d);
  const centred = new Float64Array(d);
  for (let r = 0; r < n; r++) {
    for (let j = 0; j < d; j++) centred[j] = x[r * d + j]! - mu[j]!;
    for (let i = 0; i < d; i++) {
      const ci = centred[i]!;
      if (ci === 0) continue;
      const rowI = i * d;
      for (let j = i; j < d; j++) sigma[rowI + j] += ci * centred[j]!;
    }
  }
  for (let i = 0; i < d; i++) {
    for (let j = i; j < d; j++) {
      const v = sigma[i * d + j]! / (n - 1);
      sigma[i * d + j] = v;
      sigma[j * d + i] = v;
    }
  }
  return { mu, sigma, n, dim: d };
}

/** The unbiased D×D covariance (row-major float64) of features [N, D]. */
export function covariance(features: Tensor): Float64Array {
  return featureStatistics(features).sigma;
}

/**
 * Fréchet distance ‖μ₁ − μ₂‖² + tr(Σ₁ + Σ₂ − 2(Σ₁^½ Σ₂ Σ₁^½)^½) between N(μ₁, Σ₁) and
 * N(μ₂, Σ₂). Means have length D, covariances are D×D row-major and must be symmetric PSD
 * (up to rounding; see {@link PsdOptions}).
 */
export function frechetDistance(
  mu1: ArrayLike<number>, sigma1: ArrayLike<number>, mu2: ArrayLike<number>, sigma2: ArrayLike<number>, opts: PsdOptions = {},
): number {
  const d = mu1.length;
  if (mu2.length !== d) throw new Error(`frechetDistance: means differ in length, ${d} and ${mu2.length}`);
  for (const [name, s] of [['sigma1', sigma1], ['sigma2', sigma2]] as const) {
    if (s.length !== d * d) throw new Error(`frechetDistance: ${name} should be ${d}×${d} (${d * d} values) to match the means, got ${s.length} values`);
  }
  let meanTerm = 0;
  for (let i = 0; i < d; i++) meanTerm += (mu1[i]! - mu2[i]!) ** 2;

  // With Σ₁ = V Λ Vᵀ, the matrix Σ₁^½ Σ₂ Σ₁^½ = V (Λ^½ Vᵀ Σ₂ V Λ^½) Vᵀ has the eigenvalues of
  // M = Λ^½ (Vᵀ Σ₂ V) Λ^½, so tr √(Σ₁^½ Σ₂ Σ₁^½) = tr √M. Working in Σ₁'s eigenbasis also
  // helps Jacobi: when Σ₂ ≈ Σ₁ (a good generator), M is nearly diagonal and converges in
  // a few sweeps instead of ~10.
  const { values, vectors } = symmetricEigen(sigma1, d);
  const roots = clampedEigenvalues('frechetDistance', values, opts).map(Math.sqrt); // Λ^½
  const inBasis = matMulSquare(matMulSquare(transposeSquare(vectors, d), sigma2, d), vectors, d); // Vᵀ Σ₂ V
  const m = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let j = i; j < d; j++) {
      // symmetrise away rounding: M_ij = √λ_i · ½(B_ij + B_ji) · √λ_j
      m[i * d + j] = m[j * d + i] = roots[i]! * 0.5 * (inBasis[i * d + j]! + inBasis[j * d + i]!) * roots[j]!;
    }
  }
  const crossTerm = traceSqrtPsd(m, d, opts);
  return meanTerm + trace(sigma1, d) + trace(sigma2, d) - 2 * crossTerm;
}

/** {@link frechetDistance} between the Gaussians fitted by {@link featureStatistics}. */
export function fidFromStatistics(a: FeatureStatistics, b: FeatureStatistics, opts: PsdOptions = {}): number {
  if (a.dim !== b.dim) throw new Error(`fidFromStatistics: feature dimensions differ, ${a.dim} and ${b.dim}`);
  return frechetDistance(a.mu, a.sigma, b.mu, b.sigma, opts);
}

/**
 * FID between two feature sets [N₁, D] and [N₂, D] (e.g. encoder features of real and
 * generated images). Cost O(N·D² + D³): N = 1000, D = 256 takes about 1 s of CPU.
 */
export function fidFromFeatures(featsA: Tensor, featsB: Tensor, opts: PsdOptions = {}): FidResult {
  const [, da] = checkFeatures('fidFromFeatures', featsA);
  const [, db] = checkFeatures('fidFromFeatures', featsB);
  if (da !== db) throw new Error(`fidFromFeatures: feature dimensions differ, [${featsA.shape.join(',')}] vs [${featsB.shape.join(',')}]`);
  const a = featureStatistics(featsA);
  const b = featureStatistics(featsB);
  return { fid: fidFromStatistics(a, b, opts), n1: a.n, n2: b.n };
}
