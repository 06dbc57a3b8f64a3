/**
 * Helper threads for the fast backend: each worker instantiates the same WebAssembly module
 * on the same *shared* memory and runs a slice of a task list when told to.
 *
 * Hand-off is by `Atomics` on a small shared control block, not by `postMessage`: a message
 * round trip costs tens of microseconds, a futex wake a few. Workers are `unref`ed so they
 * never keep the process alive, and `dispose()` terminates them.
 *
 * The worker's source is a short plain-JS string (run with `eval: true`), because a worker
 * started from a `.ts` file would need the TypeScript loader, which worker threads do not
 * inherit. All real work happens inside the wasm module's `run`.
 */
import { Worker } from 'worker_threads';
import type { WasmMemory, WasmModule } from './wasm-api';

/** Control block words (Int32). */
const SEQ = 0, TASKS = 1, COUNT = 2, LDC = 3, QUIT = 4, DONE = 5, ARS = 6, APS = 7;

const WORKER_SOURCE = `
const { workerData } = require('worker_threads');
const { module, memory, ctrl } = workerData;
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
`;

/** One helper thread and its control block. */
class Helper {
  private readonly worker: Worker;
  private readonly ctrl = new Int32Array(new SharedArrayBuffer(8 * 4));
  private seq = 0;

  constructor(module: WasmModule, memory: WasmMemory) {
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { module, memory, ctrl: this.ctrl } });
    this.worker.unref();
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
    while (Atomics.load(this.ctrl, DONE) !== this.seq) Atomics.wait(this.ctrl, DONE, Atomics.load(this.ctrl, DONE), 1000);
  }

  stop(): void {
    Atomics.store(this.ctrl, QUIT, 1);
    Atomics.store(this.ctrl, SEQ, ++this.seq);
    Atomics.notify(this.ctrl, SEQ);
    void this.worker.terminate();
  }
}

/** A fixed set of helper threads sharing one wasm memory with the calling thread. */
export class ThreadPool {
  private readonly helpers: Helper[];

  /** `extraThreads` helpers besides the calling thread (0 = single-threaded). */
  constructor(module: WasmModule, memory: WasmMemory, extraThreads: number) {
    this.helpers = Array.from({ length: extraThreads }, () => new Helper(module, memory));
  }

  /** Threads that take part in a parallel run, the caller included. */
  get threads(): number {
    return this.helpers.length + 1;
  }

  /**
   * Run slices of one task list in parallel: slice 0 on the calling thread, slice i on
   * helper i − 1. `slices[i] = [tasksAddr, count]`. Returns when all are done.
   */
  runSlices(
    slices: readonly (readonly [number, number])[], ldc: number, ars: number, aps: number,
    runHere: (tasks: number, count: number, ldc: number, ars: number, aps: number) => void,
  ): void {
    for (let i = 1; i < slices.length; i++) this.helpers[i - 1]!.start(slices[i]![0], slices[i]![1], ldc, ars, aps);
    runHere(slices[0]![0], slices[0]![1], ldc, ars, aps);
    for (let i = 1; i < slices.length; i++) this.helpers[i - 1]!.wait();
  }

  dispose(): void {
    for (const h of this.helpers) h.stop();
    this.helpers.length = 0;
  }
}
