/**
 * maskedSoftmax (lib/ops/softmax.ts; attention's softmax(scores + causal mask)) must give the
 * bits of the two ops it fuses, `softmax(x.add(mask), -1)`, forward and backward, on every
 * backend: fast's fused WebAssembly kernel (the mask rows wrap around inside a chunk and
 * across chunks), the reference composition elsewhere. Rows not a multiple of 4 long, rows
 * longer than a chunk, ±1000, NaN and −∞ (masked) entries. Its gradient against finite
 * differences: test/ops-gradcheck.test.ts (test/gradcheck/nn-ops.ts).
 */
import t from 'tap';
import { full, maskedSoftmax, Rng, setBackend, softmax, Tensor } from '../lib';
import { causalMask } from '../models/attention';

const rng = new Rng(5);

function scores(shape: number[]): Float32Array {
  const n = shape.reduce((a, b) => a * b, 1);
  const x = Float32Array.from({ length: n }, () => 4 * rng.normal());
  x[1] = 1000; x[2] = -1000; x[n - 3] = NaN; x[7 % n] = Infinity;
  return x;
}

const same = (a: Float32Array, b: Float32Array): string => {
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return `[${i}] fused ${a[i]} vs composed ${b[i]}`;
  return a.length === b.length ? '' : 'lengths differ';
};

const cases: { name: string; shape: [number, number, number, number]; start: number; mask?: 'causal' | 'random' }[] = [
  { name: 'attention scores [2, 3, 5, 5], causal', shape: [2, 3, 5, 5], start: 0 },
  { name: 'with a cache: [1, 2, 3, 7] (start 4), causal', shape: [1, 2, 3, 7], start: 4 },
  { name: 'mnist-like [4, 4, 51, 51] (chunks of 321 rows start mid-mask; the mask wraps inside them)', shape: [4, 4, 51, 51], start: 0 },
  { name: 'a mask of random values with −∞ and NaN, [3, 2, 9, 13]', shape: [3, 2, 9, 13], start: 0, mask: 'random' },
  { name: 'rows longer than a chunk, [1, 2, 2, 20001]', shape: [1, 2, 2, 20001], start: 0, mask: 'random' },
];

for (const backendName of ['fast', 'ref', 'gpujs']) {
  for (const c of cases) {
    t.test(`${backendName}: ${c.name}`, async (t) => {
      setBackend(backendName);
      t.teardown(() => setBackend('ref'));
      const [, , T, S] = c.shape;
      const x0 = scores(c.shape);
      let mask: Tensor;
      if (c.mask === 'random') {
        const m = Float32Array.from({ length: T * S }, () => rng.normal());
        m[0] = -Infinity; m[T * S - 1] = NaN; m[3] = -1000;
        mask = new Tensor(m, [1, 1, T, S]);
      } else {
        mask = causalMask(T, c.start, 'float32');
        t.equal(mask.shape.join(','), `${T},${S}`, 'the causal mask is [T, S]');
      }
      const g = scores(c.shape);
      const run = (fused: boolean): [Float32Array, Float32Array] => {
        const x = new Tensor(x0.slice(), c.shape, true);
        const y = fused ? maskedSoftmax(x, mask) : softmax(x.add(mask), -1);
        y.mul(new Tensor(g.slice(), c.shape)).sum().backward();
        return [y.values() as Float32Array, x.grad!.values() as Float32Array];
      };
      const [yf, gf] = run(true);
      const [yc, gc] = run(false);
      t.equal(same(yf, yc), '', 'forward: the bits of softmax(x.add(mask))');
      t.equal(same(gf, gc), '', 'backward: the same bits');
      t.ok(yf.some(Number.isNaN) && yf.some((v) => v === 0), 'NaN and masked zeros reached the output');
    });
  }
}

t.test('maskedSoftmax rejects a mask of the wrong shape, dtype or with a gradient', async (t) => {
  const x = new Tensor(new Float32Array(2 * 3 * 4), [2, 3, 4]);
  t.throws(() => maskedSoftmax(x, full([4, 3], 0)), /expected a mask of shape \[3, 4\].*got \[4, 3\]/);
  t.throws(() => maskedSoftmax(x, full([2, 3, 4], 0)), /leading 1s allowed/);
  t.throws(() => maskedSoftmax(x, full([3, 4], 0, { dtype: 'float64' })), /dtype float64 differs/);
  t.throws(() => maskedSoftmax(x, new Tensor(new Float32Array(12), [3, 4], true)), /must not require a gradient/);
});
