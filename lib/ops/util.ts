/**
 * Small helpers every op file shares: scalar promotion, dtype checks, running a backend
 * kernel into a fresh tensor, and undoing broadcasting in backward.
 */
import { backend } from '../backend';
import { borrowValues, returnValues } from '../grad-buffers';
import type { BinaryKind, UnaryKind } from '../backend';
import { broadcastShapes, fmtShape, sameShape, sizeOf } from '../shape';
import { allocate, type DType, type FloatArray, Tensor, type TensorLike } from '../tensor';

/** A plain number becomes a 0-d tensor of the other operand's dtype. */
export function asTensor(x: TensorLike, dtype: DType): Tensor {
  if (x instanceof Tensor) return x;
  const data = allocate(dtype, 1);
  data[0] = x;
  return new Tensor(data, []);
}

/** Binary ops need both operands in one dtype; mixing is a bug worth naming. */
export function checkSameDtype(op: string, a: Tensor, b: Tensor): void {
  if (a.dtype !== b.dtype) {
    throw new Error(`${op}: dtype mismatch, a is ${a.dtype} ${fmtShape(a.shape)}, b is ${b.dtype} ${fmtShape(b.shape)}`);
  }
}

/** Promote numbers, check dtypes: the two operands of a binary op. */
export function operands(op: string, a: TensorLike, b: TensorLike): [Tensor, Tensor] {
  const dtype = a instanceof Tensor ? a.dtype : b instanceof Tensor ? b.dtype : 'float32';
  const ta = asTensor(a, dtype);
  const tb = asTensor(b, dtype);
  checkSameDtype(op, ta, tb);
  return [ta, tb];
}

/** Forward of a broadcasting binary kernel, without recording. */
export function binaryKernel(kind: BinaryKind, a: Tensor, b: Tensor): Tensor {
  const outShape = broadcastShapes(kind, a.shape, b.shape);
  const pad = (s: number[]): number[] => [...new Array<number>(outShape.length - s.length).fill(1), ...s];
  const out = allocate(a.dtype, sizeOf(outShape));
  // (strided operands — attention's permuted q — are packed into arrays lent for this call only)
  const av = borrowValues(a);
  const bv = borrowValues(b);
  backend().binary(kind, av, pad(a.shape), bv, pad(b.shape), out, outShape);
  returnValues(a, av);
  returnValues(b, bv);
  return new Tensor(out, outShape);
}

/** Forward of an elementwise unary kernel, without recording. */
export function unaryKernel(kind: UnaryKind, x: Tensor): Tensor {
  const out = allocate(x.dtype, x.size);
  backend().unary(kind, x.values(), out);
  return new Tensor(out, x.shape);
}

/**
 * Undo broadcasting: sum `g` (shaped like a broadcast output) down to `shape`.
 * Leading axes that broadcasting added are summed away; axes where `shape` has 1 are summed
 * with keepdim. This is why every broadcasting op's backward ends with sumToShape.
 */
export function sumToShape(g: Tensor, shape: readonly number[]): Tensor {
  if (sameShape(g.shape, shape)) return g;
  const lead = g.rank - shape.length;
  let data = g.values();
  let cur = g.shape;
  // Sum axis by axis (highest first, so lower axis indices stay valid).
  for (let ax = g.rank - 1; ax >= 0; ax--) {
    const target = ax < lead ? 1 : shape[ax - lead]!;
    if (target === 1 && cur[ax] !== 1) {
      const outer = sizeOf(cur.slice(0, ax));
      const inner = sizeOf(cur.slice(ax + 1));
      const out = allocate(g.dtype, outer * inner);
      backend().sumMiddle(data, out, outer, cur[ax]!, inner);
      data = out;
      cur = [...cur.slice(0, ax), 1, ...cur.slice(ax + 1)];
    }
  }
  return new Tensor(data, shape);
}

/** Elementwise product of same-shape or broadcastable tensors without recording (for backward closures). */
export function times(a: Tensor, b: Tensor): Tensor {
  return binaryKernel('mul', a, b);
}

/** The values of `t` broadcast to `shape` (a packed copy unless already that shape). */
export function broadcastValues(t: Tensor, shape: readonly number[]): FloatArray {
  if (sameShape(t.shape, shape)) return t.values();
  return binaryKernel('add', t, new Tensor(allocate(t.dtype, sizeOf(shape)), shape)).values();
}
