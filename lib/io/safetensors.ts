/**
 * The safetensors checkpoint format (https://github.com/huggingface/safetensors), read and
 * written from scratch.
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
 * Writing follows the reference implementation: tensors are laid out by element size
 * (largest first), then by name, so each tensor starts at an offset aligned to its own
 * element size; the header is space-padded to 8-byte alignment. Files are written with
 * {@link atomicWriteFile}, so a crash mid-save leaves the previous checkpoint intact.
 *
 * Non-finite values: by default {@link saveSafetensors} refuses to write, and
 * {@link loadSafetensors} refuses to read, a floating-point tensor holding NaN or ±Infinity
 * (naming the file, the tensor and the first bad element). A checkpoint with one NaN weight
 * otherwise loads, samples and writes images of noise far from the cause. Pass
 * `{ allowNonFinite: true }` for data where such values are meant.
 *
 * Convention for structured metadata (configs, optimizer hyper-parameters, RNG state):
 * metadata values must be strings, so store JSON — `metadata.config = JSON.stringify(cfg)` —
 * with {@link jsonMetadata}, and read it back with {@link readJsonMetadata}.
 */
import * as fs from 'node:fs';
import { Tensor } from '../tensor';
import { atomicWriteFile, type AtomicWriteOptions } from './atomic';

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

/** What can be saved: a Tensor (float32 → F32, float64 → F64) or a {@link RawTensor}. */
export type SafetensorsInput = Map<string, Tensor | RawTensor> | Record<string, Tensor | RawTensor>;

/** Options of {@link saveSafetensors}. */
export interface SaveSafetensorsOptions extends AtomicWriteOptions {
  /** Write tensors holding NaN or ±Infinity too (default false: refuse, naming the tensor). */
  allowNonFinite?: boolean;
}

/** Options of {@link loadSafetensors} and {@link parseSafetensors}. */
export interface LoadSafetensorsOptions {
  /** Accept floating-point tensors holding NaN or ±Infinity (default false: refuse, naming the tensor). */
  allowNonFinite?: boolean;
}

/** The first NaN/±Infinity among `tensors` as "tensor 'name' holds NaN at flat index 3", or null. */
function findNonFinite(tensors: Iterable<[string, Tensor]>): string | null {
  for (const [name, t] of tensors) {
    const v = t.values();
    for (let i = 0; i < v.length; i++) {
      if (!Number.isFinite(v[i]!)) return `tensor '${name}' (shape [${t.shape.join(',')}]) holds ${v[i]} at flat index ${i}`;
    }
  }
  return null;
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
const DTYPES: Record<SafetensorsDType, { bytes: number; array: TypedArrayCtor }> = {
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
const MAX_HEADER_BYTES = 100_000_000;
const METADATA_KEY = '__metadata__';
// Typed arrays use the machine's byte order; the format is little-endian.
// the byte order of a typed array on this host, read from memory (no Node API: this module also loads in a browser)
const bigEndianHost = new Uint8Array(Uint16Array.of(1).buffer)[0] === 0;

function isKnownDType(d: unknown): d is SafetensorsDType {
  return typeof d === 'string' && Object.prototype.hasOwnProperty.call(DTYPES, d);
}

function product(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Reverse the bytes of each `width`-byte element (only needed on big-endian hosts). */
function swapBytes(bytes: Uint8Array, width: number): void {
  if (width === 1) return;
  for (let i = 0; i < bytes.length; i += width) bytes.subarray(i, i + width).reverse();
}

// ---------------------------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------------------------

/** A Tensor or RawTensor, checked and turned into a RawTensor (Tensor values are not copied when contiguous). */
function toRaw(name: string, t: Tensor | RawTensor): RawTensor {
  if (t instanceof Tensor) {
    return { dtype: t.dtype === 'float64' ? 'F64' : 'F32', shape: t.shape, data: t.values() };
  }
  if (!isKnownDType(t.dtype)) throw new Error(`saveSafetensors: tensor '${name}' has unknown dtype '${String(t.dtype)}'`);
  const spec = DTYPES[t.dtype];
  if (!(t.data instanceof spec.array)) {
    throw new Error(`saveSafetensors: tensor '${name}' of dtype ${t.dtype} needs a ${spec.array.name}, got a ${t.data.constructor.name}`);
  }
  if (!t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new Error(`saveSafetensors: tensor '${name}' has an invalid shape [${t.shape.join(',')}]`);
  }
  if (product(t.shape) !== t.data.length) {
    throw new Error(`saveSafetensors: tensor '${name}' has shape [${t.shape.join(',')}] (${product(t.shape)} elements) but ${t.data.length} values`);
  }
  return { dtype: t.dtype, shape: [...t.shape], data: t.data };
}

/**
 * Encode tensors and metadata as the bytes of a safetensors file (what {@link saveSafetensors}
 * writes). Useful on its own for in-memory round trips.
 */
export function serializeSafetensors(tensors: SafetensorsInput, metadata: Record<string, string> = {}): Uint8Array {
  const entries = (tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors)).map(
    ([name, t]) => {
      if (name === METADATA_KEY) throw new Error(`saveSafetensors: '${METADATA_KEY}' is reserved and cannot name a tensor`);
      return [name, toRaw(name, t)] as const;
    },
  );
  for (const [key, value] of Object.entries(metadata)) {
    if (typeof value !== 'string') {
      throw new Error(`saveSafetensors: metadata '${key}' must be a string, got ${typeof value} (store structured values as JSON, see jsonMetadata)`);
    }
  }
  // Reference layout: largest element size first, then by name; keeps every tensor aligned.
  entries.sort(([na, a], [nb, b]) => DTYPES[b.dtype].bytes - DTYPES[a.dtype].bytes || (na < nb ? -1 : na > nb ? 1 : 0));

  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header[METADATA_KEY] = metadata;
  let offset = 0;
  for (const [name, t] of entries) {
    const end = offset + t.data.byteLength;
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, end] };
    offset = end;
  }
  let headerText = JSON.stringify(header);
  const unpadded = Buffer.byteLength(headerText, 'utf8');
  headerText += ' '.repeat((8 - (unpadded % 8)) % 8); // 8 + N is a multiple of 8
  const headerBytes = Buffer.from(headerText, 'utf8');

  const out = new Uint8Array(8 + headerBytes.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let pos = 8 + headerBytes.length;
  for (const [, t] of entries) {
    const bytes = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    out.set(bytes, pos);
    if (bigEndianHost) swapBytes(out.subarray(pos, pos + bytes.length), DTYPES[t.dtype].bytes);
    pos += bytes.length;
  }
  return out;
}

/**
 * Save tensors (and optional string metadata) as a safetensors file, atomically: the bytes
 * go to `<path>.tmp-<pid>`, are fsynced, and the temp file is renamed over `path`.
 *
 * @param tensors name → Tensor (float32 → F32, float64 → F64) or {@link RawTensor} for other dtypes.
 * @param metadata string → string; put structured values in as JSON ({@link jsonMetadata}).
 * @param opts passed to {@link atomicWriteFile} (tests use its `rename` hook); `allowNonFinite`
 *   to write NaN/±Infinity values (refused by default).
 */
export function saveSafetensors(path: string, tensors: SafetensorsInput, metadata: Record<string, string> = {}, opts: SaveSafetensorsOptions = {}): void {
  if (!opts.allowNonFinite) {
    const entries = tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors);
    const floats = entries.flatMap(([name, t]): [string, Tensor][] => {
      if (t instanceof Tensor) return [[name, t]];
      const f = floatTensor(t); // F32/F64/F16/BF16 raw entries
      return f ? [[name, f]] : [];
    });
    const bad = findNonFinite(floats);
    if (bad !== null) throw new Error(`saveSafetensors ${path}: refusing to write a non-finite checkpoint: ${bad} (nothing was written)`);
  }
  atomicWriteFile(path, serializeSafetensors(tensors, metadata), opts);
}

// ---------------------------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------------------------

interface CheckedEntry {
  name: string;
  dtype: SafetensorsDType;
  shape: number[];
  begin: number;
  end: number;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/** Check one header entry: known dtype, valid shape, offsets inside the data section, bytes = elements × size. */
function checkEntry(file: string, name: string, info: unknown, dataBytes: number): CheckedEntry {
  const fail = (problem: string): never => {
    throw new SafetensorsError(file, `tensor '${name}': ${problem}`);
  };
  if (!isObject(info)) return fail(`expected an object {dtype, shape, data_offsets}, got ${JSON.stringify(info)}`);
  const { dtype, shape, data_offsets: offsets } = info;
  if (!isKnownDType(dtype)) return fail(`unknown dtype ${JSON.stringify(dtype)} (known: ${Object.keys(DTYPES).join(', ')})`);
  if (!Array.isArray(shape) || !shape.every(isCount)) return fail(`shape must be an array of non-negative integers, got ${JSON.stringify(shape)}`);
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isCount)) {
    return fail(`data_offsets must be [begin, end] with non-negative integers, got ${JSON.stringify(offsets)}`);
  }
  const [begin, end] = offsets as [number, number];
  if (end < begin) return fail(`data_offsets [${begin}, ${end}] end before they begin`);
  if (end > dataBytes) return fail(`data_offsets [${begin}, ${end}] reach beyond the data section of ${dataBytes} bytes`);
  const elements = product(shape as number[]);
  const needed = elements * DTYPES[dtype].bytes;
  if (!Number.isSafeInteger(needed) || needed !== end - begin) {
    return fail(`shape [${shape.join(',')}] of ${dtype} needs ${needed} bytes, but data_offsets [${begin}, ${end}] span ${end - begin}`);
  }
  return { name, dtype, shape: shape as number[], begin, end };
}

/** The byte ranges must tile [0, dataBytes) exactly: no overlap, no hole, nothing after the last tensor. */
function checkCoverage(file: string, entries: CheckedEntry[], dataBytes: number): void {
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let covered = 0;
  let previous: CheckedEntry | null = null;
  for (const e of sorted) {
    if (e.begin < covered && previous) {
      throw new SafetensorsError(file, `tensors '${previous.name}' [${previous.begin}, ${previous.end}) and '${e.name}' [${e.begin}, ${e.end}) overlap`);
    }
    if (e.begin > covered) {
      throw new SafetensorsError(file, `${e.begin - covered} bytes at data offset ${covered} belong to no tensor (gap before '${e.name}'; the data section must be fully covered)`);
    }
    covered = e.end;
    if (e.end > e.begin) previous = e;
  }
  if (covered !== dataBytes) {
    throw new SafetensorsError(file, `${dataBytes - covered} trailing bytes after the last tensor (data section is ${dataBytes} bytes, tensors cover ${covered})`);
  }
}

function parseMetadata(file: string, value: unknown): Record<string, string> {
  if (!isObject(value)) throw new SafetensorsError(file, `__metadata__ must be an object of strings, got ${JSON.stringify(value)}`);
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== 'string') throw new SafetensorsError(file, `__metadata__ '${k}' must be a string, got ${JSON.stringify(v)}`);
  }
  return { ...(value as Record<string, string>) };
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
function floatTensor(raw: RawTensor): Tensor | null {
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

/**
 * A header is three levels deep (`{name: {shape: [..]}}`); anything much deeper is not a
 * safetensors header, and JSON.parse of deeply nested input exhausts the call stack.
 */
const MAX_HEADER_DEPTH = 16;

/** The deepest `{`/`[` nesting of a JSON text, counted outside strings (stops early past `limit`). */
function jsonDepth(text: string, limit: number): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      depth++;
      if (depth > deepest) deepest = depth;
      if (deepest > limit) return deepest;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return deepest;
}

/** Decode, bound and check the JSON header; `dataBytes` is the size of the data section. */
function parseHeader(file: string, headerBytes: Uint8Array, dataBytes: number): { metadata: Record<string, string>; entries: CheckedEntry[] } {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(headerBytes);
  } catch {
    throw new SafetensorsError(file, 'header is not valid UTF-8');
  }
  if (!text.startsWith('{')) throw new SafetensorsError(file, `header must start with '{', got ${JSON.stringify(text.slice(0, 16))}`);
  if (jsonDepth(text, MAX_HEADER_DEPTH) > MAX_HEADER_DEPTH) {
    throw new SafetensorsError(file, `header JSON is nested more than ${MAX_HEADER_DEPTH} levels deep (a safetensors header needs 3)`);
  }
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (err) {
    throw new SafetensorsError(file, `header is not valid JSON (${(err as Error).message})`);
  }
  if (!isObject(header)) throw new SafetensorsError(file, 'header must be a JSON object');
  let metadata: Record<string, string> = {};
  const entries: CheckedEntry[] = [];
  for (const [name, info] of Object.entries(header)) {
    if (name === METADATA_KEY) metadata = parseMetadata(file, info);
    else entries.push(checkEntry(file, name, info, dataBytes));
  }
  return { metadata, entries };
}

/** What {@link readSafetensorsHeader} returns: the metadata and each tensor's name, dtype and shape. */
export interface SafetensorsHeader {
  metadata: Record<string, string>;
  tensors: { name: string; dtype: SafetensorsDType; shape: number[] }[];
}

/** The 8-byte header length of a `size`-byte file, checked against the header limit and the file size. */
function checkedHeaderLength(file: string, headerLen64: bigint, size: number): number {
  if (headerLen64 > BigInt(MAX_HEADER_BYTES)) throw new SafetensorsError(file, `header length ${headerLen64} exceeds the ${MAX_HEADER_BYTES}-byte limit`);
  const headerLen = Number(headerLen64);
  if (8 + headerLen > size) throw new SafetensorsError(file, `header length ${headerLen} exceeds the file size (${size} bytes, so at most ${size - 8})`);
  return headerLen;
}

/**
 * Read and check only the header of a safetensors file (not the data): enough to tell what
 * kind of checkpoint a file is before loading it. The same checks as {@link loadSafetensors}
 * apply to the header, including that the byte ranges tile the data section.
 */
export function readSafetensorsHeader(path: string): SafetensorsHeader {
  let fd: number;
  try {
    fd = fs.openSync(path, 'r');
  } catch (err) {
    throw unreadable(path, err);
  }
  try {
    const stat = fs.fstatSync(fd);
    if (stat.isDirectory()) throw new SafetensorsError(path, 'is a folder, not a file');
    const size = stat.size;
    const prefix = Buffer.alloc(8);
    if (size < 8 || fs.readSync(fd, prefix, 0, 8, 0) !== 8) throw new SafetensorsError(path, `file is ${size} bytes, too short for the 8-byte header length`);
    const headerLen = checkedHeaderLength(path, prefix.readBigUInt64LE(0), size);
    const headerBytes = Buffer.alloc(headerLen);
    fs.readSync(fd, headerBytes, 0, headerLen, 8);
    const dataBytes = size - 8 - headerLen;
    const { metadata, entries } = parseHeader(path, headerBytes, dataBytes);
    checkCoverage(path, entries, dataBytes);
    return { metadata, tensors: entries.map(({ name, dtype, shape }) => ({ name, dtype, shape })) };
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Parse the bytes of a safetensors file, validating everything before trusting it.
 * `file` is only used in error messages. The returned arrays are fresh copies (aligned,
 * independent of `bytes`).
 */
export function parseSafetensors(bytes: Uint8Array, file = '<bytes>'): SafetensorsFile {
  if (bytes.length < 8) throw new SafetensorsError(file, `file is ${bytes.length} bytes, too short for the 8-byte header length`);
  const headerLen = checkedHeaderLength(file, new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true), bytes.length);
  const dataStart = 8 + headerLen;
  const dataBytes = bytes.length - dataStart;
  const { metadata, entries } = parseHeader(file, bytes.subarray(8, 8 + headerLen), dataBytes);
  checkCoverage(file, entries, dataBytes);

  const raw = new Map<string, RawTensor>();
  const tensors = new Map<string, Tensor>();
  for (const e of entries) {
    const spec = DTYPES[e.dtype];
    // copy into a fresh ArrayBuffer at offset 0: aligned for any element size, and not a view
    // into `bytes` (Buffer.slice would be one, sharing Node's buffer pool)
    const own = new Uint8Array(e.end - e.begin);
    own.set(bytes.subarray(dataStart + e.begin, dataStart + e.end));
    if (bigEndianHost) swapBytes(own, spec.bytes);
    const entry: RawTensor = { dtype: e.dtype, shape: e.shape, data: new spec.array(own.buffer, 0, (e.end - e.begin) / spec.bytes) };
    raw.set(e.name, entry);
    const t = floatTensor(entry);
    if (t) tensors.set(e.name, t);
  }
  return { tensors, raw, metadata };
}

/**
 * Read and validate a safetensors file (see {@link parseSafetensors}); errors name `path`.
 * A floating-point tensor holding NaN or ±Infinity is refused unless `opts.allowNonFinite`.
 */
export function loadSafetensors(path: string, opts: LoadSafetensorsOptions = {}): SafetensorsFile {
  const file = parseSafetensors(readOrExplain(path), path);
  if (!opts.allowNonFinite) {
    const bad = findNonFinite(file.tensors);
    if (bad !== null) throw new SafetensorsError(path, `${bad}; weights must be finite (a diverged or corrupted checkpoint?)`);
  }
  return file;
}

/** The file's bytes; a missing file or a folder is a {@link SafetensorsError} naming the path, not a bare ENOENT/EISDIR. */
function readOrExplain(path: string): Buffer {
  try {
    return fs.readFileSync(path);
  } catch (err) {
    throw unreadable(path, err);
  }
}

function unreadable(path: string, err: unknown): SafetensorsError {
  const code = (err as NodeJS.ErrnoException).code;
  const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a folder, not a file' : `cannot be read (${code ?? (err as Error).message})`;
  return new SafetensorsError(path, why);
}

// ---------------------------------------------------------------------------------------------
// JSON in metadata
// ---------------------------------------------------------------------------------------------

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
