/**
 * The TF.js layers loader on a tiny synthetic model: parsing (JSON and minified JS bundles,
 * as data), dequantisation, TF padding rules, the refusal to build the head, and the forward
 * pass of every supported layer against @tensorflow/tfjs itself (cpu backend) on the same bytes.
 * Tolerance: 1e-5 absolute (float32 sums in a different order through ~12 layers).
 */
import * as tf from '@tensorflow/tfjs';
import t from 'tap';
import { Tensor } from '../lib';
import { TfjsLayersEncoder, TfjsLayersGraph } from '../models/encoder';
import { readModelArtifacts } from '../models/encoder/tfjs-layers/artifacts';
import { extractExportedLiteral, parseLiteral } from '../models/encoder/tfjs-layers/literal';
import { tfPadding } from '../models/encoder/tfjs-layers/layers';
import { backboneUpTo, parseTopology } from '../models/encoder/tfjs-layers/topology';
import { decodeWeight, halfToFloat } from '../models/encoder/tfjs-layers/weights';
import { bundle, testImages, type TinyModel, writeTinyModel } from './encoder-fixtures';

// IS_TEST silences TF.js's "install tfjs-node" banner, which would land in tap's report.
tf.env().set('IS_TEST', true);

/** TF.js's own output of layer `name` on NCHW images (converted to NHWC and back to rows). */
async function tfjsLayerOutput(m: TinyModel, name: string, images: Float32Array, shape: number[]): Promise<Float32Array> {
  await tf.setBackend('cpu');
  const handler = tf.io.fromMemory({
    modelTopology: m.topology as object,
    weightSpecs: m.weightSpecs as unknown as tf.io.WeightsManifestEntry[],
    weightData: m.weightData.slice().buffer,
  });
  const model = await tf.loadLayersModel(handler);
  const sub = tf.model({ inputs: model.inputs, outputs: model.getLayer(name).output as tf.SymbolicTensor });
  const x = tf.tensor(Array.from(images), shape).transpose([0, 2, 3, 1]); // NCHW → NHWC
  return (sub.predict(x) as tf.Tensor).dataSync() as Float32Array;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return NaN;
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  return worst;
}

t.test('literal parser reads minified JS as data', async (t) => {
  const v = parseLiteral(`{a:!0,b:!1,c:.5,d:-.08,e:"x\\"y",f:[1,2e-3,-0],g:null,'h':void 0,"__proto__":{z:1}}`, 'x.js') as Record<string, unknown>;
  t.same({ ...v }, { a: true, b: false, c: 0.5, d: -0.08, e: 'x"y', f: [1, 0.002, -0], g: null, h: null, ['__proto__']: { z: 1 } });
  t.equal(Object.getPrototypeOf(v), Object.prototype, '__proto__ key stayed a plain property');
  t.throws(() => parseLiteral('{a:foo()}', 'evil.js'), /evil\.js: expected a value \(only literals are read, never code\).* at character 3/);
  t.throws(() => parseLiteral('{a:1', 'cut.json'), /cut\.json: expected ',' or '}' in an object, found end of text at character 4/);
  const text = bundle('"QUJD"', 'shard');
  t.equal(extractExportedLiteral(text, 's.js', (x) => typeof x === 'string', 'string'), 'QUJD', "skips module.exports=e() and finds a.exports=<literal>");
});

t.test('dequantisation: q·scale + min, float16, float32', async (t) => {
  const u8 = new Uint8Array([0, 1, 255]);
  t.same(Array.from(decodeWeight({ name: 'w', shape: [3], dtype: 'float32', quantization: { dtype: 'uint8', min: -1, scale: 0.5 } }, u8, 0)), [-1, -0.5, 126.5]);
  const u16 = new Uint8Array(new Uint16Array([0, 2, 65535]).buffer);
  t.same(Array.from(decodeWeight({ name: 'w', shape: [3], dtype: 'float32', quantization: { dtype: 'uint16', min: 2, scale: 0.25 } }, u16, 0)), [2, 2.5, 2 + 65535 * 0.25]);
  const f32 = new Uint8Array(new Float32Array([9, 1.5, -3]).buffer);
  t.same(Array.from(decodeWeight({ name: 'w', shape: [2], dtype: 'float32' }, f32, 4)), [1.5, -3], 'reads from the byte offset');
  t.same([0x3c00, 0xc000, 0x3555, 0x0001, 0x7c00].map(halfToFloat), [1, -2, 0.333251953125, 2 ** -24, Infinity]);
});

t.test('TF padding rules: "same" with stride 2 puts the extra pixel at the bottom/right', async (t) => {
  t.same(tfPadding(224, 3, 2, 1, 'same'), { before: 0, after: 1, out: 112 }, 'even input, stride 2');
  t.same(tfPadding(7, 3, 2, 1, 'same'), { before: 1, after: 1, out: 4 }, 'odd input, stride 2');
  t.same(tfPadding(5, 3, 1, 1, 'same'), { before: 1, after: 1, out: 5 }, 'stride 1');
  t.same(tfPadding(6, 4, 1, 1, 'same'), { before: 1, after: 2, out: 6 }, 'even kernel');
  t.same(tfPadding(7, 3, 2, 1, 'valid'), { before: 0, after: 0, out: 3 }, 'valid');
});

t.test('topology: backbone up to the pooled features; the head is refused', async (t) => {
  const m = writeTinyModel();
  const topo = parseTopology(readModelArtifacts(m.modelFile).topology, m.modelFile);
  const names = backboneUpTo(topo).map((l) => l.name);
  t.equal(names[names.length - 1], 'gap');
  t.notOk(names.includes('dense_1'), 'no head layer in the backbone');
  t.throws(() => backboneUpTo(topo, 'dense_1'), /refusing to build layer 'dense_1' \(Dense\): it lies after the pooled features 'gap'/);
  t.throws(() => TfjsLayersEncoder.load(m.modelFile, { featureLayer: 'dense_1' }), /refusing to build layer 'dense_1'/);
  t.throws(() => TfjsLayersEncoder.load(m.modelFile, { featureLayer: 'dw_d' }), /layer 'dw_d' gives \[1,8,3,3\] per image, not one feature vector/);
  const enc = TfjsLayersEncoder.load(m.modelFile);
  t.equal(enc.dim, 8);
  t.equal(enc.inputSize, 12, 'native input size from batch_input_shape');
  const layerCount = enc.parameters().length;
  t.equal(layerCount, 8, '4 convs × (kernel, bias) after folding 3 BNs; no Dense weights');
  t.ok(enc.parameters().every((p) => !p.requiresGrad), 'all weights are constants');
});

for (const quantize of [null, 'uint8', 'uint16'] as const) {
  for (const form of ['json', 'bundle'] as const) {
    t.test(`forward matches tfjs: ${form} files, ${quantize ?? 'float32'} weights`, async (t) => {
      const m = writeTinyModel({ form, quantize, shards: form === 'json' ? 2 : 3 });
      const images = testImages(2, 3, 12, 5);
      const ref = await tfjsLayerOutput(m, 'gap', images, [2, 3, 12, 12]);
      const x = new Tensor(images, [2, 3, 12, 12]);
      const folded = TfjsLayersEncoder.load(m.modelFile).extract(x).values();
      const plain = TfjsLayersEncoder.load(m.modelFile, { foldBatchNorm: false }).extract(x).values();
      t.ok(ref.some((v) => Math.abs(v) > 0.05), 'reference features are not all ~0');
      t.ok(maxAbsDiff(folded, ref) < 1e-5, `folded BN: max |ours − tfjs| = ${maxAbsDiff(folded, ref)}`);
      t.ok(maxAbsDiff(plain, ref) < 1e-5, `unfolded BN: max |ours − tfjs| = ${maxAbsDiff(plain, ref)}`);
    });
  }
}

t.test('intermediate layers match tfjs too (asymmetric same-padding, depth multiplier, same avg-pool)', async (t) => {
  const m = writeTinyModel({ seed: 11 });
  const images = testImages(1, 3, 12, 9);
  const x = new Tensor(images, [1, 3, 12, 12]);
  for (const name of ['conv_a', 'dw_b', 'pool_e']) {
    const graph = TfjsLayersGraph.load(m.modelFile, { upTo: name, foldBatchNorm: false });
    const ours = graph.forward(x); // [1, C, H, W]
    const nhwc = ours.permute([0, 2, 3, 1]).values();
    const ref = await tfjsLayerOutput(m, name, images, [1, 3, 12, 12]);
    t.ok(maxAbsDiff(nhwc, ref) < 1e-5, `${name} ${JSON.stringify(ours.shape)}: max diff ${maxAbsDiff(nhwc, ref)}`);
  }
});

t.test('grey images are repeated to RGB and resized to the input size', async (t) => {
  const m = writeTinyModel();
  const enc = TfjsLayersEncoder.load(m.modelFile);
  const grey = new Tensor(testImages(2, 1, 12, 3), [2, 1, 12, 12]);
  const g = grey.values();
  const rep = new Float32Array(2 * 3 * 144);
  for (let b = 0; b < 2; b++) for (let k = 0; k < 3; k++) rep.set(g.subarray(b * 144, (b + 1) * 144), (b * 3 + k) * 144);
  t.same(Array.from(enc.extract(grey).values()), Array.from(enc.extract(new Tensor(rep, [2, 3, 12, 12])).values()));
  const big = enc.extract(new Tensor(testImages(1, 3, 20, 4), [1, 3, 20, 20]));
  t.same(big.shape, [1, 8], 'a 20×20 image is resized to 12×12 first');
});
