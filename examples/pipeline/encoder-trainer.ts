/**
 * Training the in-project ConvNet classifier (models/encoder/convnet.ts): the loop behind
 * `arra train-encoder` and the demo. Once trained it is frozen and serves twice: as the
 * classifier that judges prompt accuracy, and as a feature network (FID, or an alignment
 * target — never both for the same model).
 */
import { AdamW, assertFiniteStep, atStep, batches, cosineWithWarmup, crossEntropy, gradNorm, type ImageDataset, Rng, streamSeed, type SplitRecord } from '../../lib';
import { UsageError } from '../../lib/cli';
import { accuracy, ConvNet, type ConvNetArch, DEFAULT_CONVNET, saveConvNet } from '../../models/encoder';

export interface EncoderTrainOptions {
  epochs: number;
  batchSize: number;
  lr: number;
  seed: number;
  widths: [number, number];
  featureDim: number;
  /** ConvNet architecture (default `strided`; `maxpool` for a network unlike the alignment encoder) */
  arch?: ConvNetArch;
  /** name recorded with the weights (and in the extractor's name), e.g. `mnist` */
  datasetName: string;
  /** how the data was split (recorded with the weights) */
  split?: SplitRecord;
  onStep?: (step: number, total: number, loss: number) => void;
}

/** Train, measure test accuracy, save to `path`; returns the net and its accuracy. */
export function trainConvNet(train: ImageDataset, test: ImageDataset, path: string, opts: EncoderTrainOptions): { net: ConvNet; testAccuracy: number; seconds: number } {
  const t0 = performance.now();
  const [, C, S] = train.images.shape as [number, number, number];
  const net = new ConvNet(
    { ...DEFAULT_CONVNET, inChannels: C, imageSize: S, widths: opts.widths, featureDim: opts.featureDim, numClasses: train.classNames.length, arch: opts.arch ?? 'strided' },
    new Rng(opts.seed),
  );
  const stepsPerEpoch = Math.floor(train.labels.length / opts.batchSize);
  if (stepsPerEpoch === 0) throw new UsageError(`--batch-size: ${train.labels.length} training images cannot fill one batch of ${opts.batchSize}`, '--batch-size');
  const total = Math.max(1, opts.epochs * stepsPerEpoch);
  const schedule = cosineWithWarmup({ warmup: Math.min(100, Math.floor(total / 10)), total, base: opts.lr, min: opts.lr / 20 });
  const optimizer = new AdamW(net.parameters(), { lr: opts.lr, weightDecay: 1e-4 });
  const rng = new Rng(streamSeed(opts.seed, 1));
  let step = 0;
  net.train();
  for (let epoch = 0; epoch < opts.epochs; epoch++) {
    for (const batch of batches(train, opts.batchSize, rng, { dropLast: true })) {
      optimizer.lr = schedule(step);
      const loss = atStep('train-encoder', step + 1, () => {
        const l = crossEntropy(net.forward(batch.images), batch.labels); // mean over the batch
        optimizer.zeroGrad();
        l.backward();
        return l.item();
      });
      // before the update: a diverged step never reaches the weights (lib/optim/finite.ts)
      assertFiniteStep('train-encoder', step + 1, { loss, 'gradient norm': gradNorm(net.parameters()) }, 'lower --lr?');
      optimizer.step();
      step++;
      opts.onStep?.(step, total, loss);
    }
  }
  const testAccuracy = accuracy(net, test.images, test.labels);
  const seconds = (performance.now() - t0) / 1000;
  saveConvNet(path, net, {
    config: net.config, dataset: opts.datasetName, testAccuracy,
    training: { nTrain: train.labels.length, epochs: opts.epochs, batchSize: opts.batchSize, lr: opts.lr, seed: opts.seed, steps: step, seconds: Math.round(seconds), split: opts.split ?? null },
  });
  return { net, testAccuracy, seconds };
}
