/**
 * streamSeed: the generators of one run (init, projector, batches, …) must not be another
 * seed's generators. With `seed + k` they were: seed 0's stream 2 was seed 2's stream 0.
 */
import t from 'tap';
import { Rng, streamSeed } from '../lib';

t.test('streams of seeds 0..999 are all distinct, and stream 0 is the seed', (t) => {
  const seen = new Map<number, string>();
  for (let seed = 0; seed < 1000; seed++) {
    t.equal(streamSeed(seed, 0), seed);
    for (let stream = 0; stream < 4; stream++) {
      const v = streamSeed(seed, stream);
      const other = seen.get(v);
      if (other !== undefined) t.fail(`seed ${seed} stream ${stream} = ${other} (${v})`);
      seen.set(v, `seed ${seed} stream ${stream}`);
    }
  }
  t.equal(seen.size, 4000);
  t.end();
});

t.test('neighbouring seeds draw unrelated batches', (t) => {
  const first = (seed: number): number[] => {
    const rng = new Rng(streamSeed(seed, 2));
    return Array.from({ length: 8 }, () => rng.int(1000));
  };
  t.notSame(first(0), first(1));
  t.notSame(new Rng(streamSeed(0, 2)).uniform(), new Rng(2).uniform(), "seed 0's batch stream is not seed 2's init stream");
  t.equal(streamSeed(7, 3), streamSeed(7, 3), 'deterministic');
  t.end();
});
