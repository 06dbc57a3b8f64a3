/**
 * Elementwise unary ops. Backward multiplies the upstream gradient by f'(x), written in
 * terms of the saved input x or output y = f(x), whichever is cheaper.
 */
import { record } from '../autograd';
import { allocate, Tensor } from '../tensor';
import { binaryKernel, unaryKernel } from './util';

/** g ⊙ d, where d[i] = deriv(x[i], y[i]). */
function chain(g: Tensor, x: Tensor, y: Tensor, deriv: (x: number, y: number) => number): Tensor {
  const gv = g.values();
  const xv = x.values();
  const yv = y.values();
  const out = allocate(g.dtype, gv.length);
  for (let i = 0; i < out.length; i++) out[i] = gv[i]! * deriv(xv[i]!, yv[i]!);
  return new Tensor(out, g.shape);
}

/** −x. */
export function neg(x: Tensor): Tensor {
  const y = unaryKernel('neg', x);
  return record('neg', y, [x], (g) => [unaryKernel('neg', g)]);
}

/** eˣ. d/dx = eˣ = y. */
export function exp(x: Tensor): Tensor {
  const y = unaryKernel('exp', x);
  return record('exp', y, [x], (g) => [chain(g, x, y, (_x, y) => y)]);
}

/** ln x. d/dx = 1/x. */
export function log(x: Tensor): Tensor {
  const y = unaryKernel('log', x);
  return record('log', y, [x], (g) => [chain(g, x, y, (x) => 1 / x)]);
}

/** √x. d/dx = 1 / (2√x) = 1 / (2y). */
export function sqrt(x: Tensor): Tensor {
  const y = unaryKernel('sqrt', x);
  return record('sqrt', y, [x], (g) => [chain(g, x, y, (_x, y) => 0.5 / y)]);
}

/** 1/√x. d/dx = −½ x^(−3/2) = −½ y³. */
export function rsqrt(x: Tensor): Tensor {
  const y = unaryKernel('rsqrt', x);
  return record('rsqrt', y, [x], (g) => [chain(g, x, y, (_x, y) => -0.5 * y * y * y)]);
}

/** |x|. d/dx = sign(x), and 0 at the kink x = 0 (a subgradient). */
export function abs(x: Tensor): Tensor {
  const y = unaryKernel('abs', x);
  return record('abs', y, [x], (g) => [chain(g, x, y, (x) => (x > 0 ? 1 : x < 0 ? -1 : 0))]);
}

/** tanh x. d/dx = 1 − tanh²x = 1 − y². */
export function tanh(x: Tensor): Tensor {
  const y = unaryKernel('tanh', x);
  return record('tanh', y, [x], (g) => [chain(g, x, y, (_x, y) => 1 - y * y)]);
}

/** σ(x) = 1 / (1 + e⁻ˣ). d/dx = σ(1 − σ) = y(1 − y). */
export function sigmoid(x: Tensor): Tensor {
  const y = unaryKernel('sigmoid', x);
  return record('sigmoid', y, [x], (g) => [chain(g, x, y, (_x, y) => y * (1 - y))]);
}

/** max(x, 0). d/dx = 1 for x > 0, else 0 (0 at the kink). */
export function relu(x: Tensor): Tensor {
  const y = unaryKernel('relu', x);
  return record('relu', y, [x], (g) => [chain(g, x, y, (x) => (x > 0 ? 1 : 0))]);
}

/**
 * SiLU / swish: y = x·σ(x). d/dx = σ(x) + x·σ(x)(1 − σ(x)) = σ(x)(1 + x(1 − σ(x))).
 * It sits in every MLP block, so σ(x) is computed once by the backend's sigmoid kernel and
 * kept for the backward, which is then one plain loop (no second pass of exps).
 */
export function silu(x: Tensor): Tensor {
  const s = unaryKernel('sigmoid', x).values(); // σ(x)
  const xv = x.values();
  const y = allocate(x.dtype, xv.length);
  for (let i = 0; i < y.length; i++) y[i] = xv[i]! * s[i]!;
  return record('silu', new Tensor(y, x.shape), [x], (g) => {
    const gv = g.values();
    const dx = allocate(g.dtype, gv.length);
    for (let i = 0; i < dx.length; i++) dx[i] = gv[i]! * s[i]! * (1 + xv[i]! * (1 - s[i]!));
    return [new Tensor(dx, x.shape)];
  });
}

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

/**
 * GELU. `approximate: 'tanh'` (GPT-2's form) or `'erf'` (exact, the default).
 *
 * erf form:  y = x·Φ(x), Φ(x) = ½(1 + erf(x/√2));  dy/dx = Φ(x) + x·φ(x), φ(x) = e^(−x²/2)/√(2π).
 * tanh form: y = ½x(1 + tanh u), u = √(2/π)(x + 0.044715x³);
 *            dy/dx = ½(1 + tanh u) + ½x(1 − tanh²u)·√(2/π)(1 + 3·0.044715x²).
 */
export function gelu(x: Tensor, approximate: 'erf' | 'tanh' = 'erf'): Tensor {
  if (approximate === 'tanh') {
    const y = unaryKernel('geluTanh', x);
    return record('gelu', y, [x], (g) =>
      [chain(g, x, y, (x) => {
        const t = Math.tanh(SQRT_2_OVER_PI * (x + 0.044715 * x * x * x));
        return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * SQRT_2_OVER_PI * (1 + 3 * 0.044715 * x * x);
      })]);
  }
  // The derivative is a kernel of its own (geluErfGrad), so the fast backend's float32 erfc
  // serves it too; in float64 g ⊙ d is the same product the reference always computed.
  const y = unaryKernel('geluErf', x);
  return record('gelu', y, [x], (g) => [binaryKernel('mul', g, unaryKernel('geluErfGrad', x))]);
}
