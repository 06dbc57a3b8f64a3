/** Sequence building and the vocabulary layout: where conditions, specials, inputs and targets go. */
import t from 'tap';
import { Rng, tensor } from '../lib';
import { buildClassSequences, buildTextSequences, classConditionalLayout, imageTokenLoss, textConditionalLayout } from '../models/sequence';

t.test('class-conditional layout: codes, then classes, then null / begin-image / pad', async (t) => {
  const l = classConditionalLayout(512, 10);
  t.match(l, { codeOffset: 0, classOffset: 512, nullClass: 522, beginImage: 523, pad: 524, vocabSize: 525 });
});

t.test('buildClassSequences: [class] [begin] z_1..z_N, targets shifted by one, image mask on positions 1..N', async (t) => {
  const l = classConditionalLayout(8, 3);
  const codes = Int32Array.from([1, 2, 3, 4, 7, 6, 5, 0]); // [2, 4]
  const s = buildClassSequences(l, codes, Int32Array.from([2, 0]), { dropCondProb: 0, rng: new Rng(0) });
  t.same(s.shape, [2, 6]);
  t.same(Array.from(s.tokens), [8 + 2, l.beginImage, 1, 2, 3, 4, 8 + 0, l.beginImage, 7, 6, 5, 0]);
  t.same(Array.from(s.targets), [-1, 1, 2, 3, 4, -1, -1, 7, 6, 5, 0, -1]);
  t.same(Array.from(s.imageMask), [0, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 0]);
  t.throws(() => buildClassSequences(l, Int32Array.from([8, 0]), Int32Array.from([0]), { dropCondProb: 0, rng: new Rng(0) }), /code 8/);
});

t.test('condition dropout replaces the class by null at about the stated rate', async (t) => {
  const l = classConditionalLayout(4, 2);
  const B = 4000;
  const s = buildClassSequences(l, new Int32Array(B * 2), new Int32Array(B), { dropCondProb: 0.1, rng: new Rng(3) });
  let dropped = 0;
  for (let b = 0; b < B; b++) if (s.tokens[b * 4] === l.nullClass) dropped++;
  t.ok(Math.abs(dropped / B - 0.1) < 0.02, `dropped fraction ${dropped / B} ≈ 0.1`);
});

t.test('buildTextSequences: prompts left-padded to the slot, then begin-image and the codes', async (t) => {
  const l = textConditionalLayout(4, 10);
  const s = buildTextSequences(l, Int32Array.from([1, 2, 3, 0]), [Int32Array.from([5]), Int32Array.from([7, 8])], { promptLen: 3, dropCondProb: 0, rng: new Rng(0) });
  t.same(s.shape, [2, 6]);
  t.same(Array.from(s.tokens), [l.pad, l.pad, 4 + 5, l.beginImage, 1, 2, l.pad, 4 + 7, 4 + 8, l.beginImage, 3, 0]);
  t.same(Array.from(s.targets), [-1, -1, -1, 1, 2, -1, -1, -1, -1, 3, 0, -1]);
});

t.test('imageTokenLoss scores only positions with a target', async (t) => {
  // 1 row, 3 positions, 2 classes; only position 1 is scored, with target 0
  const logits = tensor([[[5, -5], [Math.log(3), 0], [-9, 9]]]);
  const loss = imageTokenLoss(logits, Int32Array.from([-1, 0, -1]));
  t.ok(Math.abs(loss.item() - Math.log(4 / 3)) < 1e-6, `loss ${loss.item()} = ln(4/3)`);
});
