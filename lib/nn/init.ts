/**
 * Seeded parameter initialisers shared by the layers. Kept apart so a learner can see the
 * whole initialisation story of the library in one file.
 */
import { defaultRng, type Rng } from '../random';
import { sizeOf } from '../shape';
import { allocate, type DType, Tensor } from '../tensor';

/**
 * A trainable tensor with entries drawn from U(−bound, bound). With bound = 1/√fanIn this is
 * PyTorch's default for Linear and Conv2d (`kaiming_uniform_(a=√5)` works out to the same
 * bound), which keeps the output variance of a layer near a third of its input's.
 */
export function uniformParameter(shape: readonly number[], bound: number, rng: Rng = defaultRng(), dtype: DType = 'float32'): Tensor {
  const data = allocate(dtype, sizeOf(shape));
  for (let i = 0; i < data.length; i++) data[i] = (2 * rng.uniform() - 1) * bound;
  return new Tensor(data, shape, true);
}

/** A trainable tensor with entries drawn from N(0, std²). */
export function normalParameter(shape: readonly number[], std: number, rng: Rng = defaultRng(), dtype: DType = 'float32'): Tensor {
  const data = allocate(dtype, sizeOf(shape));
  for (let i = 0; i < data.length; i++) data[i] = std * rng.normal();
  return new Tensor(data, shape, true);
}

/** A trainable tensor filled with one value (norm gains start at 1, biases at 0). */
export function constantParameter(shape: readonly number[], value: number, dtype: DType = 'float32'): Tensor {
  return new Tensor(allocate(dtype, sizeOf(shape)).fill(value), shape, true);
}
