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
 * Measured 2026-11-28 on the shared 2-core reference machine (load average 4–10 from other
 * work, so only the best runs mean much): "before" is the tree with lib/ops/conv.ts and
 * pool.ts as they were (one small product per image), "after" is the conv-speed work; both
 * with the same backends, runs interleaved, best of 2 rounds × best of 3.
 *
 *   workload                                 backend   before      after      speed-up
 *   MobileNetV2 64 px, batch 32, per image   fast      48.1 ms     15.6 ms    3.1×
 *   VQ mnist loss + backward, 256 images     fast      2.24 s      1.74 s     1.3×
 *   ConvNet fwd + bwd, 256 images            fast      0.152 s     0.143 s    ~1× (noise)
 *   MobileNetV2 64 px, batch 32, per image   ref       122 ms      105 ms     1.2×
 *   VQ mnist loss + backward, 256 images     ref       10.2 s      14.1 s     0.7×
 *   ConvNet fwd + bwd, 256 images            ref       1.77 s      1.22 s     1.5×
 *
 * What is left (CPU profile of the MobileNetV2 run, fast backend): relu6 (`clamp`) ~17% and
 * the TF "same" padding copies (`pad2d`) ~8%, the depthwise 3×3 loop ~10%, gemm packing ~6%.
 * The ref VQ figure is slower because the reference matmul walks B's rows with stride n, and
 * with the whole batch in one product n = N·Ho·Wo (≈ 50 000) instead of Ho·Wo.
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

