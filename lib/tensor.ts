/**
 * The Tensor: an N-d array of float32 or float64 numbers that remembers how it was made.
 *
 * Storage is an [ndarray](https://github.com/scijs/ndarray) view — a typed array plus
 * shape, strides and offset — so `permute` and `narrow` can be views that copy nothing.
 * Kernels want row-major contiguous memory; {@link Tensor.values} hands them exactly that,
 * copying only when the view is not already contiguous.
 *
 * Gradient bookkeeping lives in `requiresGrad`, `grad` and `gradFn` (see `autograd.ts`).
 * Ops are free functions in `lib/ops/`; the chainable methods below (`x.matmul(w).add(b)`)
 * only forward to them.
 */
import ndarray from 'ndarray';
import type { NdArray } from 'ndarray';
import { type GradFn, runBackward } from './autograd';
import { activeBackward } from './grad-buffers';
import { fmtShape, sameShape, sizeOf, stridesOf } from './shape';
import type * as Ops from './ops';

/** Element type of a tensor. */
export type DType = 'float32' | 'float64';
/** The typed arrays a tensor can hold. */
export type FloatArray = Float32Array | Float64Array;
/** A nested JS array of numbers, any depth (`1`, `[1, 2]`, `[[1], [2]]`). */
export type NestedArray = number | NestedArray[];
/** Where a tensor is expected, a plain number also does (it becomes a 0-d tensor). */
export type TensorLike = Tensor | number;

/**
 * Allocate a zero-filled typed array of the given dtype. While a backward pass runs, the
 * array may be one that an earlier backward proved dead (grad-buffers.ts), zeroed again.
 */
export function allocate(dtype: DType, n: number): FloatArray {
  const reuse = activeBackward.current;
  if (reuse !== null) return reuse.take(dtype, n);
  return dtype === 'float64' ? new Float64Array(n) : new Float32Array(n);
}

/** The dtype of a typed array. */
export function dtypeOf(data: FloatArray): DType {
  return data instanceof Float64Array ? 'float64' : 'float32';
}

// Ops import Tensor, and Tensor's chainable methods call ops: resolving `./ops` lazily
// breaks the import cycle (the type import above keeps full type checking).
let opsModule: typeof Ops | null = null;
function ops(): typeof Ops {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  opsModule ??= require('./ops') as typeof Ops;
  return opsModule;
}

export class Tensor {
  /** The storage: typed array + shape + strides + offset. */
  readonly nd: NdArray<FloatArray>;
  /** Whether backward should compute ∂L/∂this. Parameters set it; op outputs inherit it. */
  requiresGrad: boolean;
  /** ∂L/∂this after `backward()`, same shape and dtype as this tensor. */
  grad: Tensor | null = null;
  /** How this tensor was computed (null for leaves: inputs and parameters). */
  gradFn: GradFn | null = null;
  /** Keep `.grad` on an intermediate (non-leaf) tensor too; see {@link Tensor.retainGrad}. */
  retainsGrad = false;
  /** Optional name, shown by `toString()` and in error messages (parameters get theirs from Module). */
  name: string | undefined;

  /**
   * Wrap a typed array (not copied) as a tensor of `shape`. Most code uses the factories in
   * `creation.ts` (`tensor`, `zeros`, `randn`, …) instead.
   */
  constructor(data: FloatArray | NdArray<FloatArray>, shape?: readonly number[], requiresGrad = false) {
    if (data instanceof Float32Array || data instanceof Float64Array) {
      const s = shape ? [...shape] : [data.length];
      // [-1, -2] has "size" 2 and would pass the length check, then hang any loop over its axes
      const bad = s.findIndex((d) => !Number.isInteger(d) || d < 0);
      if (bad >= 0) throw new Error(`Tensor: shape ${fmtShape(s)}: axis ${bad} is ${s[bad]}; expected non-negative integer sizes`);
      if (sizeOf(s) !== data.length) {
        throw new Error(`Tensor: shape ${fmtShape(s)} needs ${sizeOf(s)} values, the array holds ${data.length}`);
      }
      this.nd = ndarray(data, s);
    } else {
      this.nd = data;
    }
    this.requiresGrad = requiresGrad;
  }

  /** Sizes of the axes (a copy). `[]` for a scalar. */
  get shape(): number[] {
    return this.nd.shape.slice();
  }

  get rank(): number {
    return this.nd.shape.length;
  }

  /** Number of elements. */
  get size(): number {
    return sizeOf(this.nd.shape);
  }

  get dtype(): DType {
    return dtypeOf(this.nd.data);
  }

  /** True when the storage is row-major with no gaps and no offset: kernels can use it as is. */
  get isContiguous(): boolean {
    const nd = this.nd;
    return nd.offset === 0 && nd.data.length === this.size && sameShape(nd.stride, stridesOf(nd.shape));
  }

  /**
   * The elements in row-major order as a typed array. Returns the storage itself when
   * contiguous (do not write to it), otherwise a packed copy.
   */
  values(): FloatArray {
    if (this.isContiguous) return this.nd.data;
    return this.packInto(allocate(this.dtype, this.size));
  }

  /** @internal Write the elements in row-major order into `out` (`size` long, this dtype); returns `out`. */
  packInto(out: FloatArray): FloatArray {
    const { shape, stride, offset, data } = this.nd;
    const rank = shape.length;
    if (out.length === 0) return out;
    if (rank === 0) { out[0] = data[offset]!; return out; }
    // Copy one run along the last axis at a time (a tight loop), and step the outer axes with
    // an odometer once per run: permuted views (attention heads) are copied on every step.
    const last = rank - 1;
    const runLength = shape[last]!;
    const runStride = stride[last]!;
    const idx = new Array<number>(rank).fill(0);
    let src = offset;
    for (let o = 0; o < out.length; o += runLength) {
      for (let j = 0; j < runLength; j++) out[o + j] = data[src + j * runStride]!;
      // odometer increment over the outer axes
      for (let ax = last - 1; ax >= 0; ax--) {
        idx[ax]!++;
        src += stride[ax]!;
        if (idx[ax]! < shape[ax]!) break;
        src -= stride[ax]! * shape[ax]!;
        idx[ax] = 0;
      }
    }
    return out;
  }

  /** A contiguous tensor with the same values (this one, if already contiguous). Not an op: no gradient. */
  contiguousData(): Tensor {
    return this.isContiguous ? this : new Tensor(this.values(), this.nd.shape);
  }

  /** The single value of a one-element tensor. */
  item(): number {
    if (this.size !== 1) throw new Error(`item: expected a tensor with one element, got shape ${fmtShape(this.shape)}`);
    return this.values()[0]!;
  }

  /** Values as nested JS arrays (a number for a scalar). */
  toArray(): NestedArray {
    const v = this.values();
    const shape = this.nd.shape;
    const build = (axis: number, offset: number): NestedArray => {
      if (axis === shape.length) return v[offset]!;
      const step = sizeOf(shape.slice(axis + 1));
      return Array.from({ length: shape[axis]! }, (_, i) => build(axis + 1, offset + i * step));
    };
    return build(0, 0);
  }

  /** The storage as an ndarray (a view; no copy). */
  toNdarray(): NdArray<FloatArray> {
    return this.nd;
  }

  /** A new leaf tensor sharing no history with this one (values copied, no gradient). */
  detach(): Tensor {
    return new Tensor(this.values().slice(), this.nd.shape);
  }

  /** Convert to another dtype (a copy; gradient flows through, converted back). */
  astype(dtype: DType): Tensor {
    return ops().astype(this, dtype);
  }

  /** Mark this tensor as needing a gradient (returns this, for chaining). */
  requireGrad(flag = true): this {
    this.requiresGrad = flag;
    return this;
  }

  /** Keep `.grad` after backward even though this is an intermediate tensor. */
  retainGrad(): this {
    this.retainsGrad = true;
    return this;
  }

  zeroGrad(): void {
    this.grad = null;
  }

  /**
   * Reverse-mode differentiation from this tensor. A scalar seeds with ∂L/∂L = 1; a
   * non-scalar needs the upstream gradient `grad` of its own shape.
   */
  backward(grad?: Tensor): void {
    if (!this.requiresGrad) throw new Error('backward: this tensor does not require a gradient (no input had requiresGrad, or it was computed under noGrad)');
    let seed = grad;
    if (seed === undefined) {
      if (this.size !== 1) {
        throw new Error(`backward: a non-scalar tensor of shape ${fmtShape(this.shape)} needs an explicit upstream gradient of the same shape`);
      }
      seed = new Tensor(allocate(this.dtype, 1).fill(1), this.shape);
    }
    seed.checkedGradFor(this, 'backward');
    runBackward(this, seed);
  }

  /** @internal Assert that this gradient fits `input` (shape and dtype), naming the op that produced it. */
  checkedGradFor(input: Tensor, op: string): Tensor {
    if (!sameShape(this.nd.shape, input.nd.shape)) {
      throw new Error(`${op}: gradient shape ${fmtShape(this.shape)} does not match its input's shape ${fmtShape(input.shape)}`);
    }
    if (this.dtype !== input.dtype) throw new Error(`${op}: gradient dtype ${this.dtype} does not match its input's dtype ${input.dtype}`);
    return this;
  }

  /** @internal Elementwise sum of two gradients of the same shape (a new tensor; neither is mutated). */
  plusGrad(other: Tensor): Tensor {
    const a = this.values();
    const b = other.values();
    const out = allocate(this.dtype, a.length);
    for (let i = 0; i < out.length; i++) out[i] = a[i]! + b[i]!;
    return new Tensor(out, this.nd.shape);
  }

  /** @internal `this.grad += g` (out of place, so gradients shared between nodes stay intact). */
  accumulateGrad(g: Tensor, op: string): void {
    g.checkedGradFor(this, op);
    this.grad = this.grad === null ? g : this.grad.plusGrad(g);
  }

  /** Shape, dtype and the first few values, e.g. `Tensor[2,3] float32 [0.1, 0.2, … ]`. */
  toString(): string {
    const v = this.values();
    const shown = Array.from(v.subarray(0, 6), (x) => Number(x.toPrecision(4)));
    const more = v.length > 6 ? `, … (${v.length} values)` : '';
    const grad = this.requiresGrad ? ' requiresGrad' : '';
    const name = this.name ? ` '${this.name}'` : '';
    return `Tensor${name}${fmtShape(this.shape)} ${this.dtype}${grad} [${shown.join(', ')}${more}]`;
  }

  // ---- chainable shorthands for the ops in lib/ops (each forwards to the op of the same name) ----
  add(b: TensorLike): Tensor { return ops().add(this, b); }
  sub(b: TensorLike): Tensor { return ops().sub(this, b); }
  mul(b: TensorLike): Tensor { return ops().mul(this, b); }
  div(b: TensorLike): Tensor { return ops().div(this, b); }
  neg(): Tensor { return ops().neg(this); }
  pow(b: TensorLike): Tensor { return ops().pow(this, b); }
  exp(): Tensor { return ops().exp(this); }
  log(): Tensor { return ops().log(this); }
  sqrt(): Tensor { return ops().sqrt(this); }
  tanh(): Tensor { return ops().tanh(this); }
  sigmoid(): Tensor { return ops().sigmoid(this); }
  relu(): Tensor { return ops().relu(this); }
  sum(axes?: number | number[], keepdim = false): Tensor { return ops().sum(this, axes, keepdim); }
  mean(axes?: number | number[], keepdim = false): Tensor { return ops().mean(this, axes, keepdim); }
  max(axes?: number | number[], keepdim = false): Tensor { return ops().max(this, axes, keepdim); }
  reshape(shape: readonly number[]): Tensor { return ops().reshape(this, shape); }
  permute(order: readonly number[]): Tensor { return ops().permute(this, order); }
  transpose(axis0 = -2, axis1 = -1): Tensor { return ops().transpose(this, axis0, axis1); }
  matmul(b: Tensor): Tensor { return ops().matmul(this, b); }

}
