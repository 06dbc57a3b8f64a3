/**
 * The decoded-image cache is not trusted byte for byte: its header holds a SHA-256 of the
 * data, checked on every load. A flipped bit, pixels overwritten with NaN, or a cache from
 * before the checksum existed are each reported (on stderr when no callback is given) and
 * rebuilt from the sources; the rebuilt set equals the original decode.
 */
import * as fs from 'fs';
import * as path from 'path';
import t from 'tap';
import { loadImageFolder, readDatasetCache, Tensor, writeDatasetCache } from '../lib';
import { tempDir, writePng } from './fixtures/data';

const dir = tempDir('cache-integrity');
t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
const root = path.join(dir, 'images');
const cacheDir = path.join(dir, 'cache');
for (let i = 0; i < 3; i++) writePng(path.join(root, 'cls', `${i}.png`), 6, 6, (x, y) => [x * 40, y * 40, i * 50]);

const statuses: [string, string][] = [];
const opts = { size: 4, cacheDir, onCache: (s: string, reason: string) => statuses.push([s, reason]) };
const original = loadImageFolder(root, opts);
const cacheFile = (): string => path.join(cacheDir, fs.readdirSync(cacheDir).find((f) => !f.endsWith('.tmp'))!);
const pristine = fs.readFileSync(cacheFile());
/** Offset of the first image byte: after magic, length and the 4-byte-aligned header. */
const dataStart = (bytes: Buffer): number => (12 + bytes.readUInt32LE(8) + 3) & ~3;

t.test('a flipped bit in the pixels is detected and the cache rebuilt', async (t) => {
  const bytes = Buffer.from(pristine);
  bytes[dataStart(bytes) + 5]! ^= 0x10;
  fs.writeFileSync(cacheFile(), bytes);
  const again = loadImageFolder(root, opts);
  t.equal(statuses.at(-1)![0], 'corrupt');
  t.match(statuses.at(-1)![1], /the data's SHA-256 is [0-9a-f]{12}…, the header recorded [0-9a-f]{12}… \(the file was modified or damaged\)/);
  t.same([...again.images.values()], [...original.images.values()], 'rebuilt pixels equal the original decode');
  t.same(fs.readFileSync(cacheFile()), pristine, 'and the rewritten cache is the original file again');
  loadImageFolder(root, opts);
  t.equal(statuses.at(-1)![0], 'hit');
});

t.test('all-NaN pixels are detected (checksum), and without a callback the rebuild is printed', async (t) => {
  const bytes = Buffer.from(pristine);
  const start = dataStart(bytes);
  for (let i = 0; i < original.images.size; i++) bytes.writeFloatLE(NaN, start + 4 * i);
  fs.writeFileSync(cacheFile(), bytes);
  let err = '';
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((s: string) => { err += s; return true; }) as typeof process.stderr.write;
  let again;
  try {
    again = loadImageFolder(root, { size: 4, cacheDir });
  } finally {
    process.stderr.write = write;
  }
  t.match(err, /^dataset cache corrupt: .*SHA-256.*; rebuilding it\n$/);
  t.ok(again.images.values().every((v) => Number.isFinite(v)), 'no NaN reaches the dataset');
});

t.test('a cache without a checksum (older format) is stale; NaN pixels are never written', async (t) => {
  const bytes = Buffer.from(pristine);
  const headerLength = bytes.readUInt32LE(8);
  const header = JSON.parse(bytes.toString('utf8', 12, 12 + headerLength)) as Record<string, unknown>;
  delete header.dataSha256;
  // same length keeps the data where it was: pad the shorter JSON with spaces
  const json = JSON.stringify(header).padEnd(headerLength, ' ');
  bytes.write(json, 12, 'utf8');
  fs.writeFileSync(cacheFile(), bytes);
  loadImageFolder(root, opts);
  t.equal(statuses.at(-1)![0], 'stale');
  t.match(statuses.at(-1)![1], /written without a data checksum/);
  const bad = { ...original, images: new Tensor(Float32Array.from(original.images.values(), (v, i) => (i === 7 ? NaN : v)), original.images.shape) };
  const file = path.join(dir, 'bad.arrads');
  t.throws(() => writeDatasetCache(file, { params: {}, sources: [] }, bad), /writeDatasetCache .*bad\.arrads: refusing to cache this dataset: pixel 7 is NaN/);
  t.notOk(fs.existsSync(file));
  t.equal(readDatasetCache(file, { params: {}, sources: [] }).status, 'missing');
});
