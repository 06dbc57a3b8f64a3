/**
 * Frozen feature extractors: no gradient ever reaches them, the in-project ConvNet learns,
 * saves and reloads exactly, and the feature cache is used only when everything matches.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import t from 'tap';
import { AdamW, batches, cosineSimilarity, crossEntropy, loadMnist, matmul, mean, randn, Rng, Tensor } from '../lib';
import {
  accuracy, cachedFeatures, ConvNet, ConvNetFeatures, DEFAULT_CONVNET, type FeatureExtractor, loadConvNet, saveConvNet, TfjsLayersEncoder,
} from '../models/encoder';
import { tempDir, testImages, writeTinyModel } from './encoder-fixtures';


/**
 * ARRA's use of the encoder in miniature: a trainable projector maps hidden states to the
 * feature space and is pulled towards the frozen features by cosine similarity; the hidden
 * states and the images themselves require grad. Returns the encoder's parameters.
 */
function alignThrough(t: tap.Test, enc: FeatureExtractor, images: Tensor): void {
  images.requireGrad();
  const features = enc.extract(images); // [B, dim]
  t.notOk(features.requiresGrad, 'features do not require grad');
  t.equal(features.gradFn, null, 'features carry no graph');
  const hidden = randn([images.shape[0]!, 5], { rng: new Rng(3), requiresGrad: true });
  const projector = randn([5, enc.dim], { rng: new Rng(4), requiresGrad: true });
  const loss = mean(cosineSimilarity(matmul(hidden, projector), features)).neg().add(1);
  loss.backward();
  t.ok(projector.grad !== null && projector.grad.values().some((g) => g !== 0), 'the projector gets a gradient');
  t.ok(hidden.grad !== null, 'the hidden states get a gradient');
  t.equal(images.grad, null, 'no gradient reaches the images through the encoder');
  const params = enc.parameters();
  t.ok(params.length > 0, 'the encoder has weights');
  t.ok(params.every((p) => !p.requiresGrad), 'every encoder weight has requiresGrad false');
  t.ok(params.every((p) => p.grad === null), 'no encoder weight received a gradient');
}

t.test('no gradient reaches a TF.js-loaded encoder', async (t) => {
  const enc = TfjsLayersEncoder.load(writeTinyModel().modelFile);
  alignThrough(t, enc, new Tensor(testImages(3, 3, 12, 1), [3, 3, 12, 12]));
});

t.test('no gradient reaches the frozen ConvNet, even if a weight is switched back on', async (t) => {
  const enc = new ConvNetFeatures(new ConvNet(DEFAULT_CONVNET, new Rng(1)), 'test');
  alignThrough(t, enc, new Tensor(testImages(4, 1, 28, 2), [4, 1, 28, 28]));
  // A caller who un-freezes a weight by mistake still gets constant features: extract runs under no-grad.
  enc.net.conv1.weight.requiresGrad = true;
  const f = enc.extract(new Tensor(testImages(2, 1, 28, 3), [2, 1, 28, 28]));
  t.notOk(f.requiresGrad, 'features still carry no graph');
  t.throws(() => f.sum().backward(), /does not require a gradient/);
  t.equal(enc.net.conv1.weight.grad, null);
});

t.test('bad images are refused with a message', async (t) => {
  const enc = new ConvNetFeatures(new ConvNet(DEFAULT_CONVNET, new Rng(1)), 'test');
  t.throws(() => enc.extract(new Tensor(new Float32Array(28 * 28), [28, 28])), /expected images \[B, C, H, W\], got \[28,28\]/);
  t.throws(() => enc.extract(new Tensor(new Float32Array(2 * 28 * 28), [1, 2, 28, 28])), /expected 1 or 3 channels, got 2/);
});

t.test('the ConvNet learns MNIST, saves and reloads exactly', async (t) => {
  const train = loadMnist({ split: 'train', limit: 1280 });
  const test = loadMnist({ split: 'test', limit: 500 });
  const net = new ConvNet(DEFAULT_CONVNET, new Rng(0));
  const before = accuracy(net, test.images, test.labels);
  net.train();
  const opt = new AdamW(net.parameters(), { lr: 3e-3 });
  for (let epoch = 0; epoch < 2; epoch++) {
    for (const b of batches(train, 64, new Rng(epoch), { dropLast: true })) {
      const loss = crossEntropy(net.forward(b.images), b.labels);
      opt.zeroGrad();
      loss.backward();
      opt.step();
    }
  }
  const after = accuracy(net, test.images, test.labels);
  // Measured: 0.11 before, 0.82 after 40 steps; 0.6 leaves room for seeds and backends.
  t.ok(before < 0.3, `untrained accuracy ${before}`);
  t.ok(after > 0.6, `accuracy after 40 steps on 1280 images: ${after}`);

  const file = path.join(tempDir('arra-convnet-'), 'convnet.safetensors');
  saveConvNet(file, net, { config: net.config, dataset: 'mnist', testAccuracy: after });
  const extractor = new ConvNetFeatures(net, 'mnist');
  const reloaded = ConvNetFeatures.load(file);
  t.equal(reloaded.name, extractor.name, 'same weights, same name (weights digest)');
  t.equal(reloaded.dim, 64);
  t.same(Array.from(reloaded.extract(test.images).values()), Array.from(extractor.extract(test.images).values()), 'identical features');
  t.equal(loadConvNet(file).meta.testAccuracy, after);

  // RGB input becomes grey by channel mean; a 32×32 image is resized to 28×28.
  const grey = new Tensor(testImages(1, 1, 28, 8), [1, 1, 28, 28]);
  const rgb = new Tensor(new Float32Array([...grey.values(), ...grey.values(), ...grey.values()]), [1, 3, 28, 28]);
  const fg = extractor.extract(grey).values();
  const fr = extractor.extract(rgb).values();
  t.ok(fg.every((v, i) => Math.abs(v - fr[i]!) < 1e-5), 'RGB copies of a grey image give its features');
  t.same(extractor.extract(new Tensor(testImages(2, 1, 32, 9), [2, 1, 32, 32])).shape, [2, 64]);
});

/** An extractor that counts how many images it encodes. */
function counting(inner: FeatureExtractor): FeatureExtractor & { encoded: number } {
  return {
    name: inner.name, dim: inner.dim, inputSize: inner.inputSize, encoded: 0,
    extract(images: Tensor): Tensor { this.encoded += images.shape[0]!; return inner.extract(images); },
    parameters: () => inner.parameters(),
  };
}

t.test('feature cache: reused only when encoder, input size, dataset and images all match', async (t) => {
  const dir = tempDir('arra-featcache-');
  const file = path.join(dir, 'features.safetensors');
  const base = new ConvNetFeatures(new ConvNet(DEFAULT_CONVNET, new Rng(5)), 'mnist');
  const enc = counting(base);
  const images = new Tensor(testImages(10, 1, 28, 4), [10, 1, 28, 28]);
  const params = { name: 'mnist', split: 'train', limit: 10 };
  const log: string[] = [];
  const onCache = (status: string, reason: string): void => { log.push(`${status}: ${reason}`); };
  const opts = { batchSize: 4, silent: true, onCache };

  const first = cachedFeatures(file, enc, images, params, opts);
  t.equal(enc.encoded, 10, 'first call encodes every image');
  t.match(log.pop(), /^missing/);
  const second = cachedFeatures(file, enc, images, params, opts);
  t.equal(enc.encoded, 10, 'second call encodes nothing');
  t.match(log.pop(), /^hit/);
  t.same(Array.from(second.values()), Array.from(first.values()));
  t.same(Array.from(first.values()), Array.from(base.extract(images).values()), 'cached = direct extraction');

  cachedFeatures(file, enc, images, { ...params, split: 'test' }, opts);
  t.match(log.pop(), /^stale: dataset differs: cache has .*"split":"train".* asked for .*"split":"test"/);
  t.equal(enc.encoded, 20, 'rebuilt');

  const other = counting(new ConvNetFeatures(new ConvNet(DEFAULT_CONVNET, new Rng(6)), 'mnist'));
  cachedFeatures(file, other, images, { ...params, split: 'test' }, opts);
  t.match(log.pop(), /^stale: encoder differs/);
  const bigger = { ...counting(other), inputSize: 32 };
  cachedFeatures(file, bigger, images, { ...params, split: 'test' }, opts);
  t.match(log.pop(), /^stale: inputSize differs: cache has 28, asked for 32/);

  const changed = new Tensor(testImages(10, 1, 28, 99), [10, 1, 28, 28]);
  cachedFeatures(file, bigger, changed, { ...params, split: 'test' }, opts);
  t.match(log.pop(), /^stale: imagesDigest differs/);

  fs.truncateSync(file, 100);
  cachedFeatures(file, bigger, changed, { ...params, split: 'test' }, opts);
  t.match(log.pop(), /^corrupt: /);
  t.same(fs.readdirSync(dir), ['features.safetensors'], 'no temporary files left behind');
});
