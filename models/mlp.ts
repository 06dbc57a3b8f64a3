/**
 * The SwiGLU feed-forward block (Shazeer 2020, "GLU Variants Improve Transformer"; the MLP
 * of Llama and LlamaGen):
 *
 *   FFN(x) = W2 · (SiLU(W1·x) ⊙ W3·x)
 *
 * W1 and W3 map D → hidden (a gate and a value), W2 maps back hidden → D. No biases.
 */
import { type DType, Linear, Module, type Rng, swiglu, type Tensor } from '../lib';

/** Options of {@link SwiGLU}. */
export interface SwiGLUOptions {
  rng?: Rng;
  dtype?: DType;
  /** Linear weights from N(0, std²) (LlamaGen: 0.02); default PyTorch's uniform init. */
  linearStd?: number;
}

export class SwiGLU extends Module {
  readonly w1: Linear;
  readonly w3: Linear;
  readonly w2: Linear;

  constructor(readonly dModel: number, readonly hidden: number, opts: SwiGLUOptions = {}) {
    super();
    const lin = { bias: false, rng: opts.rng, dtype: opts.dtype, std: opts.linearStd };
    this.w1 = new Linear(dModel, hidden, lin);
    this.w3 = new Linear(dModel, hidden, lin);
    this.w2 = new Linear(hidden, dModel, lin);
  }

  /** x [..., D] → [..., D]. */
  forward(x: Tensor): Tensor {
    const gate = this.w1.forward(x); // [..., hidden], before SiLU
    const value = this.w3.forward(x); // [..., hidden]
    return this.w2.forward(swiglu(gate, value)); // SiLU(gate) ⊙ value (lib/ops/swiglu.ts), then [..., D]
  }
}
