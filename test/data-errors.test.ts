/**
 * Bad input: every broken file stops the load with an error that names the file and what is
 * wrong with it, no dataset comes back half-filled, and nothing hangs (each case is a
 * synchronous call that either returns or throws).
 */
import * as fs from 'fs';
import * as path from 'path';
import * as zlib from 'zlib';
import t from 'tap';
import { runCli } from './cli-run';
import { loadFashionMnist, loadImageFolder, loadMnist, readClassList, readIdx, decodeImageFile, IDX_IMAGES_MAGIC, IDX_LABELS_MAGIC, type ImageDataset } from '../lib';
import { idxBytes, tempDir, writeJpeg, writePng } from './fixtures/data';

const dir = tempDir('errors');
t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A folder dataset with two good PNGs and one bad file, built fresh per case. */
function folderWith(name: string, bad: { file: string; bytes: Buffer }): string {
  const root = path.join(dir, name);
  writePng(path.join(root, 'cats', 'a.png'), 5, 5, () => [10, 20, 30]);
  writePng(path.join(root, 'dogs', 'b.png'), 5, 5, () => [40, 50, 60]);
  fs.writeFileSync(path.join(root, 'dogs', bad.file), bad.bytes);
  return root;
}

function goodPng(): Buffer {
  const f = path.join(dir, 'good.png');
  writePng(f, 8, 8, (x, y) => [x * 30, y * 30, 99]);
  return fs.readFileSync(f);
}

function goodJpeg(): Buffer {
  const f = path.join(dir, 'good.jpg');
  writeJpeg(f, 16, 16, [120, 60, 200]);
  return fs.readFileSync(f);
}

/**
 * Run `load` and list what is wrong with how it failed: it must throw (not return a
 * partial dataset) with a message matching every pattern. An empty list means all is well.
 */
function problems(load: () => ImageDataset | unknown, patterns: RegExp[]): string[] {
  let message: string;
  try {
    load();
    return ['returned instead of throwing'];
  } catch (e) {
    message = (e as Error).message;
  }
  return patterns.filter((p) => !p.test(message)).map((p) => `message "${message}" does not match ${p}`);
}

t.test('truncated PNG', async (t) => {
  const png = goodPng();
  const root = folderWith('png-trunc', { file: 'c.png', bytes: png.subarray(0, png.length - 30) });
  t.same(problems(() => loadImageFolder(root, { size: 4 }), [/dogs[\\/]c\.png/, /truncated PNG/, /no IEND chunk/]), []);
});

t.test('garbled PNG (bytes overwritten inside the image data)', async (t) => {
  const png = Buffer.from(goodPng());
  for (let i = 45; i < 70; i++) png[i] = 0x5a;
  const root = folderWith('png-garbled', { file: 'c.png', bytes: png });
  t.same(problems(() => loadImageFolder(root, { size: 4 }), [/c\.png/, /corrupt PNG/, /chunk "I[A-Z]+" at byte \d+ fails its CRC-32 check/]), []);
});

t.test('a text file named .png', async (t) => {
  const root = folderWith('png-text', { file: 'c.png', bytes: Buffer.from('this is not an image\n') });
  t.same(problems(() => loadImageFolder(root, { size: 4 }), [/c\.png/, /not a PNG file/]), []);
});

t.test('truncated JPEG', async (t) => {
  const jpg = goodJpeg();
  const root = folderWith('jpg-trunc', { file: 'c.jpg', bytes: jpg.subarray(0, Math.floor(jpg.length / 2)) });
  t.same(problems(() => loadImageFolder(root, { size: 4 }), [/c\.jpg/, /truncated JPEG/, /FFD9/]), []);
});

t.test('garbled JPEG (Huffman tables overwritten)', async (t) => {
  const jpg = Buffer.from(goodJpeg());
  for (let i = 200; i < 260; i++) jpg[i] = 0xff;
  const root = folderWith('jpg-garbled', { file: 'c.jpeg', bytes: jpg });
  t.same(problems(() => loadImageFolder(root, { size: 4 }), [/c\.jpeg/, /corrupt JPEG/]), []);
});

t.test('a JPEG that starts wrong', async (t) => {
  const root = folderWith('jpg-sig', { file: 'c.jpg', bytes: Buffer.concat([Buffer.from([0, 0]), goodJpeg().subarray(2)]) });
  t.same(problems(() => loadImageFolder(root, { size: 4 }), [/c\.jpg/, /not a JPEG file/, /FFD8/]), []);
});

t.test('a JPEG whose header asks for more memory than allowed', async (t) => {
  const f = path.join(dir, 'big', 'x', 'big.jpg');
  writeJpeg(f, 1024, 1024, [1, 2, 3]);
  t.same(problems(() => decodeImageFile(f, { maxMemoryUsageInMB: 1 }), [/big\.jpg/, /maxMemoryUsageInMB/]), []);
});

t.test('IDX with the wrong magic number', async (t) => {
  const f = path.join(dir, 'idx-magic', 'train-images-idx3-ubyte');
  fs.mkdirSync(path.dirname(f), { recursive: true });
  fs.writeFileSync(f, idxBytes(IDX_LABELS_MAGIC, [4], new Uint8Array(4)));
  t.same(problems(() => readIdx(f, IDX_IMAGES_MAGIC), [/train-images-idx3-ubyte/, /wrong IDX magic number 2049/, /expected 2051/]), []);
  // Labels and images swapped in a dataset directory are caught the same way, through the loader.
  const labels = path.join(dir, 'idx-magic', 'train-labels-idx1-ubyte');
  fs.writeFileSync(labels, idxBytes(IDX_IMAGES_MAGIC, [4, 28, 28], new Uint8Array(4 * 784)));
  t.same(problems(() => loadMnist({ dir: path.dirname(f) }), [/idx3-ubyte/, /magic/]), []);
});

t.test('truncated IDX (plain and gzipped)', async (t) => {
  const d = path.join(dir, 'idx-trunc');
  fs.mkdirSync(d, { recursive: true });
  const full = idxBytes(IDX_IMAGES_MAGIC, [3, 28, 28], new Uint8Array(3 * 784));
  fs.writeFileSync(path.join(d, 'train-images-idx3-ubyte'), full.subarray(0, full.length - 100));
  fs.writeFileSync(path.join(d, 'train-labels-idx1-ubyte'), idxBytes(IDX_LABELS_MAGIC, [3], Uint8Array.of(1, 2, 3)));
  t.same(problems(() => loadMnist({ dir: d }), [/train-images-idx3-ubyte/, /truncated IDX file/, /3 × 28 × 28/, /holds 2268/]), []);
  // Even a limit that would fit in the bytes present does not hide the damage.
  t.same(problems(() => loadMnist({ dir: d, limit: 1 }), [/truncated IDX file/]), []);
  const gz = path.join(dir, 'idx-trunc-gz', 'train-images-idx3-ubyte.gz');
  fs.mkdirSync(path.dirname(gz), { recursive: true });
  fs.writeFileSync(gz, zlib.gzipSync(full).subarray(0, 30));
  t.same(problems(() => readIdx(gz, IDX_IMAGES_MAGIC), [/idx3-ubyte\.gz/, /corrupt gzip stream/]), []);
  const tiny = path.join(d, 'tiny');
  fs.writeFileSync(tiny, Buffer.from([0, 0]));
  t.same(problems(() => readIdx(tiny, IDX_LABELS_MAGIC), [/tiny/, /shorter than the 4-byte magic/]), []);
});

t.test('IDX labels outside the class range and image/label count mismatch', async (t) => {
  const d = path.join(dir, 'idx-labels');
  fs.mkdirSync(d, { recursive: true });
  fs.writeFileSync(path.join(d, 'train-images-idx3-ubyte'), idxBytes(IDX_IMAGES_MAGIC, [2, 28, 28], new Uint8Array(2 * 784)));
  fs.writeFileSync(path.join(d, 'train-labels-idx1-ubyte'), idxBytes(IDX_LABELS_MAGIC, [2], Uint8Array.of(3, 12)));
  t.same(problems(() => loadFashionMnist({ dir: d }), [/train-labels-idx1-ubyte/, /label 12 of item 1/]), []);
  fs.writeFileSync(path.join(d, 'train-labels-idx1-ubyte'), idxBytes(IDX_LABELS_MAGIC, [3], Uint8Array.of(1, 2, 3)));
  t.same(problems(() => loadFashionMnist({ dir: d }), [/2 images but .* 3 labels/]), []);
});

t.test('an empty class folder', async (t) => {
  const root = path.join(dir, 'empty-class');
  writePng(path.join(root, 'cats', 'a.png'), 4, 4, () => [1, 2, 3]);
  fs.mkdirSync(path.join(root, 'dogs'), { recursive: true });
  fs.writeFileSync(path.join(root, 'dogs', 'readme.txt'), 'no images here');
  t.same(problems(() => loadImageFolder(root, { size: 4 }), [/dogs/, /holds no \.png\/\.jpg\/\.jpeg images/]), []);
});

t.test('a missing dataset root, a root without class folders, unknown classes', async (t) => {
  const missing = path.join(dir, 'does-not-exist');
  t.same(problems(() => loadImageFolder(missing, { size: 4 }), [/does-not-exist/, /does not exist/]), []);
  t.same(problems(() => loadMnist({ dir: missing }), [/does-not-exist/, /does not exist/]), []);
  const flat = path.join(dir, 'flat');
  writePng(path.join(flat, 'a.png'), 4, 4, () => [1, 2, 3]);
  t.same(problems(() => loadImageFolder(flat, { size: 4 }), [/flat/, /no class sub-folders/]), []);
  const root = path.join(dir, 'two');
  writePng(path.join(root, 'a', 'x.png'), 4, 4, () => [1, 2, 3]);
  t.same(problems(() => loadImageFolder(root, { size: 4, classes: ['a', 'zebra'] }), [/zebra/, /not found/]), []);
  t.same(problems(() => loadImageFolder(root, { size: 4, classes: 3 }), [/first 3 classes/, /has 1/]), []);
  t.same(problems(() => loadImageFolder(root, { size: 0 }), [/size must be a positive integer, got 0/]), []);
});

t.test('a malformed class list file', async (t) => {
  const f = path.join(dir, 'classes-bad.txt');
  fs.writeFileSync(f, 'n01440764 tench\nbroken-line-without-name\n');
  t.same(problems(() => readClassList(f), [/classes-bad\.txt:2/, /expected "<folder> <name>"/]), []);
  const j = path.join(dir, 'classes-bad.json');
  fs.writeFileSync(j, '{"n01": ');
  t.same(problems(() => readClassList(j), [/classes-bad\.json/, /not valid JSON/]), []);
});

t.test('an image declaring more pixels than the limit is refused before decoding, naming file and size', async (t) => {
  // A PNG whose IHDR says 16000 × 16000 (a blank image that size compresses to a few hundred KB).
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(16000, 0);
  ihdr.writeUInt32BE(16000, 4);
  ihdr.set([8, 6, 0, 0, 0], 8); // 8-bit RGBA
  const chunk = (type: string, data: Buffer): Buffer => {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(zlib.crc32(body));
    return Buffer.concat([len, body, crc]);
  };
  const signature = goodPng().subarray(0, 8);
  const huge = Buffer.concat([signature, chunk('IHDR', ihdr), chunk('IDAT', zlib.deflateSync(Buffer.alloc(1000))), chunk('IEND', Buffer.alloc(0))]);
  const root = folderWith('huge-png', { file: 'huge.png', bytes: huge });
  const t0 = performance.now();
  t.same(problems(() => loadImageFolder(root, { size: 8 }), [/huge\.png/, /16000 × 16000 pixels/, /limit of 40000000 pixels/, /before decoding/]), []);
  t.ok(performance.now() - t0 < 2000, 'refused at once, without decoding');
  // The bound is an option: an 8 × 8 image is over a 50-pixel limit.
  t.same(problems(() => decodeImageFile(path.join(dir, 'good.png'), { maxPixels: 50 }), [/good\.png/, /8 × 8 pixels/, /limit of 50 pixels/]), []);
  t.equal(decodeImageFile(path.join(dir, 'good.png'), { maxPixels: 64 }).width, 8, 'at the limit it decodes');
  // JPEG: the same bound, read from the start-of-frame marker.
  const jpg = Buffer.from(goodJpeg());
  const sof = jpg.indexOf(Buffer.from([0xff, 0xc0]));
  t.ok(sof > 0, 'baseline JPEG has an SOF0 marker');
  jpg.writeUInt16BE(12000, sof + 5);
  jpg.writeUInt16BE(9000, sof + 7);
  const f = path.join(dir, 'huge.jpg');
  fs.writeFileSync(f, jpg);
  t.same(problems(() => decodeImageFile(f), [/huge\.jpg/, /9000 × 12000 pixels/, /before decoding/]), []);
});

t.test('IDX images that are not 28 × 28 are refused at load, naming the file and the size', async (t) => {
  const d = path.join(dir, 'idx-size');
  fs.mkdirSync(d, { recursive: true });
  fs.writeFileSync(path.join(d, 'train-images-idx3-ubyte'), idxBytes(IDX_IMAGES_MAGIC, [2, 32, 30], new Uint8Array(2 * 960)));
  fs.writeFileSync(path.join(d, 'train-labels-idx1-ubyte'), idxBytes(IDX_LABELS_MAGIC, [2], Uint8Array.of(1, 2)));
  t.same(problems(() => loadMnist({ dir: d }), [/train-images-idx3-ubyte holds 32 × 30 images, expected 28 × 28 for mnist/]), []);
  t.same(problems(() => loadFashionMnist({ dir: d }), [/expected 28 × 28 for fashion-mnist/]), []);
});

t.test('sweep: a PNG declaring 0 × 0 pixels is refused from its header', async (t) => {
  const png = Buffer.from(goodPng());
  png.writeUInt32BE(0, 16); // IHDR width
  png.writeUInt32BE(0, 20); // IHDR height
  const root = folderWith('png-zero', { file: 'c.png', bytes: png });
  t.same(problems(() => loadImageFolder(root, { size: 4 }), [/dogs[\\/]c\.png/, /0 × 0 pixels has no pixels to decode/]), []);
});

t.test('sweep: a folder named like an image is not an image (no EISDIR)', async (t) => {
  const root = folderWith('dir-png', { file: 'c.png', bytes: goodPng() });
  fs.mkdirSync(path.join(root, 'dogs', 'not-an-image.png'));
  fs.mkdirSync(path.join(root, 'dogs', 'nested'));
  writePng(path.join(root, 'dogs', 'nested', 'deep.png'), 5, 5, () => [1, 2, 3]);
  const ds = loadImageFolder(root, { size: 4 });
  t.equal(ds.labels.length, 3, 'the three image files, neither the folder named .png nor a nested folder');
  t.same(ds.classNames, ['cats', 'dogs']);
});

t.test('sweep: a class list naming two folders alike is refused, naming both and the list', async (t) => {
  const root = folderWith('dup-names', { file: 'c.png', bytes: goodPng() });
  fs.writeFileSync(path.join(root, 'classes.txt'), 'cats animal\ndogs Animal, canine\nbirds bird\n'); // birds: no such folder, which is fine
  t.same(problems(() => loadImageFolder(root, { size: 4 }), [/class folders cats and dogs are both named 'animal' by .*classes\.txt/]), []);
  fs.writeFileSync(path.join(root, 'classes.txt'), 'cats cat\nbirds bird\n');
  t.same(loadImageFolder(root, { size: 4 }).classNames, ['cat', 'dogs'], 'entries for absent folders are ignored; unlisted folders keep their names');
});

t.test('sweep: arra with a damaged image in --data-dir is a usage error naming the flag and the file', async (t) => {
  const root = folderWith('cli-bad', { file: 'c.png', bytes: Buffer.from('not a png') });
  const { code, err } = await runCli(['train-encoder', '--dataset', 'folder', '--data-dir', root, '--image-size', '8', '--out', path.join(dir, 'cli-out', 'enc.safetensors')]);
  t.equal(code, 2, 'exit 2');
  t.match(err, /--data-dir: .*dogs[\\/]c\.png: not a PNG file/);
  t.notOk(fs.existsSync(path.join(dir, 'cli-out')), 'the output folder made for the run is removed again');
});
