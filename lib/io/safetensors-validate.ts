/**
 * Validating a safetensors header before anything in it is trusted: the 8-byte header length
 * against the file size and the 100 MB limit, the JSON (UTF-8, nesting bounded, an object),
 * each entry's dtype, shape and byte range, and that the byte ranges tile the data section.
 * The layout these checks hold a file to (8-byte little-endian header length, JSON header, raw
 * little-endian data) is drawn in safetensors-format.ts; the reference is
 * https://github.com/huggingface/safetensors. Both readers (safetensors-read.ts) use these.
 */
import {
  DTYPES, isKnownDType, MAX_HEADER_BYTES, MAX_HEADER_DEPTH, METADATA_KEY, product, SafetensorsError, type SafetensorsDType,
} from './safetensors-format';

/** One header entry after {@link checkEntry}: its byte range is relative to the data section. */
export interface CheckedEntry {
  name: string;
  dtype: SafetensorsDType;
  shape: number[];
  begin: number;
  end: number;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/** Check one header entry: known dtype, valid shape, offsets inside the data section, bytes = elements × size. */
export function checkEntry(file: string, name: string, info: unknown, dataBytes: number): CheckedEntry {
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
export function checkCoverage(file: string, entries: CheckedEntry[], dataBytes: number): void {
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
export function parseHeader(file: string, headerBytes: Uint8Array, dataBytes: number): { metadata: Record<string, string>; entries: CheckedEntry[] } {
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

/** The 8-byte header length of a `size`-byte file, checked against the header limit and the file size. */
export function checkedHeaderLength(file: string, headerLen64: bigint, size: number): number {
  if (headerLen64 > BigInt(MAX_HEADER_BYTES)) throw new SafetensorsError(file, `header length ${headerLen64} exceeds the ${MAX_HEADER_BYTES}-byte limit`);
  const headerLen = Number(headerLen64);
  if (8 + headerLen > size) throw new SafetensorsError(file, `header length ${headerLen} exceeds the file size (${size} bytes, so at most ${size - 8})`);
  return headerLen;
}
