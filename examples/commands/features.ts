/** `arra features`: precompute (and cache) a frozen encoder's global features for a dataset. */
import { join } from 'node:path';
import { describeBackend } from '../../lib';
import { ENCODER_POOLINGS } from '../../models/arra';
import { checkDataFlags, dataFiles, dataFlags, describeData, loadData } from '../pipeline/datasets';
import { rejectUnusedFlags } from '../../lib/cli';
import { openEncoder } from '../pipeline/encoders';
import { featureCachePath, globalFeatures } from '../pipeline/prepare';
import { command } from './command';

export const featuresCommand = command({
  summary: "precompute the frozen encoder's global features of the training images (cached)",
  flags: [
    ...dataFlags,
    { name: 'encoder', type: 'string', required: true, help: "convnet:<file> or mobilenet[@<px>]" },
    { name: 'alignPooling', type: 'enum', choices: ENCODER_POOLINGS, help: 'global feature, as arra train --align-pooling (part of the cache key)' },
    { name: 'cacheDir', type: 'string', default: join('runs', 'cache'), help: 'folder of feature caches' },
    { name: 'seed', type: 'int', default: 0, help: 'ignored: the data and its split are fixed properties of the dataset (accepted with shapes and folder so old scripts still parse)' },
  ],
  check: (f) => {
    checkDataFlags(f);
    if (f.dataset === 'mnist' || f.dataset === 'fashion') rejectUnusedFlags(f, ['seed'], `with --dataset ${f.dataset} (it never had one: the split is the official train/test files)`);
  },
  files: (f) => [dataFiles(f), { flag: '--encoder', path: f.encoder, encoder: true }, { flag: '--cache-dir', path: f.cacheDir, output: 'dir' }],
  run: (f) => {
    console.log(describeBackend());
    const encoder = openEncoder(f.encoder, '--encoder', f.alignPooling);
    const { train, split } = loadData(f);
    const key = describeData(f);
    const t0 = performance.now();
    const feats = globalFeatures(encoder, train, key, f.cacheDir, console.log, split);
    console.log(`${feats.shape[0]} × ${feats.shape[1]} features from ${encoder.name} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    console.log(`cache: ${featureCachePath(f.cacheDir, encoder, key)}`);
  },
});
