/**
 * `--condition text|none` end to end on the command line, at toy size on captioned shapes:
 * train-vq → train → sample → eval, each run for a few steps. An unknown prompt word is a
 * usage error (exit 2) that names it and the nearest known words; the checkpoint carries
 * the mode, so sample and eval need no extra flag.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import t from 'tap';
import { main } from '../examples/cli';
import { runCli } from './cli-run';
import { loadArModel } from '../examples/pipeline/ar-trainer';
import { trainAttributeClassifier } from '../examples/pipeline/attribute-trainer';
import { saveConvNet } from '../models/encoder';

const dir = mkdtempSync(join(tmpdir(), 'arra-cond-cli-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

const run = runCli; // main() with stdout, stderr and console.log captured (cli-run.ts)

const data = ['--dataset', 'shapes', '--image-size', '16', '--train-limit', '48', '--test-limit', '24'];
const vq = join(dir, 'vq', 'vq.safetensors');
const fid = join(dir, 'fid.safetensors');
const align = join(dir, 'align.safetensors');
const classifier = join(dir, 'classifier.safetensors');

t.before(async () => {
  const a = await run(['train-vq', ...data, '--steps', '3', '--batch-size', '8', '--codebook-size', '16', '--out', join(dir, 'vq')]);
  if (a.code !== 0) throw new Error(`train-vq failed: ${a.err}`);
  const b = await run(['train-encoder', ...data, '--batch-size', '8', '--out', fid]);
  if (b.code !== 0) throw new Error(`train-encoder failed: ${b.err}`);
  const c = await run(['train-encoder', ...data, '--batch-size', '8', '--seed', '5', '--width', '8', '--out', align]);
  if (c.code !== 0) throw new Error(`train-encoder failed: ${c.err}`);
  // eval judges prompts with a network of its own, neither the FID network nor the alignment encoder
  const d = await run(['train-encoder', ...data, '--batch-size', '8', '--seed', '9', '--out', classifier]);
  if (d.code !== 0) throw new Error(`train-encoder failed: ${d.err}`);
});

const train = (mode: string, out: string, alignment = ['--align', 'off']): Promise<{ code: number; err: string; out: string }> =>
  run(['train', ...data, '--vq', vq, ...alignment, '--condition', mode, '--preset', 'tiny', '--steps', '3', '--batch-size', '4', '--out', out]);

t.test('--condition none: unconditional training, sampling and eval end to end (tiny preset)', async (t) => {
  const out = join(dir, 'none');
  const r = await train('none', out);
  t.equal(r.code, 0, r.err);
  const ckpt = loadArModel(join(out, 'model.safetensors'));
  t.same(ckpt.condition, { mode: 'none' }, 'the checkpoint records the mode');
  t.equal(ckpt.layout.numClasses, 0, 'no class tokens in the vocabulary');
  t.equal(ckpt.layout.vocabSize, 16 + 3, 'codes + null, begin-image, pad');

  const png = join(dir, 'none.png');
  const s = await run(['sample', '--model', join(out, 'model.safetensors'), '--vq', vq, '--per-prompt', '3', '--out', png]);
  t.equal(s.code, 0, s.err);
  t.match(s.out, /no classifier-free guidance/, 'the default cfg scale is not silently applied');
  const img = PNG.sync.read(readFileSync(png));
  t.equal(img.height, 2 + 8 * (2 * 16 + 2), '8 rows of 16 px images (×2 upscale, 2 px padding)');
  t.equal(img.width, 2 + 3 * (2 * 16 + 2), '3 per row');

  const e = await run(['eval', ...data, '--model', join(out, 'model.safetensors'), '--vq', vq, '--fid-encoder', `convnet:${fid}`, '--classifier', classifier, '--per-class', '2', '--out', join(dir, 'eval-none')]);
  t.equal(e.code, 0, e.err);
  const json = JSON.parse(readFileSync(join(dir, 'eval-none', 'eval.json'), 'utf8')) as { condition: string; numGenerated: number; unconditional: { coverage: number; inceptionScore: number; numClasses: number } };
  t.equal(json.condition, 'none');
  t.equal(json.numGenerated, 24 * 2, 'classes × per-class images, as in class mode');
  t.equal(json.unconditional.numClasses, 24);
  t.ok(json.unconditional.coverage > 0 && json.unconditional.coverage <= 1, `coverage ${json.unconditional.coverage}`);
  t.ok(json.unconditional.inceptionScore >= 1 && json.unconditional.inceptionScore <= 24, `IS-style ${json.unconditional.inceptionScore}`);
  t.match(readFileSync(join(dir, 'eval-none', 'eval.md'), 'utf8'), new RegExp(`\\| class coverage ↑ \\| ${(100 * json.unconditional.coverage).toFixed(1)}% \\| none \\| 48 \\|`), 'eval.md holds the coverage of eval.json');

  // The KID subset size is checked in this mode too, before anything is sampled (as in class mode).
  const big = await run(['eval', ...data, '--model', join(out, 'model.safetensors'), '--vq', vq, '--fid-encoder', `convnet:${fid}`, '--classifier', classifier, '--per-class', '2', '--kid-subset-size', '49', '--out', join(dir, 'eval-none-kid')]);
  t.equal(big.code, 2, 'a subset larger than the 48 generated images is a usage error');
  t.match(big.err, /--kid-subset-size: subsets are drawn without replacement from 48 generated and \d+ held-out images; got 49/);
  t.notOk(existsSync(join(dir, 'eval-none-kid', 'eval.json')), 'nothing evaluated');
});

t.test('--condition text: captions as prompts; free-text sampling; unknown words are usage errors; caption accuracy in eval', async (t) => {
  const out = join(dir, 'text');
  const r = await train('text', out, ['--align', 'hybnext', '--align-encoder', `convnet:${align}`]);
  t.equal(r.code, 0, r.err);
  const ckpt = loadArModel(join(out, 'model.safetensors'));
  t.equal(ckpt.condition.mode, 'text');
  t.ok(ckpt.condition.vocab!.includes('circle') && ckpt.condition.vocab!.includes('left'), 'the vocabulary is saved with the model');
  t.equal(ckpt.model.config.prefixLen, ckpt.condition.promptLen! + 1, 'the image starts after the prompt slot and begin-image');

  const png = join(dir, 'text.png');
  const model = join(out, 'model.safetensors');
  const s = await run(['sample', '--model', model, '--vq', vq, '--prompts', 'A Red circle, at the top left!;a blue triangle', '--per-prompt', '2', '--out', png]);
  t.equal(s.code, 0, s.err);
  t.equal(PNG.sync.read(readFileSync(png)).height, 2 + 2 * (2 * 16 + 2), 'one row per prompt');

  const bad = join(dir, 'bad.png');
  const u = await run(['sample', '--model', model, '--vq', vq, '--prompts', 'a red circel', '--out', bad]);
  t.equal(u.code, 2, 'exit status 2');
  t.match(u.err, /--prompts: unknown word 'circel' in 'a red circel'; nearest known words: circle/, 'names the word and the nearest known one');
  t.notOk(existsSync(bad), 'nothing written');
  const mismatch = await run(['sample', '--model', model, '--vq', vq, '--condition', 'class', '--out', bad]);
  t.equal(mismatch.code, 2);
  t.match(mismatch.err, /--condition: .*model\.safetensors was trained with --condition text, not class/, 'naming a different mode is a usage error');
  const all = await run(['sample', '--model', model, '--vq', vq, '--out', bad]);
  t.equal(all.code, 2);
  t.match(all.err, /a text-conditional model needs prompts/);

  const judge = trainAttributeClassifier({ imageSize: 16, images: 200, epochs: 2 });
  const attr = join(dir, 'attributes.safetensors');
  saveConvNet(attr, judge.net, { config: judge.net.config, dataset: 'shapes-attributes', training: { imageSize: 16, heldOut: judge.heldOut } });
  const e = await run(['eval', ...data, '--model', model, '--vq', vq, '--fid-encoder', `convnet:${fid}`, '--classifier', classifier, '--per-class', '2', '--attribute-classifier', attr, '--out', join(dir, 'eval-text')]);
  t.equal(e.code, 0, e.err);
  const json = JSON.parse(readFileSync(join(dir, 'eval-text', 'eval.json'), 'utf8')) as { numGenerated: number; text: { classAccuracy: number; captionAccuracy: { images: number; allCorrect: number; shape: number } } };
  t.equal(json.numGenerated, 48);
  t.equal(json.text.captionAccuracy.images, 48, 'every sample judged against its caption');
  t.match((json.text as { attributeClassifierDigest?: string }).attributeClassifierDigest, /^[0-9a-f]{12}$/, 'the judge is named by its weights');
  for (const k of ['allCorrect', 'shape'] as const) t.ok(json.text.captionAccuracy[k] >= 0 && json.text.captionAccuracy[k] <= 1, `${k} is a fraction`);
  t.match(e.out, /caption accuracy: shape \d+\.\d%, colour/);
  t.ok(readFileSync(join(dir, 'eval-text', 'prompts.txt'), 'utf8').includes(' at '), 'the grid\'s prompts are written beside it');
  const md = readFileSync(join(dir, 'eval-text', 'eval.md'), 'utf8');
  t.match(md, /conditioning `text`/, 'eval.md names the mode');
  t.match(md, new RegExp(`\\| caption accuracy: all attributes ↑ \\| ${(100 * json.text.captionAccuracy.allCorrect).toFixed(1)}% \\| ± [\\d.]+% \\(binomial standard error\\) \\| 48 \\|`), 'eval.md holds the caption accuracy of eval.json');

  const x = await run(['explain', ...data, '--run', out, '--vq', vq, '--align-encoder', `convnet:${align}`, '--batch-size', '4', '--out', join(dir, 'explain-text')]);
  t.equal(x.code, 0, x.err);
  t.match(readFileSync(join(dir, 'explain-text', 'report.md'), 'utf8'), /L_GVA|GVA/, 'explain reads a text run (its prompts, its layout)');
});
