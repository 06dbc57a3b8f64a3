/**
 * Independent trainings side by side: a pool of worker threads, each running a TypeScript
 * module of this project (through tsx, as the CLI itself runs), each with its own `fast`
 * backend on `cores / jobs` matmul threads.
 *
 * Why: one training run keeps ≈ 1.4 of 2 cores busy — the matmul is threaded, the rest of the
 * step (norms, softmax, optimiser, autograd bookkeeping, sampling) runs on one. Two runs at a
 * time, each with a one-thread matmul, keep both cores busy (measured on the 2-core machine,
 * bench/RESULTS.md, "Seventh round: two trainings at a time"). The arithmetic is the same: a matmul unit owns
 * whole rows of its output whatever the thread count (lib/backend/fast/gemm.ts), and every
 * run seeds its own generators, so a model trained in a worker is bit-identical to the one
 * trained in the main thread (test/workers.test.ts).
 *
 * A worker module calls {@link serveJobs} with its job function; the main thread starts a
 * {@link WorkerPool} on that file and awaits `pool.run(input)` per job. Inputs and outputs are
 * structured-cloned (plain objects, typed arrays). `pool.stop()` asks every running job to stop
 * after its current step ({@link stopRequested}); signals reach only the main thread, so
 * Ctrl-C is forwarded this way.
 */
import { availableParallelism } from 'node:os';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';

type Reply = { id: number; ok: true; value: unknown } | { id: number; ok: false; message: string; stack?: string };
type Request = { type: 'job'; id: number; input: unknown } | { type: 'stop' };

let stopFlag = false;

/** True once the main thread asked this worker's jobs to stop (Ctrl-C there); always false in the main thread. */
export function stopRequested(): boolean {
  return stopFlag;
}

/** What a worker sees of the pool: the value given to {@link WorkerPool} as `shared` (once, not per job). */
export function sharedData<T>(): T {
  return (workerData as { shared: T }).shared;
}

/**
 * Matmul threads per job when `jobs` run at once: the cores shared out, at least one. With
 * one job it is undefined (the backend's own default: every core).
 */
export function threadsPerJob(jobs: number, cores = availableParallelism()): number | undefined {
  return jobs <= 1 ? undefined : Math.max(1, Math.floor(cores / jobs));
}

/** In a worker module: answer the pool's jobs with `fn`, one at a time, in order of arrival. */
export function serveJobs<I, O>(fn: (input: I) => O | Promise<O>): void {
  if (isMainThread || !parentPort) throw new Error('serveJobs: call it in a worker started by WorkerPool, not in the main thread');
  const port = parentPort;
  let chain = Promise.resolve();
  port.on('message', (msg: Request) => {
    if (msg.type === 'stop') {
      stopFlag = true;
      return;
    }
    chain = chain.then(async () => {
      let reply: Reply;
      try {
        reply = { id: msg.id, ok: true, value: await fn(msg.input as I) };
      } catch (err) {
        const e = err instanceof Error ? err : new Error(String(err));
        reply = { id: msg.id, ok: false, message: e.message, stack: e.stack };
      }
      port.postMessage(reply);
    });
  });
}

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
}

/** `jobs` worker threads running `file` (a module that calls {@link serveJobs}). */
export class WorkerPool<I, O> {
  private readonly workers: Worker[] = [];
  private readonly idle: Worker[] = [];
  private readonly queue: { id: number; input: I }[] = [];
  private readonly pending = new Map<number, Pending>();
  private readonly busy = new Map<Worker, number>();
  private nextId = 0;
  private failure: Error | null = null;
  private closing = false;

  /**
   * @param file absolute path of the worker module (.ts runs through tsx's CommonJS hook)
   * @param jobs threads to start
   * @param shared a structured-clonable value every worker receives once ({@link sharedData})
   */
  constructor(file: string, readonly jobs: number, shared: unknown = null) {
    if (!Number.isInteger(jobs) || jobs < 1) throw new Error(`WorkerPool: jobs must be a positive integer, got ${jobs}`);
    const threads = threadsPerJob(jobs);
    const hook = file.endsWith('.ts') ? `require(${JSON.stringify(require.resolve('tsx/cjs'))});` : '';
    const source = `${hook}require(${JSON.stringify(file)});`;
    for (let w = 0; w < jobs; w++) {
      const worker = new Worker(source, {
        eval: true, workerData: { shared },
        // each worker's fast backend reads ARRA_THREADS when it first runs a kernel
        env: { ...process.env, ...(threads ? { ARRA_THREADS: String(threads) } : {}) },
      });
      worker.on('message', (reply: Reply) => this.settle(worker, reply));
      worker.on('error', (err) => this.fail(worker, err));
      worker.on('exit', (code) => { if (code !== 0) this.fail(worker, new Error(`worker exited with code ${code}`)); });
      this.workers.push(worker);
      this.idle.push(worker);
    }
  }

  /** Run one job on the next free worker. */
  run(input: I): Promise<O> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    const done = new Promise<O>((resolve, reject) => this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject }));
    this.queue.push({ id, input });
    this.dispatch();
    return done;
  }

  /** Ask every running job to stop after its current step; queued jobs are dropped (rejected). */
  stop(): void {
    for (const w of this.workers) w.postMessage({ type: 'stop' } satisfies Request);
    for (const { id } of this.queue.splice(0)) this.pending.get(id)?.reject(new Error('stopped before it started'));
  }

  /** Terminate the workers (after the jobs one awaits have settled). */
  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(this.workers.map((w) => w.terminate()));
  }

  private dispatch(): void {
    while (this.idle.length > 0 && this.queue.length > 0) {
      const worker = this.idle.pop()!;
      const job = this.queue.shift()!;
      this.busy.set(worker, job.id);
      worker.postMessage({ type: 'job', id: job.id, input: job.input } satisfies Request);
    }
  }

  private settle(worker: Worker, reply: Reply): void {
    const p = this.pending.get(reply.id);
    this.pending.delete(reply.id);
    this.busy.delete(worker);
    this.idle.push(worker);
    if (reply.ok) p?.resolve(reply.value);
    else {
      const err = new Error(reply.message);
      if (reply.stack) err.stack = reply.stack;
      p?.reject(err);
    }
    this.dispatch();
  }

  /** A worker that crashed (not a job that threw): its job fails, and so does every later one. */
  private fail(worker: Worker, err: Error): void {
    if (this.closing) return;
    this.failure ??= err;
    const id = this.busy.get(worker);
    if (id !== undefined) {
      this.pending.get(id)?.reject(err);
      this.pending.delete(id);
      this.busy.delete(worker);
    }
    for (const { id: q } of this.queue.splice(0)) this.pending.get(q)?.reject(err);
  }
}
