/**
 * `arra eval`: FID against held-out real images, the conditioning mode's own scores (prompt
 * accuracy; caption accuracy for text on shapes; confidence, entropy and coverage when
 * unconditional — evaluate-modes.ts), and a sample grid, for one checkpoint.
 */
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describeBackend } from '../../lib';
import { UsageError } from '../../lib/cli';
import { ConvNetFeatures } from '../../models/encoder';
import { loadArModel } from '../pipeline/ar-trainer';
import { dataFlags, type DataFlags, imageSizeOf, loadData } from '../pipeline/datasets';
import { openEncoder } from '../pipeline/encoders';
import { catImages, checkFidNetwork, firstPerClass, generate, saveSampleGrid, scoreSamples } from '../pipeline/evaluate';
import { loadVq } from '../pipeline/vq-trainer';
import { attributeClassifierAt } from '../pipeline/attribute-trainer';
import { describeModeScores, fidOf, heldOutPrompts, scoreTextSamples, scoreUnconditionalSamples, textRequest } from '../pipeline/evaluate-modes';
import { generateImages } from '../pipeline/generate';
import { checkConditionMatches, expectConditionFlag } from '../pipeline/conditioning';
import { samplingFlags } from './sample';
import { command } from './command';

export const evalCommand = command({
  summary: 'FID, the conditioning mode\'s scores (prompt / caption accuracy, or confidence and coverage) and a sample grid for a trained model',
  flags: [
    ...dataFlags,
    { name: 'model', type: 'string', required: true, help: 'model.safetensors from arra train' },
    { name: 'vq', type: 'string', required: true, help: 'tokenizer checkpoint the model was trained with' },
    { name: 'fidEncoder', type: 'string', required: true, help: 'FID feature network: convnet:<file> or mobilenet[@<px>] (not the alignment encoder)' },
    { name: 'classifier', type: 'string', help: 'ConvNet checkpoint judging prompt accuracy (default: the --fid-encoder file when it is a convnet)' },
    { name: 'perClass', type: 'int', default: 50, min: 2, help: 'generated images per class (FID is biased at small N: compare at equal N); text and unconditional models draw as many in all' },
    { name: 'attributeClassifier', type: 'string', help: 'text models on --dataset shapes: the attribute classifier judging caption accuracy (default runs/cache/attributes-<px>px.safetensors, trained there on first use)' },
    ...samplingFlags,
    expectConditionFlag,
    { name: 'seed', type: 'int', default: 1234, help: 'sampling seed' },
    { name: 'out', type: 'string', default: join('runs', 'eval'), help: 'folder for eval.json and samples.png' },
  ],
  check: (f) => {
    if (!f.classifier && !f.fidEncoder.startsWith('convnet:')) {
      throw new UsageError('--classifier: required when --fid-encoder is not a convnet (prompt accuracy needs a classifier)', '--classifier');
    }
  },
  run: (f) => {
    console.log(describeBackend());
    const { model, layout, arra, step, condition } = loadArModel(f.model);
    checkConditionMatches(f.condition, condition, f.model);
    if (condition.mode !== 'class') {
      evalOtherModes(f, { model, layout, arra, step, condition });
      return;
    }
    const vq = loadVq(f.vq);
    const fidNet = openEncoder(f.fidEncoder, '--fid-encoder');
    checkFidNetwork(fidNet, arra.mode === 'off' ? null : arra.encoderName);
    const classifier = promptClassifier(f);
    const { test } = loadData(f);
    const numClasses = layout.numClasses;
    const classes = Array.from({ length: numClasses * f.perClass }, (_, i) => Math.floor(i / f.perClass));
    const images = catImages(generate(model, layout, vq, classes, { cfgScale: f.cfgScale, temperature: f.temperature, topK: f.topK, seed: f.seed }));
    const result = scoreSamples(images, classes, fidNet.extract(test.images), fidNet, classifier);
    mkdirSync(f.out, { recursive: true });
    writeFileSync(join(f.out, 'eval.json'), `${JSON.stringify({ model: f.model, step, align: arra.mode, ...result }, null, 2)}\n`);
    const grid = firstPerClass(images, numClasses, f.perClass, Math.min(f.perClass, 10));
    saveSampleGrid(grid, numClasses, join(f.out, 'samples.png'));
    console.log(`FID ${result.fid.toFixed(3)} (${result.numGenerated} generated vs ${result.numReal} real, ${result.fidNetwork}); prompt accuracy ${(100 * result.promptAccuracy).toFixed(1)}%`);
    console.log(`wrote ${join(f.out, 'eval.json')} and ${join(f.out, 'samples.png')}`);
  },
});

/** The flags the text and unconditional evaluations read. */
interface EvalFlags extends DataFlags {
  model: string;
  vq: string;
  fidEncoder: string;
  classifier?: string;
  attributeClassifier?: string;
  perClass: number;
  cfgScale: number;
  temperature: number;
  topK?: number;
  seed: number;
  out: string;
}

/** The prompt-accuracy classifier: --classifier, or the --fid-encoder file when it is a ConvNet. */
function promptClassifier(f: EvalFlags): ReturnType<typeof ConvNetFeatures.load>['net'] {
  return ConvNetFeatures.load(f.classifier ?? f.fidEncoder.slice('convnet:'.length)).net;
}

/** Text-conditional and unconditional checkpoints: held-out prompts or none, FID, and the mode's scores. */
function evalOtherModes(f: EvalFlags, m: Pick<ReturnType<typeof loadArModel>, 'model' | 'layout' | 'arra' | 'step' | 'condition'>): void {
  const { test } = loadData(f);
  const n = test.classNames.length * f.perClass;
  const prompts = m.condition.mode === 'text' ? heldOutPrompts(test, n, f.seed) : null;
  const request = prompts ? textRequest(m.condition, prompts) : { mode: 'none' as const, count: n }; // unknown words: usage error before any work
  if (m.condition.mode === 'none' && f.cfgScale !== 1) console.log('unconditional model: no classifier-free guidance (there is no condition to contrast with)');
  const vq = loadVq(f.vq);
  const fidNet = openEncoder(f.fidEncoder, '--fid-encoder');
  checkFidNetwork(fidNet, m.arra.mode === 'off' ? null : m.arra.encoderName);
  const classifier = promptClassifier(f);
  const settings = { cfgScale: m.condition.mode === 'none' ? 1 : f.cfgScale, temperature: f.temperature, topK: f.topK, seed: f.seed };
  const images = catImages(generateImages(m.model, m.layout, vq, request, settings));
  const fid = fidOf(images, fidNet.extract(test.images), fidNet);
  const attributes = prompts?.scenes
    ? attributeClassifierAt(f.attributeClassifier ?? join('runs', 'cache', `attributes-${imageSizeOf(f)}px.safetensors`), images.shape[2]!)
    : undefined;
  const scores = prompts
    ? { text: scoreTextSamples(images, prompts, classifier, attributes) }
    : { unconditional: scoreUnconditionalSamples(images, classifier) };
  mkdirSync(f.out, { recursive: true });
  writeFileSync(join(f.out, 'eval.json'), `${JSON.stringify({ model: f.model, step: m.step, align: m.arra.mode, condition: m.condition.mode, ...fid, ...scores }, null, 2)}\n`);
  const show = Math.min(64, images.shape[0]!);
  saveSampleGrid(firstPerClass(images, 1, show, show), Math.ceil(show / 8), join(f.out, 'samples.png'));
  if (prompts) writeFileSync(join(f.out, 'prompts.txt'), `${prompts.texts.slice(0, show).join('\n')}\n`);
  console.log(`FID ${fid.fid.toFixed(3)} (${fid.numGenerated} generated vs ${fid.numReal} real, ${fid.fidNetwork}); ${describeModeScores(m.condition.mode, scores)}`);
  console.log(`wrote ${join(f.out, 'eval.json')} and ${join(f.out, 'samples.png')}${prompts ? ' (prompts.txt: the grid\'s prompts, row by row)' : ''}`);
}
