/**
 * A tiny WebAssembly bytecode emitter: just enough of the binary format
 * (https://webassembly.github.io/spec/core/binary/) to write SIMD kernels from TypeScript at
 * run time, with no compiler toolchain and nothing prebuilt.
 *
 * A module here has one imported memory (`env.memory`, optionally shared so worker threads
 * can run the same code on the same bytes) and a few exported functions. Function bodies
 * are written with {@link Code}, a byte buffer with one method per instruction we use.
 */

/** Value types of the binary format. */
export const I32 = 0x7f;
export const F32 = 0x7d;
export const V128 = 0x7b;
export type ValType = typeof I32 | typeof F32 | typeof V128;

/** Unsigned LEB128, the variable-length integer encoding wasm uses for sizes and indices. */
export function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

/** Signed LEB128 (for i32.const). */
export function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    const done = (n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0);
    out.push(done ? byte : byte | 0x80);
    if (done) return out;
  }
}

/** A vector in the binary format: its length, then its items. */
function vec(items: number[][]): number[] {
  return [...uleb(items.length), ...items.flat()];
}

/** Section `id` holding `bytes`, prefixed by its size. */
function section(id: number, bytes: number[]): number[] {
  return [id, ...uleb(bytes.length), ...bytes];
}

/** A name as UTF-8 bytes with its length. */
function name(s: string): number[] {
  const bytes = [...new TextEncoder().encode(s)];
  return [...uleb(bytes.length), ...bytes];
}

/** SIMD instructions are the prefix 0xfd followed by a LEB128 opcode. */
const simd = (op: number): number[] => [0xfd, ...uleb(op)];

/** Instruction bytes of one function body. Methods append and return `this`, so bodies read top to bottom. */
export class Code {
  readonly bytes: number[] = [];

  private op(...b: number[]): this {
    this.bytes.push(...b);
    return this;
  }

  localGet(i: number): this { return this.op(0x20, ...uleb(i)); }
  localSet(i: number): this { return this.op(0x21, ...uleb(i)); }
  localTee(i: number): this { return this.op(0x22, ...uleb(i)); }
  i32Const(v: number): this { return this.op(0x41, ...sleb(v)); }
  i32Add(): this { return this.op(0x6a); }
  i32Sub(): this { return this.op(0x6b); }
  i32Mul(): this { return this.op(0x6c); }
  i32Shl(): this { return this.op(0x74); }
  i32GtS(): this { return this.op(0x4a); }
  i32Eqz(): this { return this.op(0x45); }
  i32LtS(): this { return this.op(0x48); }
  /** `if` with no result (pops the condition); optionally `else`, then `end`. */
  if(): this { return this.op(0x04, 0x40); }
  else(): this { return this.op(0x05); }
  /** `block` with no result; `br 0` inside jumps to its end. */
  block(): this { return this.op(0x02, 0x40); }
  /** `loop` with no result; `br 0` inside jumps back to its start. */
  loop(): this { return this.op(0x03, 0x40); }
  end(): this { return this.op(0x0b); }
  br(depth: number): this { return this.op(0x0c, ...uleb(depth)); }
  brIf(depth: number): this { return this.op(0x0d, ...uleb(depth)); }
  /** Call function number `index` of this module. */
  call(index: number): this { return this.op(0x10, ...uleb(index)); }
  i32Load(offset = 0): this { return this.op(0x28, 2, ...uleb(offset)); }
  f32Load(offset = 0): this { return this.op(0x2a, 2, ...uleb(offset)); }
  f32Store(offset = 0): this { return this.op(0x38, 2, ...uleb(offset)); }
  /** 16-byte load; the alignment hint is 4 bytes (no trap when unaligned either way). */
  v128Load(offset = 0): this { return this.op(...simd(0x00), 2, ...uleb(offset)); }
  v128Store(offset = 0): this { return this.op(...simd(0x0b), 2, ...uleb(offset)); }
  /** Load one f32 and repeat it into all four lanes. */
  v128Load32Splat(offset = 0): this { return this.op(...simd(0x09), 2, ...uleb(offset)); }
  f32x4Splat(): this { return this.op(...simd(0x13)); }
  f32x4Add(): this { return this.op(...simd(0xe4)); }
  f32x4Sub(): this { return this.op(...simd(0xe5)); }
  f32x4Mul(): this { return this.op(...simd(0xe6)); }
  f32x4Div(): this { return this.op(...simd(0xe7)); }
  f32x4Min(): this { return this.op(...simd(0xe8)); }
  f32x4Max(): this { return this.op(...simd(0xe9)); }
  /**
   * Relaxed SIMD's `f32x4.relaxed_madd` (stack: a, b, c → a·b + c). The proposal lets an engine
   * round once (a fused multiply-add) or twice; V8 fuses on x64 with FMA3 and on arm64
   * (fma.ts finds out which this host does). Node 20 validates it only with
   * `--experimental-wasm-relaxed-simd` (platform's `enableRelaxedSimd`).
   */
  f32x4RelaxedMadd(): this { return this.op(...simd(0x105)); }

  // --- used by the vector kernels (vector-kernels.ts) ---
  i32And(): this { return this.op(0x71); }
  i32GeU(): this { return this.op(0x4f); }
  i32LtU(): this { return this.op(0x49); }
  /** A float32 constant (4 bytes, little-endian IEEE 754). */
  f32Const(v: number): this { return this.op(0x43, ...bytesOfF32(v)); }
  f32Add(): this { return this.op(0x92); }
  f32Sub(): this { return this.op(0x93); }
  f32Sqrt(): this { return this.op(0x91); }
  /** i32 (signed) → f32 */
  f32ConvertI32S(): this { return this.op(0xb2); }
  f32Mul(): this { return this.op(0x94); }
  f32Div(): this { return this.op(0x95); }
  /** Scalar max; NaN in either operand gives NaN, as `Math.max`. */
  f32Max(): this { return this.op(0x97); }
  /** The same float32 in all four lanes, as an immediate. */
  f32x4Const(v: number): this { return this.op(...simd(0x0c), ...[0, 1, 2, 3].flatMap(() => bytesOfF32(v))); }
  /** The same int32 in all four lanes, as an immediate. */
  i32x4Const(v: number): this { return this.op(...simd(0x0c), ...[0, 1, 2, 3].flatMap(() => [...new Uint8Array(Int32Array.of(v).buffer)])); }
  /** Lane `lane` (0–3) of an f32x4 as a scalar f32. */
  f32x4ExtractLane(lane: number): this { return this.op(...simd(0x1f), lane); }
  /** Lane-wise comparisons: all-ones where true, zero where false (NaN compares false). */
  f32x4Lt(): this { return this.op(...simd(0x43)); }
  f32x4Ge(): this { return this.op(...simd(0x46)); }
  /** Lane-wise `a != b`: all-ones where different, and where either is NaN (so `x != x` marks NaN lanes). */
  f32x4Ne(): this { return this.op(...simd(0x42)); }
  v128Or(): this { return this.op(...simd(0x50)); }
  /** i32 1 if any bit of the v128 is set, else 0. */
  v128AnyTrue(): this { return this.op(...simd(0x53)); }
  /** `a & ~b` (pops b, then a). */
  v128AndNot(): this { return this.op(...simd(0x4f)); }
  /** Bits of `a` where `mask` is 1, of `b` where 0 (stack: a, b, mask). */
  v128Bitselect(): this { return this.op(...simd(0x52)); }
  /** Round to nearest, ties to even. */
  f32x4Nearest(): this { return this.op(...simd(0x6a)); }
  /** Pseudo-max `a < b ? b : a` (one x64 instruction; NaN in `a` is kept, NaN in `b` is not). */
  f32x4Pmax(): this { return this.op(...simd(0xeb)); }
  /** Pseudo-min `b < a ? b : a` (NaN in `a` is kept). */
  f32x4Pmin(): this { return this.op(...simd(0xea)); }
  f32x4Abs(): this { return this.op(...simd(0xe0)); }
  f32x4Sqrt(): this { return this.op(...simd(0xe3)); }
  f32x4Neg(): this { return this.op(...simd(0xe1)); }
  /** Truncate each f32 lane to i32, saturating (NaN → 0). */
  i32x4TruncSatF32x4S(): this { return this.op(...simd(0xf8)); }
  /** Shift every i32 lane by the i32 on top of the stack. */
  i32x4Shl(): this { return this.op(...simd(0xab)); }
  i32x4ShrS(): this { return this.op(...simd(0xac)); }
  i32x4Add(): this { return this.op(...simd(0xae)); }
  i32x4Sub(): this { return this.op(...simd(0xb1)); }

  // --- float64 pairs (RoPE's kernel: float64 arithmetic like the reference loop) ---
  /** Load 8 bytes and repeat them into both halves (an f64 into both f64x2 lanes). */
  v128Load64Splat(offset = 0): this { return this.op(...simd(0x0a), 3, ...uleb(offset)); }
  /** Load 8 bytes into the low half, zero the high half. */
  v128Load64Zero(offset = 0): this { return this.op(...simd(0x5d), 3, ...uleb(offset)); }
  /** Store the 8-byte lane `lane` (0–1) of a v128. */
  v128Store64Lane(lane: number, offset = 0): this { return this.op(...simd(0x5b), 3, ...uleb(offset), lane); }
  /** Bytes `lanes[i]` (0–15 from a, 16–31 from b) of two v128s (stack: a, b). */
  i8x16Shuffle(lanes: readonly number[]): this { return this.op(...simd(0x0d), ...lanes); }
  /** Two float64 immediates. */
  f64x2Const(lo: number, hi: number): this { return this.op(...simd(0x0c), ...new Uint8Array(Float64Array.of(lo, hi).buffer)); }
  /** The two low f32 lanes, exactly, as f64x2. */
  f64x2PromoteLowF32x4(): this { return this.op(...simd(0x5f)); }
  /** f64x2 rounded to f32 in the two low lanes (round to nearest), high lanes zero. */
  f32x4DemoteF64x2Zero(): this { return this.op(...simd(0x5e)); }
  /** f32 → f64, exactly. */
  f64PromoteF32(): this { return this.op(0xbb); }
  /** An f64 in both lanes. */
  f64x2Splat(): this { return this.op(...simd(0x14)); }
  /** Replace f64 lane `lane` (0–1) (stack: vector, f64). */
  f64x2ReplaceLane(lane: number): this { return this.op(...simd(0x22), lane); }
  f64x2Add(): this { return this.op(...simd(0xf0)); }
  f64x2Mul(): this { return this.op(...simd(0xf2)); }
}

/** The 4 little-endian bytes of `v` rounded to float32. */
function bytesOfF32(v: number): number[] {
  return [...new Uint8Array(Float32Array.of(v).buffer)];
}

/** One exported function: its signature, extra locals and body. */
export interface FuncSpec {
  name: string;
  params: ValType[];
  /** locals beyond the parameters, numbered after them */
  locals: ValType[];
  body: Code;
}

/**
 * Assemble a module importing `env.memory` (shared when `shared`, with `maxPages` × 64 KiB
 * reserved) and exporting `funcs`. Every function returns nothing.
 */
export function assembleModule(funcs: FuncSpec[], memory: { initialPages: number; maxPages: number; shared: boolean }): Uint8Array {
  const types = funcs.map((f) => [0x60, ...vec(f.params.map((t) => [t])), 0]);
  const limits = memory.shared
    ? [0x03, ...uleb(memory.initialPages), ...uleb(memory.maxPages)]
    : [0x01, ...uleb(memory.initialPages), ...uleb(memory.maxPages)];
  const imports = vec([[...name('env'), ...name('memory'), 0x02, ...limits]]);
  const functions = vec(funcs.map((_, i) => uleb(i)));
  const exports = vec(funcs.map((f, i) => [...name(f.name), 0x00, ...uleb(i)]));
  const bodies = vec(funcs.map((f) => {
    // Locals are run-length encoded: (count, type) pairs.
    const runs: number[][] = f.locals.map((t) => [1, t]);
    const body = [...vec(runs), ...f.body.bytes, 0x0b];
    return [...uleb(body.length), ...body];
  }));
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic "\0asm", version 1
    ...section(1, vec(types)),
    ...section(2, imports),
    ...section(3, functions),
    ...section(7, exports),
    ...section(10, bodies),
  ]);
}
