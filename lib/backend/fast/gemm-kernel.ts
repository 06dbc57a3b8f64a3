/**
 * The matmul micro-kernel, generated as WebAssembly SIMD bytecode at run time.
 *
 * It computes one MR×NR tile of C += A·B̃ where B̃ is an NR-column panel of B packed row by row
 * (`b[p·NR + c] = B[p, c]`, read strictly sequentially) and A is read in place: element
 * A[r, p] sits at byte `a + r·ars + p·aps`, so a row-major A (ars = 4k, aps = 4) and a
 * transposed one (ars = 4, aps = 4m) need no packing — only a bulk copy into wasm memory,
 * which is far cheaper than a per-element packing loop in TypeScript. The MR×NR/4
 * accumulators are v128 locals that the engine keeps in registers: per step p it loads
 * NR/4 vectors of B, broadcasts each of the MR values of A, and does MR·NR/4 vector
 * multiply-adds — MR·NR·2 flops for MR + NR loads (register blocking).
 *
 * With MR = 4, NR = 8 there are 8 accumulators + 2 B vectors + 1 broadcast = 11 of the
 * 16 SSE/NEON registers; larger tiles spill (measured: 6×8 and 4×12 are no faster on x64).
 */
import { assembleModule, Code, I32, V128, type ValType } from './wasm-emit';

export interface GemmKernelShape {
  /** rows of the C tile */
  mr: number;
  /** columns of the C tile, a multiple of 4 */
  nr: number;
  /**
   * One `f32x4.relaxed_madd` per multiply-add instead of `f32x4.mul` then `f32x4.add`: only
   * where fma.ts measured it fused (then each step rounds once, and on a CPU whose ports take
   * a multiply or an add each, twice the flops per cycle). Default false.
   */
  fma?: boolean;
}

/**
 * Parameter slots of `micro(a, b, c, kc, ldc, ars, aps, bps)` (byte addresses; ldc = C's row
 * stride, ars/aps = A's row and step strides, bps = B's step stride, all in bytes).
 */
const A = 0, B = 1, C = 2, KC = 3, LDC = 4, ARS = 5, APS = 6, BPS = 7;
const NPARAMS = 8;

/**
 * Bytecode of `micro(a, b, c, kc, ldc, ars, aps, bps)`: C[0:mr, 0:nr] += A[0:mr, 0:kc] · B̃[0:kc, 0:nr],
 * or C = A·B̃ (overwrite) when kc is passed negated. Row p of B̃ (nr floats) is at b + p·bps:
 * bps = 4·nr for a packed panel, 4n for a row-major B read in place.
 */
export function microKernel({ mr, nr, fma = false }: GemmKernelShape): { params: ValType[]; locals: ValType[]; body: Code } {
  if (nr % 4 !== 0) throw new Error(`microKernel: nr must be a multiple of 4, got ${nr}`);
  const nv = nr / 4; // vectors per tile row
  const params: ValType[] = new Array<ValType>(NPARAMS).fill(I32);
  // locals after the params: accumulators acc[r][v], B vectors bv[v], the broadcast A value av,
  // crow (i32 address of a C row), and aRow[r] (address of A[r, p]; row 0 uses the param A)
  const acc = (r: number, v: number): number => NPARAMS + r * nv + v;
  const bv = (v: number): number => NPARAMS + mr * nv + v;
  const av = NPARAMS + mr * nv + nv;
  const crow = av + 1;
  const aRow = (r: number): number => (r === 0 ? A : crow + r);
  const locals: ValType[] = [...new Array<ValType>(mr * nv + nv + 1).fill(V128), I32, ...new Array<ValType>(mr - 1).fill(I32)];
  const code = new Code();

  for (let r = 1; r < mr; r++) code.localGet(aRow(r - 1)).localGet(ARS).i32Add().localSet(aRow(r));

  // The first k-block passes kc negated: start from zero (wasm locals start at 0) instead of
  // loading C, which saves zero-filling C beforehand. Later k-blocks add to the stored tile.
  code.localGet(KC).i32Const(0).i32LtS().if();
  code.i32Const(0).localGet(KC).i32Sub().localSet(KC);
  code.else();
  code.localGet(C).localSet(crow);
  for (let r = 0; r < mr; r++) {
    for (let v = 0; v < nv; v++) code.localGet(crow).v128Load(v * 16).localSet(acc(r, v));
    if (r < mr - 1) code.localGet(crow).localGet(LDC).i32Add().localSet(crow);
  }
  code.end();

  // for p in 0..kc: acc[r][v] += splat(A[r, p]) * B̃[p, v]
  // (fma: acc = fl(a·b + acc), one rounding; else acc = fl(acc + fl(a·b)), two)
  code.block().loop();
  code.localGet(KC).i32Eqz().brIf(1);
  for (let v = 0; v < nv; v++) code.localGet(B).v128Load(v * 16).localSet(bv(v));
  for (let r = 0; r < mr; r++) {
    code.localGet(aRow(r)).v128Load32Splat(0).localSet(av);
    for (let v = 0; v < nv; v++) {
      if (fma) code.localGet(av).localGet(bv(v)).localGet(acc(r, v)).f32x4RelaxedMadd().localSet(acc(r, v));
      else code.localGet(acc(r, v)).localGet(av).localGet(bv(v)).f32x4Mul().f32x4Add().localSet(acc(r, v));
    }
  }
  for (let r = 0; r < mr; r++) code.localGet(aRow(r)).localGet(APS).i32Add().localSet(aRow(r));
  code.localGet(B).localGet(BPS).i32Add().localSet(B);
  code.localGet(KC).i32Const(1).i32Sub().localSet(KC);
  code.br(0).end().end();

  // Store the tile back.
  code.localGet(C).localSet(crow);
  for (let r = 0; r < mr; r++) {
    for (let v = 0; v < nv; v++) code.localGet(crow).localGet(acc(r, v)).v128Store(v * 16);
    if (r < mr - 1) code.localGet(crow).localGet(LDC).i32Add().localSet(crow);
  }
  return { params, locals, body: code };
}

/**
 * Bytecode of `run(tasks, count, ldc, ars, aps, bps)`: call the micro-kernel once per 16-byte
 * task record `(aAddr, bAddr, cAddr, kc)`. The order of the records *is* the blocking schedule;
 * it is written in TypeScript (see `gemm.ts`), so this loop stays trivial and every thread can
 * run its own units of the list. The strides are the same for every task of one product.
 */
export function taskRunner(): { params: ValType[]; locals: ValType[]; body: Code } {
  const TASKS = 0, COUNT = 1, LDCP = 2, ARSP = 3, APSP = 4, BPSP = 5;
  const code = new Code();
  code.block().loop();
  code.localGet(COUNT).i32Eqz().brIf(1);
  code.localGet(TASKS).i32Load(0);
  code.localGet(TASKS).i32Load(4);
  code.localGet(TASKS).i32Load(8);
  code.localGet(TASKS).i32Load(12);
  code.localGet(LDCP).localGet(ARSP).localGet(APSP).localGet(BPSP).call(0);
  code.localGet(TASKS).i32Const(16).i32Add().localSet(TASKS);
  code.localGet(COUNT).i32Const(1).i32Sub().localSet(COUNT);
  code.br(0).end().end();
  return { params: [I32, I32, I32, I32, I32, I32], locals: [], body: code };
}

/**
 * Bytecode of `compact(src, dst, rows, rowBytes, srcStride)`: copy `rows` rows of `rowBytes`
 * bytes (a multiple of 4) from rows `srcStride` bytes apart to consecutive rows at dst — C
 * without its padding columns, so that one bulk copy moves it out. Vectors of 4 floats, then
 * single floats for the tail of each row.
 */
export function compactRows(): { params: ValType[]; locals: ValType[]; body: Code } {
  const SRC = 0, DST = 1, ROWS = 2, RB = 3, STRIDE = 4, I = 5, VEND = 6;
  const code = new Code();
  code.localGet(RB).i32Const(-16).i32And().localSet(VEND);
  code.block().loop();
  code.localGet(ROWS).i32Eqz().brIf(1);
  code.i32Const(0).localSet(I);
  for (const [end, step] of [[VEND, 16], [RB, 4]] as const) {
    code.block().loop();
    code.localGet(I).localGet(end).i32GeU().brIf(1);
    code.localGet(DST).localGet(I).i32Add();
    code.localGet(SRC).localGet(I).i32Add();
    if (step === 16) code.v128Load().v128Store(); else code.f32Load().f32Store();
    code.localGet(I).i32Const(step).i32Add().localSet(I);
    code.br(0).end().end();
  }
  code.localGet(SRC).localGet(STRIDE).i32Add().localSet(SRC);
  code.localGet(DST).localGet(RB).i32Add().localSet(DST);
  code.localGet(ROWS).i32Const(1).i32Sub().localSet(ROWS);
  code.br(0).end().end();
  return { params: [I32, I32, I32, I32, I32], locals: [I32, I32], body: code };
}

/** The matmul module's bytes (`micro` is function 0, `run` 1, `compact` 2), importing `env.memory`. */
export function gemmModuleBytes(shape: GemmKernelShape, memory: { initialPages: number; maxPages: number; shared: boolean }): Uint8Array {
  return assembleModule([{ name: 'micro', ...microKernel(shape) }, { name: 'run', ...taskRunner() }, { name: 'compact', ...compactRows() }], memory);
}
