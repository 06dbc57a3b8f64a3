/**
 * The page's threaded WASM matmul against the one-thread one: the same float32 product on
 * both (large enough to be split between threads: lib/backend/fast/gemm.ts PARALLEL_MIN_MACS),
 * the largest difference and each one's best time. Every thread owns whole rows of C and runs
 * the same kernel, so the stated tolerance (1e-5 relative, as test/backend-parity.test.ts) is
 * met with room; in practice the bits agree.
 */
import { createFastBackend, Rng, type FastBackend } from '../../lib';

/** What the check found. */
export interface ThreadCheck {
  /** threads of the threaded backend, the caller included */
  threads: number;
  /** of those, how many took work (in a page, helpers join once their worker started) */
  readyThreads: number;
  /** units of the checked products that helper threads ran (> 0: the workers did the work; pool.ts) */
  helperSlices: number;
  /** max |C_threads − C_1| / max |C_1| */
  maxRelDiff: number;
  msThreads: number;
  msOne: number;
}

/** `size`³ matmul on `threaded` and on a fresh one-thread fast backend, best of `reps`. */
export function checkThreads(threaded: FastBackend, size: number, reps: number): ThreadCheck {
  const rng = new Rng(2);
  const a = Float32Array.from({ length: size * size }, () => rng.normal());
  const b = Float32Array.from({ length: size * size }, () => rng.normal());
  const one = createFastBackend({ threads: 1 });
  const run = (be: FastBackend): { out: Float32Array; ms: number } => {
    const out = new Float32Array(size * size);
    const args = { a, b, out, m: size, k: size, n: size, transA: false, transB: false, aOffsets: [0], bOffsets: [0] };
    let ms = Infinity;
    for (let r = 0; r < reps; r++) {
      const t0 = performance.now();
      be.matmul(args);
      ms = Math.min(ms, performance.now() - t0);
    }
    return { out, ms };
  };
  try {
    const before = threaded.helperSlices;
    const many = run(threaded);
    const helperSlices = threaded.helperSlices - before;
    const single = run(one);
    let diff = 0;
    let scale = 0;
    for (let i = 0; i < size * size; i++) {
      diff = Math.max(diff, Math.abs(many.out[i]! - single.out[i]!));
      scale = Math.max(scale, Math.abs(single.out[i]!));
    }
    return { threads: threaded.threads, readyThreads: threaded.readyThreads, helperSlices, maxRelDiff: diff / scale, msThreads: many.ms, msOne: single.ms };
  } finally {
    one.dispose?.();
  }
}
