/**
 * The SwiGLU gate as one op (Shazeer 2020; models/mlp.ts): y = SiLU(a) ⊙ b, SiLU(a) = a·σ(a).
 *
 * It is exactly `silu(a).mul(b)`, fused so that a training step makes one pass over the
 * hidden activations instead of three (σ, a·σ, ·b) forward and one instead of three backward,
 * and stores nothing but its inputs. With σ = σ(a):
 *
 *   ∂y/∂b = SiLU(a) = a·σ,   ∂y/∂a = b · SiLU'(a),   SiLU'(a) = σ + a·σ(1 − σ) = σ·(1 + a·(1 − σ))
 *
 * so the backward is db = g ⊙ a·σ and da = (g ⊙ b) ⊙ σ·(1 + a·(1 − σ)), σ recomputed.
 * The loops are backend kernels (reference.ts: referenceSwiglu / referenceSwigluBackward,
 * which round where the unfused ops round, so on the `ref` backend the results are the
 * unfused ops' to the bit).
 */
import { record } from '../autograd';
import { backend } from '../backend';
import { referenceSwiglu, referenceSwigluBackward } from '../backend/reference';
import { fmtShape, sameShape } from '../shape';
import { allocate, Tensor } from '../tensor';
import { checkSameDtype } from './util';

/** SiLU(a) ⊙ b for a and b of the same shape and dtype (no broadcasting). */
export function swiglu(a: Tensor, b: Tensor): Tensor {
  checkSameDtype('swiglu', a, b);
  if (!sameShape(a.shape, b.shape)) throw new Error(`swiglu: a and b must have the same shape, a is ${fmtShape(a.shape)}, b is ${fmtShape(b.shape)}`);
  const av = a.values();
  const bv = b.values();
  const y = allocate(a.dtype, av.length);
  (backend().swiglu ?? referenceSwiglu)({ a: av, b: bv, out: y });
  return record('swiglu', new Tensor(y, a.shape), [a, b], (g) => {
    const da = allocate(g.dtype, av.length);
    const db = allocate(g.dtype, av.length);
    (backend().swigluBackward ?? referenceSwigluBackward)({ a: av, b: bv, g: g.values(), da, db });
    return [new Tensor(da, a.shape), new Tensor(db, b.shape)];
  });
}
