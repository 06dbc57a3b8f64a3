/**
 * Gradient clipping by global norm (Pascanu et al. 2013): if the L2 norm of all gradients
 * taken together, ‖g‖ = √(Σ_p Σ_j g²), exceeds `maxNorm`, scale every gradient by
 * maxNorm / (‖g‖ + 1e-6) so the direction is kept and the length becomes (just under) maxNorm.
 */
import { Tensor } from '../tensor';

/**
 * Clip the gradients of `params` to a total norm of at most `maxNorm`. Returns the norm
 * *before* clipping (worth logging: spikes show instability). Parameters without a gradient
 * are skipped. Clipped gradients are new tensors: one gradient tensor can be shared by
 * several parameters (add's backward hands the same tensor to both inputs), so scaling in
 * place would scale it twice.
 */
export function clipGradNorm(params: Iterable<Tensor>, maxNorm: number): number {
  const withGrad = [...params].filter((p) => p.grad !== null);
  let sumSq = 0;
  for (const p of withGrad) for (const g of p.grad!.values()) sumSq += g * g;
  const total = Math.sqrt(sumSq);
  if (total > maxNorm) {
    const scale = maxNorm / (total + 1e-6);
    for (const p of withGrad) {
      const g = p.grad!;
      p.grad = new Tensor(g.values().map((x) => x * scale), g.shape);
    }
  }
  return total;
}
