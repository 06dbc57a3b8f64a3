/**
 * The one place where a training loop decides that a step diverged. Every trainer (VQ,
 * encoder, AR) calls {@link assertFiniteStep} with the step's loss and gradient norm *before*
 * the optimizer applies the update, so a NaN or ±Infinity never reaches the parameters, and
 * from there a checkpoint. The optimizer itself refuses non-finite gradients too
 * (`Optimizer.step`), and the safetensors writer refuses non-finite tensors: three fences,
 * so that a loop that forgets the first still cannot save a poisoned checkpoint.
 *
 * A finite loss does not make a finite gradient: `train --lambda 1e38` has L = L_AR + λ·L_GVA
 * well inside float64 while ∂L/∂θ overflows float32. That is why the gradient norm is
 * checked as well as the loss.
 */
import { AnomalyError } from '../autograd';
import type { Tensor } from '../tensor';

/** A training step whose loss or gradient norm is NaN or ±Infinity. */
export class NonFiniteStepError extends Error {
  constructor(
    /** which loop, e.g. `'train-vq'` */
    readonly label: string,
    /** the 1-based number of the step that diverged (its update was not applied) */
    readonly step: number,
    /** the quantity that is not finite: `'loss'` or `'gradient norm'` */
    readonly quantity: string,
    readonly value: number,
    /** every quantity of the step, for the metrics log */
    readonly values: Record<string, number>,
    hint = '',
  ) {
    super(`${label}: the ${quantity} is ${value} at step ${step}; the update was not applied and no checkpoint was written from this step${hint ? ` (${hint})` : ''}`);
    this.name = 'NonFiniteStepError';
  }
}

/**
 * Throw {@link NonFiniteStepError} naming the step when any of `values` (checked in the
 * order given: put the loss first) is not finite.
 *
 * @param values e.g. `{ loss, 'gradient norm': gradNorm }`
 * @param hint appended to the message (`'run with --anomaly to name the op'`)
 */
export function assertFiniteStep(label: string, step: number, values: Record<string, number>, hint = ''): void {
  for (const [quantity, value] of Object.entries(values)) {
    if (!Number.isFinite(value)) throw new NonFiniteStepError(label, step, quantity, value, values, hint);
  }
}

/** The L2 norm of all gradients of `params` taken together, √(Σ_p Σ_j g²) (as {@link clipGradNorm} measures it). */
export function gradNorm(params: Iterable<Tensor>): number {
  let sumSq = 0;
  for (const p of params) if (p.grad !== null) for (const g of p.grad.values()) sumSq += g * g;
  return Math.sqrt(sumSq);
}

/**
 * Run one step's forward and backward; an {@link AnomalyError} (anomaly mode) thrown inside
 * comes back out with the step number in its message, so the report says both *where* (the
 * op) and *when* (the step) a non-finite value was created.
 */
export function atStep<T>(label: string, step: number, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof AnomalyError) throw new AnomalyError(err.where, `${err.detail} — ${label}, step ${step}`);
    throw err;
  }
}
