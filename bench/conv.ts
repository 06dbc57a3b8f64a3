/**
 * Convolution timings on the three workloads that spend their time in conv2d (a side-by-side
 * script, not a test):
 *
 * - MobileNetV2 (nsfwjs, pretrained) features at 64 px, batch 32, on 64 MNIST test images:
 *   ms per image (inference, no gradient);
 * - the VQ tokenizer (`vqPresets.mnist`): loss + backward on 256 MNIST images;
 * - the in-project ConvNet (DEFAULT_CONVNET): forward + cross-entropy + backward on 256 images.
 *
 * Each figure is the best of `--reps` runs (default 3) after one warm-up: the machine is
 * shared. Run: `npx tsx bench/conv.ts [--backend fast|ref] [--reps 3] [--only mobilenet,vq,convnet]`.
 *
 * Measured on the shared 2-core reference machine (best of 3; see the conv-speed report):
 *
 *   workload                          backend   before      after
 *   MobileNetV2 64 px, ms / image     fast      (filled in below after measuring)
 */
import { crossEntropy, loadMnist, setBackend, type Tensor } from '../lib';
import { DEFAULT_CONVNET, ConvNet, loadMobileNetV2 } from '../models/encoder';
import { vqPresets } from '../models/presets';
import { VQTokenizer } from '../models/vq';
import { time } from './timing';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}

const backendName = arg('backend', 'fast');
const reps = Number(arg('reps', '3'));
const only = new Set(arg('only', 'mobilenet,vq,convnet').split(','));
setBackend(backendName);

const images = (n: number): Tensor => loadMnist({ split: 'test', limit: n }).images; // [n, 1, 28, 28]
const report = (what: string, seconds: number, unit: string): void => console.log(`${backendName.padEnd(5)} ${what.padEnd(36)} ${unit}`.replace('#', seconds.toFixed(3)));

if (only.has('mobilenet')) {
  const x = images(64);
  const encoder = loadMobileNetV2({ inputSize: 64, batchSize: 32 });
  const t = time(() => void encoder.extract(x), reps);
  report('MobileNetV2 64 px, 64 images', t.best, `${((t.best * 1000) / 64).toFixed(2)} ms/image (best ${t.best.toFixed(3)} s, median ${t.median.toFixed(3)} s)`);
}

if (only.has('vq')) {
  const x = images(256);
  const vq = new VQTokenizer(vqPresets.mnist);
  const t = time(() => {
    vq.zeroGrad();
    vq.loss(x).loss.backward();
  }, reps);
  report('VQ mnist loss+backward, 256 images', t.best, `best # s (median ${t.median.toFixed(3)} s)`);
}

if (only.has('convnet')) {
  const data = loadMnist({ split: 'test', limit: 256 });
  const net = new ConvNet(DEFAULT_CONVNET);
  const t = time(() => {
    net.zeroGrad();
    crossEntropy(net.forward(data.images), data.labels).backward();
  }, reps);
  report('ConvNet fwd+bwd, 256 images', t.best, `best # s (median ${t.median.toFixed(3)} s)`);
}

