/**
 * The KV cache's storage for one layer: keys or values of the positions seen so far, appended
 * in place at each sampling step, handed to attention as strided views (no gradient: sampling
 * runs under `noGrad`).
 *
 *   values  v  [B, H, S, hd]   positions are rows:    element (bh, s, e) at (bh·C + s)·hd + e
 *   keys    kᵀ [B, H, hd, S]   positions are columns: element (bh, e, s) at (bh·hd + e)·C + s
 *
 * C ≥ S is the capacity, doubled when full. Concatenating the whole cache at every step (as a
 * fresh tensor) copied O(S) per step; here a step writes only its new positions. The keys are
 * stored transposed because q·kᵀ then reads them as a row-major operand in place, where a
 * transposed view would have every head's kᵀ packed into panels again each step (gemm.ts
 * packBT). Keeping C < 2S (doubling) keeps each view within matmul's "span at most twice the
 * view" rule (lib/ops/matmul.ts `operand`), so the backend reads the storage without a copy.
 * The views hold exactly the values a concatenation would, so q·kᵀ and A·v are the same sums
 * in the same order: the same bits.
 */
import { isGradEnabled } from '../lib/autograd';
import type { DType } from '../lib';
import ndarray from 'ndarray';
import { type FloatArray, Tensor } from '../lib/tensor';

export class KVBuffer {
  private data: FloatArray;
  private capacity = 0;
  /** S: positions stored */
  length = 0;

  /** For B rows of H heads of width hd; `positions`: 'rows' for values v, 'columns' for keys kᵀ. */
  constructor(readonly batch: number, readonly heads: number, readonly width: number, readonly positions: 'rows' | 'columns', readonly dtype: DType) {
    this.data = dtype === 'float64' ? new Float64Array(0) : new Float32Array(0);
  }

  /** Append x [B, H, T, hd] (any strides) and return the view of all S positions: [B, H, S, hd] or kᵀ [B, H, hd, S]. */
  append(x: Tensor): Tensor {
    if (isGradEnabled()) throw new Error('KVBuffer: the KV cache is for sampling under noGrad (no gradient flows into cached keys and values)');
    const [B, H, T, hd] = x.shape as [number, number, number, number];
    if (B !== this.batch || H !== this.heads || hd !== this.width) throw new Error(`KVBuffer: expected [${this.batch}, ${this.heads}, T, ${this.width}], got [${x.shape.join(', ')}]`);
    const S = this.length + T;
    if (S > this.capacity) this.grow(Math.max(2 * this.capacity, S)); // C < 2S after every growth
    const C = this.capacity;
    const src = x.values(); // [B, H, T, hd] row-major
    // copied as 32-bit words (a float64 is two), so every bit arrives as it was
    const w = src.BYTES_PER_ELEMENT / 4;
    const from32 = new Int32Array(src.buffer, src.byteOffset, src.length * w);
    const to32 = new Int32Array(this.data.buffer, this.data.byteOffset, this.data.length * w);
    for (let bh = 0; bh < B * H; bh++) {
      for (let t = 0; t < T; t++) {
        const from = (bh * T + t) * hd;
        const s = this.length + t;
        if (this.positions === 'rows') to32.set(from32.subarray(from * w, (from + hd) * w), (bh * C + s) * hd * w);
        else for (let e = 0; e < hd; e++) for (let k = 0; k < w; k++) to32[((bh * hd + e) * C + s) * w + k] = from32[(from + e) * w + k]!;
      }
    }
    this.length = S;
    return this.view();
  }

  private view(): Tensor {
    const [B, H, hd, C, S] = [this.batch, this.heads, this.width, this.capacity, this.length];
    return this.positions === 'rows'
      ? new Tensor(ndarray(this.data, [B, H, S, hd], [H * C * hd, C * hd, hd, 1], 0)) // v [B, H, S, hd]
      : new Tensor(ndarray(this.data, [B, H, hd, S], [H * hd * C, hd * C, C, 1], 0)); // kᵀ [B, H, hd, S]
  }

  /** Move the stored positions into storage of capacity `C` (views handed out before keep the old storage). */
  private grow(C: number): void {
    const n = this.batch * this.heads;
    const hd = this.width;
    const old = this.data;
    const next = this.dtype === 'float64' ? new Float64Array(n * hd * C) : new Float32Array(n * hd * C);
    const S = this.length;
    if (this.positions === 'rows') {
      for (let bh = 0; bh < n; bh++) next.set(old.subarray(bh * this.capacity * hd, (bh * this.capacity + S) * hd), bh * C * hd);
    } else {
      for (let r = 0; r < n * hd; r++) next.set(old.subarray(r * this.capacity, r * this.capacity + S), r * C);
    }
    this.data = next;
    this.capacity = C;
  }
}
