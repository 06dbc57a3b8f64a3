/**
 * The real Fashion-MNIST from Debian's dataset-fashion-mnist, when installed (.ci/run installs
 * it; elsewhere this test is skipped with a note). Known first test labels: ankle boot,
 * pullover, trouser, trouser, shirt.
 */
import { existsSync } from 'node:fs';
import t from 'tap';
import { loadFashionMnist } from '../lib';

const installed = existsSync('/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz');

t.test('Fashion-MNIST test split from the Debian package', { skip: installed ? false : 'dataset-fashion-mnist is not installed (apt-get install dataset-fashion-mnist)' }, async (t) => {
  const ds = loadFashionMnist({ split: 'test' });
  t.same(ds.images.shape, [10000, 1, 28, 28]);
  t.same(Array.from(ds.labels.subarray(0, 5)), [9, 2, 1, 1, 6]);
  t.same([9, 2, 1, 1, 6].map((l) => ds.classNames[l]), ['ankle boot', 'pullover', 'trouser', 'trouser', 'shirt']);
  const v = ds.images.values();
  let min = Infinity;
  let max = -Infinity;
  for (const x of v) { min = Math.min(min, x); max = Math.max(max, x); }
  t.equal(min, 0);
  t.equal(max, 1);
});
