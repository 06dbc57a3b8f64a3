/**
 * Scoring samples that were drawn without a prompt (`--condition none`): nothing says which
 * class an image should be, so the classifier can only tell how *recognisable* and how
 * *varied* the samples are. With p(y|x_i) the classifier's softmax over C classes for sample
 * i of n, and p̄(y) = (1/n) Σ_i p(y|x_i) the class distribution of the whole sample set:
 *
 * - **mean confidence** = (1/n) Σ_i max_y p(y|x_i): high when each sample looks like one class.
 * - **mean class entropy** H(y|x) = (1/n) Σ_i −Σ_y p(y|x_i) log p(y|x_i), in nats: low is good.
 * - **marginal entropy** H(y) = −Σ_y p̄(y) log p̄(y), in nats: high (up to log C) when the
 *   samples spread over the classes.
 * - **Inception-Score-style figure** IS = exp(H(y) − H(y|x)) = exp((1/n) Σ_i KL(p(y|x_i) ‖ p̄)),
 *   Salimans et al. 2016 computed with the in-project classifier instead of Inception-v3; it
 *   lies in [1, C] and is C only for confident samples spread evenly over all classes.
 * - **class coverage** = (number of classes that are the arg-max of at least one sample) / C.
 *
 * All are computed on one sample set (no split into chunks), so they are comparable only at
 * equal n, like FID.
 */
import { softmax, type Tensor } from '../../lib';
import type { ConvNet } from '../../models/encoder';
import { extractInChunks } from '../../models/encoder/feature-extractor';

export interface ClassDistributionScores {
  meanConfidence: number;
  /** H(y|x), nats */
  meanClassEntropy: number;
  /** H(y), nats */
  marginalEntropy: number;
  inceptionScore: number;
  coverage: number;
  numClasses: number;
  numSamples: number;
}

/** The figures above from class probabilities [n, C] (row-major, rows summing to 1). */
export function classDistributionScores(probs: Float32Array | Float64Array, n: number, C: number): ClassDistributionScores {
  if (probs.length !== n * C || n === 0) throw new Error(`classDistributionScores: expected ${n} × ${C} probabilities (n > 0), got ${probs.length}`);
  const marginal = new Float64Array(C);
  const hit = new Uint8Array(C);
  let conf = 0;
  let condEntropy = 0;
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let y = 0; y < C; y++) {
      const p = probs[i * C + y]!;
      marginal[y]! += p / n;
      if (p > 0) condEntropy -= (p * Math.log(p)) / n;
      if (p > probs[i * C + best]!) best = y;
    }
    conf += probs[i * C + best]! / n;
    hit[best] = 1;
  }
  let margEntropy = 0;
  for (const p of marginal) if (p > 0) margEntropy -= p * Math.log(p);
  return {
    meanConfidence: conf, meanClassEntropy: condEntropy, marginalEntropy: margEntropy,
    inceptionScore: Math.exp(margEntropy - condEntropy), coverage: hit.reduce((s, h) => s + h, 0) / C, numClasses: C, numSamples: n,
  };
}

/** Run the classifier over images (no gradient) and score the class distribution of its predictions. */
export function classifierDistribution(classifier: ConvNet, images: Tensor): ClassDistributionScores {
  classifier.eval();
  const C = classifier.config.numClasses;
  const probs = extractInChunks(images, 500, C, (chunk) => softmax(classifier.forward(chunk), -1)).values() as Float32Array;
  return classDistributionScores(probs, images.shape[0]!, C);
}
