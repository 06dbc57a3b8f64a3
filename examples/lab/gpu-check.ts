/**
 * Is gpu.js really computing, and computing right? Run its matmul and softmax kernels once on
 * fixed random inputs and compare with the reference loops (lib/backend/reference.ts). The
 * page shows the result; test/lab.test.ts asserts it in Chromium with SwiftShader WebGL.
 */
import { createGpujsBackend, referenceBackend, Rng, type Backend } from '../../lib';

/** What {@link checkGpujs} measured. */
export interface GpuCheck {
  /** gpu.js's resolved mode: `webgl2` / `webgl` in a page with WebGL, else `webasm`/`cpu`. */
  mode: string;
  /** max |gpu − ref| / max(1, |ref|) over a 37×53 · 53×29 product */
  matmulError: number;
  /** max |gpu − ref| over softmax of 12 rows × 100 columns, scaled to ±30 */
  softmaxError: number;
}

export function checkGpujs(): GpuCheck {
  const gpu = createGpujsBackend();
  try {
    const rng = new Rng(42);
    const [m, k, n] = [37, 53, 29];
    const a = Float32Array.from({ length: m * k }, () => rng.normal());
    const b = Float32Array.from({ length: k * n }, () => rng.normal());
    const want = new Float32Array(m * n);
    const got = new Float32Array(m * n);
    const args = { a, b, m, k, n, transA: false, transB: false, aOffsets: [0], bOffsets: [0] };
    referenceBackend.matmul({ ...args, out: want });
    gpu.matmul({ ...args, out: got });
    let matmulError = 0;
    for (let i = 0; i < want.length; i++) matmulError = Math.max(matmulError, Math.abs(got[i]! - want[i]!) / Math.max(1, Math.abs(want[i]!)));
    const [rows, cols] = [12, 100];
    const x = Float32Array.from({ length: rows * cols }, () => 30 * (2 * rng.uniform() - 1));
    const sWant = new Float32Array(rows * cols);
    const sGot = new Float32Array(rows * cols);
    referenceBackend.softmax(x, sWant, rows, cols);
    gpu.softmax(x, sGot, rows, cols);
    let softmaxError = 0;
    for (let i = 0; i < sWant.length; i++) softmaxError = Math.max(softmaxError, Math.abs(sGot[i]! - sWant[i]!));
    return { mode: gpu.mode, matmulError, softmaxError };
  } finally {
    gpu.dispose?.();
  }
}

/**
 * Best-of-`reps` milliseconds of one float32 `size`³ matmul on the *current* backend, after
 * one untimed call (gpu.js compiles its shader then). For bench/lab-step.ts.
 */
export function timeMatmul(run: (args: Parameters<Backend['matmul']>[0]) => void, size: number, reps: number): number {
  const rng = new Rng(1);
  const a = Float32Array.from({ length: size * size }, () => rng.normal());
  const b = Float32Array.from({ length: size * size }, () => rng.normal());
  const out = new Float32Array(size * size);
  const args = { a, b, out, m: size, k: size, n: size, transA: false, transB: false, aOffsets: [0], bOffsets: [0] };
  run(args);
  let best = Infinity;
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    run(args);
    best = Math.min(best, performance.now() - t0);
  }
  return best;
}
