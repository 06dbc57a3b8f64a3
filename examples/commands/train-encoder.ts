/** `arra train-encoder`: train the in-project ConvNet classifier, report test accuracy, save it frozen-ready. */
import { join } from 'node:path';
import { describeBackend } from '../../lib';
import { createProgress, UsageError } from '../../lib/cli';
import { CONVNET_ARCHS, ConvNetFeatures } from '../../models/encoder';
import { checkDataFlags, dataFiles, dataFlags, imageSizeOf, loadData } from '../pipeline/datasets';
import { trainConvNet } from '../pipeline/encoder-trainer';
import { command } from './command';

export const trainEncoderCommand = command({
  summary: 'train the in-project ConvNet (classifier; frozen feature network for alignment or FID)',
  flags: [
    ...dataFlags,
    { name: 'epochs', type: 'int', default: 1, min: 1, help: 'passes over the training images' },
    { name: 'batchSize', type: 'int', default: 64, min: 1, help: 'images per step' },
    { name: 'lr', type: 'float', default: 2e-3, min: 0, help: 'peak learning rate' },
    { name: 'width', type: 'int', default: 16, min: 1, max: 512, help: 'channels of the first conv (the second has twice as many)' },
    { name: 'featureDim', type: 'int', default: 64, min: 1, max: 4096, help: 'length of the feature vector (penultimate layer)' },
    { name: 'arch', type: 'enum', choices: CONVNET_ARCHS, default: 'strided', help: 'strided (stride-2 convs) or maxpool (stride-1 convs + 2×2 max-pool: use it for an FID network unlike a strided alignment encoder)' },
    { name: 'seed', type: 'int', default: 0, help: 'random seed' },
    { name: 'out', type: 'string', default: join('runs', 'encoder', 'convnet.safetensors'), help: 'checkpoint file to write' },
  ],
  check: (f) => {
    checkDataFlags(f);
    // two stride-2 (or max-pool) stages: the side must halve twice without a remainder
    const side = imageSizeOf(f);
    if (side % 4 !== 0) throw new UsageError(`--image-size: the ConvNet halves the image twice, so its side must be a multiple of 4, got ${side} (${4 * Math.floor(side / 4)} or ${4 * Math.ceil(side / 4)} would do)`, '--image-size');
  },
  files: (f) => [dataFiles(f), { flag: '--out', path: f.out, output: 'file' }],
  run: (f) => {
    console.log(describeBackend());
    const { train, test, split } = loadData(f);
    let bar: ReturnType<typeof createProgress> | null = null;
    const { testAccuracy, seconds } = trainConvNet(train, test, f.out, {
      epochs: f.epochs, batchSize: f.batchSize, lr: f.lr, seed: f.seed, widths: [f.width, 2 * f.width], featureDim: f.featureDim, arch: f.arch,
      datasetName: f.dataset, split,
      onStep: (step, total, loss) => {
        bar ??= createProgress({ label: 'train-encoder', total });
        bar.update(step, { loss });
      },
    });
    (bar as ReturnType<typeof createProgress> | null)?.stop();
    const frozen = ConvNetFeatures.load(f.out);
    console.log(`test accuracy ${(100 * testAccuracy).toFixed(2)}% on ${test.labels.length} images (${seconds.toFixed(0)} s)`);
    console.log(`wrote ${f.out}: use it as --align-encoder or --fid-encoder convnet:${f.out} (${frozen.name}, ${frozen.dim}-d)`);
  },
});
