/**
 * Inverted dropout (Srivastava et al. 2014): in training, zero each element with
 * probability p and scale the survivors by 1/(1 − p), so the expected value is unchanged
 * and evaluation needs no rescaling.
 */
import { record } from '../autograd';
import { defaultRng, type Rng } from '../random';
import { allocate, Tensor } from '../tensor';

/**
 * y = x ⊙ m / (1 − p), m_i ~ Bernoulli(1 − p). In eval mode (or p = 0) returns x itself.
 * ∂/∂x = g ⊙ m / (1 − p) (the same mask). p = 1 drops everything (y = 0, gradient 0).
 */
export function dropout(x: Tensor, p: number, training: boolean, rng: Rng = defaultRng()): Tensor {
  if (!(p >= 0 && p <= 1)) throw new Error(`dropout: p must be in [0, 1], got ${p}`);
  if (!training || p === 0) return x;
  const scale = p === 1 ? 0 : 1 / (1 - p);
  const mask = allocate(x.dtype, x.size); // holds 0 or 1/(1 − p)
  for (let i = 0; i < mask.length; i++) mask[i] = rng.uniform() >= p ? scale : 0;
  const v = x.values();
  const y = allocate(x.dtype, v.length);
  for (let i = 0; i < y.length; i++) y[i] = v[i]! * mask[i]!;
  return record('dropout', new Tensor(y, x.shape), [x], (g) => {
    const gv = g.values();
    const dx = allocate(g.dtype, gv.length);
    for (let i = 0; i < dx.length; i++) dx[i] = gv[i]! * mask[i]!;
    return [new Tensor(dx, x.shape)];
  });
}
