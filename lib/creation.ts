/**
 * Making tensors: from JS arrays, typed arrays and ndarrays, or filled with constants or
 * seeded random numbers.
 */
import ndarray from 'ndarray';
import type { NdArray } from 'ndarray';
import { defaultRng, type Rng } from './random';
import { fmtShape, sizeOf } from './shape';
import { allocate, type DType, type FloatArray, type NestedArray, Tensor } from './tensor';

export interface TensorOptions {
  dtype?: DType;
  requiresGrad?: boolean;
}

/** Shape of a nested array; throws on ragged input, naming where it is ragged. */
function nestedShape(x: NestedArray): number[] {
  const shape: number[] = [];
  let cur: NestedArray = x;
  while (Array.isArray(cur)) {
    shape.push(cur.length);
    cur = cur[0] as NestedArray;
  }
  const check = (v: NestedArray, axis: number, path: string): void => {
    if (axis === shape.length) {
      if (typeof v !== 'number') throw new Error(`tensor: expected a number at ${path}, got ${JSON.stringify(v)}`);
      return;
    }
    if (!Array.isArray(v) || v.length !== shape[axis]) {
      throw new Error(`tensor: ragged nested array at ${path}: expected length ${shape[axis]}, got ${Array.isArray(v) ? v.length : typeof v}`);
    }
    v.forEach((e, i) => check(e, axis + 1, `${path}[${i}]`));
  };
  check(x, 0, 'root');
  return shape;
}

/**
 * A tensor from nested arrays (`tensor([[1, 2], [3, 4]])`), a flat array plus a shape,
 * or a typed array (not copied). Default dtype float32, or float64 for a Float64Array.
 */
export function tensor(values: NestedArray | FloatArray | number[], shape?: readonly number[], opts: TensorOptions = {}): Tensor {
  if (values instanceof Float32Array || values instanceof Float64Array) {
    let data = values;
    if (opts.dtype && opts.dtype !== (values instanceof Float64Array ? 'float64' : 'float32')) {
      data = opts.dtype === 'float64' ? Float64Array.from(values) : Float32Array.from(values);
    }
    return new Tensor(data, shape ?? [values.length], opts.requiresGrad ?? false);
  }
  const s = shape ?? nestedShape(values);
  const flat = typeof values === 'number' ? [values] : (values as NestedArray[]).flat(Infinity as 1) as number[];
  if (flat.length !== sizeOf(s)) throw new Error(`tensor: shape ${fmtShape(s)} needs ${sizeOf(s)} values, got ${flat.length}`);
  const data = allocate(opts.dtype ?? 'float32', flat.length);
  data.set(flat);
  return new Tensor(data, s, opts.requiresGrad ?? false);
}

/** A 0-d tensor holding one number. */
export function scalar(value: number, dtype: DType = 'float32'): Tensor {
  const data = allocate(dtype, 1);
  data[0] = value;
  return new Tensor(data, []);
}

/** Wrap an ndarray of float32/float64 (a view: no copy). */
export function fromNdarray(nd: NdArray<FloatArray>, requiresGrad = false): Tensor {
  return new Tensor(nd, undefined, requiresGrad);
}

export function full(shape: readonly number[], value: number, opts: TensorOptions = {}): Tensor {
  return new Tensor(allocate(opts.dtype ?? 'float32', sizeOf(shape)).fill(value), shape, opts.requiresGrad ?? false);
}

export function zeros(shape: readonly number[], opts: TensorOptions = {}): Tensor {
  return full(shape, 0, opts);
}

export function ones(shape: readonly number[], opts: TensorOptions = {}): Tensor {
  return full(shape, 1, opts);
}

/** A tensor of zeros shaped and typed like `t`. */
export function zerosLike(t: Tensor): Tensor {
  return zeros(t.shape, { dtype: t.dtype });
}

/** `[start, start+step, …)` up to `end` (exclusive). */
export function arange(start: number, end: number, step = 1, opts: TensorOptions = {}): Tensor {
  const n = Math.max(0, Math.ceil((end - start) / step));
  const data = allocate(opts.dtype ?? 'float32', n);
  for (let i = 0; i < n; i++) data[i] = start + i * step;
  return new Tensor(data, [n], opts.requiresGrad ?? false);
}

export interface RandomOptions extends TensorOptions {
  /** Generator to draw from (default: the global one, see `manualSeed`). */
  rng?: Rng;
}

/** Normal N(mean, std²) samples. */
export function randn(shape: readonly number[], opts: RandomOptions & { mean?: number; std?: number } = {}): Tensor {
  const rng = opts.rng ?? defaultRng();
  const { mean = 0, std = 1 } = opts;
  const data = allocate(opts.dtype ?? 'float32', sizeOf(shape));
  for (let i = 0; i < data.length; i++) data[i] = mean + std * rng.normal();
  return new Tensor(data, shape, opts.requiresGrad ?? false);
}

/** Uniform samples in [low, high). */
export function rand(shape: readonly number[], opts: RandomOptions & { low?: number; high?: number } = {}): Tensor {
  const rng = opts.rng ?? defaultRng();
  const { low = 0, high = 1 } = opts;
  const data = allocate(opts.dtype ?? 'float32', sizeOf(shape));
  for (let i = 0; i < data.length; i++) data[i] = low + (high - low) * rng.uniform();
  return new Tensor(data, shape, opts.requiresGrad ?? false);
}

/** An ndarray view of a fresh zero-filled typed array (handy for kernels and tests). */
export function ndzeros(shape: readonly number[], dtype: DType = 'float32'): NdArray<FloatArray> {
  return ndarray(allocate(dtype, sizeOf(shape)), [...shape]);
}
