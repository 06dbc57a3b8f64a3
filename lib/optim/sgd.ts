/**
 * Stochastic gradient descent with momentum and (L2) weight decay, PyTorch's formulation:
 *
 *   g ← ∇θ + λ·θ                  (weight decay added to the gradient)
 *   v ← μ·v + g                   (momentum buffer; v starts at 0, so v = g on the first step)
 *   θ ← θ − lr·v
 *
 * With μ = 0 this is plain θ ← θ − lr·g.
 */
import type { FloatArray, Tensor } from '../tensor';
import { Optimizer, zeroSlots } from './optimizer';

/** Options of {@link SGD}. */
export interface SGDOptions {
  lr: number;
  /** μ (default 0: no momentum). */
  momentum?: number;
  /** λ, L2 penalty added to the gradient (default 0). */
  weightDecay?: number;
}

export class SGD extends Optimizer {
  momentum: number;
  weightDecay: number;
  private readonly velocity: FloatArray[];

  constructor(params: Iterable<Tensor>, opts: SGDOptions) {
    super(params, opts.lr);
    this.momentum = opts.momentum ?? 0;
    this.weightDecay = opts.weightDecay ?? 0;
    this.velocity = zeroSlots(this.params);
  }

  protected update(): void {
    const { lr, momentum: mu, weightDecay: wd } = this;
    this.params.forEach((p, i) => {
      if (p.grad === null) return; // no gradient this step (frozen or unused): leave it alone
      const theta = p.nd.data;
      const grad = p.grad.values();
      const v = this.velocity[i]!;
      for (let j = 0; j < theta.length; j++) {
        const g = grad[j]! + wd * theta[j]!;
        if (mu === 0) {
          theta[j] = theta[j]! - lr * g;
        } else {
          v[j] = mu * v[j]! + g;
          theta[j] = theta[j]! - lr * v[j]!;
        }
      }
    });
    this.stepCount++;
  }

  protected slots(): string[] {
    return ['momentum'];
  }

  protected slot(_slot: string, i: number): FloatArray {
    return this.velocity[i]!;
  }

  protected hyper(): Record<string, number> {
    return { lr: this.lr, momentum: this.momentum, weightDecay: this.weightDecay };
  }

  protected setHyper(h: Record<string, number>): void {
    this.lr = h.lr ?? this.lr;
    this.momentum = h.momentum ?? this.momentum;
    this.weightDecay = h.weightDecay ?? this.weightDecay;
  }
}
