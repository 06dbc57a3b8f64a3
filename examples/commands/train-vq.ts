/** `arra train-vq`: train the VQ image tokenizer, report held-out reconstruction and code usage. */
import { join } from 'node:path';
import { describeBackend } from '../../lib';
import { createProgress, UsageError } from '../../lib/cli';
import { checkDataFlags, dataFiles, dataFlags, imageSizeOf, loadData } from '../pipeline/datasets';
import { evaluateVq, saveReconstructions, saveVq, tokenizerCollapse, trainVq, VQ_DOWNSAMPLES, VQ_FILE, vqHiddenWidths } from '../pipeline/vq-trainer';
import { command } from './command';

export const trainVqCommand = command({
  summary: 'train the VQ image tokenizer (writes vq.safetensors and reconstructions.png)',
  flags: [
    ...dataFlags,
    { name: 'steps', type: 'int', default: 400, min: 1, help: 'optimizer steps' },
    { name: 'batchSize', type: 'int', default: 32, min: 1, help: 'images per step' },
    { name: 'lr', type: 'float', default: 2e-3, min: 0, help: 'peak learning rate' },
    { name: 'codebookSize', type: 'int', default: 256, min: 2, max: 65536, help: 'codebook entries K' },
    { name: 'codeDim', type: 'int', default: 8, min: 1, max: 1024, help: 'code vector dimension' },
    {
      name: 'downsample', type: 'int', default: 4, help: `image side / token grid side: ${VQ_DOWNSAMPLES.join(', ')} (log2 of it stride-2 stages; must divide the image side)`,
      validate: (v: number) => (VQ_DOWNSAMPLES.includes(v) ? undefined : `expected one of ${VQ_DOWNSAMPLES.join(', ')}`),
    },
    { name: 'reviveEvery', type: 'int', default: 50, min: 0, help: 'dead-code revival period in steps (0 = never)' },
    { name: 'seed', type: 'int', default: 0, help: 'random seed' },
    { name: 'out', type: 'string', default: join('runs', 'vq'), help: 'output folder' },
  ],
  check: (f) => {
    checkDataFlags(f);
    const side = imageSizeOf(f);
    if (side % f.downsample !== 0) {
      throw new UsageError(`--downsample: ${f.downsample} does not divide the ${side}-px image side (${VQ_DOWNSAMPLES.filter((d) => side % d === 0).join(' or ')} would)`, '--downsample');
    }
  },
  files: (f) => [dataFiles(f), { flag: '--out', path: f.out, output: 'dir' }],
  run: (f) => {
    console.log(describeBackend());
    const { train, test, split } = loadData(f);
    const bar = createProgress({ label: 'train-vq', total: f.steps });
    const vq = trainVq(train, {
      steps: f.steps, batchSize: f.batchSize, lr: f.lr, seed: f.seed, codebookSize: f.codebookSize, codeDim: f.codeDim,
      hidden: vqHiddenWidths(f.downsample), downsample: f.downsample, reviveEvery: f.reviveEvery,
      onStep: (step, m) => bar.update(step, { loss: m.loss, perplexity: m.perplexity }),
    });
    bar.stop();
    const held = evaluateVq(vq, test);
    saveVq(join(f.out, VQ_FILE), vq, { heldOut: held, split });
    saveReconstructions(vq, test, join(f.out, 'reconstructions.png'));
    console.log(`held-out reconstruction MSE ${held.mse.toFixed(4)} per pixel; codebook usage ${(100 * held.usage).toFixed(1)}%, perplexity ${held.perplexity.toFixed(1)}`);
    const collapse = tokenizerCollapse(held);
    if (collapse) process.stderr.write(`!! WARNING: ${collapse}\n`);
    console.log(`wrote ${join(f.out, VQ_FILE)} and ${join(f.out, 'reconstructions.png')}`);
  },
});
