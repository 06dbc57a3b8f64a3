/**
 * Writing safetensors files: tensors and string metadata → the bytes of the format (an 8-byte
 * little-endian header length, the JSON header, the raw little-endian data; drawn in
 * safetensors-format.ts, reference https://github.com/huggingface/safetensors).
 *
 * Writing follows the reference implementation: tensors are laid out by element size
 * (largest first), then by name, so each tensor starts at an offset aligned to its own
 * element size; the header is space-padded to 8-byte alignment. Files are written with
 * {@link atomicWriteFile}, so a crash mid-save leaves the previous checkpoint intact, and
 * a floating-point tensor (fp8 included) holding NaN or ±Infinity is refused unless
 * `allowNonFinite`.
 */
import { Tensor } from '../tensor';
import { atomicWriteFile, type AtomicWriteOptions } from './atomic';
import {
  bigEndianHost, DTYPES, findNonFinite, findNonFiniteFp8, floatTensor, isKnownDType, METADATA_KEY, product, swapBytes, type RawTensor,
} from './safetensors-format';

/** What can be saved: a Tensor (float32 → F32, float64 → F64) or a {@link RawTensor}. */
export type SafetensorsInput = Map<string, Tensor | RawTensor> | Record<string, Tensor | RawTensor>;

/** Options of {@link saveSafetensors}. */
export interface SaveSafetensorsOptions extends AtomicWriteOptions {
  /** Write tensors holding NaN or ±Infinity too (default false: refuse, naming the tensor). */
  allowNonFinite?: boolean;
}

/**
 * A Tensor or RawTensor, checked and turned into a RawTensor (Tensor values are not copied when
 * contiguous). `where` starts each error: the function and, when saving, the file.
 */
function toRaw(where: string, name: string, t: Tensor | RawTensor): RawTensor {
  if (t instanceof Tensor) {
    return { dtype: t.dtype === 'float64' ? 'F64' : 'F32', shape: t.shape, data: t.values() };
  }
  if (!isKnownDType(t.dtype)) throw new Error(`${where}: tensor '${name}' has unknown dtype '${String(t.dtype)}' (known: ${Object.keys(DTYPES).join(', ')})`);
  const spec = DTYPES[t.dtype];
  if (!(t.data instanceof spec.array)) {
    throw new Error(`${where}: tensor '${name}' of dtype ${t.dtype} needs a ${spec.array.name}, got a ${t.data?.constructor?.name ?? String(t.data)}`);
  }
  if (!Array.isArray(t.shape) || !t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    const shown = Array.isArray(t.shape) ? `[${t.shape.join(',')}]` : JSON.stringify(t.shape);
    throw new Error(`${where}: tensor '${name}' has shape ${shown}; expected an array of non-negative integers`);
  }
  if (product(t.shape) !== t.data.length) {
    throw new Error(`${where}: tensor '${name}' has shape [${t.shape.join(',')}] (${product(t.shape)} elements) but ${t.data.length} values`);
  }
  return { dtype: t.dtype, shape: [...t.shape], data: t.data };
}

/** Every entry checked ({@link toRaw}), the reserved name refused, before anything reads the values. */
function checkedEntries(where: string, tensors: SafetensorsInput): [string, RawTensor][] {
  return (tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors)).map(([name, t]) => {
    if (name === METADATA_KEY) throw new Error(`${where}: '${METADATA_KEY}' is reserved and cannot name a tensor`);
    return [name, toRaw(where, name, t)];
  });
}

/**
 * Encode tensors and metadata as the bytes of a safetensors file (what {@link saveSafetensors}
 * writes). Useful on its own for in-memory round trips.
 */
export function serializeSafetensors(tensors: SafetensorsInput, metadata: Record<string, string> = {}): Uint8Array {
  return encode('serializeSafetensors', checkedEntries('serializeSafetensors', tensors), metadata);
}

/** The bytes of a file holding checked `entries` and `metadata`. */
function encode(where: string, entries: [string, RawTensor][], metadata: Record<string, string>): Uint8Array {
  for (const [key, value] of Object.entries(metadata)) {
    if (typeof value !== 'string') {
      throw new Error(`${where}: metadata '${key}' must be a string, got ${typeof value} (store structured values as JSON, see jsonMetadata)`);
    }
  }
  // Reference layout: largest element size first, then by name; keeps every tensor aligned.
  entries.sort(([na, a], [nb, b]) => DTYPES[b.dtype].bytes - DTYPES[a.dtype].bytes || (na < nb ? -1 : na > nb ? 1 : 0));

  // no prototype: a tensor named '__proto__' must become a key of the JSON, not the object's prototype
  const header: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
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
  const where = `saveSafetensors ${path}`;
  // checked first: the non-finite check below builds Tensors from the entries
  const entries = checkedEntries(where, tensors);
  if (!opts.allowNonFinite) {
    const floats = entries.flatMap(([name, raw]): [string, Tensor][] => {
      const f = floatTensor(raw); // F32/F64 (every Tensor) and F16/BF16 raw entries
      return f ? [[name, f]] : [];
    });
    const bad = findNonFinite(floats) ?? findNonFiniteFp8(entries);
    if (bad !== null) throw new Error(`${where}: refusing to write a non-finite checkpoint: ${bad} (nothing was written)`);
  }
  atomicWriteFile(path, encode(where, entries, metadata), opts);
}
