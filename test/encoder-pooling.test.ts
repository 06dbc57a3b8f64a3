/**
 * Encoder pooling choices (ArraConfig.pooling, `--align-pooling`): ConvNet penultimate / avg /
 * both, MobileNetV2 avg / max / both, each against the pool computed by hand from the feature
 * map; the choice is part of the extractor's name and so of the feature-cache key. And the
 * weight digest that keeps evaluation networks apart: MobileNetV2 at 64 and 96 px (and with
 * another pooling) is one network.
 */
import t from 'tap';
import { noGrad, Rng, Tensor } from '../lib';
import { ConvNet, ConvNetFeatures, featureCacheKey, loadMobileNetV2, parametersDigest } from '../models/encoder';
import { checkIndependence, scoringNetwork } from '../examples/pipeline/evaluate';

const images = (n: number, c: number, s: number, seed: number): Tensor => {
  const rng = new Rng(seed);
  return new Tensor(Float32Array.from({ length: n * c * s * s }, () => rng.uniform()), [n, c, s, s]);
};

t.test('ConvNet: penultimate, avg (global mean of the last conv map) and both', async (t) => {
  const net = new ConvNet({ inChannels: 1, imageSize: 8, widths: [3, 5], featureDim: 6, numClasses: 2 }, new Rng(2));
  const x = images(3, 1, 8, 4);
  const pen = new ConvNetFeatures(net, 'toy', 256, 'penultimate');
  const avg = new ConvNetFeatures(net, 'toy', 256, 'avg');
  const both = new ConvNetFeatures(net, 'toy', 256, 'both');
  t.same([pen.dim, avg.dim, both.dim], [6, 5, 11], 'dimensions: featureDim, w2, their sum');
  const map = noGrad(() => net.convMap(x)).values(); // [3, 5, 2, 2]
  const byHand = Array.from({ length: 15 }, (_, i) => (map[i * 4]! + map[i * 4 + 1]! + map[i * 4 + 2]! + map[i * 4 + 3]!) / 4);
  const a = avg.extract(x).values();
  t.ok(byHand.every((v, i) => Math.abs(v - a[i]!) < 1e-6), 'avg = the mean of each channel of the conv map');
  const p = pen.extract(x).values();
  const b = both.extract(x).values();
  t.ok([0, 1, 2].every((r) => [...Array(11).keys()].every((k) => b[r * 11 + k] === (k < 6 ? p[r * 6 + k] : a[r * 5 + k - 6]))), 'both = penultimate ⊕ avg');
  t.equal(new Set([pen.name, avg.name, both.name]).size, 3, 'the pooling is in the name');
  t.not(featureCacheKey(pen, x, {}).encoder, featureCacheKey(avg, x, {}).encoder, 'so feature-cache keys of two poolings differ');
  t.throws(() => new ConvNetFeatures(net, 'toy', 256, 'max' as 'avg'), /pooling should be one of penultimate, avg, both, got 'max'/);
});

t.test('MobileNetV2: avg, max, both; one weight digest at every size and pooling', async (t) => {
  const x = images(2, 3, 64, 5); // at 64 px the last map is 2×2, so max and mean differ
  const avg = loadMobileNetV2({ inputSize: 64 });
  const max = loadMobileNetV2({ inputSize: 64, pooling: 'max' });
  const both = loadMobileNetV2({ inputSize: 64, pooling: 'both' });
  t.same([avg.dim, max.dim, both.dim], [1280, 1280, 2560]);
  t.same([avg.name, max.name, both.name], ['nsfwjs-mobilenet_v2@64', 'nsfwjs-mobilenet_v2@64-max', 'nsfwjs-mobilenet_v2@64-both']);
  const fa = avg.extract(x).values();
  const fm = max.extract(x).values();
  const fb = both.extract(x).values();
  t.ok(fm.every((v, i) => v >= fa[i]! - 1e-6), 'a global max is ≥ the global mean, channel by channel');
  t.ok(fm.some((v, i) => v > fa[i]! + 1e-3), 'and differs from it');
  t.ok([0, 1].every((r) => fb.subarray(r * 2560, r * 2560 + 1280).every((v, k) => Math.abs(v - fa[r * 1280 + k]!) < 1e-5)), 'both starts with avg');
  t.ok([0, 1].every((r) => fb.subarray(r * 2560 + 1280, (r + 1) * 2560).every((v, k) => v === fm[r * 1280 + k])), 'and ends with max');
  const at64 = avg;
  const at96 = loadMobileNetV2({ inputSize: 96 });
  t.equal(parametersDigest(at64.parameters()), parametersDigest(at96.parameters()), 'mobilenet@64 and mobilenet@96: one digest');
  t.equal(parametersDigest(max.parameters()), parametersDigest(at64.parameters()), 'pooling does not change the weights');
  t.throws(
    () => checkIndependence([scoringNetwork('FID/KID network', '--fid-encoder', at64), { ...scoringNetwork('alignment encoder', '--align-encoder', at96) }]),
    /--fid-encoder: the FID\/KID network 'nsfwjs-mobilenet_v2@64' is the encoder this model was aligned to \(same weights/,
  );
});
