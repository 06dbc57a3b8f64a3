/**
 * The `gpujs` backend: matmul and softmax as gpu.js kernels; everything else is delegated
 * to the reference kernels.
 *
 * gpu.js translates a small JavaScript function into a GPU shader (WebGL / headless-gl /
 * WebGPU) or, without a GPU, into WebAssembly (`webasm`). One *thread* computes one output
 * element, so a matmul kernel is just the dot product for `(this.thread.y, this.thread.x)`.
 *
 * Two traps this file avoids:
 * - A loop whose bound is an argument silently stops after 1000 iterations unless
 *   `loopMaxIterations` is raised. Here k is a *constant* baked into the kernel and
 *   `loopMaxIterations` is set to k too, so K > 1000 is correct (tested).
 * - Compiling a kernel costs milliseconds to seconds, so kernels are cached by shape. Shapes
 *   vary with the sequence length (one 49-token sampling call meets ~250 of them), so the
 *   cache is bounded: least recently used first out, and an evicted kernel is destroyed
 *   (its textures and program freed); {@link DEFAULT_MAX_KERNELS} (512) kernels by default.
 *   `dispose()` destroys them all and the GPU context (no leaked textures).
 *
 * Mode: `auto` picks `headlessgl` when a GL context exists, `webgpu` when the WebGPU API
 * exists, `webasm` otherwise; `ARRA_GPUJS_MODE` or the `mode` option overrides it.
 */
import { GPU, type IGPUKernelSettings, type IKernelRunShortcut } from 'gpu.js';
import type { FloatArray } from '../../tensor';
import type { Backend, MatmulArgs } from '../backend';
import { referenceBackend } from '../reference';

/** Modes `createGpujsBackend` accepts (`auto` resolves to one of the others). */
export type GpujsMode = 'auto' | 'headlessgl' | 'webgl' | 'webgl2' | 'webgpu' | 'webasm' | 'cpu';

/**
 * How many compiled kernels the cache keeps (default of {@link GpujsBackendOptions.maxKernels}).
 * Sampling 49 tokens with the demo's transformer meets 253 shapes at batch 2 and 408 over
 * batches 2 and 3 together; 512 keeps that working set (a smaller bound makes LRU evict every
 * kernel before its next use: 128 recompiled all 253 on every call). Measured (webasm, 2-core
 * machine, `mnist` preset, seven sampling calls at batch 1…7): unbounded, 1171 kernels, heap
 * 96 MiB, RSS 238 MiB; bounded at 512, 512 kernels, heap 54 MiB, RSS 187 MiB. On a GPU the
 * bound also caps the textures and programs held.
 */
export const DEFAULT_MAX_KERNELS = 512;

/** Options of {@link createGpujsBackend}. */
export interface GpujsBackendOptions {
  /** default: `ARRA_GPUJS_MODE`, else `auto` */
  mode?: GpujsMode;
  /** most compiled kernels kept at once, ≥ 3 (softmax needs three); default {@link DEFAULT_MAX_KERNELS} */
  maxKernels?: number;
}

/** Counters of the kernel cache (see {@link GpujsBackend.kernelCache}). */
export interface KernelCacheStats {
  /** kernels held now (≤ max) */
  size: number;
  max: number;
  /** kernels compiled since creation */
  compiled: number;
  /** kernels evicted (and destroyed) to stay within max */
  evicted: number;
}

/** The gpu.js backend, with the mode gpu.js actually runs in. */
export interface GpujsBackend extends Backend {
  /** The resolved gpu.js mode (`webasm`, `headlessgl`, …). */
  readonly mode: string;
  /** The kernel cache's counters, a snapshot. */
  readonly kernelCache: KernelCacheStats;
}

/** Resolve `auto` by what this process can reach. */
export function resolveGpujsMode(mode: GpujsMode): Exclude<GpujsMode, 'auto'> {
  if (mode !== 'auto') return mode;
  if (GPU.isHeadlessGLSupported) return 'headlessgl';
  // Only the API's presence can be checked synchronously; an adapter may still be missing.
  if (GPU.isWebGPUSupported) return 'webgpu';
  return 'webasm';
}

// Kernel sources as strings, so gpu.js parses exactly this text (not transpiler output).
// Output is [n, m] in gpu.js order (x = column j, y = row i).
const matmulSource = (transA: boolean, transB: boolean): string => `function (a, b) {
  let acc = 0;
  for (let p = 0; p < this.constants.k; p++) {
    acc += a[${transA ? 'p * this.constants.m + this.thread.y' : 'this.thread.y * this.constants.k + p'}]
         * b[${transB ? 'this.thread.x * this.constants.k + p' : 'p * this.constants.n + this.thread.x'}];
  }
  return acc;
}`;

/** Softmax pass 1: the row max (subtracting it keeps exp ≤ 1, so rows of ±1000 stay finite). */
const rowMaxSource = `function (x) {
  const base = this.thread.x * this.constants.cols;
  let mx = -Infinity;
  for (let c = 0; c < this.constants.cols; c++) mx = Math.max(mx, x[base + c]);
  return mx;
}`;

/** Pass 2: the row sum Σ_c exp(x[r, c] − max[r]). */
const rowSumExpSource = `function (x, mx) {
  const base = this.thread.x * this.constants.cols;
  let s = 0;
  for (let c = 0; c < this.constants.cols; c++) s += Math.exp(x[base + c] - mx[this.thread.x]);
  return s;
}`;

/** Pass 3: out[r, c] = exp(x[r, c] − max[r]) / sum[r]. */
const softmaxNormalizeSource = `function (x, mx, sum) {
  return Math.exp(x[this.thread.y * this.constants.cols + this.thread.x] - mx[this.thread.y]) / sum[this.thread.y];
}`;

/** Create the gpu.js backend (the GPU context is created at once; kernels on first use). */
export function createGpujsBackend(opts: GpujsBackendOptions = {}): GpujsBackend {
  const requested = opts.mode ?? (process.env.ARRA_GPUJS_MODE as GpujsMode | undefined) ?? 'auto';
  const maxKernels = opts.maxKernels ?? DEFAULT_MAX_KERNELS;
  if (!Number.isInteger(maxKernels) || maxKernels < 3) throw new Error(`createGpujsBackend: maxKernels must be an integer ≥ 3 (softmax uses three kernels), got ${maxKernels}`);
  const gpu = new GPU({ mode: resolveGpujsMode(requested) });
  // A Map iterates in insertion order: re-inserting on every hit keeps the least recently
  // used kernel first, so that is the one evicted.
  const kernels = new Map<string, IKernelRunShortcut>();
  const stats = { compiled: 0, evicted: 0 };

  /** The compiled kernel for `key`, compiling it on first use (and evicting the least recently used). */
  const kernel = (key: string, source: string, output: number[], constants: Record<string, number>, loops: number): IKernelRunShortcut => {
    let k = kernels.get(key);
    if (k) {
      kernels.delete(key);
      kernels.set(key, k);
    } else {
      while (kernels.size >= maxKernels) {
        const [oldest, evicted] = kernels.entries().next().value as [string, IKernelRunShortcut];
        kernels.delete(oldest);
        evicted.destroy();
        stats.evicted++;
      }
      stats.compiled++;
      // loopMaxIterations is a kernel setting at run time, missing from gpu.js's typings.
      const settings: IGPUKernelSettings & { loopMaxIterations: number } = {
        output, constants, loopMaxIterations: Math.max(loops, 1), precision: 'single', tactic: 'precision',
      };
      k = gpu.createKernel(source, settings);
      kernels.set(key, k);
    }
    return k;
  };

  /** Copy a kernel result (rows of Float32Array, or one array for 1-D) into `out` at `offset`. */
  const copyOut = (result: unknown, out: FloatArray, offset: number, cols: number): void => {
    if (ArrayBuffer.isView(result)) { out.set(result as Float32Array, offset); return; }
    const rows = result as Float32Array[];
    for (let r = 0; r < rows.length; r++) out.set(rows[r]!, offset + r * cols);
  };

  return {
    name: 'gpujs',
    get mode(): string {
      return gpu.mode;
    },
    get kernelCache(): KernelCacheStats {
      return { size: kernels.size, max: maxKernels, ...stats };
    },

    matmul(args: MatmulArgs): void {
      const { a, b, out, m, k, n, transA, transB, aOffsets, bOffsets } = args;
      if (!(out instanceof Float32Array) || k === 0) { referenceBackend.matmul(args); return; }
      const mm = kernel(`matmul ${m}x${k}x${n} ${transA} ${transB}`, matmulSource(transA, transB), [n, m], { m, k, n }, k);
      for (let batch = 0; batch < aOffsets.length; batch++) {
        const ao = aOffsets[batch]!;
        const bo = bOffsets[batch]!;
        const result = mm(a.subarray(ao, ao + m * k), b.subarray(bo, bo + k * n));
        copyOut(result, out, batch * m * n, n);
      }
    },

    softmax(x, out, rows, cols): void {
      if (!(out instanceof Float32Array) || rows === 0 || cols === 0) { referenceBackend.softmax(x, out, rows, cols); return; }
      const maxKernel = kernel(`rowMax ${rows}x${cols}`, rowMaxSource, [rows], { cols }, cols);
      const sumKernel = kernel(`rowSumExp ${rows}x${cols}`, rowSumExpSource, [rows], { cols }, cols);
      const normKernel = kernel(`softmax ${rows}x${cols}`, softmaxNormalizeSource, [cols, rows], { cols }, 1);
      const mx = maxKernel(x) as Float32Array;
      const sum = sumKernel(x, mx) as Float32Array;
      copyOut(normKernel(x, mx, sum), out, 0, cols);
    },

    softmaxBackward: referenceBackend.softmaxBackward,
    binary: referenceBackend.binary,
    unary: referenceBackend.unary,
    sumMiddle: referenceBackend.sumMiddle,

    dispose(): void {
      for (const k of kernels.values()) k.destroy();
      kernels.clear();
      void gpu.destroy();
    },
  };
}
