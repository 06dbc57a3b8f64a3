/**
 * Activation functions as modules, for use inside {@link Sequential}. Each forwards to the
 * op of the same name in lib/ops (where its derivative is documented); none has parameters.
 */
import { gelu, relu, sigmoid, silu, tanh } from '../ops';
import type { Tensor } from '../tensor';
import { Module } from './module';

/** max(0, x). */
export class ReLU extends Module {
  forward(x: Tensor): Tensor {
    return relu(x);
  }
}

/** x·Φ(x), exact (`'erf'`, default) or with the tanh approximation (`'tanh'`, GPT-2's). */
export class GELU extends Module {
  constructor(readonly approximate: 'erf' | 'tanh' = 'erf') {
    super();
  }

  forward(x: Tensor): Tensor {
    return gelu(x, this.approximate);
  }
}

/** x·σ(x) (also called swish). */
export class SiLU extends Module {
  forward(x: Tensor): Tensor {
    return silu(x);
  }
}

/** tanh(x). */
export class Tanh extends Module {
  forward(x: Tensor): Tensor {
    return tanh(x);
  }
}

/** σ(x) = 1 / (1 + e^−x). */
export class Sigmoid extends Module {
  forward(x: Tensor): Tensor {
    return sigmoid(x);
  }
}
