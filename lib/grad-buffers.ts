/**
 * Reusing the arrays a backward pass allocates, so that a training step does not hand the
 * garbage collector a hundred fresh megabytes of gradients every time.
 *
 * Why: typed arrays are V8 *external* memory, and V8 runs a full mark-compact roughly every
 * 64 MB of fresh ArrayBuffers. A training step of the benchmark's transformer allocates
 * ≈ 290 MB, half of it in backward (bench/alloc-step.ts): ≈ 7–10 full collections a step.
 *
 * What is reused — only what is provably dead. While {@link runBackward} runs, every array
 * `allocate()` hands out is *born* in that backward and recorded here. Such an array can be
 * seen only through the gradients the backward loop holds (its map of pending gradients) and
 * through tensors that the loop stores where the user can see them (a leaf's `.grad`, a
 * `retainGrad()` tensor's `.grad`). So the loop counts, per array, the pending gradients that
 * view it (`hold` / `drop`), marks the stored ones `escape`d (never reused), and after each
 * node `sweep`s: a born array that no pending gradient views and that never escaped is dead —
 * the backward closures keep nothing they allocate — and goes back to the pool. Arrays that a
 * backward did not allocate (forward activations, the seed, the user's tensors) are never
 * touched, and no array is ever shared with a live tensor.
 *
 * One more kind of array is provably dead: the packed copy of a strided operand that a kernel
 * reads during one call (`borrowValues` / `returnValues`, used by the elementwise ops).
 *
 * The pool keeps free arrays by dtype and exact length (the same shapes recur every layer and
 * every step), zeroes an array when handing it out again (allocate's contract: zero-filled),
 * and holds at most {@link POOL_MAX_BYTES}. `ARRA_REUSE=0` or `setBufferReuse(false)` turns
 * reuse off (every array fresh, as before): results are the same bits either way.
 */
import { env } from './platform';
import type { DType, FloatArray, Tensor } from './tensor';

/** The most bytes of free arrays the pool keeps between backward passes. */
export const POOL_MAX_BYTES = 256 * 2 ** 20;

/** Free arrays by dtype and length. */
class BufferPool {
  private readonly free = { float32: new Map<number, Float32Array[]>(), float64: new Map<number, Float64Array[]>() };
  private bytes = 0;

  /** A zero-filled array of `n` elements: a free one when there is one, else fresh. */
  take(dtype: DType, n: number): FloatArray {
    const list = this.free[dtype].get(n);
    const reused = list?.pop();
    if (reused === undefined) return dtype === 'float64' ? new Float64Array(n) : new Float32Array(n);
    this.bytes -= reused.byteLength;
    return reused.fill(0);
  }

  /** Keep `buf` for a later `take` (dropped when the pool is full). */
  give(buf: FloatArray): void {
    if (this.bytes + buf.byteLength > POOL_MAX_BYTES || buf.length === 0) return;
    const byLength = (buf instanceof Float64Array ? this.free.float64 : this.free.float32) as Map<number, FloatArray[]>;
    const list = byLength.get(buf.length);
    if (list) list.push(buf);
    else byLength.set(buf.length, [buf]);
    this.bytes += buf.byteLength;
  }

  /** Bytes of free arrays held. */
  get heldBytes(): number {
    return this.bytes;
  }

  clear(): void {
    this.free.float32.clear();
    this.free.float64.clear();
    this.bytes = 0;
  }
}

const pool = new BufferPool();
let reuseEnabled = env('ARRA_REUSE') !== '0';

/** Turn the reuse of backward arrays on or off (default on; `ARRA_REUSE=0` starts it off). Off empties the pool. */
export function setBufferReuse(on: boolean): void {
  reuseEnabled = on;
  if (!on) pool.clear();
}

/** Whether backward passes reuse their dead arrays (see {@link setBufferReuse}). */
export function isBufferReuse(): boolean {
  return reuseEnabled;
}

/** @internal Bytes of free arrays the pool holds now (tests, bench). */
export function pooledBytes(): number {
  return pool.heldBytes;
}

/**
 * @internal The row-major values of `t` for the length of one kernel call: its storage when
 * contiguous, else a packed copy in a pooled array. Pair with {@link returnValues} once the
 * kernel has run (kernels keep nothing they read), so the copy's array is reused.
 */
export function borrowValues(t: Tensor): FloatArray {
  if (t.isContiguous) return t.nd.data;
  return t.packInto(pool.take(t.dtype, t.size));
}

/** @internal Hand back what {@link borrowValues} lent for `t` (nothing, if it was t's storage). */
export function returnValues(t: Tensor, data: FloatArray): void {
  if (data !== t.nd.data && reuseEnabled) pool.give(data);
}

/**
 * @internal The ownership ledger of one backward pass (see the module comment). Keys are
 * ArrayBuffers, so any view of a born array counts as viewing it.
 */
export class BackwardBuffers {
  /** Born arrays not yet escaped or given back, by their buffer. */
  private readonly born = new Map<ArrayBufferLike, FloatArray>();
  /** Pending gradients viewing each born buffer. */
  private readonly refs = new Map<ArrayBufferLike, number>();

  /** allocate() while this backward runs: from the pool, recorded as born. */
  take(dtype: DType, n: number): FloatArray {
    const buf = pool.take(dtype, n);
    this.born.set(buf.buffer, buf);
    return buf;
  }

  /** `t` became a pending gradient. */
  hold(t: Tensor): void {
    const key = t.nd.data.buffer;
    if (this.born.has(key)) this.refs.set(key, (this.refs.get(key) ?? 0) + 1);
  }

  /** `t` stopped being a pending gradient (consumed by its node, or replaced by a sum). */
  drop(t: Tensor): void {
    const key = t.nd.data.buffer;
    const n = this.refs.get(key);
    if (n === undefined) return;
    if (n <= 1) this.refs.delete(key);
    else this.refs.set(key, n - 1);
  }

  /** `t` is stored where the user can see it (`.grad`): its array is never reused. */
  escape(t: Tensor): void {
    const key = t.nd.data.buffer;
    this.born.delete(key);
    this.refs.delete(key);
  }

  /** Give every born array that no pending gradient views back to the pool. */
  sweep(): void {
    for (const [key, buf] of this.born) {
      if (this.refs.has(key)) continue;
      this.born.delete(key);
      pool.give(buf);
    }
  }
}

/** The ledger `allocate()` consults: set while a backward pass runs with reuse on. */
export const activeBackward: { current: BackwardBuffers | null } = { current: null };
