/**
 * Keeping the judges apart: the FID/KID network, the prompt-accuracy classifier and the
 * alignment encoder must be three different networks, compared by the digest of their
 * weights (`parametersDigest`), never by name alone.
 */
import type { Tensor } from '../../lib';
import { UsageError } from '../../lib/cli';
import { type FeatureExtractor, parametersDigest } from '../../models/encoder';

/** A network taking part in an evaluation, with the digest of its weights. */
export interface ScoringNetwork {
  /** what it does here: 'FID/KID network', 'accuracy classifier', 'alignment encoder' */
  role: string;
  /** the flag that chose it (for the error message) */
  flag: string;
  name: string;
  /** `parametersDigest` of its weights (models/encoder/feature-extractor.ts) */
  digest: string;
}

/** The network entry of a feature extractor or classifier. */
export function scoringNetwork(role: string, flag: string, net: { name?: string; parameters(): Tensor[] }, name?: string): ScoringNetwork {
  return { role, flag, name: name ?? net.name ?? role, digest: parametersDigest(net.parameters()) };
}

/**
 * Refuse an evaluation whose FID/KID network, accuracy classifier and alignment encoder are
 * not three different networks, compared by the digest of their weights (not by name:
 * `mobilenet@64` and `mobilenet@96` are one network). A grader that is the alignment target
 * scores ARRA by the features it was trained to predict; a classifier that is the FID network
 * makes the two figures one measurement.
 */
export function checkIndependence(nets: readonly ScoringNetwork[]): void {
  for (let i = 0; i < nets.length; i++) {
    for (let j = i + 1; j < nets.length; j++) {
      const [a, b] = [nets[i]!, nets[j]!];
      if (a.digest !== b.digest && a.name !== b.name) continue;
      const alignment = [a, b].find((n) => n.role === 'alignment encoder');
      const other = alignment ? (alignment === a ? b : a) : b;
      const why = alignment
        ? `the ${other.role} '${other.name}' is the encoder this model was aligned to (same weights, digest ${a.digest}); choose a different ${other.flag}`
        : `the ${a.role} '${a.name}' and the ${b.role} '${b.name}' are one network (weights digest ${a.digest}); choose a different ${b.flag}`;
      throw new UsageError(`${other.flag}: ${why} (the FID/KID network, the classifier and the alignment encoder must be independent)`, other.flag);
    }
  }
}

/** Refuse to grade a model by the features it was aligned to (by name and, when recorded, by weights). */
export function checkFidNetwork(fidNet: FeatureExtractor, alignEncoder: string | null, alignDigest?: string): void {
  if (alignEncoder === null) return;
  checkIndependence([
    scoringNetwork('FID/KID network', '--fid-encoder', fidNet),
    { role: 'alignment encoder', flag: '--align-encoder', name: alignEncoder, digest: alignDigest ?? `name:${alignEncoder}` },
  ]);
}
