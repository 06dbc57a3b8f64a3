/**
 * lib/backend/fast/pool.ts when helpers are not ready at once (what a page's Web Workers do,
 * lib/platform/browser.ts): until a helper's `ready` settles it claims no unit of a product, all
 * of them run on the calling thread, and the product is the same bits; once ready, helpers claim
 * units too. Here the platform is Node's, with each helper's `ready` held back by the test.
 */
import t from 'tap';

t.test('a helper that is not ready yet: every unit runs on the caller, same bits; then helpers take units', async (t) => {
  const node = require('../lib/platform/index') as typeof import('../lib/platform/index');
  const release: (() => void)[] = [];
  type Gemm = typeof import('../lib/backend/fast/gemm');
  const { GemmEngine } = t.mockRequire<Gemm>('../lib/backend/fast/gemm', {
    '../lib/platform': { // what pool.ts and gemm.ts import as '../../platform'
      ...node,
      startHelperThread: (main: string, data: Record<string, unknown>) => {
        const thread = node.startHelperThread(main, data);
        return { ...thread, ready: new Promise<void>((resolve) => release.push(resolve)) };
      },
    },
  });
  const size = 192; // 7 M multiply-adds: above PARALLEL_MIN_MACS, so the product is split
  let seed = 1;
  const rand = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) - 0.5;
  const a = Float32Array.from({ length: size * size }, rand);
  const b = Float32Array.from({ length: size * size }, rand);
  const product = (engine: InstanceType<typeof GemmEngine>): Float32Array => {
    const out = new Float32Array(size * size);
    engine.matmul({ a, b, out, m: size, k: size, n: size, transA: false, transB: false, aOffsets: [0], bOffsets: [0] });
    return out;
  };
  const one = new GemmEngine(1);
  const expected = product(one);
  const engine = new GemmEngine(3);
  t.teardown(() => { engine.dispose(); one.dispose(); });
  t.equal(engine.threads, 3);
  t.equal(engine.readyThreads, 1, 'no helper is ready yet: only the caller takes work');
  t.same(product(engine), expected, 'before ready: every unit ran on the caller, the same bits as one thread');
  t.equal(engine.helperSlices, 0, 'and no helper ran a unit');
  release.forEach((r) => r());
  await engine.whenReady();
  t.equal(engine.readyThreads, 3, 'after ready: all three threads take work');
  // Units are claimed by whichever thread is free first, so a helper that wakes late may find
  // none left: repeat the product until helpers have run some (at once on an idle machine).
  let reps = 0;
  let same = true;
  while (engine.helperSlices === 0 && reps < 200) {
    const out = product(engine);
    same &&= out.every((v, i) => Object.is(v, expected[i]));
    reps++;
  }
  t.ok(same, `and the product split between threads is the same bits (${reps} products)`);
  t.ok(engine.helperSlices > 0, `helpers ran ${engine.helperSlices} units of them`);
});
