/**
 * Helper threads for the fast backend: each worker instantiates the same WebAssembly module
 * on the same *shared* memory and, when woken, helps run the *units* of a product.
 *
 * A product's task list is cut into units (contiguous runs of task records that write their
 * own rows of C). Every thread — the caller and each helper — claims the next unclaimed unit
 * with an atomic compare-and-swap on a shared counter and runs it, until none is left; the
 * caller then waits only for units that helpers are still running. So a helper that is late
 * (asleep on a busy core of a loaded machine) costs nothing: the caller simply runs more
 * units itself. Which thread runs a unit never changes its bits: a unit is the same kernel
 * calls on the same data whoever runs it.
 *
 * Hand-off is by `Atomics` on a small shared control block, not by `postMessage`: a message
 * round trip costs tens of microseconds, a futex wake a few. Workers are `unref`ed so they
 * never keep the process alive, and `dispose()` terminates them.
 *
 * In a page (lib/platform/browser.ts) two things differ, and only there: a helper takes work
 * only once its `ready` promise has settled (the caller enables it then), and the page
 * thread, which may not `Atomics.wait`, spins on `Atomics.load` for the helpers to finish.
 * In Node every helper is ready at once and the caller sleeps in `Atomics.wait`.
 *
 * The worker's source is a short plain-JS function (started by lib/platform, `eval: true` in
 * Node), because a worker started from a `.ts` file would need the TypeScript loader, which
 * worker threads do not inherit. All real work happens inside the wasm module's `run`.
 */
import { canBlock, startHelperThread, type HelperThread } from '../../platform';
import type { WasmMemory, WasmModule } from './wasm-api';

/**
 * Control block words (Int32). SEQ: bumped to wake the helpers. NEXT: next unclaimed unit
 * (CLOSED between products). UNITS: units of the current product. DONE: units finished.
 * LDC/ARS/APS/BPS: the product's strides. QUIT: stop. HELPED: units run by helpers so far.
 * ENABLED + i: helper i may take work. TABLE + 2u, TABLE + 2u + 1: unit u's first task
 * record (byte address) and record count.
 */
const SEQ = 0, NEXT = 1, UNITS = 2, DONE = 3, LDC = 4, ARS = 5, APS = 6, QUIT = 7, HELPED = 8, BPS = 9, ENABLED = 16, TABLE = 64;
/** Most units one product is cut into (the table's size in the control block). */
export const MAX_UNITS = 1024;
/** NEXT between products: above any unit index, so a late claim fails. */
const CLOSED = 0x40000000;

/**
 * The claim loop, shared verbatim by the helpers (as source text) and the caller. A claim is a
 * compare-and-swap of NEXT from u to u + 1; the unit count and the strides are read only after
 * it succeeded, when they are sure to be the live product's (the caller changes them only
 * after every unit it counted is DONE, with NEXT closed meanwhile). `helper` is false on the
 * caller; helpers also count HELPED, and the one that finishes the last unit wakes the caller.
 */
const CLAIM_LOOP = `function claimLoop(ctrl, run, helper) {
  for (;;) {
    const u = Atomics.load(ctrl, ${NEXT});
    if (u >= Atomics.load(ctrl, ${UNITS})) return;
    if (Atomics.compareExchange(ctrl, ${NEXT}, u, u + 1) !== u) continue;
    const units = Atomics.load(ctrl, ${UNITS});
    if (u >= units) return;
    run(ctrl[${TABLE} + 2 * u], ctrl[${TABLE} + 2 * u + 1], ctrl[${LDC}], ctrl[${ARS}], ctrl[${APS}], ctrl[${BPS}]);
    if (helper) Atomics.add(ctrl, ${HELPED}, 1);
    if (Atomics.add(ctrl, ${DONE}, 1) + 1 === units && helper) Atomics.notify(ctrl, ${DONE});
  }
}`;

const WORKER_MAIN = `function ({ module, memory, ctrl, index }) {
  ${CLAIM_LOOP}
  const { run } = new WebAssembly.Instance(module, { env: { memory } }).exports;
  let seen = 0;
  for (;;) {
    Atomics.wait(ctrl, ${SEQ}, seen);
    seen = Atomics.load(ctrl, ${SEQ});
    if (Atomics.load(ctrl, ${QUIT}) === 1) break;
    if (Atomics.load(ctrl, ${ENABLED} + index) === 1) claimLoop(ctrl, run, true);
  }
}`;

type Run = (tasks: number, count: number, ldc: number, ars: number, aps: number, bps: number) => void;
// eslint-disable-next-line @typescript-eslint/no-implied-eval
const claimLoop = new Function(`return ${CLAIM_LOOP}`)() as (ctrl: Int32Array, run: Run, helper: boolean) => void;

/** One helper thread. */
class Helper {
  private readonly worker: HelperThread;
  /** whether the thread takes work yet (at once in Node; after its `ready` message in a page) */
  isReady: boolean;
  /** settles when {@link isReady} turns true */
  readonly ready: Promise<void>;

  constructor(module: WasmModule, memory: WasmMemory, ctrl: Int32Array, index: number) {
    this.worker = startHelperThread(WORKER_MAIN, { module, memory, ctrl, index });
    const enable = (): void => { this.isReady = true; Atomics.store(ctrl, ENABLED + index, 1); };
    this.isReady = false;
    if (this.worker.ready === undefined) enable();
    this.ready = this.worker.ready ? this.worker.ready.then(enable) : Promise.resolve();
  }

  stop(): void {
    this.worker.terminate();
  }
}

/** A fixed set of helper threads sharing one wasm memory with the calling thread. */
export class ThreadPool {
  private readonly helpers: Helper[];
  private readonly ctrl = new Int32Array(new SharedArrayBuffer((TABLE + 2 * MAX_UNITS) * 4));
  private readonly spin: boolean;

  /** `extraThreads` helpers besides the calling thread (0 = single-threaded). */
  constructor(module: WasmModule, memory: WasmMemory, extraThreads: number) {
    if (extraThreads > TABLE - ENABLED) throw new Error(`ThreadPool: at most ${TABLE - ENABLED} helper threads, got ${extraThreads}`);
    this.spin = !canBlock();
    Atomics.store(this.ctrl, NEXT, CLOSED);
    this.helpers = Array.from({ length: extraThreads }, (_, i) => new Helper(module, memory, this.ctrl, i));
  }

  /** Threads that take part in a parallel run, the caller included. */
  get threads(): number {
    return this.helpers.length + 1;
  }

  /** Threads that take work now, the caller included (= {@link threads} once {@link whenReady} settled). */
  get readyThreads(): number {
    return 1 + this.helpers.filter((h) => h.isReady).length;
  }

  /** Units of products that helper threads have run so far (`helperSlices` of the engine). */
  get helperSlices(): number {
    return Atomics.load(this.ctrl, HELPED);
  }

  /** Settles when every helper takes work (at once in Node). */
  whenReady(): Promise<void> {
    return Promise.all(this.helpers.map((h) => h.ready)).then(() => undefined);
  }

  /**
   * Run the units of one task list on the calling thread and whichever helpers wake in time:
   * `units[u] = [tasksAddr, count]` (at most {@link MAX_UNITS}). Returns when all are done.
   */
  runUnits(
    units: readonly (readonly [number, number])[], ldc: number, ars: number, aps: number, bps: number, runHere: Run,
  ): void {
    const n = units.length;
    if (n > MAX_UNITS) throw new Error(`ThreadPool.runUnits: at most ${MAX_UNITS} units, got ${n}`);
    const ctrl = this.ctrl;
    if (n === 1 || this.readyThreads === 1) {
      for (const [tasks, count] of units) runHere(tasks, count, ldc, ars, aps, bps);
      return;
    }
    // NEXT is CLOSED here (since the last product finished), so no late claim can succeed
    // while the table and strides are rewritten.
    for (let u = 0; u < n; u++) { ctrl[TABLE + 2 * u] = units[u]![0]; ctrl[TABLE + 2 * u + 1] = units[u]![1]; }
    ctrl[LDC] = ldc; ctrl[ARS] = ars; ctrl[APS] = aps; ctrl[BPS] = bps;
    Atomics.store(ctrl, UNITS, n);
    Atomics.store(ctrl, DONE, 0);
    Atomics.store(ctrl, NEXT, 0); // publish: claims may start
    Atomics.add(ctrl, SEQ, 1);
    Atomics.notify(ctrl, SEQ);
    claimLoop(ctrl, runHere, false);
    // Every unit is claimed; wait for those still running on helpers.
    for (let d = Atomics.load(ctrl, DONE); d !== n; d = Atomics.load(ctrl, DONE)) {
      if (!this.spin) Atomics.wait(ctrl, DONE, d, 1000);
    }
    Atomics.store(ctrl, NEXT, CLOSED);
  }

  dispose(): void {
    Atomics.store(this.ctrl, QUIT, 1);
    Atomics.add(this.ctrl, SEQ, 1);
    Atomics.notify(this.ctrl, SEQ);
    for (const h of this.helpers) h.stop();
    this.helpers.length = 0;
  }
}
