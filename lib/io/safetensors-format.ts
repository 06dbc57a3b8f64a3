/**
 * The safetensors format itself (https://github.com/huggingface/safetensors): its element
 * types, its limits, its error, and the conversions and checks that reading and writing share.
 * Validating a header is in safetensors-validate.ts, writing in safetensors-write.ts, reading
 * in safetensors-read.ts; safetensors.ts gathers the public names.
 *
 * Layout of a file:
 *
 *     [8 bytes]  N, the header length, unsigned 64-bit little-endian
 *     [N bytes]  header: UTF-8 JSON, padded with spaces so that 8 + N is a multiple of 8
 *                { "__metadata__": { "key": "string value", … },            (optional)
 *                  "<tensor name>": { "dtype": "F32", "shape": [2, 3],
 *                                     "data_offsets": [begin, end] }, … }
 *     [rest]     the data section: every tensor's elements, row-major, little-endian;
 *                offsets are relative to the start of this section
 *
 * The format holds only data — no code, no pickles — so loading a file cannot run anything.
 * Reading still trusts nothing: the header length, the JSON, each dtype, each shape and each
 * byte range are checked before any tensor is built, and the byte ranges must tile the data
 * section exactly (no overlaps, no holes, no trailing bytes — the reference implementation
 * rejects all three, which rules out polyglot files). The header is bounded in size (100 MB,
 * as the reference) and in JSON nesting (16 levels; a real header needs 3), so a hostile file
 * cannot exhaust the call stack. Every error names the file.
 *
 * Non-finite values: by default {@link saveSafetensors} refuses to write, and
 * {@link loadSafetensors} refuses to read, a floating-point tensor (F32, F64, F16, BF16,
 * F8_E5M2, F8_E4M3) holding NaN or ±Infinity, naming the file, the tensor and the first bad
 * element (`findNonFinite`, `findNonFiniteFp8`). A checkpoint with one NaN weight otherwise
 * loads, samples and writes images of noise far from the cause. Pass
 * `{ allowNonFinite: true }` for data where such values are meant.
 *
 * Convention for structured metadata (configs, optimizer hyper-parameters, RNG state):
 * metadata values must be strings, so store JSON — `metadata.config = JSON.stringify(cfg)` —
 * with {@link jsonMetadata}, and read it back with {@link readJsonMetadata}.
 */
import { Tensor } from '../tensor';

/** Element types of the safetensors format that this module reads and writes. */
export type SafetensorsDType =
  | 'BOOL' | 'U8' | 'I8' | 'F8_E5M2' | 'F8_E4M3'
  | 'I16' | 'U16' | 'F16' | 'BF16'
  | 'I32' | 'U32' | 'F32'
  | 'I64' | 'U64' | 'F64';

/** The typed arrays that hold raw safetensors data (F16/BF16 as raw bits in a Uint16Array). */
export type RawData =
  | Uint8Array | Int8Array | Uint16Array | Int16Array | Uint32Array | Int32Array
  | Float32Array | Float64Array | BigInt64Array | BigUint64Array;

/** One entry exactly as stored: dtype, shape and the elements in row-major order. */
export interface RawTensor {
  dtype: SafetensorsDType;
  shape: number[];
  data: RawData;
}

/** What {@link loadSafetensors} returns. */
export interface SafetensorsFile {
  /**
   * The floating-point entries as Tensors: F32 → float32, F64 → float64, and F16/BF16
   * widened to float32. Integer and boolean entries are only in `raw` (a Tensor holds floats
   * only, and int64 values would not survive the conversion).
   */
  tensors: Map<string, Tensor>;
  /** Every entry as stored, in the order of the header. */
  raw: Map<string, RawTensor>;
  /** The `__metadata__` map (empty when the file has none). */
  metadata: Record<string, string>;
}

/** A malformed or unreadable safetensors file; the message names the file and the problem. */
export class SafetensorsError extends Error {
  constructor(readonly file: string, readonly problem: string) {
    super(`safetensors ${file}: ${problem}`);
    this.name = 'SafetensorsError';
  }
}

type TypedArrayCtor = { new (buffer: ArrayBufferLike, byteOffset: number, length: number): RawData; name: string };

/** Bytes per element and the typed array that holds each dtype. */
export const DTYPES: Record<SafetensorsDType, { bytes: number; array: TypedArrayCtor }> = {
  BOOL: { bytes: 1, array: Uint8Array },
  U8: { bytes: 1, array: Uint8Array },
  I8: { bytes: 1, array: Int8Array },
  F8_E5M2: { bytes: 1, array: Uint8Array },
  F8_E4M3: { bytes: 1, array: Uint8Array },
  I16: { bytes: 2, array: Int16Array },
  U16: { bytes: 2, array: Uint16Array },
  F16: { bytes: 2, array: Uint16Array },
  BF16: { bytes: 2, array: Uint16Array },
  I32: { bytes: 4, array: Int32Array },
  U32: { bytes: 4, array: Uint32Array },
  F32: { bytes: 4, array: Float32Array },
  I64: { bytes: 8, array: BigInt64Array },
  U64: { bytes: 8, array: BigUint64Array },
  F64: { bytes: 8, array: Float64Array },
};

/** The reference implementation refuses headers above 100 MB; so do we. */
export const MAX_HEADER_BYTES = 100_000_000;

/**
 * A header is three levels deep (`{name: {shape: [..]}}`); anything much deeper is not a
 * safetensors header, and JSON.parse of deeply nested input exhausts the call stack.
 */
export const MAX_HEADER_DEPTH = 16;

/** The header key that holds the string → string metadata instead of a tensor. */
export const METADATA_KEY = '__metadata__';

// Typed arrays use the machine's byte order; the format is little-endian.
// the byte order of a typed array on this host, read from memory (no Node API: this module also loads in a browser)
export const bigEndianHost = new Uint8Array(Uint16Array.of(1).buffer)[0] === 0;

export function isKnownDType(d: unknown): d is SafetensorsDType {
  return typeof d === 'string' && Object.prototype.hasOwnProperty.call(DTYPES, d);
}

export function product(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Reverse the bytes of each `width`-byte element (only needed on big-endian hosts). */
export function swapBytes(bytes: Uint8Array, width: number): void {
  if (width === 1) return;
  for (let i = 0; i < bytes.length; i += width) bytes.subarray(i, i + width).reverse();
}

/** IEEE half precision bits → number. */
function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24; // subnormal
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** F32/F64 as they are, F16/BF16 widened to float32; null for integer/bool/fp8 entries. */
export function floatTensor(raw: RawTensor): Tensor | null {
  switch (raw.dtype) {
    case 'F32':
    case 'F64':
      return new Tensor(raw.data as Float32Array | Float64Array, raw.shape);
    case 'F16':
      return new Tensor(Float32Array.from(raw.data as Uint16Array, halfToFloat), raw.shape);
    case 'BF16': {
      // bfloat16 is the top half of a float32
      const bits = Uint32Array.from(raw.data as Uint16Array, (b) => b << 16);
      return new Tensor(new Float32Array(bits.buffer), raw.shape);
    }
    default:
      return null;
  }
}

/** The first NaN/±Infinity among `tensors` as "tensor 'name' holds NaN at flat index 3", or null. */
export function findNonFinite(tensors: Iterable<[string, Tensor]>): string | null {
  for (const [name, t] of tensors) {
    const v = t.values();
    for (let i = 0; i < v.length; i++) {
      if (!Number.isFinite(v[i]!)) return `tensor '${name}' (shape [${t.shape.join(',')}]) holds ${v[i]} at flat index ${i}`;
    }
  }
  return null;
}

/**
 * What a non-finite fp8 element's bits stand for (NaN or ±Infinity), or null when finite.
 * E5M2 follows IEEE: exponent 11111 is ±Infinity when the mantissa is 0, else NaN. E4M3 is the
 * "fn" variant (PyTorch's float8_e4m3fn, what safetensors' F8_E4M3 holds): no infinities, and
 * NaN only at S.1111.111, so 0x7E (448) is the largest finite value.
 */
function fp8NonFinite(dtype: 'F8_E5M2' | 'F8_E4M3', bits: number): number | null {
  if (dtype === 'F8_E4M3') return (bits & 0x7f) === 0x7f ? NaN : null;
  if ((bits & 0x7c) !== 0x7c) return null;
  return bits & 0x03 ? NaN : bits & 0x80 ? -Infinity : Infinity;
}

/** `findNonFinite` for the fp8 entries among `entries` (kept as bits, never Tensors); other dtypes are skipped. */
export function findNonFiniteFp8(entries: Iterable<[string, RawTensor]>): string | null {
  for (const [name, raw] of entries) {
    if (raw.dtype !== 'F8_E5M2' && raw.dtype !== 'F8_E4M3') continue;
    for (let i = 0; i < raw.data.length; i++) {
      const v = fp8NonFinite(raw.dtype, raw.data[i] as number);
      if (v !== null) return `tensor '${name}' (shape [${raw.shape.join(',')}]) holds ${v} at flat index ${i}`;
    }
  }
  return null;
}

/** Turn structured values into safetensors metadata: each value JSON-encoded (`{config: {...}}` → `{config: '{...}'}`). */
export function jsonMetadata(values: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(values)) {
    const s = JSON.stringify(v);
    if (s === undefined) throw new Error(`jsonMetadata: '${k}' cannot be encoded as JSON (${typeof v})`);
    out[k] = s;
  }
  return out;
}

/** Parse the JSON stored under `key` in metadata; throws naming the key (and file) when absent or malformed. */
export function readJsonMetadata<T = unknown>(metadata: Record<string, string>, key: string, file = '<metadata>'): T {
  const s = metadata[key];
  if (s === undefined) throw new Error(`${file}: metadata has no '${key}' (keys: ${Object.keys(metadata).join(', ') || 'none'})`);
  try {
    return JSON.parse(s) as T;
  } catch (err) {
    throw new Error(`${file}: metadata '${key}' is not valid JSON (${(err as Error).message})`);
  }
}
