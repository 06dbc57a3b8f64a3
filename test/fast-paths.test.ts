/**
 * The shortcuts taken for speed outside the backend kernels give the same values as the
 * plain path: matmul operands that are transposed or permuted views (passed with a flipped
 * transpose flag, or copied in their cheaper orientation), and `values()` of permuted views
 * (copied a last-axis run at a time). Checked on the reference backend in float64 against
 * explicit loops, and on `fast` in float32 against the reference.
 */
import t from 'tap';
import { matmul, permute, setBackend, Tensor, transpose } from '../lib';
import { maxRelDiff, rnd } from './helpers';

/** Plain [m, k]·[k, n] product of nested arrays. */
function naive(a: number[][], b: number[][]): number[][] {
  return a.map((row) => b[0]!.map((_, j) => row.reduce((s, v, p) => s + v * b[p]![j]!, 0)));
}

/** Element [i0, i1, …] of a tensor through toArray (independent of values()' copy loop). */
function at(x: Tensor, idx: number[]): number {
  let v: unknown = x.toArray();
  for (const i of idx) v = (v as unknown[])[i];
  return v as number;
}

t.test('values() of a permuted rank-4 view matches element-wise indexing', async (t) => {
  setBackend('ref');
  const x = rnd([2, 3, 4, 5], 1, { grad: false });
  const p = permute(x, [0, 2, 1, 3]); // [2, 4, 3, 5]
  const v = p.values();
  let worst = 0;
  let i = 0;
  for (let a = 0; a < 2; a++) for (let b = 0; b < 4; b++) for (let c = 0; c < 3; c++) for (let d = 0; d < 5; d++) {
    worst = Math.max(worst, Math.abs(v[i++]! - x.values()[((a * 3 + c) * 4 + b) * 5 + d]!));
  }
  t.equal(worst, 0, 'exact copy');
  t.equal(at(p, [1, 3, 2, 4]), x.values()[((1 * 3 + 2) * 4 + 3) * 5 + 4], 'toArray agrees');
  const lastAxisMoved = permute(x, [3, 0, 1, 2]); // unit stride on no output axis but the first
  t.equal(lastAxisMoved.values()[1], x.values()[5], 'a view whose last axis is strided');
});

t.test('matmul on transposed and permuted views equals the product of contiguous copies', async (t) => {
  for (const backend of ['ref', 'fast'] as const) {
    setBackend(backend);
    const dtype = backend === 'ref' ? 'float64' : 'float32';
    const tol = backend === 'ref' ? 1e-12 : 1e-5;
    const a = rnd([6, 5], 2, { dtype, grad: false });
    const w = rnd([7, 5], 3, { dtype, grad: false }); // used as wᵀ, like Linear
    const want = naive(a.toArray() as number[][], transpose(w).toArray() as number[][]);
    t.ok(maxRelDiff(matmul(a, transpose(w)).values(), want.flat()) < tol, `${backend}: a·wᵀ`);
    t.ok(maxRelDiff(matmul(transpose(transpose(a)), transpose(w)).values(), want.flat()) < tol, `${backend}: double transpose`);
    // attention: q [B, H, T, hd] and k [B, H, S, hd] as permuted views of [B, T, H, hd]
    const qs = rnd([2, 4, 3, 5], 4, { dtype, grad: false });
    const ks = rnd([2, 6, 3, 5], 5, { dtype, grad: false });
    const q = permute(qs, [0, 2, 1, 3]);
    const k = permute(ks, [0, 2, 1, 3]);
    const got = matmul(q, transpose(k)); // [2, 3, 4, 6]
    const qc = new Tensor(q.values(), q.shape);
    const kc = new Tensor(k.values(), k.shape);
    let worst = 0;
    for (let b = 0; b < 2; b++) for (let h = 0; h < 3; h++) {
      const qm = (qc.toArray() as number[][][][])[b]![h]!;
      const km = (kc.toArray() as number[][][][])[b]![h]!;
      const ref = naive(qm, km[0]!.map((_, j) => km.map((row) => row[j]!)));
      const g = (got.toArray() as number[][][][])[b]![h]!;
      worst = Math.max(worst, maxRelDiff(g.flat(), ref.flat()));
    }
    t.ok(worst < tol, `${backend}: q·kᵀ on permuted views (worst ${worst.toExponential(1)})`);
  }
  setBackend('ref');
});

t.test('a gradient summed from many uses is added in place without touching shared buffers', async (t) => {
  setBackend('ref');
  const x = rnd([3, 4], 6);
  const y = x.add(x).add(x.mul(x)).add(x); // uses x four times; add hands its gradient on as is
  const z = y.add(y); // y's gradient reaches both inputs of this add as the same buffer
  z.sum().backward();
  const want = Array.from(x.values(), (v) => 2 * (3 + 2 * v)); // d/dx 2·(3x + x²)
  t.ok(maxRelDiff(x.grad!.values(), want) < 1e-12, '∂/∂x = 2(3 + 2x)');
});
