/**
 * The RoPE kernel (Backend.rope; models/rope.ts): `fast`'s WebAssembly kernel computes in
 * float64 pairs like the reference loop (referenceRope), so on float32 data it must give the
 * reference's bits — for contiguous x, for the permuted views the backward receives, for
 * the transposed layout of kᵀ's gradient (d strided), strides the kernel declines (it falls back to the loop), head dimensions that are not a
 * multiple of 4, positions that start inside the table, both signs, and ±1000, ±∞ and NaN.
 * The op's gradient is checked against finite differences on every backend's float64 path by
 * test/ops-gradcheck.test.ts (the `rope` entries of test/gradcheck/model-ops.ts).
 */
import t from 'tap';
import { createFastBackend, referenceRope, type RopeArgs, Rng, setBackend, Tensor } from '../lib';
import { VectorEngine } from '../lib/backend/fast/vector';
import { applyRope, ropeTable } from '../models/rope';

const rng = new Rng(77);
const fast = createFastBackend({ threads: 1 });
t.teardown(() => fast.dispose?.());
const engine = new VectorEngine(); // to see whether the kernel ran or declined

/** Storage of `n` floats with ±1000, ±∞ and NaN at a few places after `from`. */
function storage(n: number, from: number): Float32Array {
  const x = Float32Array.from({ length: n }, () => 3 * rng.normal());
  const put = (i: number, v: number): void => { if (from + i < n) x[from + i] = v; };
  put(1, 1000); put(2, -1000); put(5, NaN); put(9, Infinity); put(12, -Infinity);
  return x;
}

/** Strides of [B, T, H, d] stored in the order `perm` of a contiguous array (plus `pad` per row). */
function layout(dims: [number, number, number, number], perm: [number, number, number, number], pad = 0): { strides: [number, number, number, number]; size: number } {
  const stored = perm.map((p) => dims[p]!);
  const st = [0, 0, 0, 0];
  let s = 1;
  for (let k = 3; k >= 0; k--) { st[k] = s; s *= stored[k]! + (k === 3 ? pad : 0); }
  const strides = [0, 0, 0, 0] as [number, number, number, number];
  perm.forEach((p, k) => { strides[p] = st[k]!; });
  return { strides, size: s };
}

const same = (a: Float32Array, b: Float32Array): string => {
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return `[${i}] fast ${a[i]} vs reference ${b[i]}`;
  return a.length === b.length ? '' : 'lengths differ';
};

const cases: { name: string; dims: [number, number, number, number]; perm: [number, number, number, number]; pad?: number; start: number; offset?: number; kernel: boolean }[] = [
  { name: 'contiguous, d = 8', dims: [2, 5, 3, 8], perm: [0, 1, 2, 3], start: 0, kernel: true },
  { name: 'contiguous, d = 6 (not a multiple of 4), start 3', dims: [3, 4, 2, 6], perm: [0, 1, 2, 3], start: 3, kernel: true },
  { name: 'permuted heads [B, H, T, d] (the backward), d = 32', dims: [2, 7, 4, 32], perm: [0, 2, 1, 3], start: 1, kernel: true },
  { name: 'bench shape, permuted, d = 32, 64 positions', dims: [4, 64, 4, 32], perm: [0, 2, 1, 3], start: 0, kernel: true },
  { name: 'padded rows (span > 2× the elements: falls back), d = 2', dims: [2, 3, 2, 2], perm: [0, 1, 2, 3], pad: 3, start: 2, kernel: false },
  { name: 'd on a strided axis (the gradient of kᵀ), d = 6', dims: [2, 3, 2, 6], perm: [0, 2, 3, 1], start: 0, kernel: true },
  { name: 'd the outermost stored axis (span 1.75× a row), d = 4', dims: [2, 3, 2, 4], perm: [3, 0, 1, 2], start: 1, kernel: true },
  { name: 'an offset into the storage', dims: [2, 3, 2, 10], perm: [0, 2, 1, 3], start: 4, offset: 7, kernel: true },
];

for (const c of cases) {
  for (const sign of [1, -1] as const) {
    t.test(`${c.name}, sign ${sign}`, async (t) => {
      const [B, T, H, d] = c.dims;
      const table = ropeTable({ kind: '1d', headDim: d, maxSeqLen: c.start + T + 2 });
      const { strides, size } = layout(c.dims, c.perm, c.pad);
      const offset = c.offset ?? 0;
      const x = storage(size + offset, offset);
      const args = (out: Float32Array): RopeArgs => ({
        x, offset, strides, out, cos: table.cos, sin: table.sin, start: c.start, sign, batch: B, seqLen: T, heads: H, headDim: d,
      });
      const want = new Float32Array(B * T * H * d);
      referenceRope(args(want));
      const got = new Float32Array(B * T * H * d).fill(12345);
      fast.rope!(args(got));
      t.equal(same(got, want), '', 'fast gives the reference loop\'s bits');
      const direct = new Float32Array(B * T * H * d);
      t.equal(engine.rope(args(direct)), c.kernel, c.kernel ? 'the wasm kernel ran' : 'the wasm kernel declined (the loop ran)');
      if (c.kernel) t.equal(same(direct, want), '', 'the wasm kernel\'s own output: the reference\'s bits');
      t.ok(want.some(Number.isNaN) && want.some((v) => Math.abs(v) > 500), 'the data reached NaN and ±1000 through the rotation');
    });
  }
}

t.test('applyRope on fast equals applyRope on ref, forward and backward (float32)', async (t) => {
  const table = ropeTable({ kind: '2d', headDim: 12, maxSeqLen: 11, gridSize: 3, prefixLen: 2 });
  const data = Float32Array.from({ length: 2 * 11 * 3 * 12 }, () => rng.normal());
  const g = Float32Array.from({ length: 2 * 3 * 11 * 12 }, () => rng.normal());
  const run = (name: string): [Float32Array, Float32Array] => {
    setBackend(name);
    const x = new Tensor(data.slice(), [2, 11, 3, 12], true);
    const y = applyRope(x, table).permute([0, 2, 1, 3]); // the attention's layout
    y.mul(new Tensor(g.slice(), [2, 3, 11, 12])).sum().backward();
    return [y.values() as Float32Array, x.grad!.values() as Float32Array];
  };
  const [yRef, gRef] = run('ref');
  const [yFast, gFast] = run('fast');
  setBackend('ref');
  t.equal(same(yFast, yRef), '', 'forward: same bits');
  t.equal(same(gFast, gRef), '', 'backward (a permuted gradient): same bits');
});
