/**
 * Choosing the backend that ops run on.
 *
 * `setBackend('ref' | 'fast' | 'gpujs')` switches at run time; the environment variable
 * `ARRA_BACKEND` picks one at start-up. Without either, the default is the backend that
 * bench/ measured fastest on a CPU-only host (see bench/RESULTS.md).
 *
 * - `ref`: the plain loops in reference.ts, the source of truth.
 * - `fast`: WebAssembly SIMD matmul generated at run time, on all cores (fast/).
 * - `gpujs`: gpu.js kernels for matmul and softmax (gpujs/); on a GPU-less host gpu.js runs
 *   them as WebAssembly (`webasm`), which is slower than `fast`.
 */
import { env } from '../platform';
import type { Backend } from './backend';
import { createFastBackend, type FastBackend } from './fast';
import { createGpujsBackend, type GpujsBackend } from './gpujs';
import { referenceBackend } from './reference';

export type { AdamWArgs, Backend, BinaryKind, MatmulArgs, RmsNormArgs, RmsNormBackwardArgs, RopeArgs, SwigluArgs, SwigluBackwardArgs, UnaryKind } from './backend';
export { referenceAdamW, referenceBackend, referenceLogSumExp, referenceMaskedSoftmax, referenceRmsNorm, referenceRmsNormBackward, referenceRope, referenceSwiglu, referenceSwigluBackward } from './reference';
export { createFastBackend, type FastBackend, type FastBackendOptions } from './fast';
export { createGpujsBackend, DEFAULT_MAX_KERNELS, resolveGpujsMode, type GpujsBackend, type GpujsBackendOptions, type GpujsMode, type KernelCacheStats } from './gpujs';

const registry = new Map<string, () => Backend>([
  ['ref', () => referenceBackend],
  ['fast', () => createFastBackend()],
  ['gpujs', () => createGpujsBackend()],
]);
let current: Backend | null = null;

/** Make a backend selectable by name. The factory runs on first use (lazy: gpu.js is heavy). */
export function registerBackend(name: string, factory: () => Backend): void {
  registry.set(name, factory);
}

/** Names that `setBackend` accepts. */
export function backendNames(): string[] {
  return [...registry.keys()];
}

/** Switch the backend every op uses from now on. */
export function setBackend(name: string): Backend {
  const factory = registry.get(name);
  if (!factory) throw new Error(`setBackend: unknown backend '${name}', expected one of ${backendNames().join(', ')}`);
  // Every switch, to the same name too, releases the previous instance (threads, GPU
  // context, compiled kernels); a shared singleton such as `ref` is kept.
  const previous = current;
  current = factory();
  if (previous && previous !== current) previous.dispose?.();
  return current;
}

/**
 * The default backend's name: `ARRA_BACKEND` when set, else `fast`, the fastest measured on
 * a CPU-only host: matmul 512³ 37.9 GFLOP/s (best-of-N, 2 threads, on the 2-core reference
 * machine; 21 on one thread) against 0.95 for gpujs (webasm) and 0.35 for `ref` in the same
 * run of 2026-11-28, and 1515 tokens/s for the reference transformer's training step
 * (bench/RESULTS.md, docs/speed.md "Measured").
 */
export function defaultBackendName(): string {
  return env('ARRA_BACKEND') || 'fast';
}

/** The backend ops run on (chosen on first use). */
export function backend(): Backend {
  return current ?? setBackend(defaultBackendName());
}

/**
 * Revisions of the `fast` backend's float32 kernels that changed their bits, named in
 * {@link describeArithmetic} from the second on: 2 = the exact GELU and its derivative in
 * float32 (vector-erf.ts) instead of the reference's float64 erf series (2026-12-03).
 */
export const FAST_KERNELS_REVISION = 2;

/**
 * What decides the bits of the current backend's float32 results: its name, and for `fast`
 * the kernels' revision ({@link FAST_KERNELS_REVISION}) and whether the matmul fuses its
 * multiply-adds (`ARRA_FMA`). Not the thread count, which never changes them (a thread owns
 * whole rows of C; the vector kernels run on one thread). The experiment runner records it
 * so that a grid is not resumed on other arithmetic.
 */
export function describeArithmetic(): string {
  const b = backend();
  if (b.name === 'fast') return `fast, ${(b as FastBackend).fma ? 'fused multiply-add' : 'separate multiply and add'}, float32 GELU (kernels r${FAST_KERNELS_REVISION})`;
  if (b.name === 'gpujs') return `gpujs (mode ${(b as GpujsBackend).mode})`;
  return b.name;
}

/**
 * One line naming the current backend, for examples to print at start-up, e.g.
 * `backend fast (wasm-simd f32x4, 2 threads)` or `backend gpujs (mode webasm)`.
 */
export function describeBackend(): string {
  const b = backend();
  if (b.name === 'fast') return `backend fast (wasm-simd f32x4 matmul on ${(b as FastBackend).threads} threads${(b as FastBackend).fma ? ' with fused multiply-add' : ''}, softmax and exp family; float64 → ref)`;
  if (b.name === 'gpujs') return `backend gpujs (mode ${(b as GpujsBackend).mode}; matmul + softmax on gpu.js, rest → ref)`;
  if (b.name === 'ref') return 'backend ref (reference loops, 1 thread)';
  return `backend ${b.name}`;
}
