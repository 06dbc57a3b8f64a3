/**
 * The ARRA projector A_phi: the small MLP that maps a transformer hidden state to the space of
 * the frozen vision encoder's global feature (ARRA, Xie et al. 2025, §3.2 "Global Visual
 * Alignment": `f_A,t = A_phi(h_t^(i))`, a 2-layer MLP; the max-pool projector of the
 * ablation table scored slightly worse, 5.37 vs 5.30 FID).
 *
 *   h_t^(i) [P, dModel] → Linear(dModel, p) → GELU → Linear(p, encoderDim) → f_A,t [P, encoderDim]
 *
 * The projector exists only for training: it is a separate module, never a child of the
 * transformer, so the transformer's state dict (what inference loads) never contains it and the
 * sampler cannot reach it. See models/arra.ts for the loss that uses it.
 */
import { gelu, Linear, Module, Rng, type DType, type Tensor } from '../lib';

/** Sizes and initialisation of a {@link Projector}. */
export interface ProjectorOptions {
  /** Width of the hidden layer p (the paper's code uses the transformer width; any p works). */
  hidden: number;
  /** Generator for the initial weights (default: a fixed seed, so runs are reproducible). */
  rng?: Rng;
  dtype?: DType;
}

/** A_phi: Linear(dModel → p) → GELU → Linear(p → encoderDim). */
export class Projector extends Module {
  /** Shape `[p, dModel]`: reads the hidden state. */
  readonly fc1: Linear;
  /** Shape `[encoderDim, p]`: writes a vector comparable with the encoder's global feature. */
  readonly fc2: Linear;

  constructor(readonly dModel: number, readonly encoderDim: number, opts: ProjectorOptions) {
    super();
    if (!Number.isInteger(opts.hidden) || opts.hidden < 1) {
      throw new Error(`Projector: hidden width should be a positive integer, got ${opts.hidden}`);
    }
    const rng = opts.rng ?? new Rng(0x5eed);
    this.fc1 = new Linear(dModel, opts.hidden, { rng, dtype: opts.dtype });
    this.fc2 = new Linear(opts.hidden, encoderDim, { rng, dtype: opts.dtype });
  }

  /** h [..., dModel] → f_A [..., encoderDim]. GELU in its exact (erf) form, as torch.nn.GELU(). */
  forward(h: Tensor): Tensor {
    return this.fc2.forward(gelu(this.fc1.forward(h), 'erf'));
  }
}
