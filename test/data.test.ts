/**
 * Data loaders against values worked out by hand: area-average resizing, centre crops,
 * known MNIST entries, captions that match their pixels, tokenizer round trips, the cache.
 */
import * as fs from 'fs';
import * as path from 'path';
import t from 'tap';
import {
  axisWeights,
  batches,
  captionedShapes,
  checkDataset,
  FASHION_MNIST_CLASSES,
  fromSignedRange,
  loadFashionMnist,
  loadImageFolder,
  loadMnist,
  progress,
  promptCorpus,
  promptsForLabels,
  readDatasetCache,
  Rng,
  SHAPE_COLORS,
  SHAPE_KINDS,
  splitDataset,
  subset,
  tensor,
  TextTokenizer,
  toSignedRange,
  withPrompts,
  type ImageDataset,
} from '../lib';
import { tempDir, writeFashionDir, writeJpeg, writePng } from './fixtures/data';

const TOL = 1e-6;

/** Largest |got − want| over all elements; NaN when the lengths differ (so `< TOL` fails). */
function maxDiff(got: ArrayLike<number>, want: ArrayLike<number>): number {
  if (got.length !== want.length) return NaN;
  let worst = 0;
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i]! - want[i]!));
  return worst;
}

t.test('a 4×4 PNG shrunk to 2×2 gives the exact 2×2 block averages', async (t) => {
  const dir = tempDir('png4');
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  // Red = 10·(x + 4y), green = 255 − red, blue = 0 except one pixel.
  const red = (x: number, y: number) => 10 * (x + 4 * y);
  writePng(path.join(dir, 'a', 'img.png'), 4, 4, (x, y) => [red(x, y), 255 - red(x, y), x === 3 && y === 3 ? 200 : 0]);
  const ds = loadImageFolder(dir, { size: 2 });
  t.same(ds.images.shape, [1, 3, 2, 2]);
  const avg = (x0: number, y0: number) => (red(x0, y0) + red(x0 + 1, y0) + red(x0, y0 + 1) + red(x0 + 1, y0 + 1)) / 4 / 255;
  const r = [avg(0, 0), avg(2, 0), avg(0, 2), avg(2, 2)]; // [25, 45, 105, 125] / 255
  t.ok(maxDiff(r, [25 / 255, 45 / 255, 105 / 255, 125 / 255]) < TOL, 'hand-worked averages');
  t.ok(maxDiff(ds.images.values(), [...r, ...r.map((v) => 1 - v), 0, 0, 0, 50 / 255]) < TOL, 'R, G, B planes');

  const grey = loadImageFolder(dir, { size: 2, channels: 1 });
  t.same(grey.images.shape, [1, 1, 2, 2]);
  // luma of (r, 1 − r, 0) = 0.299 r + 0.587 (1 − r)
  t.ok(maxDiff(grey.images.values(), [0, 1, 2, 3].map((i) => 0.299 * r[i]! + 0.587 * (1 - r[i]!) + (i === 3 ? (0.114 * 50) / 255 : 0))) < TOL, 'grey luma');
});

t.test('area weights for a non-integer ratio and bilinear weights when growing', async (t) => {
  const down = axisWeights(5, 2); // each output covers 2.5 input pixels
  t.same([...down.start], [0, 2]);
  t.ok(maxDiff(down.weights[0]!, [0.4, 0.4, 0.2]) < TOL, 'output 0 covers [0, 2.5)');
  t.ok(maxDiff(down.weights[1]!, [0.2, 0.4, 0.4]) < TOL, 'output 1 covers [2.5, 5)');
  const up = axisWeights(2, 4); // samples at x = −0.25 (clamped), 0.25, 0.75, 1.25 (clamped)
  t.same([...up.start], [0, 0, 0, 0]);
  t.ok(maxDiff(up.weights.flatMap((w) => [...w]), [1, 0, 0.75, 0.25, 0.25, 0.75, 0, 1]) < TOL, 'bilinear weights');
});

t.test('non-square images are centre-cropped before resizing', async (t) => {
  const dir = tempDir('crop');
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const v = (x: number, y: number) => 20 * x + 3 * y;
  writePng(path.join(dir, 'wide', 'w.png'), 7, 4, (x, y) => [v(x, y), 0, 0]); // crop x = 1..4
  writePng(path.join(dir, 'tall', 't.png'), 3, 6, (x, y) => [v(x, y), 0, 0]); // crop y = 1..3
  const ds = loadImageFolder(dir, { size: 4, classes: ['wide'] });
  const want: number[] = [];
  for (let y = 0; y < 4; y++) for (let x = 1; x <= 4; x++) want.push(v(x, y) / 255);
  t.ok(maxDiff(ds.images.values().subarray(0, 16), want) < TOL, 'wide: middle 4 columns of 7');
  const tall = loadImageFolder(dir, { size: 3, classes: ['tall'] });
  const wantTall: number[] = [];
  for (let y = 1; y <= 3; y++) for (let x = 0; x < 3; x++) wantTall.push(v(x, y) / 255);
  t.ok(maxDiff(tall.images.values().subarray(0, 9), wantTall) < TOL, 'tall: rows 1..3 of 6');
  const up = loadImageFolder(dir, { size: 6, classes: ['tall'] }); // 3×3 crop grown to 6×6, bilinear
  // Row 0 of the crop is (20·x + 3) for x = 0, 1, 2; output column 1 samples x = 0.25.
  t.ok(maxDiff([up.images.values()[1]!], [(0.75 * 3 + 0.25 * 23) / 255]) < TOL, 'bilinear sample');
});

t.test('class folders, class list file, limits, JPEG', async (t) => {
  const dir = tempDir('folder');
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  for (const [wnid, rgb] of [['n01440764', [200, 30, 30]], ['n02102040', [30, 200, 30]], ['n02979186', [30, 30, 200]]] as const) {
    for (let i = 0; i < 3; i++) writeJpeg(path.join(dir, wnid, `img${i}.jpg`), 20, 12, [...rgb]);
  }
  fs.writeFileSync(path.join(dir, 'n02979186', 'notes.txt'), 'ignored: not an image');
  fs.writeFileSync(path.join(dir, 'LOC_synset_mapping.txt'), 'n01440764 tench, Tinca tinca\nn02102040 English springer, English springer spaniel\nn02979186 cassette player\n');
  const ds = loadImageFolder(dir, { size: 8, classes: 2, maxPerClass: 2 });
  t.same(ds.classNames, ['tench', 'english springer']);
  t.same([...ds.labels], [0, 0, 1, 1]);
  t.same(ds.images.shape, [4, 3, 8, 8]);
  const v = ds.images.values();
  const mean = (img: number, c: number) => Array.from(v.subarray((img * 3 + c) * 64, (img * 3 + c + 1) * 64)).reduce((a, b) => a + b, 0) / 64;
  t.ok(Math.abs(mean(0, 0) - 200 / 255) < 0.03, `JPEG red plane ≈ 200/255, got ${mean(0, 0)}`);
  t.ok(Math.abs(mean(2, 1) - 200 / 255) < 0.03, `JPEG green plane of class 1 ≈ 200/255, got ${mean(2, 1)}`);

  const json = path.join(dir, 'names.json');
  fs.writeFileSync(json, JSON.stringify({ 0: ['n01440764', 'tench'], 1: ['n02102040', 'English_springer'], 2: ['n02979186', 'cassette_player'] }));
  const picked = loadImageFolder(dir, { size: 4, classes: ['n02979186'], classListFile: json });
  t.same(picked.classNames, ['cassette player']);
  t.equal(picked.labels.length, 3, 'notes.txt is not an image and is skipped');
});

t.test('MNIST: known first entries, fast limited reads', async (t) => {
  const train = loadMnist({ limit: 100 });
  t.same(train.images.shape, [100, 1, 28, 28]);
  t.equal(train.labels[0], 5, 'train[0] is a 5');
  t.same([...train.labels.subarray(0, 10)], [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]);
  const v = train.images.values();
  let bytes = 0;
  for (let i = 0; i < 784; i++) bytes += v[i]! * 255;
  t.ok(Math.abs(bytes - 27525) < 1e-2, `train[0] byte sum 27525, got ${bytes}`);
  t.ok(v.every((x) => x >= 0 && x <= 1), 'pixels in [0, 1]');
  t.equal(train.classNames[5], 'five');
  const test = loadMnist({ split: 'test', limit: 3, names: 'digits' });
  t.same([...test.labels], [7, 2, 1]);
  t.equal(test.classNames[7], '7');
  t.equal(test.source, 'mnist:test');
});

t.test('Fashion-MNIST from a directory of gzipped IDX files, and the install hint', async (t) => {
  const dir = tempDir('fashion');
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  writeFashionDir(dir, 12);
  const ds = loadFashionMnist({ dir, limit: 11 });
  t.same(ds.images.shape, [11, 1, 28, 28]);
  t.same([...ds.labels], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0]);
  t.equal(ds.classNames[0], 't-shirt');
  t.equal(ds.classNames[9], 'ankle boot');
  t.same(ds.classNames, FASHION_MNIST_CLASSES);
  t.ok(maxDiff([ds.images.values()[3 * 784 + 100]!], [3 / 255]) < TOL, 'pixel of image 3');

  const saved = process.env['ARRA_FASHION_MNIST_DIR'];
  t.teardown(() => {
    if (saved === undefined) delete process.env['ARRA_FASHION_MNIST_DIR'];
    else process.env['ARRA_FASHION_MNIST_DIR'] = saved;
  });
  process.env['ARRA_FASHION_MNIST_DIR'] = dir;
  t.equal(loadFashionMnist({ split: 'test' }).labels.length, 12, 'env var is used');
  delete process.env['ARRA_FASHION_MNIST_DIR'];
  const installed = ['/usr/share/dataset-fashion-mnist', '/usr/share/datasets/fashion-mnist', '/usr/share/fashion-mnist'].some((d) => fs.existsSync(d));
  if (!installed) t.throws(() => loadFashionMnist({ limit: 1 }), /apt-get install dataset-fashion-mnist/);
});

t.test('captioned shapes: deterministic per seed, captions describe the pixels', async (t) => {
  const a = captionedShapes(40, { seed: 7 });
  const b = captionedShapes(40, { seed: 7 });
  const c = captionedShapes(40, { seed: 8 });
  t.same(a.images.shape, [40, 3, 32, 32]);
  t.same(a.prompts, b.prompts, 'same seed, same captions');
  t.ok(a.images.values().every((x, i) => x === b.images.values()[i]), 'same seed, same pixels');
  t.not(a.prompts.join('|'), c.prompts.join('|'), 'another seed, other captions');
  t.ok(a.prompts.some((p) => p.includes(' and ')) && a.prompts.some((p) => !p.includes(' and ')), 'one and two shapes both occur');

  const S = 32;
  const v = a.images.values();
  const cells = { 'top left': [0, 0], 'top': [1, 0], 'top right': [2, 0], 'left': [0, 1], 'centre': [1, 1], 'right': [2, 1], 'bottom left': [0, 2], 'bottom': [1, 2], 'bottom right': [2, 2] } as Record<string, [number, number]>;
  let checked = 0;
  a.prompts.forEach((caption, i) => {
    // Parse the caption itself (not the stored scene) and look at the pixels it describes.
    for (const part of caption.split(' and ')) {
      const m = /^a (small|large) (\w+) (circle|square|triangle) (?:at|on|in) the (.+)$/.exec(part);
      t.ok(m, `caption part parses: "${part}"`);
      if (!m) continue;
      const rgb = SHAPE_COLORS.find((col) => col.name === m[2])!.rgb;
      const [cx, cy] = cells[m[4]!]!;
      const shape = a.scenes[i]!.find((s) => s.color === m[2] && s.kind === m[3] && Math.floor(s.cx / (S / 3)) === cx && Math.floor(s.cy / (S / 3)) === cy);
      t.ok(shape, `a drawn shape matches "${part}"`);
      if (!shape) continue;
      const px = Math.floor(shape.cx);
      const py = Math.floor(shape.cy);
      const got = [0, 1, 2].map((ch) => v[((i * 3 + ch) * S + py) * S + px]!);
      t.same(got, [...rgb].map((x) => Math.fround(x)), `image ${i}: pixel (${px}, ${py}) is ${m[2]}`);
      // The shape's pixel count grows with its size word.
      checked++;
    }
    const first = a.scenes[i]![0]!;
    t.equal(a.classNames[a.labels[i]!], `${first.color} ${first.kind}`, 'label names the first shape');
  });
  t.ok(checked >= 50, `checked ${checked} shapes`);
  // Corners far from every shape stay background.
  const empty = a.scenes.findIndex((s) => s.every((sh) => sh.cell !== 0));
  t.same([0, 1, 2].map((ch) => v[(empty * 3 + ch) * S * S]), [0, 0, 0], 'top-left corner pixel is black when no shape is there');
  t.equal(a.classNames.length, SHAPE_COLORS.length * SHAPE_KINDS.length);
});

t.test('tokenizer: vocabulary order, round trip, fixed length, unknown words, JSON', async (t) => {
  const corpus = ['a photo of a tench', 'a drawing of a t-shirt', 'a photo of a coat'];
  const tok = TextTokenizer.fromCorpus(corpus);
  t.same(tok.vocab.slice(0, 5), ['<pad>', '<unk>', 'a', 'of', 'photo'], 'specials, then by frequency, ties alphabetical');
  t.equal(tok.size, 2 + 7);
  const ids = tok.encode('A photo of a T-shirt');
  t.equal(tok.decode(ids), 'a photo of a t-shirt', 'round trip (lower-cased)');
  const fixed = tok.encode('a tench', { length: 5 });
  t.same([...fixed], [tok.idOf('a'), tok.idOf('tench'), 0, 0, 0], 'padded with <pad> = 0');
  t.equal(tok.decode(fixed), 'a tench', 'padding dropped on decode');
  t.equal(tok.decode(fixed, { keepPad: true }), 'a tench <pad> <pad> <pad>');

  const withUnk = tok.encode('a photo of a zebra and a zebra');
  t.equal(withUnk.filter((id) => id === tok.unkId).length, 3, 'zebra, and, zebra → <unk>');
  t.equal(tok.decode(withUnk), 'a photo of a <unk> <unk> a <unk>');
  tok.encode('a photo of a coat of many colours', { length: 4 });
  const report = tok.unknownReport();
  t.same(report.words, [['zebra', 2], ['and', 1], ['colours', 1], ['many', 1]]);
  t.equal(report.total, 5);
  t.equal(report.truncated, 1);
  tok.resetUnknown();
  t.equal(tok.unknownReport().total, 0);

  const restored = TextTokenizer.fromJSON(JSON.parse(JSON.stringify(tok)));
  t.same(restored.vocab, tok.vocab);
  t.same([...restored.encode('a coat', { length: 3 })], [...tok.encode('a coat', { length: 3 })]);
  const batch = tok.encodeBatch(['a coat', 'a photo of a tench'], 4);
  t.same(batch.shape, [2, 4]);
  t.same([...batch.ids.subarray(4)], [...tok.encode('a photo of a', { length: 4 })]);
  t.throws(() => TextTokenizer.fromJSON({ kind: 'word', version: 1, vocab: ['a', '<pad>'] }), /must start with <pad>, <unk>/);

  const shapes = captionedShapes(200, { seed: 1 });
  const shapeTok = TextTokenizer.fromCorpus(shapes.prompts);
  shapes.prompts.forEach((p) => shapeTok.encode(p));
  t.equal(shapeTok.unknownReport().total, 0, 'captions are covered by a vocabulary built from them');
});

t.test('prompt templates are seeded and name the class', async (t) => {
  const labels = Int32Array.from([0, 1, 2, 0]);
  const names = ['apple', 'tench', 'owl'];
  const p1 = promptsForLabels(labels, names, 3);
  t.same(p1, promptsForLabels(labels, names, 3), 'same seed, same prompts');
  p1.forEach((p, i) => t.match(p, new RegExp(`\\b${names[labels[i]!]}$`), `"${p}" ends with the class name`));
  t.ok(p1.every((p) => !/\ba apple\b|\ba owl\b/.test(p)), 'articles fit the noun');
  const corpus = promptCorpus(names);
  t.ok(corpus.includes('an apple') && corpus.includes('a photo of a tench'));
  const tok = TextTokenizer.fromCorpus(corpus);
  for (const p of p1) tok.encode(p);
  t.equal(tok.unknownReport().total, 0, 'the corpus covers every template prompt');
});

t.test('subset, split, batches, signed range', async (t) => {
  const n = 10;
  const data = Float32Array.from({ length: n * 4 }, (_, i) => Math.floor(i / 4) / 10); // image i is all i/10
  const ds: ImageDataset = { images: tensor(data, [n, 1, 2, 2]), labels: Int32Array.from({ length: n }, (_, i) => i % 3), classNames: ['a', 'b', 'c'], source: 'test' };
  const withP = withPrompts(ds, 1);
  const sub = subset(withP, [7, 2]);
  t.same([...sub.labels], [1, 2]);
  t.ok(maxDiff(sub.images.values(), [0.7, 0.7, 0.7, 0.7, 0.2, 0.2, 0.2, 0.2]) < TOL, 'subset copies the right rows');
  t.same(sub.prompts, [withP.prompts![7], withP.prompts![2]]);

  const { train, test } = splitDataset(ds, 0.3, 42);
  t.equal(test.labels.length, 3);
  t.equal(train.labels.length, 7);
  const ids = (d: ImageDataset) => [...d.images.values()].filter((_, i) => i % 4 === 0).map((x) => Math.round(x * 10));
  t.same([...ids(train), ...ids(test)].sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 'split is a partition');
  t.same(ids(splitDataset(ds, 0.3, 42).test), ids(test), 'same seed, same split');

  const seen: number[] = [];
  const sizes: number[] = [];
  for (const b of batches(ds, 4, new Rng(5))) {
    sizes.push(b.labels.length);
    b.indices.forEach((idx, k) => {
      seen.push(idx);
      t.equal(b.labels[k], ds.labels[idx]!);
      t.equal(b.images.values()[k * 4], Math.fround(idx / 10));
    });
  }
  t.same(sizes, [4, 4, 2]);
  t.same([...seen].sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 'one epoch covers every image once');
  t.not(seen.join(','), '0,1,2,3,4,5,6,7,8,9', 'shuffled');
  const again: number[] = [];
  for (const b of batches(ds, 4, new Rng(5))) again.push(...b.indices);
  t.same(again, seen, 'same rng seed, same order');
  t.same([...batches(ds, 4, undefined, { dropLast: true })].map((b) => [...b.indices]), [[0, 1, 2, 3], [4, 5, 6, 7]], 'in order, last partial batch dropped');

  checkDataset(ds);
  t.throws(() => checkDataset({ ...ds, labels: ds.labels.subarray(0, 9) }), /10 images but 9 labels/);
  t.throws(() => checkDataset({ ...ds, labels: Int32Array.from(ds.labels, (y, i) => (i === 4 ? 3 : y)) }), /label 3 of image 4 is outside the 3 classes/);

  const signed = toSignedRange(ds.images);
  t.ok(maxDiff(signed.values().subarray(0, 8), [-1, -1, -1, -1, -0.8, -0.8, -0.8, -0.8]) < TOL, '2x − 1');
  t.ok(maxDiff(fromSignedRange(signed).values(), ds.images.values()) < TOL, 'inverse');
});

t.test('cache: miss, hit with identical values, stale on changed files or parameters, corrupt', async (t) => {
  const dir = tempDir('cache');
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const root = path.join(dir, 'images');
  const cacheDir = path.join(dir, 'cache');
  for (let i = 0; i < 3; i++) writePng(path.join(root, 'cls', `${i}.png`), 6, 6, (x, y) => [x * 40, y * 40, i * 50]);
  const statuses: string[] = [];
  const opts = { size: 4, cacheDir, onCache: (s: string) => statuses.push(s) };
  const first = loadImageFolder(root, opts);
  const second = loadImageFolder(root, opts);
  t.same(statuses, ['missing', 'hit']);
  t.same([...second.images.values()], [...first.images.values()], 'cached pixels are identical');
  t.same(second.classNames, first.classNames);
  t.same([...second.labels], [...first.labels]);
  t.same(fs.readdirSync(cacheDir).filter((f) => f.endsWith('.tmp')), [], 'no temp files left');

  // Change one source file (new content and a later mtime): stale, rebuilt with the new pixels.
  writePng(path.join(root, 'cls', '0.png'), 6, 6, () => [255, 255, 255]);
  fs.utimesSync(path.join(root, 'cls', '0.png'), new Date(), new Date(Date.now() + 5000));
  const third = loadImageFolder(root, opts);
  t.equal(statuses[2], 'stale');
  t.equal(third.images.values()[0], 1, 'rebuilt from the changed file');
  loadImageFolder(root, opts);
  t.equal(statuses[3], 'hit');

  // Different parameters with the same cache file: stale, never reused.
  const fewer = loadImageFolder(root, { ...opts, maxPerClass: 2 });
  t.equal(statuses[4], 'stale');
  t.equal(fewer.labels.length, 2);

  // A truncated cache file is reported corrupt and rebuilt.
  const [file] = fs.readdirSync(cacheDir);
  const full = path.join(cacheDir, file!);
  fs.truncateSync(full, fs.statSync(full).size - 10);
  const again = loadImageFolder(root, { ...opts, maxPerClass: 2 });
  t.equal(statuses[5], 'corrupt');
  t.same([...again.images.values()], [...fewer.images.values()]);
  t.equal(readDatasetCache(path.join(cacheDir, 'nope.arrads'), { params: {}, sources: [] }).status, 'missing');

  // A cache directory inside the dataset root is not mistaken for a class folder.
  const inside = loadImageFolder(root, { size: 4, cacheDir: path.join(root, 'cache') });
  t.same(inside.classNames, ['cls']);
  t.same(loadImageFolder(root, { size: 4, cacheDir: path.join(root, 'cache') }).classNames, ['cls'], 'also once the cache exists');
});

t.test('progress prints plain lines when stderr is not a terminal', async (t) => {
  const lines: string[] = [];
  const stream = { isTTY: false, write: (s: string) => lines.push(s) } as unknown as NodeJS.WriteStream;
  const bar = progress(20, 'decode', { stream });
  for (let i = 0; i < 20; i++) bar.tick();
  bar.done();
  bar.done();
  t.equal(lines.length, 10, 'nine tenths plus the final line, done() once');
  t.equal(lines[0], 'decode: 2/20 (10%)\n');
  t.equal(lines[9], 'decode: 20/20 (100%)\n');
});
