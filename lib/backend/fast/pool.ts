/**
 * Helper threads for the fast backend: each worker instantiates the same WebAssembly module
 * on the same *shared* memory and runs a slice of a task list when told to.
 *
 * Hand-off is by `Atomics` on a small shared control block, not by `postMessage`: a message
 * round trip costs tens of microseconds, a futex wake a few. Workers are `unref`ed so they
 * never keep the process alive, and `dispose()` terminates them.
 *
 * In a page (lib/platform/browser.ts) two things differ, and only there: a helper takes work
 * only once its `ready` promise has settled — until then its slice runs on the calling thread,
 * which gives the same bits, since every slice owns its own rows of C — and the page thread,
 * which may not `Atomics.wait`, spins on `Atomics.load` for the helpers to finish. In Node every
 * helper is ready at once and the caller sleeps in `Atomics.wait`, as before.
 *
 * The worker's source is a short plain-JS function (started by lib/platform, `eval: true` in
 * Node), because a worker started from a `.ts` file would need the TypeScript loader, which
 * worker threads do not inherit. All real work happens inside the wasm module's `run`.
 */
import { canBlock, startHelperThread, type HelperThread } from '../../platform';
import type { WasmMemory, WasmModule } from './wasm-api';

/** Control block words (Int32). */
const SEQ = 0, TASKS = 1, COUNT = 2, LDC = 3, QUIT = 4, DONE = 5, ARS = 6, APS = 7;

const WORKER_MAIN = `function ({ module, memory, ctrl }) {
  const { run } = new WebAssembly.Instance(module, { env: { memory } }).exports;
  let seen = 0;
  for (;;) {
    Atomics.wait(ctrl, ${SEQ}, seen);
    seen = Atomics.load(ctrl, ${SEQ});
    if (Atomics.load(ctrl, ${QUIT}) === 1) break;
    run(ctrl[${TASKS}], ctrl[${COUNT}], ctrl[${LDC}], ctrl[${ARS}], ctrl[${APS}]);
    Atomics.store(ctrl, ${DONE}, seen);
    Atomics.notify(ctrl, ${DONE});
  }
}`;

/** One helper thread and its control block. */
class Helper {
  private readonly worker: HelperThread;
  private readonly ctrl = new Int32Array(new SharedArrayBuffer(8 * 4));
  private seq = 0;
  /** whether the thread takes work yet (at once in Node; after its `ready` message in a page) */
  isReady: boolean;
  /** settles when {@link isReady} turns true */
  readonly ready: Promise<void>;

  constructor(module: WasmModule, memory: WasmMemory, private readonly spin: boolean) {
    this.worker = startHelperThread(WORKER_MAIN, { module, memory, ctrl: this.ctrl });
    this.isReady = this.worker.ready === undefined;
    this.ready = this.worker.ready ? this.worker.ready.then(() => { this.isReady = true; }) : Promise.resolve();
  }

  /** Start `run(tasks, count, ldc, ars, aps)` on the helper; returns at once. */
  start(tasks: number, count: number, ldc: number, ars: number, aps: number): void {
    this.ctrl[TASKS] = tasks;
    this.ctrl[COUNT] = count;
    this.ctrl[LDC] = ldc;
    this.ctrl[ARS] = ars;
    this.ctrl[APS] = aps;
    this.seq++;
    Atomics.store(this.ctrl, SEQ, this.seq);
    Atomics.notify(this.ctrl, SEQ);
  }

  /** Block until the last `start` has finished. */
  wait(): void {
    if (this.spin) {
      while (Atomics.load(this.ctrl, DONE) !== this.seq); // this thread may not sleep (a page's)
      return;
    }
    while (Atomics.load(this.ctrl, DONE) !== this.seq) Atomics.wait(this.ctrl, DONE, Atomics.load(this.ctrl, DONE), 1000);
  }

  stop(): void {
    Atomics.store(this.ctrl, QUIT, 1);
    Atomics.store(this.ctrl, SEQ, ++this.seq);
    Atomics.notify(this.ctrl, SEQ);
    this.worker.terminate();
  }
}

/** A fixed set of helper threads sharing one wasm memory with the calling thread. */
export class ThreadPool {
  private readonly helpers: Helper[];
  /** slices handed to helper threads so far (what shows that they took work) */
  helperSlices = 0;

  /** `extraThreads` helpers besides the calling thread (0 = single-threaded). */
  constructor(module: WasmModule, memory: WasmMemory, extraThreads: number) {
    const spin = !canBlock();
    this.helpers = Array.from({ length: extraThreads }, () => new Helper(module, memory, spin));
  }

  /** Threads that take part in a parallel run, the caller included. */
  get threads(): number {
    return this.helpers.length + 1;
  }

  /** Threads that take work now, the caller included (= {@link threads} once {@link whenReady} settled). */
  get readyThreads(): number {
    return 1 + this.helpers.filter((h) => h.isReady).length;
  }

  /** Settles when every helper takes work (at once in Node). */
  whenReady(): Promise<void> {
    return Promise.all(this.helpers.map((h) => h.ready)).then(() => undefined);
  }

  /**
   * Run slices of one task list in parallel: slice 0 on the calling thread, slice i on
   * helper i − 1. `slices[i] = [tasksAddr, count]`. Returns when all are done.
   */
  runSlices(
    slices: readonly (readonly [number, number])[], ldc: number, ars: number, aps: number,
    runHere: (tasks: number, count: number, ldc: number, ars: number, aps: number) => void,
  ): void {
    const started: Helper[] = [];
    for (let i = 1; i < slices.length; i++) {
      const h = this.helpers[i - 1]!;
      if (h.isReady) { h.start(slices[i]![0], slices[i]![1], ldc, ars, aps); started.push(h); this.helperSlices++; }
    }
    runHere(slices[0]![0], slices[0]![1], ldc, ars, aps);
    // a helper not yet ready (a page's, before its first message): its slice runs here
    for (let i = 1; i < slices.length; i++) if (!started.includes(this.helpers[i - 1]!)) runHere(slices[i]![0], slices[i]![1], ldc, ars, aps);
    for (const h of started) h.wait();
  }

  dispose(): void {
    for (const h of this.helpers) h.stop();
    this.helpers.length = 0;
  }
}
