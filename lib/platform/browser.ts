/**
 * The browser implementation of lib/platform (same exports as index.ts, which documents them).
 * A browser bundle gets this file in place of index.ts (examples/lab/build.ts aliases it).
 *
 * Helper threads: a page's main thread may not block on `Atomics.wait`, which the fast
 * backend's thread pool relies on, so the default is one thread and starting a helper is an
 * error that says so. The WebAssembly SIMD kernels themselves run unchanged.
 */
import type { HelperThread } from './index';

export type { HelperThread } from './index';

export const platformName: 'node' | 'browser' = 'browser';

/** A page has no environment variables: every backend choice is made with `setBackend`. */
export function env(_name: string): string | undefined {
  return undefined;
}

/** One: the fast backend's threads need a thread that may block (see the file comment). */
export function defaultThreads(): number {
  return 1;
}

export function startHelperThread(_main: string, _data: Record<string, unknown>): HelperThread {
  throw new Error('startHelperThread: helper threads for the fast backend are not available in the browser (the page thread cannot Atomics.wait); create the backend with threads: 1');
}
