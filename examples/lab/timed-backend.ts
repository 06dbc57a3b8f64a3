/**
 * A backend wrapper that times every kernel call, for the page's "which kernels ran where"
 * panel. It forwards each call unchanged (same results, bit for bit) and adds up the wall time
 * per kernel: `matmul`, `softmax`, `binary:add`, `unary:exp`, …
 *
 * Only what goes through the Backend interface is timed; ops that loop in TypeScript
 * themselves (indexing, convolutions' im2col, reductions other than sumMiddle) are the
 * "outside the backend" share of a step.
 */
import type { Backend } from '../../lib';

/** Calls and milliseconds of one kernel. */
export interface KernelTime {
  kernel: string;
  calls: number;
  ms: number;
}

/** A backend that also reports its kernels' times. */
export interface TimedBackend extends Backend {
  readonly inner: Backend;
  /** Times since the last `resetTimes()`, slowest first. */
  times(): KernelTime[];
  resetTimes(): void;
}

function clock(): number {
  return globalThis.performance?.now() ?? Date.now();
}

/** Wrap `inner`; the wrapper keeps its name, so `describeBackend()` still says which one runs. */
export function timedBackend(inner: Backend): TimedBackend {
  const table = new Map<string, KernelTime>();
  const time = <T>(kernel: string, run: () => T): T => {
    const t0 = clock();
    try {
      return run();
    } finally {
      const row = table.get(kernel) ?? { kernel, calls: 0, ms: 0 };
      row.calls++;
      row.ms += clock() - t0;
      table.set(kernel, row);
    }
  };
  // Object.create keeps the inner backend's getters (gpujs `mode`, fast `threads`) reachable.
  const timed = Object.create(inner) as TimedBackend & { inner: Backend };
  Object.assign(timed, {
    inner,
    matmul: (args) => time('matmul', () => inner.matmul(args)),
    softmax: (x, out, rows, cols) => time('softmax', () => inner.softmax(x, out, rows, cols)),
    softmaxBackward: (y, dy, out, rows, cols) => time('softmaxBackward', () => inner.softmaxBackward(y, dy, out, rows, cols)),
    binary: (kind, a, aShape, b, bShape, out, outShape) => time(`binary:${kind}`, () => inner.binary(kind, a, aShape, b, bShape, out, outShape)),
    unary: (kind, x, out) => time(`unary:${kind}`, () => inner.unary(kind, x, out)),
    sumMiddle: (x, out, outer, mid, inner_) => time('sumMiddle', () => inner.sumMiddle(x, out, outer, mid, inner_)),
    times: () => [...table.values()].map((r) => ({ ...r })).sort((a, b) => b.ms - a.ms),
    resetTimes: () => table.clear(),
    dispose: () => inner.dispose?.(),
  } satisfies Partial<TimedBackend>);
  return timed;
}
