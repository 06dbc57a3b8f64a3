/** `arra sample`: class names, free-text prompts or nothing (unconditional) → a PNG grid, one row per prompt. The projector is never involved. */
import { describeBackend } from '../../lib';
import { rejectUnusedFlags, UsageError } from '../../lib/cli';
import { loadArModel } from '../pipeline/ar-trainer';
import { checkConditionMatches, encodePrompts, expectConditionFlag } from '../pipeline/conditioning';
import { catImages, saveSampleGrid } from '../pipeline/evaluate';
import { generateImages, type GenerationRequest } from '../pipeline/generate';
import { loadVq } from '../pipeline/vq-trainer';
import { checkTokenizerFits } from '../pipeline/checkpoints';
import { command } from './command';

export const samplingFlags = [
  { name: 'cfgScale', type: 'float', default: 1.5, min: 0, max: 100, help: 'classifier-free guidance scale s (1 = none; beyond 100 the guided float32 logits overflow)' },
  { name: 'temperature', type: 'float', default: 1, min: 0, help: 'softmax temperature (0 = greedy)' },
  { name: 'topK', type: 'int', min: 1, help: 'sample among the k most likely codes only' },
] as const;

/** `--top-k` restricts sampling; greedy decoding (`--temperature 0`) takes the arg-max anyway. */
export function checkSamplingFlags(f: { temperature: number }): void {
  if (f.temperature === 0) rejectUnusedFlags(f, ['topK'], 'with --temperature 0 (greedy decoding takes the most likely code)');
}

export const sampleCommand = command({
  summary: 'generate images for class names, text prompts, or unconditionally, into a PNG grid (one row per prompt)',
  flags: [
    { name: 'model', type: 'string', required: true, help: 'model.safetensors from arra train' },
    { name: 'vq', type: 'string', required: true, help: 'tokenizer checkpoint the model was trained with' },
    { name: 'prompts', type: 'string', default: 'all', help: "class model: comma-separated class names ('seven,three') or 'all'; text model: semicolon-separated prompts ('a red circle at the top left;a blue triangle'); unconditional: ignored" },
    { name: 'perPrompt', type: 'int', default: 8, min: 1, max: 64, help: 'images per prompt (unconditional: images per row, 8 rows)' },
    ...samplingFlags,
    expectConditionFlag,
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
    // (after the file checks, so a folder or an input given as --out is named as such first)
    if (!/\.png$/i.test(f.out)) throw new UsageError(`--out: the grid is written as PNG, so the file must end in .png, got ${JSON.stringify(f.out)}`, '--out');
    console.log(describeBackend());
    const { model, layout, classNames, condition } = loadArModel(f.model);
    checkConditionMatches(f.condition, condition, f.model);
    const settings = { cfgScale: f.cfgScale, temperature: f.temperature, topK: f.topK, seed: f.seed };
    const repeat = <T>(xs: T[]): T[] => xs.flatMap((x) => Array.from({ length: f.perPrompt }, () => x));
    let request: GenerationRequest;
    let rows: string[];
    if (condition.mode === 'text') {
      if (f.prompts === 'all') throw new UsageError("--prompts: a text-conditional model needs prompts, e.g. --prompts 'a red circle at the top left;a blue triangle'", '--prompts');
      rows = f.prompts.split(';').map((p) => p.trim()).filter((p) => p.length > 0);
      if (rows.length === 0) throw new UsageError(`--prompts: expected at least one prompt (prompts are separated by ';'), got ${JSON.stringify(f.prompts)}`, '--prompts');
      request = { mode: 'text', prompts: repeat(encodePrompts(condition, rows, '--prompts')), promptLen: condition.promptLen! };
    } else if (condition.mode === 'none') {
      if (f.prompts !== 'all') console.log(`unconditional model: --prompts '${f.prompts}' is ignored`);
      if (f.cfgScale !== 1) console.log('unconditional model: no classifier-free guidance (there is no condition to contrast with)');
      rows = Array.from({ length: 8 }, (_, i) => `row ${i + 1}`);
      request = { mode: 'none', count: 8 * f.perPrompt };
    } else {
      rows = f.prompts === 'all' ? classNames : f.prompts.split(',').map((p) => p.trim());
      if (rows.some((name) => name === '')) throw new UsageError(`--prompts: expected comma-separated class names, got an empty name in ${JSON.stringify(f.prompts)}; the model knows ${classNames.join(', ')}`, '--prompts');
      const ids = rows.map((name) => {
        const id = classNames.indexOf(name);
        if (id < 0) throw new UsageError(`--prompts: unknown class '${name}'; the model knows ${classNames.join(', ')}`, '--prompts');
        return id;
      });
      request = { mode: 'class', classes: repeat(ids) };
    }
    const vq = loadVq(f.vq);
    checkTokenizerFits(f.vq, vq, '--model', f.model, { numCodes: layout.numCodes, numTokens: model.config.maxSeqLen - (model.config.prefixLen ?? 2), madeWith: model.config });
    const images = catImages(generateImages(model, layout, vq, request, settings));
    saveSampleGrid(images, rows.length, f.out);
    console.log(`wrote ${f.out}: ${rows.length} ${condition.mode === 'none' ? 'rows' : 'prompts'} × ${f.perPrompt} samples (${condition.mode === 'none' ? 'unconditional' : rows.join(condition.mode === 'text' ? '; ' : ', ')})`);
  },
});
