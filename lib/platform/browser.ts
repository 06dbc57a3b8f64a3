/**
 * The browser implementation of lib/platform (same exports as index.ts, which documents them).
 * A browser bundle gets this file in place of index.ts (examples/lab/build.ts aliases it).
 *
 * Helper threads: Web Workers over SharedArrayBuffer, which a page has only when it is
 * cross-origin isolated (COOP/COEP headers, as `npm run lab` sends); otherwise the default is
 * one thread and starting a helper is an error that says so. A worker starts only after the
 * page thread returns to its event loop, so each helper reports `ready` by message, and the
 * page thread (which may not `Atomics.wait`, {@link canBlock}) spins on the control block
 * instead of sleeping (lib/backend/fast/pool.ts). The WebAssembly SIMD kernels run unchanged.
 */
import type { HelperThread } from './index';

export type { HelperThread } from './index';

export const platformName: 'node' | 'browser' = 'browser';

/** A page has no environment variables: every backend choice is made with `setBackend`. */
export function env(_name: string): string | undefined {
  return undefined;
}

/** Cross-origin isolated pages (SharedArrayBuffer available): the browser's cores; else one. */
export function defaultThreads(): number {
  return isolated() ? Math.max(1, page().navigator?.hardwareConcurrency ?? 1) : 1;
}

/** A window's thread may not `Atomics.wait` (it throws); a worker's may. */
export function canBlock(): boolean {
  return !('document' in globalThis);
}

/** A Web Worker from `main`'s source (a Blob URL), given `data` by message once it says it listens. */
export function startHelperThread(main: string, data: Record<string, unknown>): HelperThread {
  const Worker = page().Worker;
  if (!isolated() || Worker === undefined) {
    throw new Error('startHelperThread: helper threads for the fast backend need SharedArrayBuffer, which a page has only when cross-origin isolated (serve it with COOP/COEP headers, as npm run lab does); create the backend with threads: 1');
  }
  const source = `onmessage = (e) => { onmessage = null; postMessage('ready'); (${main})(e.data); };`;
  const url = URL.createObjectURL(new Blob([source], { type: 'text/javascript' }));
  const worker = new Worker(url);
  const ready = new Promise<void>((resolve, reject) => {
    worker.onmessage = () => resolve();
    worker.onerror = (e: { message: string }) => reject(new Error(`startHelperThread: the helper worker failed to start: ${e.message}`));
  });
  worker.postMessage(data);
  return { terminate: () => { worker.terminate(); URL.revokeObjectURL(url); }, ready };
}

/** The few page globals used here (lib/ is compiled without the DOM types). */
interface PageWorker {
  onmessage: (() => void) | null;
  onerror: ((e: { message: string }) => void) | null;
  postMessage(data: unknown): void;
  terminate(): void;
}
function page(): { crossOriginIsolated?: boolean; navigator?: { hardwareConcurrency?: number }; Worker?: new (url: string) => PageWorker } {
  return globalThis as never;
}

function isolated(): boolean {
  return page().crossOriginIsolated === true;
}

/** Browsers ship relaxed SIMD (Chrome 114+, Firefox 120+): nothing to switch on. */
export function enableRelaxedSimd(): void {}
