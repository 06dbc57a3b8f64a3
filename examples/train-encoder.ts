/**
 * Train the in-project ConvNet (models/encoder/convnet.ts) as a classifier, save it, and
 * freeze it into a feature extractor — ARRA's fast alignment target and the FID network
 * for digit/clothing data.
 *
 *   npx tsx examples/train-encoder.ts [--dataset mnist|fashion] [--train 60000] [--epochs 1]
 *     [--batch 64] [--lr 2e-3] [--widths 16,32] [--features 64] [--seed 0]
 *     [--out runs/encoder/convnet-<dataset>.safetensors]
 *
 * Prints the loss as it trains, then the test accuracy (full 10 000-image test split) and
 * the time taken; the checkpoint (safetensors, config + accuracy in the metadata) loads with
 * `ConvNetFeatures.load(file)`. Results on the 2-core reference machine: docs/data.md.
 */
import * as path from 'node:path';
import { AdamW, batches, cosineWithWarmup, crossEntropy, describeBackend, type ImageDataset, loadFashionMnist, loadMnist, Rng } from '../lib';
import { accuracy, ConvNet, ConvNetFeatures, DEFAULT_CONVNET, saveConvNet } from '../models/encoder';

/** `--name value` flags. */
function flags(argv: string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) throw new Error(`train-encoder: unexpected argument '${a}' (flags are --name value)`);
    out.set(a.slice(2), argv[++i] ?? '');
  }
  return out;
}

function loadData(name: string, split: 'train' | 'test', limit?: number): ImageDataset {
  if (name === 'mnist') return loadMnist({ split, limit });
  if (name === 'fashion') return loadFashionMnist({ split, limit });
  throw new Error(`train-encoder: unknown --dataset '${name}', expected mnist or fashion`);
}

function main(): void {
  const f = flags(process.argv.slice(2));
  const dataset = f.get('dataset') ?? 'mnist';
  const nTrain = Number(f.get('train') ?? 60000);
  const epochs = Number(f.get('epochs') ?? 1);
  const batchSize = Number(f.get('batch') ?? 64);
  const lr = Number(f.get('lr') ?? 2e-3);
  const seed = Number(f.get('seed') ?? 0);
  const widths = (f.get('widths') ?? '16,32').split(',').map(Number) as [number, number];
  const featureDim = Number(f.get('features') ?? DEFAULT_CONVNET.featureDim);
  const datasetName = dataset === 'fashion' ? 'fashion-mnist' : 'mnist';
  const out = f.get('out') ?? path.join('runs', 'encoder', `convnet-${datasetName}.safetensors`);

  console.log(describeBackend());
  const t0 = performance.now();
  const train = loadData(dataset, 'train', nTrain);
  const test = loadData(dataset, 'test');
  const net = new ConvNet({ ...DEFAULT_CONVNET, widths, featureDim, numClasses: train.classNames.length }, new Rng(seed));
  console.log(`${datasetName}: ${train.labels.length} train / ${test.labels.length} test images; ConvNet ${net.numParameters()} parameters`);

  const stepsPerEpoch = Math.floor(train.labels.length / batchSize);
  const total = epochs * stepsPerEpoch;
  const schedule = cosineWithWarmup({ warmup: Math.min(100, total / 10), total, base: lr, min: lr / 20 });
  const opt = new AdamW(net.parameters(), { lr, weightDecay: 1e-4 });
  const rng = new Rng(seed + 1);
  let step = 0;
  let running = 0;
  net.train();
  for (let epoch = 0; epoch < epochs; epoch++) {
    for (const batch of batches(train, batchSize, rng, { dropLast: true })) {
      opt.lr = schedule(step);
      const loss = crossEntropy(net.forward(batch.images), batch.labels); // mean over the batch
      opt.zeroGrad();
      loss.backward();
      opt.step();
      running = step === 0 ? loss.item() : 0.98 * running + 0.02 * loss.item();
      step++;
      if (step % 100 === 0 || step === total) {
        console.log(`epoch ${epoch + 1} step ${step}/${total}  loss ${running.toFixed(4)}  (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
      }
    }
  }
  const trainSeconds = (performance.now() - t0) / 1000;
  const acc = accuracy(net, test.images, test.labels);
  const seconds = (performance.now() - t0) / 1000;
  console.log(`test accuracy ${(100 * acc).toFixed(2)}% on ${test.labels.length} images; training ${trainSeconds.toFixed(0)} s, total ${seconds.toFixed(0)} s`);

  saveConvNet(out, net, {
    config: net.config, dataset: datasetName, testAccuracy: acc,
    training: { nTrain: train.labels.length, epochs, batchSize, lr, seed, steps: total, seconds: Math.round(seconds) },
  });
  const frozen = ConvNetFeatures.load(out);
  console.log(`saved ${out}; as a frozen extractor: ${frozen.name}, ${frozen.dim}-d features at ${frozen.inputSize}×${frozen.inputSize}`);
}

main();
