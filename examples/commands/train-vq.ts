/** `arra train-vq`: train the VQ image tokenizer, report held-out reconstruction and code usage. */
import { join } from 'node:path';
import { describeBackend } from '../../lib';
import { createProgress, UsageError } from '../../lib/cli';
import { dataFlags, loadData } from '../pipeline/datasets';
import { evaluateVq, saveReconstructions, saveVq, trainVq, VQ_FILE } from '../pipeline/vq-trainer';
import { command } from './command';

export const trainVqCommand = command({
  summary: 'train the VQ image tokenizer (writes vq.safetensors and reconstructions.png)',
  flags: [
    ...dataFlags,
    { name: 'steps', type: 'int', default: 400, min: 1, help: 'optimizer steps' },
    { name: 'batchSize', type: 'int', default: 32, min: 1, help: 'images per step' },
    { name: 'lr', type: 'float', default: 2e-3, min: 0, help: 'peak learning rate' },
    { name: 'codebookSize', type: 'int', default: 256, min: 2, help: 'codebook entries K' },
    { name: 'codeDim', type: 'int', default: 8, min: 1, help: 'code vector dimension' },
    { name: 'downsample', type: 'int', default: 4, min: 2, help: 'image side / token grid side (a power of 2)' },
    { name: 'reviveEvery', type: 'int', default: 50, min: 0, help: 'dead-code revival period in steps (0 = never)' },
    { name: 'seed', type: 'int', default: 0, help: 'random seed' },
    { name: 'out', type: 'string', default: join('runs', 'vq'), help: 'output folder' },
  ],
  check: (f) => {
    if ((f.downsample & (f.downsample - 1)) !== 0) throw new UsageError(`--downsample: expected a power of 2, got ${f.downsample}`, '--downsample');
  },
  run: (f) => {
    console.log(describeBackend());
    const { train, test, split } = loadData(f);
    const bar = createProgress({ label: 'train-vq', total: f.steps });
    const vq = trainVq(train, {
      steps: f.steps, batchSize: f.batchSize, lr: f.lr, seed: f.seed, codebookSize: f.codebookSize, codeDim: f.codeDim,
      hidden: [16, 32], downsample: f.downsample, reviveEvery: f.reviveEvery,
      onStep: (step, m) => bar.update(step, { loss: m.loss, perplexity: m.perplexity }),
    });
    bar.stop();
    const held = evaluateVq(vq, test);
    saveVq(join(f.out, VQ_FILE), vq, { heldOut: held, split });
    saveReconstructions(vq, test, join(f.out, 'reconstructions.png'));
    console.log(`held-out reconstruction MSE ${held.mse.toFixed(4)} per pixel; codebook usage ${(100 * held.usage).toFixed(1)}%, perplexity ${held.perplexity.toFixed(1)}`);
    console.log(`wrote ${join(f.out, VQ_FILE)} and ${join(f.out, 'reconstructions.png')}`);
  },
});
