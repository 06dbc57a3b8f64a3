/**
 * The warnings an evaluation prints with its numbers, so that a score computed from too little
 * (a tiny held-out folder, fewer samples than feature dimensions, a scoring network at chance)
 * can never pass for a result.
 */

/** Below this many held-out images (or this many per class) FID and accuracy say little. */
export const MIN_HELD_OUT = 200;
export const MIN_HELD_OUT_PER_CLASS = 10;

/**
 * The loud warnings an evaluation must print with its numbers: a scoring network near
 * chance on held-out images, fewer samples than feature dimensions (a singular covariance:
 * FID is then mostly bias), a held-out set too small to stand for the data. Each is a
 * sentence; an empty list means none applies.
 */
export function evaluationWarnings(g: {
  numGenerated: number; numReal: number; featureDim: number; numClasses: number;
  /** held-out accuracy of each classifier-like network, with its role */
  heldOutAccuracy: { role: string; accuracy: number }[];
}): string[] {
  const out: string[] = [];
  const chance = 1 / g.numClasses;
  const nearChance = chance + 0.25 * (1 - chance); // a quarter of the way from chance to perfect
  for (const { role, accuracy: acc } of g.heldOutAccuracy) {
    if (acc <= nearChance) {
      out.push(`the ${role} is near chance on the held-out images: ${(100 * acc).toFixed(1)}% with ${g.numClasses} classes (chance ${(100 * chance).toFixed(1)}%); its scores mean little`);
    }
  }
  for (const [what, n] of [['generated', g.numGenerated], ['held-out real', g.numReal]] as const) {
    if (n <= g.featureDim) {
      out.push(`${n} ${what} images for ${g.featureDim}-d features: the covariance is singular (N ≤ D) and FID is dominated by its small-sample bias; use N well above ${g.featureDim}`);
    }
  }
  const perClass = g.numReal / g.numClasses;
  if (g.numReal < MIN_HELD_OUT || perClass < MIN_HELD_OUT_PER_CLASS) {
    out.push(`the held-out set is too small: ${g.numReal} images (${perClass.toFixed(1)} per class); at least ${MIN_HELD_OUT} and ${MIN_HELD_OUT_PER_CLASS} per class are needed for FID, KID or accuracy to mean much`);
  }
  return out;
}

/** Print warnings so nobody can miss them (stderr, boxed). */
export function printWarnings(warnings: readonly string[], log: (s: string) => void = (s) => process.stderr.write(`${s}\n`)): void {
  if (warnings.length === 0) return;
  log('!'.repeat(78));
  for (const w of warnings) log(`!! WARNING: ${w}`);
  log('!'.repeat(78));
}
