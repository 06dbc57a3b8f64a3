/**
 * AdamW: Adam with decoupled weight decay (Loshchilov & Hutter 2019, "Decoupled Weight
 * Decay Regularization", Algorithm 2), as `torch.optim.AdamW`. At step t (from 1), for each
 * parameter θ with gradient g:
 *
 *   θ ← θ − lr·λ·θ                          decoupled decay: not part of g, so not rescaled by v
 *   m ← β₁·m + (1 − β₁)·g                   first moment (running mean of g)
 *   v ← β₂·v + (1 − β₂)·g²                  second moment (running mean of g²)
 *   m̂ = m / (1 − β₁ᵗ),  v̂ = v / (1 − β₂ᵗ)   bias correction: m and v start at 0
 *   θ ← θ − lr · m̂ / (√v̂ + ε)
 *
 * Plain Adam would add λ·θ to g instead, and then the decay of a weight with a large v
 * would be divided away; decoupling makes it shrink every weight by the same factor.
 *
 * Parameter groups (LlamaGen's and nanoGPT's `configure_optimizers`): decay is applied only to
 * weights with ≥ 2 dimensions (matmul weights, embeddings); norm gains and biases (1-D) are
 * listed in `noDecay` and only take the Adam step. {@link noDecayParameters} picks them. Decay
 * of a gain would pull it towards 0, i.e. shrink the whole normalised activation, which is
 * not a regulariser of model complexity.
 *
 * t is the optimizer's step count: a parameter that skipped steps (no gradient) is still
 * bias-corrected with the global t (PyTorch keeps a count per parameter).
 */
import { backend } from '../backend';
import { referenceAdamW } from '../backend/reference';
import type { FloatArray, Tensor } from '../tensor';
import { Optimizer, zeroSlots } from './optimizer';

/** Options of {@link AdamW}. */
export interface AdamWOptions {
  lr: number;
  /** [β₁, β₂] (default [0.9, 0.999]). */
  betas?: [number, number];
  /** ε (default 1e-8). */
  eps?: number;
  /** λ (default 0.01, PyTorch's). */
  weightDecay?: number;
  /** Parameters that get no weight decay (the second parameter group); see {@link noDecayParameters}. */
  noDecay?: Iterable<Tensor>;
}

/**
 * The parameters that LlamaGen and nanoGPT exempt from weight decay: those with fewer than
 * 2 dimensions (norm gains, biases). Matmul weights and embedding tables (≥ 2-D) decay.
 */
export function noDecayParameters(params: Iterable<Tensor>): Tensor[] {
  return [...params].filter((p) => p.rank < 2);
}

export class AdamW extends Optimizer {
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** m per parameter. */
  private readonly expAvg: FloatArray[];
  /** v per parameter. */
  private readonly expAvgSq: FloatArray[];
  /** Per parameter: false for the no-decay group. */
  private readonly decays: boolean[];

  constructor(params: Iterable<Tensor>, opts: AdamWOptions) {
    super(params, opts.lr);
    [this.beta1, this.beta2] = opts.betas ?? [0.9, 0.999];
    this.eps = opts.eps ?? 1e-8;
    this.weightDecay = opts.weightDecay ?? 0.01;
    for (const b of [this.beta1, this.beta2]) {
      if (!(b >= 0 && b < 1)) throw new Error(`AdamW: betas should be in [0, 1), got [${this.beta1}, ${this.beta2}]`);
    }
    const exempt = new Set(opts.noDecay ?? []);
    for (const p of exempt) {
      if (!this.params.includes(p)) throw new Error(`AdamW: a noDecay parameter${p.name ? ` '${p.name}'` : ''} is not among the optimised parameters`);
    }
    this.decays = this.params.map((p) => !exempt.has(p));
    this.expAvg = zeroSlots(this.params);
    this.expAvgSq = zeroSlots(this.params);
  }

  protected update(): void {
    const t = this.stepCount + 1;
    const { lr, beta1, beta2, eps } = this;
    const correction1 = 1 - beta1 ** t;
    const correction2 = 1 - beta2 ** t;
    // The per-element update (the formulas above) is a backend kernel: referenceAdamW in
    // lib/backend/reference.ts is the plain loop; the fast backend runs it as SIMD wasm.
    // Parameter groups: norm gains, biases (1-D) get weight decay 0 (noDecayParameters).
    const update = backend().adamw ?? referenceAdamW;
    this.params.forEach((p, i) => {
      if (p.grad === null) return; // no gradient this step (frozen or unused): leave it alone
      update({
        theta: p.nd.data, grad: p.grad.values(), m: this.expAvg[i]!, v: this.expAvgSq[i]!,
        lr, beta1, beta2, eps, weightDecay: this.decays[i] ? this.weightDecay : 0, correction1, correction2,
      });
    });
    this.stepCount = t;
  }

  protected slots(): string[] {
    return ['expAvg', 'expAvgSq'];
  }

  protected slot(slot: string, i: number): FloatArray {
    return (slot === 'expAvg' ? this.expAvg : this.expAvgSq)[i]!;
  }

  protected hyper(): Record<string, number> {
    return { lr: this.lr, beta1: this.beta1, beta2: this.beta2, eps: this.eps, weightDecay: this.weightDecay };
  }

  protected setHyper(h: Record<string, number>): void {
    this.lr = h.lr ?? this.lr;
    this.beta1 = h.beta1 ?? this.beta1;
    this.beta2 = h.beta2 ?? this.beta2;
    this.eps = h.eps ?? this.eps;
    this.weightDecay = h.weightDecay ?? this.weightDecay;
  }
}
