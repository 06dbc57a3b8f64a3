/**
 * The real pretrained model: nsfwjs's MobileNetV2 loaded by our loader against the same files
 * loaded by @tensorflow/tfjs (wasm backend, no network: a `fromMemory` handler built from our
 * parsed bytes). The output of tfjs's pooling (`flatten_1`, after the 7×7 average pool) must
 * agree with our 1280-d features within 1e-4 absolute on two 224×224 images; our bilinear
 * resize must agree with `tf.image.resizeBilinear(…, alignCorners = true)`, which nsfwjs uses.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import t from 'tap';
import { Tensor } from '../lib';
import { loadMobileNetV2, nsfwjsMobileNetV2File, resizeBilinear } from '../models/encoder';
import { readModelArtifacts } from '../models/encoder/tfjs-layers/artifacts';
import { testImages } from './encoder-fixtures';

// IS_TEST silences TF.js's "install tfjs-node" banner, which would land in tap's report.
tf.env().set('IS_TEST', true);

t.test('MobileNetV2 pooled features match tfjs within 1e-4', async (t) => {
  await tf.setBackend('wasm');
  const file = nsfwjsMobileNetV2File();
  const artifacts = readModelArtifacts(file);
  t.equal(artifacts.groupBytes[0]!.length, 2619461, 'the one shard decodes to exactly the manifest size');
  const weightData = new Uint8Array(artifacts.groupBytes.reduce((n, b) => n + b.length, 0));
  let off = 0;
  for (const b of artifacts.groupBytes) { weightData.set(b, off); off += b.length; }
  const model = await tf.loadLayersModel(tf.io.fromMemory({
    modelTopology: artifacts.topology,
    weightSpecs: artifacts.manifest.flatMap((g) => g.weights) as tf.io.WeightsManifestEntry[],
    weightData: weightData.buffer,
  }));
  const pooled = tf.model({ inputs: model.inputs, outputs: model.getLayer('flatten_1').output as tf.SymbolicTensor });

  const n = 2;
  const images = testImages(n, 3, 224, 21);
  const ref = (pooled.predict(tf.tensor(Array.from(images), [n, 3, 224, 224]).transpose([0, 2, 3, 1])) as tf.Tensor).dataSync();
  const enc = loadMobileNetV2();
  t.equal(enc.dim, 1280);
  t.equal(enc.inputSize, 224);
  t.notOk(enc.graph.layers.some((l) => l.node.className === 'Dense'), 'no Dense (head) layer was built');
  const ours = enc.extract(new Tensor(images, [n, 3, 224, 224]));
  t.same(ours.shape, [n, 1280]);
  const v = ours.values();
  let worst = 0;
  let largest = 0;
  for (let i = 0; i < ref.length; i++) {
    worst = Math.max(worst, Math.abs(v[i]! - ref[i]!));
    largest = Math.max(largest, Math.abs(ref[i]!));
  }
  t.ok(largest > 0.5, `features are not trivially small (max |f| = ${largest.toFixed(3)})`);
  t.ok(worst < 1e-4, `max |ours − tfjs| = ${worst.toExponential(2)} over ${ref.length} values`);
  // The two images differ, so their features must too (a constant output would pass the diff test only if tfjs agreed).
  let apart = 0;
  for (let i = 0; i < 1280; i++) apart = Math.max(apart, Math.abs(v[i]! - v[1280 + i]!));
  t.ok(apart > 0.1, `image 0 and 1 features differ (max ${apart.toFixed(3)})`);
});

t.test('bilinear resize matches tf.image.resizeBilinear with alignCorners', async (t) => {
  const src = testImages(1, 3, 28, 4);
  for (const size of [224, 17]) {
    const ours = resizeBilinear(new Tensor(src, [1, 3, 28, 28]), size).permute([0, 2, 3, 1]).values();
    const nhwc = tf.tensor(Array.from(src), [1, 3, 28, 28]).transpose([0, 2, 3, 1]) as tf.Tensor4D;
    const ref = tf.image.resizeBilinear(nhwc, [size, size], true).dataSync();
    let worst = 0;
    for (let i = 0; i < ref.length; i++) worst = Math.max(worst, Math.abs(ours[i]! - ref[i]!));
    t.ok(worst < 1e-5, `28 → ${size}: max diff ${worst.toExponential(2)}`);
  }
});
