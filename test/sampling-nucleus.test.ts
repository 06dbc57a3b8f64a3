/**
 * Top-p (nucleus) sampling at intermediate p, checked by value: the nucleus is the shortest
 * head of the sorted distribution whose mass reaches p (Holtzman et al. 2020), and the draw
 * follows the renormalised head. Probabilities 0.5, 0.3, 0.15, 0.05 put the boundaries at
 * cumulative 0.5, 0.8, 0.95, 1.
 */
import t from 'tap';
import { Rng } from '../lib';
import { drawCode } from '../models/sampling';

// logits in a scrambled order, so the sort matters: code 2 is the most likely
const probs = [0.15, 0.3, 0.5, 0.05];
const logits = probs.map(Math.log);

/** Frequencies of each code over `draws` draws at top-p `p` (temperature 1, no top-k). */
function frequencies(p: number, draws: number, seed: number, topK?: number): number[] {
  const rng = new Rng(seed);
  const counts = new Array<number>(probs.length).fill(0);
  for (let i = 0; i < draws; i++) counts[drawCode(logits, 1, topK, p, rng)]!++;
  return counts.map((c) => c / draws);
}

const draws = 20000; // σ of a frequency ≤ √(0.25 / 20000) ≈ 0.0035: a 0.015 band is > 4σ
const near = (got: number, want: number): boolean => Math.abs(got - want) < 0.015;

t.test('p = 0.79: the nucleus is {0.5, 0.3}, renormalised to 0.625 / 0.375', async (t) => {
  const f = frequencies(0.79, draws, 1);
  t.equal(f[0], 0, 'code 0 (0.15) is outside');
  t.equal(f[3], 0, 'code 3 (0.05) is outside');
  t.ok(near(f[2]!, 0.5 / 0.8), `p(code 2) ≈ 0.625, got ${f[2]}`);
  t.ok(near(f[1]!, 0.3 / 0.8), `p(code 1) ≈ 0.375, got ${f[1]}`);
});

t.test('p = 0.81: one past the boundary, the third code joins (0.5, 0.3, 0.15 over 0.95)', async (t) => {
  const f = frequencies(0.81, draws, 2);
  t.equal(f[3], 0, 'code 3 (0.05) is outside');
  t.ok(f[0]! > 0, 'code 0 (0.15) is now inside');
  t.ok(near(f[2]!, 0.5 / 0.95) && near(f[1]!, 0.3 / 0.95) && near(f[0]!, 0.15 / 0.95), `frequencies ${f.map((x) => x.toFixed(3)).join(', ')}`);
});

t.test('p = 0.5 exactly reaches the first code alone; p = 0.96 keeps all four', async (t) => {
  t.same(frequencies(0.5, 2000, 3), [0, 0, 1, 0], 'mass 0.5 reaches p = 0.5: a nucleus of one');
  const all = frequencies(0.96, draws, 4);
  t.ok(probs.every((p, k) => near(all[k]!, p)), `all four at their own probabilities: ${all.map((x) => x.toFixed(3)).join(', ')}`);
});

t.test('top-k is applied before top-p: k = 2 then p = 0.7 of the renormalised pair', async (t) => {
  // after top-2 the pair is 0.625 / 0.375: cumulative 0.625 < 0.7, so both stay
  const f = frequencies(0.7, draws, 5, 2);
  t.ok(near(f[2]!, 0.625) && near(f[1]!, 0.375) && f[0] === 0 && f[3] === 0, `frequencies ${f.map((x) => x.toFixed(3)).join(', ')}`);
  // and p = 0.6 < 0.625: the best alone
  t.same(frequencies(0.6, 2000, 6, 2), [0, 0, 1, 0]);
});

t.test('a NaN or +∞ logit is an error naming the code; −∞ masks a code', async (t) => {
  t.throws(() => drawCode([0, NaN, 1], 1, undefined, 1, new Rng(1)), /drawCode: logit of code 1 is NaN; the model's outputs must be finite/);
  t.throws(() => drawCode([Infinity, 0], 0, undefined, 1, new Rng(1)), /logit of code 0 is Infinity/);
  const rng = new Rng(2);
  for (let i = 0; i < 50; i++) t.not(drawCode([0, -Infinity, 0.5], 1, undefined, 1, rng), 1, 'the masked code is never drawn');
});
