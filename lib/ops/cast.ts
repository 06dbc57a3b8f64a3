/** dtype conversion. The gradient is converted back to the input's dtype. */
import { record } from '../autograd';
import { allocate, type DType, Tensor } from '../tensor';

function convert(x: Tensor, dtype: DType): Tensor {
  const out = allocate(dtype, x.size);
  out.set(x.values());
  return new Tensor(out, x.shape);
}

/** The same values in another dtype (float64 → float32 rounds to nearest). */
export function astype(x: Tensor, dtype: DType): Tensor {
  return record('astype', convert(x, dtype), [x], (g) => [convert(g, x.dtype)]);
}
