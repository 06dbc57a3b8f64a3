/**
 * What the framework needs from its host that differs between Node and a browser: environment
 * variables, the number of cores, and helper threads for the fast backend.
 *
 * This file is the Node implementation. browser.ts has the same exports and is what a browser
 * bundle gets instead (examples/lab/build.ts aliases this path to it); the two are kept in step
 * by test/platform.test.ts. Everything else in lib/ and models/ reaches the host only through
 * here, or through Node built-ins (files, zlib, crypto) that a browser bundle replaces with
 * stubs that throw "not available in the browser" when called (browser-builtins.ts).
 */
import { availableParallelism } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { Worker } from 'node:worker_threads';

/** Which implementation this is: `node` here, `browser` in browser.ts. */
export const platformName: 'node' | 'browser' = 'node';

/** An environment variable, or undefined when unset (a browser has none). */
export function env(name: string): string | undefined {
  return process.env[name];
}

/** Cores the fast backend may use by default (os.availableParallelism()). */
export function defaultThreads(): number {
  return availableParallelism();
}

/** A helper thread started by {@link startHelperThread}. */
export interface HelperThread {
  terminate(): void;
  /**
   * Settles when the thread runs `main` and can take work. Absent when it may be used at once:
   * a Node worker starts on its own while the caller blocks. A page's worker starts only after
   * the page thread returns to its event loop, so handing it work before then would spin forever.
   */
  ready?: Promise<void>;
}

/** Whether this thread may block in `Atomics.wait` (Node: yes, every thread). */
export function canBlock(): boolean {
  return true;
}

/**
 * Start a thread running `main(data)`, where `main` is the source text of a plain-JS function
 * (no imports, no TypeScript) and `data` is structured-cloned into it (shared memories stay
 * shared). The thread never keeps the process alive.
 */
export function startHelperThread(main: string, data: Record<string, unknown>): HelperThread {
  const source = `(${main})(require('worker_threads').workerData);`;
  const worker = new Worker(source, { eval: true, workerData: data });
  worker.unref();
  return { terminate: () => void worker.terminate() };
}

/**
 * Let WebAssembly modules compiled from now on use relaxed SIMD (the fast matmul's fused
 * multiply-add). Node 20's V8 has it behind `--experimental-wasm-relaxed-simd`; the flag is
 * process-wide, so worker threads started later see it too. Browsers ship it (Chrome 114+):
 * there this does nothing. Callers check with `WebAssembly.validate` whether it took effect.
 */
export function enableRelaxedSimd(): void {
  setFlagsFromString('--experimental-wasm-relaxed-simd');
}
