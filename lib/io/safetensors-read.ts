/**
 * Reading safetensors files: bytes or a path → checked tensors and metadata. The layout read
 * (an 8-byte little-endian header length, the JSON header, the raw little-endian data) is
 * drawn in safetensors-format.ts (reference https://github.com/huggingface/safetensors); every
 * check of the header is in safetensors-validate.ts and runs before any tensor is built.
 * {@link parseSafetensors} needs no file system, so a browser page can load checkpoints too.
 */
import * as fs from 'node:fs';
import type { Tensor } from '../tensor';
import {
  bigEndianHost, DTYPES, findNonFinite, findNonFiniteFp8, floatTensor, SafetensorsError, swapBytes,
  type RawTensor, type SafetensorsDType, type SafetensorsFile,
} from './safetensors-format';
import { checkCoverage, checkedHeaderLength, parseHeader } from './safetensors-validate';

/** Options of {@link loadSafetensors} and {@link parseSafetensors}. */
export interface LoadSafetensorsOptions {
  /** Accept floating-point tensors holding NaN or ±Infinity (default false: refuse, naming the tensor). */
  allowNonFinite?: boolean;
}

/** What {@link readSafetensorsHeader} returns: the metadata and each tensor's name, dtype and shape. */
export interface SafetensorsHeader {
  metadata: Record<string, string>;
  tensors: { name: string; dtype: SafetensorsDType; shape: number[] }[];
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
 * A floating-point tensor (fp8 included) holding NaN or ±Infinity is refused unless
 * `opts.allowNonFinite`.
 */
export function loadSafetensors(path: string, opts: LoadSafetensorsOptions = {}): SafetensorsFile {
  const file = parseSafetensors(readOrExplain(path), path);
  if (!opts.allowNonFinite) {
    const bad = findNonFinite(file.tensors) ?? findNonFiniteFp8(file.raw);
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
