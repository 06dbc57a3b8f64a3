/**
 * Matrix product, 2-D and batched (leading axes broadcast as in NumPy's matmul).
 *
 * For C = A·B:  ∂L/∂A = ∂L/∂C · Bᵀ  and  ∂L/∂B = Aᵀ · ∂L/∂C.
 * The backend takes transposes as flags, so the backward never materialises Bᵀ or Aᵀ.
 */
import { record } from '../autograd';
import { backend } from '../backend';
import { broadcastShapes, fmtShape, sizeOf, stridesOf } from '../shape';
import { allocate, type FloatArray, Tensor } from '../tensor';
import { checkSameDtype, sumToShape } from './util';

/** The axis order that swaps the last two of `rank` axes. */
function swapOrder(rank: number): number[] {
  return Array.from({ length: rank }, (_, i) => (i === rank - 2 ? rank - 1 : i === rank - 1 ? rank - 2 : i));
}

/**
 * How the backend reads operand `t` [..., rows, cols]: `data` with matrix `i` of the batch at
 * `base + Σ idx·batchStride`, its rows `ld` apart (undefined: contiguous), stored transposed
 * when `trans`.
 */
interface Operand { data: FloatArray; trans: boolean; base: number; batchStride: number[]; ld?: number }

/**
 * The storage the backend reads for operand `t` and whether it is stored transposed.
 * A view whose last two axes are swapped over row-major storage — `transpose(weight)` in
 * Linear, or the same in a backward — is handed over as that storage with the transpose flag
 * flipped: the backend transposes for free while packing, and nothing is copied. On a backend
 * with `stridedMatmul`, any view whose rows (or, flag flipped, columns) are runs of unit steps
 * — attention's permuted heads, kᵀ, their gradients — is handed over as its storage too, with
 * the row stride and each batch's offset; elsewhere such views are copied.
 */
function operand(t: Tensor, trans: boolean): Operand {
  const r = t.rank;
  const dense = (data: FloatArray, tr: boolean): Operand => {
    const mat = t.shape[r - 2]! * t.shape[r - 1]!;
    return { data, trans: tr, base: 0, batchStride: stridesOf(t.shape.slice(0, -2)).map((s) => s * mat) };
  };
  if (t.isContiguous) return dense(t.nd.data, trans);
  const { shape, stride, offset, data } = t.nd;
  const swap = (s: readonly number[]): number[] => [...s.slice(0, r - 2), s[r - 1]!, s[r - 2]!];
  const storedShape = swap(shape); // [..., k, m] for an [..., m, k] operand
  const rowMajor = stridesOf(storedShape);
  const swapped = swap(stride);
  // (an axis of size 1 may carry any stride)
  if (offset === 0 && data.length === t.size && rowMajor.every((s, i) => s === swapped[i] || storedShape[i] === 1)) {
    return dense(data, !trans);
  }
  // (only when the storage the view spans is not much more than the view: the backend copies that span)
  let span = 1;
  for (let i = 0; i < r; i++) span += Math.abs(stride[i]!) * (shape[i]! - 1);
  if (backend().stridedMatmul && span <= 2 * t.size + 4096) {
    const rows = shape[r - 2]!, cols = shape[r - 1]!;
    const batchStride = stride.slice(0, -2);
    // rows are unit-step runs ld apart (ld ≥ cols: rows do not overlap)
    if ((stride[r - 1] === 1 || cols === 1) && (rows === 1 || stride[r - 2]! >= cols)) {
      return { data, trans, base: offset, batchStride, ld: rows === 1 ? cols : stride[r - 2]! };
    }
    // columns are unit-step runs: the transposed matrix is row-major with rows ld apart
    if ((stride[r - 2] === 1 || rows === 1) && (cols === 1 || stride[r - 1]! >= rows)) {
      return { data, trans: !trans, base: offset, batchStride, ld: cols === 1 ? rows : stride[r - 1]! };
    }
  }
  // Otherwise a copy is needed. When the view walks its storage with unit steps along its
  // second-to-last axis (kᵀ of a permuted k in attention), copy it in that orientation —
  // contiguous runs are the fast copy — and flip the flag.
  if (stride[r - 2] === 1 && stride[r - 1] !== 1) {
    const copy = new Tensor(t.nd.transpose(...swapOrder(r)));
    const mat = shape[r - 2]! * shape[r - 1]!;
    return { data: copy.values(), trans: !trans, base: 0, batchStride: stridesOf(shape.slice(0, -2)).map((s) => s * mat) };
  }
  return dense(t.values(), trans);
}

/**
 * One batched product `op(a) · op(b)` through the backend, with broadcast batch axes.
 * `a` is [..., m, k] (or [..., k, m] when transA), `b` is [..., k, n] (or [..., n, k]).
 */
export function matmulKernel(a: Tensor, b: Tensor, transA: boolean, transB: boolean): Tensor {
  const as = a.shape;
  const bs = b.shape;
  const m = transA ? as[as.length - 1]! : as[as.length - 2]!;
  const ka = transA ? as[as.length - 2]! : as[as.length - 1]!;
  const kb = transB ? bs[bs.length - 1]! : bs[bs.length - 2]!;
  const n = transB ? bs[bs.length - 2]! : bs[bs.length - 1]!;
  if (ka !== kb) throw new Error(`matmul: inner dimensions differ, a is ${fmtShape(as)}, b is ${fmtShape(bs)}`);
  const aBatch = as.slice(0, -2);
  const bBatch = bs.slice(0, -2);
  const batch = broadcastShapes('matmul', aBatch, bBatch);
  const nBatch = sizeOf(batch);
  // Offset of each batch's matrix in an operand's storage: broadcast batch axes step by 0.
  const offsets = (own: number[], op: Operand): number[] => {
    const lead = batch.length - own.length;
    const res = new Array<number>(nBatch);
    for (let i = 0; i < nBatch; i++) {
      let rem = i;
      let off = op.base;
      for (let ax = batch.length - 1; ax >= 0; ax--) {
        const c = rem % batch[ax]!;
        rem = Math.floor(rem / batch[ax]!);
        if (ax >= lead && own[ax - lead] !== 1) off += c * op.batchStride[ax - lead]!;
      }
      res[i] = off;
    }
    return res;
  };
  const out = allocate(a.dtype, nBatch * m * n);
  const A = operand(a, transA);
  const B = operand(b, transB);
  backend().matmul({
    a: A.data, b: B.data, out, m, k: ka, n, transA: A.trans, transB: B.trans,
    aOffsets: offsets(aBatch, A), bOffsets: offsets(bBatch, B),
    ...(A.ld !== undefined ? { lda: A.ld } : {}), ...(B.ld !== undefined ? { ldb: B.ld } : {}),
  });
  return new Tensor(out, [...batch, m, n]);
}

/**
 * a · b. Both at least 2-D: a is [..., m, k], b is [..., k, n], result [..., m, n].
 * (A 1-D vector is not promoted: reshape it to [1, k] or [k, 1] first, which keeps the
 * shapes in shape comments honest.)
 */
export function matmul(a: Tensor, b: Tensor): Tensor {
  checkSameDtype('matmul', a, b);
  if (a.rank < 2 || b.rank < 2) {
    throw new Error(`matmul: both operands need at least 2 dimensions, a is ${fmtShape(a.shape)}, b is ${fmtShape(b.shape)}`);
  }
  const out = matmulKernel(a, b, false, false);
  return record('matmul', out, [a, b], (g) => [
    // dA = g · Bᵀ  ([..., m, n] · [..., n, k]); summed over batch axes that a broadcast
    a.requiresGrad ? sumToShape(matmulKernel(g, b, false, true), a.shape) : null,
    // dB = Aᵀ · g  ([..., k, m] · [..., m, n])
    b.requiresGrad ? gradOfB(a, b, g) : null,
  ]);
}

/**
 * dB = Aᵀ · g. When b is a 2-D transposed view of row-major storage — Linear's
 * `transpose(weight)` — compute dBᵀ = gᵀ · A instead, [n, k] in the storage's own layout, and
 * return its transposed view: the weight's gradient (through transpose's backward) is then
 * contiguous, so the optimizer reads it without copying it twice a step. Each element is the
 * same sum Σ_p a[p, i]·g[p, j] over p in the same order (a product of two floats does not
 * depend on their order), so the bits are those of Aᵀ · g.
 */
function gradOfB(a: Tensor, b: Tensor, g: Tensor): Tensor {
  const { shape, stride, offset, data } = b.nd;
  const transposedStorage = a.rank === 2 && b.rank === 2 && offset === 0 && data.length === b.size
    && stride[0] === 1 && stride[1] === shape[0] && shape[0]! > 1 && shape[1]! > 1;
  if (!transposedStorage) return sumToShape(matmulKernel(a, g, true, false), b.shape);
  return new Tensor(matmulKernel(g, a, true, false).nd.transpose(1, 0)); // [k, n] view of [n, k]
}
