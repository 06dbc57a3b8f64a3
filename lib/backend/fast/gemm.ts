/**
 * Fast float32 matmul: pack, schedule, run the WebAssembly SIMD micro-kernel, unpack.
 *
 * The classic GotoBLAS/BLIS recipe, in three layers:
 * 1. **Packing** (here, in TypeScript): a transposed B is copied into NR-column panels, k-block
 *    by k-block, zero-padded to whole panels. A row-major B and A are not packed: they are
 *    bulk-copied into wasm memory as stored, and the kernel reads them through strides (A's
 *    two also express transA; see gemm-kernel.ts). Broadcast batches are copied once.
 * 2. **Schedule** (here): for a chunk of MC rows, for each k-block of KC, for each B panel,
 *    for each A panel in the chunk → one micro-kernel call. A B panel (KC×NR floats = 8 KiB)
 *    stays in L1 while it meets every A panel of the chunk; the chunk of A (MC×KC = 128 KiB)
 *    stays in L2. The calls are written as a task list into wasm memory.
 * 3. **Micro-kernel** (gemm-kernel.ts): a 4×8 tile in SIMD registers, with a fused
 *    multiply-add where the host has one (fma.ts).
 *
 * Large products are cut into units of whole row panels, which the threads claim one at a time
 * (pool.ts); a unit owns whole rows of C, so no two threads ever write the same tile.
 */
import { defaultThreads } from '../../platform';
import type { MatmulArgs } from '../backend';
import { relaxedMadd } from './fma';
import { gemmModuleBytes } from './gemm-kernel';
import { MAX_UNITS, ThreadPool } from './pool';
import { wasm, type WasmMemory } from './wasm-api';

/** Micro-tile rows and columns (see gemm-kernel.ts for why 4×8). */
export const MR = 4;
export const NR = 8;
/** k-block: a packed B panel KC×NR is 8 KiB and fits L1 next to an A panel. */
export const KC = 256;
/** Row chunk in panels (MC = 128 rows): a packed A chunk MC×KC is 128 KiB, an L2-sized block. */
const MC_PANELS = 32;
/**
 * Below this many multiply-adds (m·n·k summed over batches) one thread is faster: waking a
 * helper and splitting costs ~20–50 µs. Measured on a 2-core x64 host with bench/run.ts:
 * two threads win from about 128×128×128 (2 M).
 */
export const PARALLEL_MIN_MACS = 2 ** 21;
/**
 * Threads claim work in units of about this many multiply-adds (≈ 20 µs): small enough that a
 * late helper leaves little for the caller to wait on, large enough that the claims (an
 * atomic compare-and-swap each) cost nothing measurable.
 */
const UNIT_MACS = 2 ** 19;

const PAGE = 65536;
/** 4 GiB of address space is reserved (not committed) for the shared memory. */
const MAX_PAGES = 65536;

/** Owns the wasm memory, the module instance and the helper threads. */
export class GemmEngine {
  readonly threads: number;
  /** Whether the micro-kernel uses the fused multiply-add (fma.ts). */
  readonly fma: boolean;
  private readonly memory: WasmMemory;
  private readonly run: (tasks: number, count: number, ldc: number, ars: number, aps: number, bps: number) => void;
  private readonly compact: (src: number, dst: number, rows: number, rowBytes: number, srcStride: number) => void;
  private readonly pool: ThreadPool;
  private f32: Float32Array;
  private i32: Int32Array;

  /**
   * `fma`: use the fused multiply-add where this host has one (default), or never (`false`:
   * the separate multiply and add of the plain SIMD kernel, e.g. to reproduce results computed
   * before it existed). Asking for `true` on a host without a fused one is an error.
   */
  constructor(threads = defaultThreads(), fma: boolean | 'auto' = 'auto') {
    const host = relaxedMadd();
    if (fma === true && host !== 'fused') throw new Error(`GemmEngine: a fused multiply-add was asked for, but on this host f32x4.relaxed_madd is ${host === 'unavailable' ? 'not available' : 'a separate multiply and add'}; use fma 'auto' or false`);
    this.fma = fma === 'auto' ? host === 'fused' : fma;
    const shared = threads > 1;
    this.memory = new wasm.Memory({ initial: 16, maximum: MAX_PAGES, shared });
    const module = new wasm.Module(gemmModuleBytes({ mr: MR, nr: NR, fma: this.fma }, { initialPages: 16, maxPages: MAX_PAGES, shared }));
    const instance = new wasm.Instance(module, { env: { memory: this.memory } });
    this.run = instance.exports.run as (tasks: number, count: number, ldc: number, ars: number, aps: number, bps: number) => void;
    this.compact = instance.exports.compact as (src: number, dst: number, rows: number, rowBytes: number, srcStride: number) => void;
    this.pool = new ThreadPool(module, this.memory, Math.max(0, threads - 1));
    this.threads = this.pool.threads;
    this.f32 = new Float32Array(this.memory.buffer);
    this.i32 = new Int32Array(this.memory.buffer);
  }

  /** Make the memory at least `bytes` long and refresh the views (growing replaces the buffer). */
  private reserve(bytes: number): void {
    const have = this.memory.buffer.byteLength;
    if (bytes > have) this.memory.grow(Math.ceil((bytes - have) / PAGE));
    if (this.f32.buffer.byteLength !== this.memory.buffer.byteLength) {
      this.f32 = new Float32Array(this.memory.buffer);
      this.i32 = new Int32Array(this.memory.buffer);
    }
  }

  /** `out[i] = op(A_i)·op(B_i)` for float32 inputs; see {@link MatmulArgs}. */
  matmul({ a, b, out, m, k, n, transA, transB, aOffsets, bOffsets, lda: ldaArg, ldb: ldbArg }: MatmulArgs): void {
    const nBatch = aOffsets.length;
    if (m === 0 || n === 0 || nBatch === 0) return;
    if (k === 0) { out.fill(0); return; }
    const mPanels = Math.ceil(m / MR);
    const nPanels = Math.ceil(n / NR);
    const mPad = mPanels * MR;
    const nPad = nPanels * NR;
    // Stored rows of A_i and B_i are lda, ldb floats apart (contiguous by default).
    const lda = ldaArg ?? (transA ? m : k);
    const ldb = ldbArg ?? (transB ? k : n);
    // A and a row-major B are not packed but read in place by the kernel (gemm-kernel.ts):
    // - contiguous: each distinct matrix is copied once into a slot (broadcast batches share one);
    // - strided (rows ld apart, e.g. attention heads viewed in [B, T, H, hd] storage): the span
    //   of storage holding every batch's matrix is copied once, and batches read it at their offsets.
    // Either way the region ends with slack, so the kernel's reads past the last row (the padding
    // rows of a ragged last panel of A, the padding columns of B's) stay inside; they only feed
    // C rows and columns that are dropped. Bᵀ is packed into panels (packBT).
    const bInPlace = !transB;
    const aLay = region(aOffsets, transA ? k : m, transA ? m : k, lda, MR * lda + NR);
    const bLay = bInPlace ? region(bOffsets, k, n, ldb, NR) : null;
    const bSlot = bInPlace ? null : slots(bOffsets);
    const bSize = k * nPad; // one packed Bᵀ
    const kBlocks = Math.ceil(k / KC);
    const tilesPerPanel = kBlocks * nPanels;
    // Memory layout in floats: [C | A region | B region | task records | compacted C]
    const cSize = mPad * nPad;
    const cBase = 0;
    const aBase = cBase + nBatch * cSize;
    const bBase = aBase + aLay.size;
    const taskBase = bBase + (bLay ? bLay.size : bSlot!.count * bSize);
    const nTasks = nBatch * mPanels * tilesPerPanel;
    // ragged n: C is compacted (padding columns dropped) into a region after the tasks
    const compactBase = n === nPad ? 0 : taskBase + 4 * nTasks;
    this.reserve((n === nPad ? taskBase + 4 * nTasks : compactBase + nBatch * m * n) * 4);
    const f32 = this.f32;
    aLay.copy(a, f32, aBase);
    const ars = (transA ? 1 : lda) * 4; // bytes from A[r, p] to A[r + 1, p]
    const aps = (transA ? lda : 1) * 4; // bytes from A[r, p] to A[r, p + 1]
    if (bLay) bLay.copy(b, f32, bBase);
    else for (const [off, slot] of bSlot!.first) packBT(b, off, k, n, ldb, f32, bBase + slot * bSize);
    const bps = (bInPlace ? ldb : NR) * 4; // bytes from B̃[p, c] to B̃[p + 1, c]
    const aAt = (batch: number): number => aBase + aLay.at(batch);
    const bAt = (batch: number): number => (bLay ? bBase + bLay.at(batch) : bBase + bSlot!.of[batch]! * bSize);

    // Cut the (batch, row panel) items into units — runs of up to MC_PANELS panels of one
    // batch, consecutive small runs merged until a unit has about UNIT_MACS multiply-adds —
    // and write each unit's tasks contiguously; threads claim whole units (pool.ts).
    const items = nBatch * mPanels;
    const macs = nBatch * m * n * k;
    const parallel = this.threads > 1 && macs >= PARALLEL_MIN_MACS;
    const unitMacs = parallel ? Math.max(UNIT_MACS, macs / MAX_UNITS) : Infinity;
    const panelMacs = MR * n * k;
    const units: [number, number][] = [];
    let task = taskBase / 4; // in 16-byte records
    let unitStart = task;
    let unitSize = 0;
    for (let item = 0; item < items;) {
      const batch = Math.floor(item / mPanels);
      const p0 = item % mPanels;
      const pEnd = Math.min(mPanels, p0 + MC_PANELS);
      task = this.schedule(task, p0, pEnd, {
        k, nPad, nPanels, ars, aps, bRow: bInPlace ? ldb : 0,
        a: aAt(batch), b: bAt(batch), c: cBase + batch * cSize,
      });
      item += pEnd - p0;
      unitSize += (pEnd - p0) * panelMacs;
      if (unitSize >= unitMacs || item === items) {
        units.push([unitStart * 16, task - unitStart]);
        unitStart = task;
        unitSize = 0;
      }
    }
    this.pool.runUnits(units, nPad * 4, ars, aps, bps, this.run);

    // Unpack: drop the padding. With whole column panels each batch's m rows are contiguous;
    // otherwise the wasm `compact` drops the padding columns of every row first (a TypeScript
    // loop per row cost ~3 ns a float: attention's short ragged rows), then one bulk copy.
    if (n === nPad) {
      for (let batch = 0; batch < nBatch; batch++) {
        const src = cBase + batch * cSize;
        out.set(f32.subarray(src, src + m * n), batch * m * n);
      }
    } else {
      for (let batch = 0; batch < nBatch; batch++) this.compact((cBase + batch * cSize) * 4, (compactBase + batch * m * n) * 4, m, n * 4, nPad * 4);
      out.set(f32.subarray(compactBase, compactBase + nBatch * m * n));
    }
  }

  /**
   * Write the micro-kernel calls for row panels [p0, pEnd) of one batch, in cache-blocked
   * order, as task records starting at record index `task`. Returns the next free record.
   */
  private schedule(task: number, p0: number, pEnd: number,
    g: { k: number; nPad: number; nPanels: number; ars: number; aps: number; bRow: number; a: number; b: number; c: number }): number {
    const i32 = this.i32;
    for (let kb = 0; kb * KC < g.k; kb++) {
      const k0 = kb * KC;
      const kc = Math.min(KC, g.k - k0);
      for (let j = 0; j < g.nPanels; j++) {
        // B̃[k0, j·NR]: in place (bRow = n floats per row) or in its packed panel
        const bPanel = g.bRow > 0 ? g.b + k0 * g.bRow + j * NR : g.b + k0 * g.nPad + j * NR * kc;
        for (let i = p0; i < pEnd; i++) {
          const r = task * 4;
          i32[r] = g.a * 4 + i * MR * g.ars + k0 * g.aps; // A[i·MR, k0] (bytes)
          i32[r + 1] = bPanel * 4;
          i32[r + 2] = (g.c + i * MR * g.nPad + j * NR) * 4; // C tile (i, j)
          i32[r + 3] = kb === 0 ? -kc : kc; // negative: first k-block overwrites C
          task++;
        }
      }
    }
    return task;
  }

  /** Threads that take work now, the caller's included (pool.ts: a page's helpers join once ready). */
  get readyThreads(): number {
    return this.pool.readyThreads;
  }

  /** Units of products that helper threads have run so far (pool.ts). */
  get helperSlices(): number {
    return this.pool.helperSlices;
  }

  /** Settles when every helper thread takes work (at once in Node). */
  whenReady(): Promise<void> {
    return this.pool.whenReady();
  }

  dispose(): void {
    this.pool.dispose();
  }
}

/**
 * Where the stored matrices (rows × cols, rows `ld` apart) of every batch go in wasm memory:
 * contiguous ones (ld = cols) one slot per distinct offset, strided ones as the one span of
 * storage that holds them all; `slack` floats after the last. `at(batch)` is the float offset
 * of batch's matrix in the region, `copy` fills it.
 */
function region(offsets: readonly number[], rows: number, cols: number, ld: number, slack: number): {
  size: number; at: (batch: number) => number; copy: (src: ArrayLike<number>, dst: Float32Array, base: number) => void;
} {
  if (ld === cols) {
    const s = slots(offsets);
    const one = rows * cols + slack;
    return {
      size: s.count * one,
      at: (batch) => s.of[batch]! * one,
      copy: (src, dst, base) => { for (const [off, slot] of s.first) dst.set((src as Float32Array).subarray(off, off + rows * cols), base + slot * one); },
    };
  }
  let lo = Infinity, hi = 0;
  for (const off of offsets) { lo = Math.min(lo, off); hi = Math.max(hi, off + (rows - 1) * ld + cols); }
  return {
    size: hi - lo + slack,
    at: (batch) => offsets[batch]! - lo,
    copy: (src, dst, base) => dst.set((src as Float32Array).subarray(lo, hi), base),
  };
}

/** Distinct offsets → packed slot numbers; `of[batch]` is the slot batch reads. */
function slots(offsets: readonly number[]): { count: number; of: number[]; first: Map<number, number> } {
  const first = new Map<number, number>();
  const of = offsets.map((off) => {
    let s = first.get(off);
    if (s === undefined) { s = first.size; first.set(off, s); }
    return s;
  });
  return { count: first.size, of, first };
}

/**
 * Pack op(B) = Bᵀ (k×n, stored as n rows of k, `ld` apart) into NR-column panels stored row by row, columns past n
 * zero. Layout: `dst[base + k0·nPad + j·NR·kc + p·NR + c] = Bᵀ[k0 + p, j·NR + c]`. Whole panels
 * read eight stored rows side by side with no branch per element; only the last, ragged panel
 * goes through the general loop with zero padding. (A row-major B needs no packing: the kernel
 * reads it in place, see `matmul`.)
 */
function packBT(src: ArrayLike<number>, off: number, k: number, n: number, ld: number, dst: Float32Array, base: number): void {
  const nPad = Math.ceil(n / NR) * NR;
  for (let k0 = 0; k0 < k; k0 += KC) {
    const kc = Math.min(KC, k - k0);
    for (let j = 0; j < nPad; j += NR) {
      let d = base + k0 * nPad + j * kc;
      if (j + NR <= n) {
        // Bᵀ[k0 + p, j + c] = src[(j + c)·ld + k0 + p]: eight stored rows read side by side.
        const s0 = off + j * ld + k0, s1 = s0 + ld, s2 = s1 + ld, s3 = s2 + ld, s4 = s3 + ld, s5 = s4 + ld, s6 = s5 + ld, s7 = s6 + ld;
        for (let p = 0; p < kc; p++, d += 8) {
          dst[d] = src[s0 + p]!; dst[d + 1] = src[s1 + p]!; dst[d + 2] = src[s2 + p]!; dst[d + 3] = src[s3 + p]!;
          dst[d + 4] = src[s4 + p]!; dst[d + 5] = src[s5 + p]!; dst[d + 6] = src[s6 + p]!; dst[d + 7] = src[s7 + p]!;
        }
      } else {
        for (let p = 0; p < kc; p++) {
          for (let c = 0; c < NR; c++) {
            const col = j + c;
            dst[d++] = col >= n ? 0 : src[off + col * ld + k0 + p]!;
          }
        }
      }
    }
  }
}
