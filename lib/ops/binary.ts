/**
 * Broadcasting binary ops. Each backward computes the gradient at the broadcast output
 * shape and then `sumToShape`s it back to each input's own shape.
 */
import { record } from '../autograd';
import { Tensor, type TensorLike } from '../tensor';
import { binaryKernel, broadcastValues, operands, sumToShape } from './util';

/** a + b. ∂/∂a = 1, ∂/∂b = 1. */
export function add(a: TensorLike, b: TensorLike): Tensor {
  const [ta, tb] = operands('add', a, b);
  const out = binaryKernel('add', ta, tb);
  return record('add', out, [ta, tb], (g) => [
    ta.requiresGrad ? sumToShape(g, ta.shape) : null,
    tb.requiresGrad ? sumToShape(g, tb.shape) : null, // (a constant, like attention's mask, needs no reduction)
  ]);
}

/** a − b. ∂/∂a = 1, ∂/∂b = −1. */
export function sub(a: TensorLike, b: TensorLike): Tensor {
  const [ta, tb] = operands('sub', a, b);
  const out = binaryKernel('sub', ta, tb);
  return record('sub', out, [ta, tb], (g) => [
    ta.requiresGrad ? sumToShape(g, ta.shape) : null,
    tb.requiresGrad ? sumToShape(binaryKernel('mul', g, asScalar(-1, g)), tb.shape) : null,
  ]);
}

/** a · b (elementwise). ∂/∂a = b, ∂/∂b = a. */
export function mul(a: TensorLike, b: TensorLike): Tensor {
  const [ta, tb] = operands('mul', a, b);
  const out = binaryKernel('mul', ta, tb);
  return record('mul', out, [ta, tb], (g) => [
    ta.requiresGrad ? sumToShape(binaryKernel('mul', g, tb), ta.shape) : null,
    tb.requiresGrad ? sumToShape(binaryKernel('mul', g, ta), tb.shape) : null,
  ]);
}

/** a / b. ∂/∂a = 1/b, ∂/∂b = −a/b² = −out/b. */
export function div(a: TensorLike, b: TensorLike): Tensor {
  const [ta, tb] = operands('div', a, b);
  const out = binaryKernel('div', ta, tb);
  return record('div', out, [ta, tb], (g) => {
    const gOverB = binaryKernel('div', g, tb);
    return [
      ta.requiresGrad ? sumToShape(gOverB, ta.shape) : null,
      tb.requiresGrad ? sumToShape(binaryKernel('mul', binaryKernel('mul', gOverB, out), asScalar(-1, g)), tb.shape) : null,
    ];
  });
}

/**
 * a ^ b, for a scalar or tensor exponent.
 * ∂/∂a = b·a^(b−1); ∂/∂b = a^b · ln a (only meaningful for a > 0; NaN otherwise, as in PyTorch).
 */
export function pow(a: TensorLike, b: TensorLike): Tensor {
  const [ta, tb] = operands('pow', a, b);
  const out = binaryKernel('pow', ta, tb);
  return record('pow', out, [ta, tb], (g) => [
    ta.requiresGrad
      ? sumToShape(binaryKernel('mul', g, binaryKernel('mul', tb, binaryKernel('pow', ta, binaryKernel('sub', tb, asScalar(1, g))))), ta.shape)
      : null,
    tb.requiresGrad ? sumToShape(binaryKernel('mul', g, binaryKernel('mul', out, logOf(ta))), tb.shape) : null,
  ]);
}

/**
 * Elementwise maximum. The gradient goes to the larger input; on a tie (a == b) it goes
 * to `a` alone — a convention (PyTorch splits it in half), and a kink gradcheck avoids.
 */
export function maximum(a: TensorLike, b: TensorLike): Tensor {
  const [ta, tb] = operands('maximum', a, b);
  const out = binaryKernel('maximum', ta, tb);
  return record('maximum', out, [ta, tb], (g) => routeByMask(g, ta, tb, (x, y) => x >= y));
}

/** Elementwise minimum; gradient to the smaller input, ties to `a` (see {@link maximum}). */
export function minimum(a: TensorLike, b: TensorLike): Tensor {
  const [ta, tb] = operands('minimum', a, b);
  const out = binaryKernel('minimum', ta, tb);
  return record('minimum', out, [ta, tb], (g) => routeByMask(g, ta, tb, (x, y) => x <= y));
}

// ---- helpers ----

function asScalar(v: number, like: Tensor): Tensor {
  return operands('scalar', like, v)[1];
}

function logOf(t: Tensor): Tensor {
  const v = t.values();
  const out = v.slice();
  for (let i = 0; i < out.length; i++) out[i] = Math.log(v[i]!);
  return new Tensor(out, t.shape);
}

/** Split g between a and b: where pick(a, b) holds, to a; elsewhere to b. */
function routeByMask(g: Tensor, a: Tensor, b: Tensor, pick: (x: number, y: number) => boolean): [Tensor, Tensor] {
  const av = broadcastValues(a, g.shape);
  const bv = broadcastValues(b, g.shape);
  const gv = g.values();
  const ga = gv.slice();
  const gb = gv.slice();
  for (let i = 0; i < gv.length; i++) {
    if (pick(av[i]!, bv[i]!)) gb[i] = 0;
    else ga[i] = 0;
  }
  return [sumToShape(new Tensor(ga, g.shape), a.shape), sumToShape(new Tensor(gb, g.shape), b.shape)];
}
