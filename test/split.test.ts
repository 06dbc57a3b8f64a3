/**
 * The held-out split by path hash (lib/data/split.ts): a fixed property of each file, disjoint
 * and complete, about the requested share, stable when files are added, and listed in an order
 * that lets a limit draw from every class.
 */
import t from 'tap';
import { hashSplit, isHeldOut, keyListDigest } from '../lib/data/split';

const keys = Array.from({ length: 3000 }, (_, i) => `class${Math.floor(i / 300)}/img_${i}.jpg`);

t.test('disjoint, complete, about 10% held out', async (t) => {
  const { train, test, record } = hashSplit(keys, 0.1);
  t.equal(new Set([...train, ...test]).size, keys.length, 'every item on exactly one side');
  t.equal(train.length + test.length, keys.length);
  t.ok(Math.abs(test.length / keys.length - 0.1) < 0.02, `${test.length} of ${keys.length} held out`);
  t.equal(record.heldOutCount, test.length);
  t.equal(record.heldOutDigest, keyListDigest(test.map((i) => keys[i]!)), 'the record digests the held-out list');
  t.ok(test.every((i) => isHeldOut(keys[i]!, 0.1)) && train.every((i) => !isHeldOut(keys[i]!, 0.1)), 'each side by its own key');
});

t.test('adding files never moves another file across the split', async (t) => {
  const before = hashSplit(keys, 0.1);
  const more = [...keys, ...Array.from({ length: 500 }, (_, i) => `class3/new_${i}.jpg`)];
  const after = hashSplit(more, 0.1);
  const heldBefore = new Set(before.test.map((i) => keys[i]!));
  const heldAfter = new Set(after.test.map((i) => more[i]!));
  t.ok([...heldBefore].every((k) => heldAfter.has(k)), 'every held-out file is still held out');
  t.ok(keys.every((k) => heldBefore.has(k) === heldAfter.has(k)), 'and no training file became held out');
  t.not(after.record.heldOutDigest, before.record.heldOutDigest, 'the held-out list changed, so its digest did');
});

t.test('the first n training items come from every class', async (t) => {
  const { train } = hashSplit(keys, 0.1);
  const classes = new Set(train.slice(0, 200).map((i) => keys[i]!.split('/')[0]));
  t.equal(classes.size, 10, 'a --train-limit of 200 sees all 10 classes (sorted order would see one)');
  t.throws(() => isHeldOut('x', 1.5), /fraction must be in \[0, 1\], got 1.5/);
});
