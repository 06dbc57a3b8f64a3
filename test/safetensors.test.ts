/**
 * safetensors: round trips, a file from an independent hand-written encoder, every kind of
 * malformed file rejected with the file named, crash-safe atomic writes, and (when python3
 * with numpy is installed) a cross-check that numpy reads our bytes as the same values.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import t from 'tap';
import { Tensor } from '../lib/tensor';
import { atomicWriteFile, tempPathFor } from '../lib/io/atomic';
import { jsonMetadata, loadSafetensors, parseSafetensors, readJsonMetadata, saveSafetensors, serializeSafetensors, type RawTensor } from '../lib/io/safetensors';
import { rnd } from './helpers';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arra-safetensors-'));
t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
let fileCounter = 0;
const tmpFile = (name: string): string => path.join(dir, `${fileCounter++}-${name}`);

/**
 * An independent minimal encoder: header JSON text written by hand, data bytes via DataView
 * (explicit little-endian), no padding — the format allows any header length.
 */
function handWritten(headerJson: string, data: Uint8Array): Buffer {
  const header = Buffer.from(headerJson, 'utf8');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(header.length));
  return Buffer.concat([len, header, data]);
}

function f32Bytes(values: number[]): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  const view = new DataView(out.buffer);
  values.forEach((v, i) => view.setFloat32(i * 4, v, true));
  return out;
}

t.test('round trip: F32 and F64 tensors, a scalar, an empty tensor, raw I32/I64/U8, metadata', async (t) => {
  const w = rnd([3, 4], 1, { dtype: 'float32', grad: false });
  const b = rnd([5], 2, { dtype: 'float64', grad: false });
  const s = new Tensor(new Float32Array([2.5]), []);
  const empty = new Tensor(new Float32Array(0), [0, 3]);
  const file = tmpFile('roundtrip.safetensors');
  const meta = { ...jsonMetadata({ config: { dim: 16, layers: [1, 2] } }), note: 'hello ✓' };
  saveSafetensors(file, {
    'layer.weight': w, 'layer.bias': b, step: s, empty,
    ids: { dtype: 'I32', shape: [2, 2], data: new Int32Array([1, -2, 3, 2147483647]) },
    counter: { dtype: 'I64', shape: [1], data: new BigInt64Array([9007199254740993n]) },
    mask: { dtype: 'U8', shape: [3], data: new Uint8Array([0, 1, 255]) },
  }, meta);

  const bytes = fs.readFileSync(file);
  const headerLen = Number(bytes.readBigUInt64LE(0));
  t.equal((8 + headerLen) % 8, 0, 'header padded to 8-byte alignment');
  t.match(bytes.subarray(8, 8 + headerLen).toString('utf8'), /^\{.*\} *$/, 'padding is spaces after the JSON');

  const { tensors, raw, metadata } = loadSafetensors(file);
  t.same(metadata, meta);
  t.same(readJsonMetadata(metadata, 'config', file), { dim: 16, layers: [1, 2] });
  t.same(tensors.get('layer.weight')!.shape, [3, 4]);
  t.equal(tensors.get('layer.weight')!.dtype, 'float32');
  t.same(Array.from(tensors.get('layer.weight')!.values()), Array.from(w.values()), 'F32 values bit-exact');
  t.equal(tensors.get('layer.bias')!.dtype, 'float64');
  t.same(Array.from(tensors.get('layer.bias')!.values()), Array.from(b.values()), 'F64 values bit-exact');
  t.same(tensors.get('step')!.shape, []);
  t.equal(tensors.get('step')!.item(), 2.5);
  t.same(tensors.get('empty')!.shape, [0, 3]);
  t.notOk(tensors.has('ids'), 'integer entries are not turned into float tensors');
  t.same(Array.from(raw.get('ids')!.data as Int32Array), [1, -2, 3, 2147483647]);
  t.equal((raw.get('counter')!.data as BigInt64Array)[0], 9007199254740993n, 'int64 keeps all 64 bits');
  t.same(Array.from(raw.get('mask')!.data as Uint8Array), [0, 1, 255]);
  t.equal(raw.size, 7);
});

t.test('non-contiguous tensor is saved in logical (row-major) order', async (t) => {
  const m = new Tensor(new Float32Array([1, 2, 3, 4, 5, 6]), [2, 3]);
  const mt = m.permute([1, 0]); // [3,2] view
  const file = tmpFile('perm.safetensors');
  saveSafetensors(file, new Map([['mt', mt]]));
  t.same(loadSafetensors(file).tensors.get('mt')!.toArray(), [[1, 4], [2, 5], [3, 6]]);
});

t.test('reads a file built by an independent hand-written encoder (incl. F16 and BF16)', async (t) => {
  // a: F32 [2,2] = 1,2,3,4 at [0,16); h: F16 [2] = 1.5, -2 at [16,20); g: BF16 [1] = 1.0 at [20,22)
  const data = new Uint8Array(22);
  data.set(f32Bytes([1, 2, 3, 4]), 0);
  const view = new DataView(data.buffer);
  view.setUint16(16, 0x3e00, true); // 1.5 in IEEE half
  view.setUint16(18, 0xc000, true); // -2
  view.setUint16(20, 0x3f80, true); // 1.0 in bfloat16
  const header = '{"h":{"dtype":"F16","shape":[2],"data_offsets":[16,20]},"__metadata__":{"format":"pt"},'
    + '"a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},"g":{"dtype":"BF16","shape":[1],"data_offsets":[20,22]}}';
  const file = tmpFile('hand.safetensors');
  fs.writeFileSync(file, handWritten(header, data));
  const { tensors, metadata, raw } = loadSafetensors(file);
  t.same(metadata, { format: 'pt' });
  t.same(tensors.get('a')!.toArray(), [[1, 2], [3, 4]]);
  t.same(Array.from(tensors.get('h')!.values()), [1.5, -2]);
  t.same(Array.from(tensors.get('g')!.values()), [1]);
  t.same([...raw.keys()], ['h', 'a', 'g'], 'raw keeps header order');
});

t.test('malformed files are rejected, naming the file and the problem', async (t) => {
  const good = JSON.stringify({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } });
  const cases: { what: string; bytes: Uint8Array; error: RegExp }[] = [
    { what: 'shorter than 8 bytes', bytes: new Uint8Array([1, 2, 3]), error: /3 bytes, too short/ },
    {
      what: 'header length beyond file size',
      bytes: (() => { const b = handWritten(good, f32Bytes([1, 2])); b.writeBigUInt64LE(1000n); return b; })(),
      error: /header length 1000 exceeds the file size/,
    },
    { what: 'truncated data', bytes: handWritten(good, f32Bytes([1, 2])).subarray(0, 8 + good.length + 5), error: /reach beyond the data section of 5 bytes/ },
    { what: 'garbage JSON', bytes: handWritten('{"a": {dtype: F32}}', new Uint8Array(0)), error: /not valid JSON/ },
    { what: 'header not an object', bytes: handWritten('[1, 2]', new Uint8Array(0)), error: /must start with '\{'/ },
    {
      what: 'unknown dtype',
      bytes: handWritten('{"a":{"dtype":"F128","shape":[1],"data_offsets":[0,16]}}', new Uint8Array(16)),
      error: /tensor 'a': unknown dtype "F128"/,
    },
    {
      what: 'shape / byte count mismatch',
      bytes: handWritten('{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}', new Uint8Array(8)),
      error: /tensor 'a': shape \[3\] of F32 needs 12 bytes, but data_offsets \[0, 8\] span 8/,
    },
    {
      what: 'overlapping offsets',
      bytes: handWritten('{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}', new Uint8Array(12)),
      error: /'a' \[0, 8\) and 'b' \[4, 12\) overlap/,
    },
    {
      what: 'a hole between tensors',
      bytes: handWritten('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}', new Uint8Array(12)),
      error: /4 bytes at data offset 4 belong to no tensor/,
    },
    { what: 'trailing bytes', bytes: handWritten(good, new Uint8Array(12)), error: /4 trailing bytes after the last tensor/ },
    {
      what: 'negative / fractional offsets',
      bytes: handWritten('{"a":{"dtype":"F32","shape":[1],"data_offsets":[-4,0.5]}}', new Uint8Array(4)),
      error: /data_offsets must be \[begin, end\] with non-negative integers/,
    },
    {
      what: 'end before begin',
      bytes: handWritten('{"a":{"dtype":"U8","shape":[0],"data_offsets":[4,0]}}', new Uint8Array(4)),
      error: /end before they begin/,
    },
    { what: 'metadata not strings', bytes: handWritten('{"__metadata__":{"n":3}}', new Uint8Array(0)), error: /__metadata__ 'n' must be a string/ },
    { what: 'invalid UTF-8 in header', bytes: handWritten('{}', new Uint8Array(0)).fill(0xff, 8, 9), error: /not valid UTF-8/ },
  ];
  for (const c of cases) {
    const file = tmpFile(`bad-${c.what.replace(/\W+/g, '-')}.safetensors`);
    fs.writeFileSync(file, c.bytes);
    t.throws(() => loadSafetensors(file), { name: 'SafetensorsError', message: c.error }, c.what);
    t.throws(() => loadSafetensors(file), { message: new RegExp(file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')) }, `${c.what}: message names the file`);
  }
});

t.test('writer rejects what the format cannot hold', async (t) => {
  t.throws(() => serializeSafetensors({ a: { dtype: 'F32', shape: [3], data: new Float32Array(2) } }), /shape \[3\] \(3 elements\) but 2 values/);
  t.throws(() => serializeSafetensors({ a: { dtype: 'I32', shape: [2], data: new Float32Array(2) } }), /dtype I32 needs a Int32Array, got a Float32Array/);
  t.throws(() => serializeSafetensors({ __metadata__: new Tensor(new Float32Array(1)) }), /reserved/);
  t.throws(() => serializeSafetensors({}, { n: 3 as unknown as string }), /metadata 'n' must be a string/);
});

t.test('saveSafetensors checks each raw entry before the non-finite check reads it: errors name the file, the tensor, what was expected and what arrived; nothing is written', async (t) => {
  // These entries used to reach the non-finite check first, which built a Tensor from them:
  // a bare "shape is not iterable", a Tensor error that named neither tensor nor file, and,
  // for a negative shape, no error at all (the save never returned).
  const cases: { what: string; entry: RawTensor; error: RegExp }[] = [
    { what: 'too few values', entry: { dtype: 'F32', shape: [3], data: new Float32Array(2) }, error: /tensor 'a' has shape \[3\] \(3 elements\) but 2 values/ },
    { what: 'F16 bits, too few', entry: { dtype: 'F16', shape: [3], data: new Uint16Array(2) }, error: /tensor 'a' has shape \[3\] \(3 elements\) but 2 values/ },
    { what: 'wrong array class', entry: { dtype: 'F32', shape: [2], data: new Uint8Array(8) }, error: /tensor 'a' of dtype F32 needs a Float32Array, got a Uint8Array/ },
    { what: 'shape not an array', entry: { dtype: 'F32', shape: 2 as unknown as number[], data: new Float32Array(2) }, error: /tensor 'a' has shape 2; expected an array of non-negative integers/ },
    { what: 'fractional dimension', entry: { dtype: 'F32', shape: [0.5, 4], data: new Float32Array(2) }, error: /tensor 'a' has shape \[0\.5,4\]; expected an array of non-negative integers/ },
    { what: 'negative dimensions', entry: { dtype: 'F32', shape: [-1, -2], data: new Float32Array(2) }, error: /tensor 'a' has shape \[-1,-2\]; expected an array of non-negative integers/ },
  ];
  for (const c of cases) {
    const file = tmpFile(`unchecked-${c.what.replace(/\W+/g, '-')}.safetensors`);
    const named = new RegExp(`^saveSafetensors ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: ${c.error.source}`);
    t.throws(() => saveSafetensors(file, { a: c.entry }), { message: named }, c.what);
    t.throws(() => saveSafetensors(file, { a: c.entry }, {}, { allowNonFinite: true }), { message: named }, `${c.what} (allowNonFinite)`);
    t.notOk(fs.existsSync(file), `${c.what}: nothing was written`);
    t.throws(() => serializeSafetensors({ a: c.entry }), { message: new RegExp(`^serializeSafetensors: ${c.error.source}`) }, `${c.what} (serializeSafetensors)`);
  }
});

t.test("a tensor named '__proto__' is written into the header like any other name and reads back", async (t) => {
  // The header used to be a plain object, where `header['__proto__'] = …` sets the prototype:
  // the entry vanished from the JSON while its bytes stayed, and the reader refused the file.
  const bytes = serializeSafetensors(new Map([['__proto__', new Tensor(Float32Array.of(1, 2))], ['b', new Tensor(Float32Array.of(3))]]));
  const back = parseSafetensors(bytes);
  t.same([...back.tensors.keys()].sort(), ['__proto__', 'b']);
  t.same(Array.from(back.tensors.get('__proto__')!.values()), [1, 2]);
  t.same(Array.from(back.tensors.get('b')!.values()), [3]);
});

t.test('fp8 entries are floating-point too: NaN/±Infinity bit patterns are refused on save and load, the largest finite values are not', async (t) => {
  // E5M2 is IEEE-like: exponent 11111 is ±Infinity (mantissa 0) or NaN. E4M3 is PyTorch's
  // float8_e4m3fn: no infinities, NaN is S.1111.111 (0x7F, 0xFF), and 0x7E is 448, the largest.
  const bad: { dtype: 'F8_E5M2' | 'F8_E4M3'; bits: number; value: string }[] = [
    { dtype: 'F8_E5M2', bits: 0x7c, value: 'Infinity' },
    { dtype: 'F8_E5M2', bits: 0xfc, value: '-Infinity' },
    { dtype: 'F8_E5M2', bits: 0x7e, value: 'NaN' },
    { dtype: 'F8_E4M3', bits: 0x7f, value: 'NaN' },
    { dtype: 'F8_E4M3', bits: 0xff, value: 'NaN' },
  ];
  for (const b of bad) {
    const entry: RawTensor = { dtype: b.dtype, shape: [3], data: Uint8Array.of(0x38, 0x00, b.bits) };
    const file = tmpFile(`fp8-${b.dtype}-${b.bits}.safetensors`);
    const what = `${b.dtype} 0x${b.bits.toString(16)}`;
    t.throws(() => saveSafetensors(file, { q: entry }), { message: new RegExp(`tensor 'q' \\(shape \\[3\\]\\) holds ${b.value} at flat index 2`) }, `${what}: save refused`);
    t.notOk(fs.existsSync(file), `${what}: nothing was written`);
    saveSafetensors(file, { q: entry }, {}, { allowNonFinite: true });
    t.throws(() => loadSafetensors(file), { name: 'SafetensorsError', message: new RegExp(`tensor 'q' \\(shape \\[3\\]\\) holds ${b.value} at flat index 2; weights must be finite`) }, `${what}: load refused`);
    t.same(Array.from(loadSafetensors(file, { allowNonFinite: true }).raw.get('q')!.data as Uint8Array), [0x38, 0x00, b.bits], `${what}: allowNonFinite reads the bits back`);
  }
  const largest = tmpFile('fp8-largest.safetensors');
  saveSafetensors(largest, { e5: { dtype: 'F8_E5M2', shape: [2], data: Uint8Array.of(0x7b, 0xfb) }, e4: { dtype: 'F8_E4M3', shape: [2], data: Uint8Array.of(0x7e, 0xfe) } });
  t.same(Array.from(loadSafetensors(largest).raw.get('e4')!.data as Uint8Array), [0x7e, 0xfe], '±448 (E4M3) and ±57344 (E5M2) are finite');
});

t.test('atomic write: a crash between temp write and rename leaves the old file intact', async (t) => {
  const file = tmpFile('ckpt.safetensors');
  saveSafetensors(file, { w: new Tensor(new Float32Array([1, 2, 3])) }, { step: '100' });
  t.throws(
    () => saveSafetensors(file, { w: new Tensor(new Float32Array([9, 9, 9, 9])) }, { step: '200' }, {
      rename: () => { throw new Error('simulated crash before rename'); },
    }),
    /simulated crash/,
  );
  const after = loadSafetensors(file);
  t.same(Array.from(after.tensors.get('w')!.values()), [1, 2, 3], 'old tensor still there');
  t.same(after.metadata, { step: '100' }, 'old metadata still there');
  t.notOk(fs.existsSync(tempPathFor(file)), 'temporary file cleaned up');

  saveSafetensors(file, { w: new Tensor(new Float32Array([7])) }, { step: '300' });
  t.same(loadSafetensors(file).metadata, { step: '300' }, 'a normal save then replaces it');
  atomicWriteFile(path.join(dir, 'nested', 'deeper', 'x.txt'), 'made parents');
  t.equal(fs.readFileSync(path.join(dir, 'nested', 'deeper', 'x.txt'), 'utf8'), 'made parents');
});

t.test('readJsonMetadata names missing and malformed keys', async (t) => {
  t.throws(() => readJsonMetadata({ a: '1' }, 'config', 'f.safetensors'), /f.safetensors: metadata has no 'config' \(keys: a\)/);
  t.throws(() => readJsonMetadata({ config: '{oops' }, 'config', 'f.safetensors'), /metadata 'config' is not valid JSON/);
});

const hasNumpy = spawnSync('python3', ['-c', 'import numpy'], { encoding: 'utf8' }).status === 0;
t.test('cross-check: numpy parses our file to the same values', { skip: hasNumpy ? false : 'python3 with numpy not available' }, async (t) => {
  const file = tmpFile('numpy.safetensors');
  const a = rnd([2, 3], 5, { dtype: 'float32', grad: false });
  const b = rnd([4], 6, { dtype: 'float64', grad: false });
  saveSafetensors(file, { a, b, i: { dtype: 'I64', shape: [2], data: new BigInt64Array([-5n, 1n << 40n]) } }, { who: 'arra' });
  // A reader that only follows the spec: header length, JSON, np.frombuffer per entry.
  const script = `
import json, struct, sys
import numpy as np
raw = open(sys.argv[1], 'rb').read()
(n,) = struct.unpack('<Q', raw[:8])
header = json.loads(raw[8:8 + n])
data = raw[8 + n:]
kinds = {'F32': '<f4', 'F64': '<f8', 'I64': '<i8'}
out = {'__metadata__': header.pop('__metadata__', {})}
for name, info in header.items():
    b, e = info['data_offsets']
    arr = np.frombuffer(data[b:e], dtype=kinds[info['dtype']]).reshape(info['shape'])
    out[name] = {'shape': list(arr.shape), 'values': [repr(float(v)) if arr.dtype.kind == 'f' else str(int(v)) for v in arr.ravel()]}
print(json.dumps(out))
`;
  const run = spawnSync('python3', ['-c', script, file], { encoding: 'utf8' });
  t.equal(run.status, 0, run.stderr);
  const parsed = JSON.parse(run.stdout) as Record<string, { shape: number[]; values: string[] }> & { __metadata__: Record<string, string> };
  t.same(parsed.__metadata__, { who: 'arra' });
  t.same(parsed.a!.shape, [2, 3]);
  t.same(parsed.a!.values.map(Number), Array.from(a.values()), 'F32 values identical');
  t.same(parsed.b!.values.map(Number), Array.from(b.values()), 'F64 values identical');
  t.same(parsed.i!.values, ['-5', String(1n << 40n)]);
});

t.test('a deeply nested header is refused with the bound, not a stack overflow; the header reader checks the same', async (t) => {
  const { parseSafetensors, readSafetensorsHeader } = await import('../lib/io/safetensors');
  for (const depth of [17, 100_000]) {
    const json = `{"__metadata__":${'['.repeat(depth)}${']'.repeat(depth)}}`;
    const bytes = handWritten(json, new Uint8Array(0));
    t.throws(() => parseSafetensors(bytes, 'deep.safetensors'), /deep\.safetensors: header JSON is nested more than 16 levels deep/, `depth ${depth}`);
    const file = tmpFile('deep.safetensors');
    fs.writeFileSync(file, bytes);
    t.throws(() => readSafetensorsHeader(file), /nested more than 16 levels/);
  }
  // Brackets inside strings do not count; a real checkpoint's header reads back.
  const file = tmpFile('ok.safetensors');
  saveSafetensors(file, { w: new Tensor(new Float32Array([1, 2]), [1, 2]) }, { note: '[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["\\' });
  t.same(readSafetensorsHeader(file), { metadata: { note: '[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["\\' }, tensors: [{ name: 'w', dtype: 'F32', shape: [1, 2] }] });
});

t.test('a missing file or a folder is a SafetensorsError naming the path, for the loader and the header reader', async (t) => {
  const { readSafetensorsHeader, SafetensorsError } = await import('../lib/io/safetensors');
  const missing = path.join(dir, 'missing.safetensors');
  t.throws(() => loadSafetensors(missing), new SafetensorsError(missing, 'no such file'));
  t.throws(() => readSafetensorsHeader(missing), /missing\.safetensors: no such file/);
  t.throws(() => loadSafetensors(dir), /safetensors .*: is a folder, not a file/);
  t.throws(() => readSafetensorsHeader(dir), /safetensors .*: is a folder, not a file/);
});
