/** `arra eval`: FID against held-out real images, prompt accuracy, and a sample grid, for one checkpoint. */
import { join } from 'node:path';
import { describeBackend } from '../../lib';
import { atomicWriteFile } from '../../lib/io';
import { UsageError } from '../../lib/cli';
import { ConvNetFeatures } from '../../models/encoder';
import { loadArModel } from '../pipeline/ar-trainer';
import { checkDataFlags, dataFiles, dataFlags, loadData } from '../pipeline/datasets';
import { openEncoder } from '../pipeline/encoders';
import { catImages, checkFidNetwork, firstPerClass, generate, saveSampleGrid, scoreSamples } from '../pipeline/evaluate';
import { loadVq } from '../pipeline/vq-trainer';
import { checkTokenizerFits } from '../pipeline/checkpoints';
import { checkSamplingFlags, samplingFlags } from './sample';
import { command } from './command';

export const evalCommand = command({
  summary: 'FID, prompt accuracy and a sample grid for a trained model',
  flags: [
    ...dataFlags,
    { name: 'model', type: 'string', required: true, help: 'model.safetensors from arra train' },
    { name: 'vq', type: 'string', required: true, help: 'tokenizer checkpoint the model was trained with' },
    { name: 'fidEncoder', type: 'string', required: true, help: 'FID feature network: convnet:<file> or mobilenet[@<px>] (not the alignment encoder)' },
    { name: 'classifier', type: 'string', help: 'ConvNet checkpoint judging prompt accuracy (default: the --fid-encoder file when it is a convnet)' },
    { name: 'perClass', type: 'int', default: 50, min: 2, help: 'generated images per class (FID is biased at small N: compare at equal N)' },
    ...samplingFlags,
    { name: 'seed', type: 'int', default: 1234, help: 'sampling seed' },
    { name: 'out', type: 'string', default: join('runs', 'eval'), help: 'folder for eval.json and samples.png' },
  ],
  check: (f) => {
    checkDataFlags(f);
    checkSamplingFlags(f);
    if (!f.classifier && !f.fidEncoder.startsWith('convnet:')) {
      throw new UsageError('--classifier: required when --fid-encoder is not a convnet (prompt accuracy needs a classifier)', '--classifier');
    }
  },
  files: (f) => [
    dataFiles(f),
    { flag: '--model', path: f.model, checkpoint: 'arra-transformer' },
    { flag: '--vq', path: f.vq, checkpoint: 'arra-vq' },
    { flag: '--fid-encoder', path: f.fidEncoder, encoder: true },
    f.classifier === undefined ? undefined : { flag: '--classifier', path: f.classifier, checkpoint: 'arra-convnet' },
    { flag: '--out', path: f.out, output: 'dir' },
  ],
  run: (f) => {
    console.log(describeBackend());
    const { model, layout, arra, step } = loadArModel(f.model);
    const vq = loadVq(f.vq);
    checkTokenizerFits(f.vq, vq, '--model', f.model, { numCodes: layout.numCodes, numTokens: model.config.maxSeqLen - 2, madeWith: model.config });
    const fidNet = openEncoder(f.fidEncoder, '--fid-encoder');
    checkFidNetwork(fidNet, arra.mode === 'off' ? null : arra.encoderName);
    const classifier = ConvNetFeatures.load(f.classifier ?? f.fidEncoder.slice('convnet:'.length)).net;
    const { test } = loadData(f);
    const numClasses = layout.numClasses;
    const classes = Array.from({ length: numClasses * f.perClass }, (_, i) => Math.floor(i / f.perClass));
    const images = catImages(generate(model, layout, vq, classes, { cfgScale: f.cfgScale, temperature: f.temperature, topK: f.topK, seed: f.seed }));
    const result = scoreSamples(images, classes, fidNet.extract(test.images), fidNet, classifier);
    atomicWriteFile(join(f.out, 'eval.json'), `${JSON.stringify({ model: f.model, step, align: arra.mode, ...result }, null, 2)}\n`);
    const grid = firstPerClass(images, numClasses, f.perClass, Math.min(f.perClass, 10));
    saveSampleGrid(grid, numClasses, join(f.out, 'samples.png'));
    console.log(`FID ${result.fid.toFixed(3)} (${result.numGenerated} generated vs ${result.numReal} real, ${result.fidNetwork}); prompt accuracy ${(100 * result.promptAccuracy).toFixed(1)}%`);
    console.log(`wrote ${join(f.out, 'eval.json')} and ${join(f.out, 'samples.png')}`);
  },
});
