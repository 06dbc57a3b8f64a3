/**
 * The `fast` CPU backend: WebAssembly SIMD matmul on all cores, with a fused multiply-add where
 * the host has one (gemm.ts, fma.ts), WebAssembly SIMD
 * softmax, softmax backward, exp/sigmoid/SiLU/tanh-GELU, logsumexp, RMSNorm, SwiGLU, RoPE and AdamW (vector-kernels.ts and softmax-kernels.ts, run by
 * vector.ts), and inlined TypeScript loops for the other memory-bound kernels (elementwise.ts).
 *
 * float32 only: float64 work (gradient checks) goes to the reference kernels, which are the
 * source of truth anyway. Everything here is checked against them by
 * test/backend-parity.test.ts.
 */
import { env } from '../../platform';
import type { Backend, MatmulArgs } from '../backend';
import { referenceAdamW, referenceBackend, referenceLogSumExp, referenceMaskedSoftmax, referenceRmsNorm, referenceRmsNormBackward, referenceRope, referenceSwiglu, referenceSwigluBackward } from '../reference';
import { fastBinary, fastSumMiddle, fastUnary } from './elementwise';
import { GemmEngine } from './gemm';
import { isVectorUnary, VectorEngine } from './vector';

export { GemmEngine, PARALLEL_MIN_MACS } from './gemm';

/** Options of {@link createFastBackend}. */
export interface FastBackendOptions {
  /** Threads for large products, the caller's included (default: the machine's cores; 1 = no workers). */
  threads?: number;
  /**
   * The matmul's multiply-add: `'auto'` (default) fuses it where this host has a fused
   * `f32x4.relaxed_madd` (fma.ts), `false` never does (the results of code before the fused
   * kernel, bit for bit), `true` requires it. Environment: `ARRA_FMA=auto|0|1`.
   */
  fma?: boolean | 'auto';
}

/** `ARRA_FMA` read as the `fma` option: unset or `auto` → 'auto', `0` → false, `1` → true. */
export function fmaFromEnv(value: string | undefined): boolean | 'auto' {
  if (value === undefined || value === '' || value === 'auto') return 'auto';
  if (value === '0') return false;
  if (value === '1') return true;
  throw new Error(`ARRA_FMA must be auto, 0 or 1 (the fast matmul's fused multiply-add: where available, never, required), got '${value}'`);
}

/** The fast backend with its description, for `describeBackend()`. */
export interface FastBackend extends Backend {
  /** Threads the matmul uses for large products. */
  readonly threads: number;
  /** Whether the matmul's micro-kernel uses a fused multiply-add (see {@link FastBackendOptions.fma}). */
  readonly fma: boolean;
  /** Threads that take work now (in a page, helpers join once started; in Node = threads). */
  readonly readyThreads: number;
  /** Units of large products that helper threads have run so far (0 on one thread; pool.ts). */
  readonly helperSlices: number;
  /** Start the matmul engine and settle when all its threads take work (at once in Node). */
  whenReady(): Promise<void>;
}

/**
 * Create a `fast` backend. The wasm module and the worker threads start lazily, on the first
 * float32 matmul, and `dispose()` stops the workers.
 */
export function createFastBackend(opts: FastBackendOptions = {}): FastBackend {
  let engine: GemmEngine | null = null;
  const threads = opts.threads ?? (Number(env('ARRA_THREADS')) || 0);
  const fma = opts.fma ?? fmaFromEnv(env('ARRA_FMA'));
  const gemm = (): GemmEngine => (engine ??= new GemmEngine(threads > 0 ? threads : undefined, fma));
  let vectorEngine: VectorEngine | null = null;
  const vec = (): VectorEngine => (vectorEngine ??= new VectorEngine());
  return {
    name: 'fast',
    stridedMatmul: true,
    get threads(): number {
      return gemm().threads;
    },
    get fma(): boolean {
      return gemm().fma;
    },
    get readyThreads(): number {
      return gemm().readyThreads;
    },
    get helperSlices(): number {
      return engine?.helperSlices ?? 0;
    },
    whenReady(): Promise<void> {
      return gemm().whenReady();
    },
    matmul(args: MatmulArgs): void {
      if (args.out instanceof Float32Array) gemm().matmul(args);
      else referenceBackend.matmul(args);
    },
    softmax(x, out, rows, cols): void {
      if (out instanceof Float32Array) vec().softmax(x, out, rows, cols);
      else referenceBackend.softmax(x, out, rows, cols);
    },
    maskedSoftmax(x, mask, out, rows, cols, maskRows): void {
      if (out instanceof Float32Array) vec().maskedSoftmax(x, mask, out, rows, cols, maskRows);
      else referenceMaskedSoftmax(referenceBackend, x, mask, out, rows, cols, maskRows);
    },
    softmaxBackward(y, dy, out, rows, cols): void {
      if (out instanceof Float32Array) vec().softmaxBackward(y, dy, out, rows, cols);
      else referenceBackend.softmaxBackward(y, dy, out, rows, cols);
    },
    binary(kind, a, aShape, b, bShape, out, outShape): void {
      if (out instanceof Float32Array && fastBinary(kind, a, aShape, b, bShape, out)) return;
      referenceBackend.binary(kind, a, aShape, b, bShape, out, outShape);
    },
    unary(kind, x, out): void {
      if (out instanceof Float32Array && isVectorUnary(kind)) { vec().unary(kind, x, out); return; }
      if (out instanceof Float32Array && fastUnary(kind, x, out)) return;
      referenceBackend.unary(kind, x, out);
    },
    sumMiddle(x, out, outer, mid, inner): void {
      if (out instanceof Float32Array) fastSumMiddle(x, out, outer, mid, inner);
      else referenceBackend.sumMiddle(x, out, outer, mid, inner);
    },
    adamw(args): void {
      if (args.theta instanceof Float32Array) vec().adamw(args);
      else referenceAdamW(args);
    },
    logSumExp(x, out, rows, cols): void {
      if (x instanceof Float32Array) vec().logSumExp(x, out, rows, cols);
      else referenceLogSumExp(x, out, rows, cols);
    },
    rmsNorm(args): void {
      if (args.out instanceof Float32Array) vec().rmsNorm(args);
      else referenceRmsNorm(args);
    },
    rmsNormBackward(args): void {
      if (args.dx instanceof Float32Array) vec().rmsNormBackward(args);
      else referenceRmsNormBackward(args);
    },
    swiglu(args): void {
      if (args.out instanceof Float32Array) vec().swiglu(args);
      else referenceSwiglu(args);
    },
    swigluBackward(args): void {
      if (args.da instanceof Float32Array) vec().swigluBackward(args);
      else referenceSwigluBackward(args);
    },
    rope(args): void {
      if (args.out instanceof Float32Array && vec().rope(args)) return;
      referenceRope(args);
    },
    dispose(): void {
      engine?.dispose();
      engine = null;
    },
  };
}
