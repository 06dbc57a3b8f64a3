/**
 * The IDX file format (MNIST, Fashion-MNIST), read by hand with every header field checked.
 *
 * Layout (big-endian): two zero bytes, a type byte (0x08 = unsigned byte), the number of
 * dimensions d, then d 32-bit sizes, then the data. The first four bytes read as one
 * integer are the "magic number": 2049 (0x00000801) for a label file [N], 2051 (0x00000803)
 * for an image file [N, rows, cols]. Files may be gzipped (`.gz`, bytes 1F 8B).
 */
import * as fs from 'fs';
import * as zlib from 'zlib';

/** Magic number of an IDX label file: unsigned bytes, 1 dimension. */
export const IDX_LABELS_MAGIC = 2049;
/** Magic number of an IDX image file: unsigned bytes, 3 dimensions. */
export const IDX_IMAGES_MAGIC = 2051;

/** A parsed IDX file: its dimensions and the unsigned bytes after the header. */
export interface IdxArray {
  dims: number[];
  /** The data bytes (a view into the file buffer; `dims` product long). */
  data: Uint8Array;
}

/** Options for {@link readIdx}. */
export interface ReadIdxOptions {
  /** Read only the first `limit` items along dimension 0 (the rest of the file is not touched when it is not gzipped). */
  limit?: number;
}

function describe(magic: number): string {
  return magic === IDX_IMAGES_MAGIC ? 'an image file [N, rows, cols]' : magic === IDX_LABELS_MAGIC ? 'a label file [N]' : `magic ${magic}`;
}

/** Parse the header of IDX bytes and check it against `expectedMagic`. Returns dims and header length. */
export function parseIdxHeader(head: Uint8Array, file: string, expectedMagic: number): { dims: number[]; headerBytes: number } {
  if (head.length < 4) throw new Error(`${file}: truncated IDX file (${head.length} bytes, shorter than the 4-byte magic number)`);
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const magic = view.getUint32(0, false);
  if (magic !== expectedMagic) {
    throw new Error(`${file}: wrong IDX magic number ${magic} (0x${magic.toString(16).padStart(8, '0')}), expected ${expectedMagic} for ${describe(expectedMagic)}`);
  }
  const ndim = magic & 0xff;
  const headerBytes = 4 + 4 * ndim;
  if (head.length < headerBytes) throw new Error(`${file}: truncated IDX header (${head.length} bytes, ${ndim} dimensions need ${headerBytes})`);
  const dims: number[] = [];
  for (let d = 0; d < ndim; d++) dims.push(view.getUint32(4 + 4 * d, false));
  return { dims, headerBytes };
}

/**
 * Read an IDX file of unsigned bytes, checking magic, dimensions and byte length.
 * Throws `<file>: <what is wrong>` for a wrong magic number or a file shorter or longer
 * than its header says.
 */
export function readIdx(file: string, expectedMagic: number, opts: ReadIdxOptions = {}): IdxArray {
  if (!fs.existsSync(file)) throw new Error(`${file}: IDX file not found`);
  const gz = isGzip(file);
  if (gz) {
    let raw: Buffer;
    try {
      raw = zlib.gunzipSync(fs.readFileSync(file));
    } catch (e) {
      throw new Error(`${file}: corrupt gzip stream (${(e as Error).message})`);
    }
    const { dims, headerBytes } = parseIdxHeader(raw, file, expectedMagic);
    checkLength(file, dims, headerBytes, raw.length);
    const n = clampLimit(dims[0]!, opts.limit);
    const itemBytes = product(dims.slice(1));
    return { dims: [n, ...dims.slice(1)], data: raw.subarray(headerBytes, headerBytes + n * itemBytes) };
  }
  // Plain file: read the header, check the size from fstat, then read only what is asked for.
  const fd = fs.openSync(file, 'r');
  try {
    const size = fs.fstatSync(fd).size;
    const head = Buffer.alloc(Math.min(size, 4 + 4 * 255));
    fs.readSync(fd, head, 0, head.length, 0);
    const { dims, headerBytes } = parseIdxHeader(head, file, expectedMagic);
    checkLength(file, dims, headerBytes, size);
    const n = clampLimit(dims[0]!, opts.limit);
    const data = Buffer.alloc(n * product(dims.slice(1)));
    let done = 0;
    while (done < data.length) {
      const got = fs.readSync(fd, data, done, data.length - done, headerBytes + done);
      if (got === 0) throw new Error(`${file}: file ended after ${headerBytes + done} bytes while reading IDX data`);
      done += got;
    }
    return { dims: [n, ...dims.slice(1)], data };
  } finally {
    fs.closeSync(fd);
  }
}

function isGzip(file: string): boolean {
  const fd = fs.openSync(file, 'r');
  try {
    const b = Buffer.alloc(2);
    const got = fs.readSync(fd, b, 0, 2, 0);
    return got === 2 && b[0] === 0x1f && b[1] === 0x8b;
  } finally {
    fs.closeSync(fd);
  }
}

function product(xs: number[]): number {
  return xs.reduce((a, b) => a * b, 1);
}

function checkLength(file: string, dims: number[], headerBytes: number, actual: number): void {
  const expected = headerBytes + product(dims);
  if (actual !== expected) {
    const what = actual < expected ? 'truncated IDX file' : 'IDX file longer than its header says';
    throw new Error(`${file}: ${what}: header says ${dims.join(' × ')} bytes + ${headerBytes} header = ${expected} bytes, the file holds ${actual}`);
  }
}

function clampLimit(n: number, limit: number | undefined): number {
  if (limit === undefined) return n;
  if (!Number.isInteger(limit) || limit < 0) throw new Error(`readIdx: limit must be a non-negative integer, got ${limit}`);
  return Math.min(n, limit);
}
