/** `arra sample`: class prompts → a PNG grid, one row per prompt. The projector is never involved. */
import { describeBackend } from '../../lib';
import { rejectUnusedFlags, UsageError } from '../../lib/cli';
import { loadArModel } from '../pipeline/ar-trainer';
import { catImages, generate, saveSampleGrid } from '../pipeline/evaluate';
import { loadVq } from '../pipeline/vq-trainer';
import { command } from './command';

export const samplingFlags = [
  { name: 'cfgScale', type: 'float', default: 1.5, min: 0, help: 'classifier-free guidance scale s (1 = none)' },
  { name: 'temperature', type: 'float', default: 1, min: 0, help: 'softmax temperature (0 = greedy)' },
  { name: 'topK', type: 'int', min: 1, help: 'sample among the k most likely codes only' },
] as const;

/** `--top-k` restricts sampling; greedy decoding (`--temperature 0`) takes the arg-max anyway. */
export function checkSamplingFlags(f: { temperature: number }): void {
  if (f.temperature === 0) rejectUnusedFlags(f, ['topK'], 'with --temperature 0 (greedy decoding takes the most likely code)');
}

export const sampleCommand = command({
  summary: 'generate images for class prompts into a PNG grid (one row per prompt)',
  flags: [
    { name: 'model', type: 'string', required: true, help: 'model.safetensors from arra train' },
    { name: 'vq', type: 'string', required: true, help: 'tokenizer checkpoint the model was trained with' },
    { name: 'prompts', type: 'string', default: 'all', help: "comma-separated class names (e.g. 'seven,three'), or 'all'" },
    { name: 'perPrompt', type: 'int', default: 8, min: 1, max: 64, help: 'images per prompt' },
    ...samplingFlags,
    { name: 'seed', type: 'int', default: 1234, help: 'sampling seed' },
    { name: 'out', type: 'string', default: 'samples.png', help: 'PNG file to write' },
  ],
  check: checkSamplingFlags,
  files: (f) => [
    { flag: '--model', path: f.model, checkpoint: 'arra-transformer' },
    { flag: '--vq', path: f.vq, checkpoint: 'arra-vq' },
    { flag: '--out', path: f.out, output: 'file' },
  ],
  run: (f) => {
    console.log(describeBackend());
    const { model, layout, classNames } = loadArModel(f.model);
    const vq = loadVq(f.vq);
    const wanted = f.prompts === 'all' ? classNames : f.prompts.split(',').map((p) => p.trim());
    const ids = wanted.map((name) => {
      const id = classNames.indexOf(name);
      if (id < 0) throw new UsageError(`--prompts: unknown class '${name}'; the model knows ${classNames.join(', ')}`, '--prompts');
      return id;
    });
    const classes = ids.flatMap((id) => Array.from({ length: f.perPrompt }, () => id));
    const images = catImages(generate(model, layout, vq, classes, { cfgScale: f.cfgScale, temperature: f.temperature, topK: f.topK, seed: f.seed }));
    saveSampleGrid(images, ids.length, f.out);
    console.log(`wrote ${f.out}: ${ids.length} prompts × ${f.perPrompt} samples (${wanted.join(', ')})`);
  },
});
