/**
 * models/sampling.ts `drawCode` sorts float32 logits by numeric keys instead of a comparator:
 * the draws must be exactly those of the comparator sort (the path plain arrays still take),
 * with ties, signed zeros, −∞ (masked codes), top-k and top-p.
 */
import t from 'tap';
import { Rng } from '../lib';
import { drawCode } from '../models/sampling';

t.test('keyed sort draws the comparator sort\'s codes', async (t) => {
  const gen = new Rng(3);
  let same = 0, total = 0;
  for (let trial = 0; trial < 300; trial++) {
    const K = [1, 2, 7, 256, 300][trial % 5]!;
    const f32 = Float32Array.from({ length: K }, (_, k) => {
      const r = gen.uniform();
      if (r < 0.1) return -0;
      if (r < 0.2) return 0;
      if (r < 0.3) return -Infinity;
      if (r < 0.5) return Math.round(gen.normal() * 2); // ties
      return gen.normal() * 3;
    });
    if (f32.every((x) => x === -Infinity)) f32[0] = 1;
    const plain = Array.from(f32); // takes the comparator path
    const [topK, topP, temperature] = [[undefined, 1, 1], [5, 1, 0.7], [undefined, 0.9, 1.3], [50, 0.5, 1]][trial % 4] as [number | undefined, number, number];
    const a = new Rng(trial), b = new Rng(trial);
    for (let d = 0; d < 20; d++) {
      total++;
      if (drawCode(f32, temperature, topK, topP, a) === drawCode(plain, temperature, topK, topP, b)) same++;
    }
  }
  t.equal(same, total, `${total} draws identical`);
});

t.test('the keyed order itself: descending, ties by id, −0 equal to +0', async (t) => {
  // topK = K with temperature → a draw walks the sorted order; force each position with u via a fixed Rng is indirect,
  // so check the order through greedy-like extremes: one code far above the rest is always drawn
  const logits = new Float32Array([0, -0, 5, 5, -Infinity, 100]);
  t.equal(drawCode(logits, 1, 1, 1, new Rng(0)), 5, 'top-1 is the largest');
  t.equal(drawCode(new Float32Array([-0, 0, -1]), 1, 1, 1, new Rng(0)), 0, 'top-1 among −0 and +0 is the lower id');
  t.equal(drawCode(new Float32Array([0, -0, -1]), 1, 1, 1, new Rng(0)), 0, 'either way round');
  t.equal(drawCode(new Float32Array([1, 3, 3]), 1, 1, 1, new Rng(0)), 1, 'ties: the lower id first');
});
