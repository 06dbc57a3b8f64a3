/**
 * An on-disk cache for a decoded, resized dataset, so the second run skips the JPEG decoding.
 *
 * File layout:
 * ```
 * "ARRADS01"                  8 bytes, magic
 * header length               uint32 little-endian
 * header                      JSON: params, sourceHash, dataSha256, shape, classNames, prompts, source
 * zero padding                to a multiple of 4 bytes
 * images                      float32 little-endian, N·C·S·S values
 * labels                      int32 little-endian, N values
 * ```
 * The header records the loader's parameters and a hash of every source file's path, size
 * and modification time. A cache whose parameters differ, whose sources changed, or whose
 * bytes do not add up is reported as such and rebuilt — never silently reused. The header also
 * holds a SHA-256 of the data section (images and labels): a flipped bit or pixels overwritten
 * with NaN no longer match it, so the file is reported corrupt and rebuilt (checked on every
 * load; hashing is far cheaper than the decoding it saves). Pixels must be finite and labels
 * in range, on write and on read. Writes go through lib/io/atomic.ts
 * `atomicWriteFile` (a temporary file renamed over the old one), so a crash mid-write leaves
 * either the old cache or the new one, not half of one.
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { atomicWriteFile } from '../io/atomic';
import { Tensor } from '../tensor';
import type { ImageDataset } from './dataset';

const MAGIC = 'ARRADS01';

/** One source file as the cache remembers it. */
export interface SourceFile {
  path: string;
  size: number;
  mtimeMs: number;
}

/** What a cache must match to be used: the loader's parameters and its source files. */
export interface CacheKey {
  /** Loader parameters (size, channels, class list, …); compared as canonical JSON. */
  params: Record<string, unknown>;
  /** Every file the dataset was decoded from. */
  sources: SourceFile[];
}

/** The outcome of {@link readDatasetCache}. */
export type CacheRead =
  | { status: 'hit'; dataset: ImageDataset }
  | { status: 'missing' | 'stale' | 'corrupt'; reason: string };

/** The header stored in a cache file. */
interface CacheHeader {
  params: Record<string, unknown>;
  sourceHash: string;
  sourceCount: number;
  /** SHA-256 (hex) of the data section: the image bytes followed by the label bytes */
  dataSha256?: string;
  shape: number[];
  classNames: string[];
  prompts?: string[];
  source: string;
}

/** `stat` each file for the cache key. */
export function describeSources(files: string[]): SourceFile[] {
  return files.map((file) => {
    const st = fs.statSync(file);
    return { path: path.resolve(file), size: st.size, mtimeMs: st.mtimeMs };
  });
}

/** JSON with object keys sorted, so equal parameters always give equal strings. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

/** SHA-256 over the sorted list of `path \t size \t mtime` lines. */
export function hashSources(sources: SourceFile[]): string {
  const lines = sources.map((s) => `${s.path}\t${s.size}\t${s.mtimeMs}`).sort();
  return crypto.createHash('sha256').update(lines.join('\n')).digest('hex');
}

/** Read a cache file and check it against `key`. Never throws for a bad cache: it says why it is unusable. */
export function readDatasetCache(file: string, key: CacheKey): CacheRead {
  if (!fs.existsSync(file)) return { status: 'missing', reason: `no cache file at ${file}` };
  if (os.endianness() !== 'LE') return { status: 'stale', reason: 'cache files are little-endian and this machine is not' };
  const bytes = fs.readFileSync(file);
  if (bytes.length < 12 || bytes.toString('latin1', 0, 8) !== MAGIC) return { status: 'corrupt', reason: `${file} does not start with ${MAGIC}` };
  const headerLength = bytes.readUInt32LE(8);
  if (12 + headerLength > bytes.length) return { status: 'corrupt', reason: `${file}: header length ${headerLength} runs past the end (${bytes.length} bytes)` };
  let header: CacheHeader;
  try {
    header = JSON.parse(bytes.toString('utf8', 12, 12 + headerLength)) as CacheHeader;
  } catch (e) {
    return { status: 'corrupt', reason: `${file}: header is not JSON (${(e as Error).message})` };
  }
  const want = canonicalJson(key.params);
  const have = canonicalJson(header.params);
  if (want !== have) return { status: 'stale', reason: `parameters changed: cache has ${have}, asked for ${want}` };
  const hash = hashSources(key.sources);
  if (hash !== header.sourceHash) {
    return { status: 'stale', reason: `source files changed (cache built from ${header.sourceCount} files, now ${key.sources.length}; path/size/mtime hash differs)` };
  }
  const [n, c, h, w] = header.shape as [number, number, number, number];
  const dataStart = align4(12 + headerLength);
  const imageBytes = 4 * n * c * h * w;
  const expected = dataStart + imageBytes + 4 * n;
  if (bytes.length !== expected) return { status: 'corrupt', reason: `${file}: ${bytes.length} bytes, header implies ${expected}` };
  if (typeof header.dataSha256 !== 'string') return { status: 'stale', reason: `${file}: written without a data checksum (an older cache format)` };
  const sha = dataChecksum(bytes.subarray(dataStart, expected));
  if (sha !== header.dataSha256) {
    return { status: 'corrupt', reason: `${file}: the data's SHA-256 is ${sha.slice(0, 12)}…, the header recorded ${header.dataSha256.slice(0, 12)}… (the file was modified or damaged)` };
  }
  // Copy out of the file buffer: typed arrays need aligned, owned memory.
  const images = new Float32Array(n * c * h * w);
  new Uint8Array(images.buffer).set(bytes.subarray(dataStart, dataStart + imageBytes));
  const labels = new Int32Array(n);
  new Uint8Array(labels.buffer).set(bytes.subarray(dataStart + imageBytes, expected));
  const bad = checkValues(images, labels, header.classNames.length);
  if (bad !== null) return { status: 'corrupt', reason: `${file}: ${bad}` };
  const dataset: ImageDataset = { images: new Tensor(images, [n, c, h, w]), labels, classNames: header.classNames, source: header.source };
  if (header.prompts) dataset.prompts = header.prompts;
  return { status: 'hit', dataset };
}

/** Write `ds` to `file` with `key` in its header, atomically (`atomicWriteFile`: temp file + rename). */
export function writeDatasetCache(file: string, key: CacheKey, ds: ImageDataset): void {
  const images = Float32Array.from(ds.images.values());
  const bad = checkValues(images, ds.labels, ds.classNames.length);
  if (bad !== null) throw new Error(`writeDatasetCache ${file}: refusing to cache this dataset: ${bad}`);
  const data = [Buffer.from(images.buffer, images.byteOffset, images.byteLength), Buffer.from(ds.labels.buffer, ds.labels.byteOffset, ds.labels.byteLength)];
  const header: CacheHeader = {
    params: key.params,
    sourceHash: hashSources(key.sources),
    sourceCount: key.sources.length,
    dataSha256: dataChecksum(Buffer.concat(data)),
    shape: ds.images.shape,
    classNames: ds.classNames,
    source: ds.source,
  };
  if (ds.prompts) header.prompts = ds.prompts;
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const prefix = Buffer.alloc(12);
  prefix.write(MAGIC, 0, 'latin1');
  prefix.writeUInt32LE(json.length, 8);
  const pad = Buffer.alloc(align4(12 + json.length) - 12 - json.length);
  const parts = [prefix, json, pad, ...data];
  atomicWriteFile(file, Buffer.concat(parts)); // creates the folder, sweeps dead writers' temp files, fsyncs, renames
}

/** Options for {@link cachedDataset}. */
export interface CachedOptions {
  /** Told whether the cache was used, and if not, why (`'missing'`, `'stale'`, `'corrupt'`). Without it, a stale or corrupt cache is reported on stderr. */
  onCache?: (status: CacheRead['status'], reason: string, file: string) => void;
}

/** Use the cache at `file` when it matches `key`; otherwise `build()`, write the cache, and return the fresh set. */
export function cachedDataset(file: string, key: CacheKey, build: () => ImageDataset, opts: CachedOptions = {}): ImageDataset {
  const read = readDatasetCache(file, key);
  if (read.status === 'hit') {
    opts.onCache?.('hit', 'parameters and source files match', file);
    return read.dataset;
  }
  if (opts.onCache) opts.onCache(read.status, read.reason, file);
  else if (read.status !== 'missing') process.stderr.write(`dataset cache ${read.status}: ${read.reason}; rebuilding it\n`);
  const ds = build();
  writeDatasetCache(file, key, ds);
  return ds;
}

/** SHA-256 (hex) of the data section. */
function dataChecksum(data: Uint8Array): string {
  return crypto.createHash('sha256').update(data).digest('hex');
}

/** The first non-finite pixel or out-of-range label, described; null when all are fine. */
function checkValues(images: Float32Array, labels: Int32Array, numClasses: number): string | null {
  for (let i = 0; i < images.length; i++) if (!Number.isFinite(images[i]!)) return `pixel ${i} is ${images[i]} (pixels must be finite)`;
  for (let i = 0; i < labels.length; i++) {
    if (labels[i]! < 0 || labels[i]! >= numClasses) return `label ${i} is ${labels[i]}, outside [0, ${numClasses})`;
  }
  return null;
}

function align4(n: number): number {
  return (n + 3) & ~3;
}
