/**
 * `arra eval`: FID and KID against held-out real images, the conditioning mode's own scores
 * (prompt accuracy; caption accuracy for text on shapes; confidence, entropy and coverage when
 * unconditional — evaluate-modes.ts), and a sample grid, for one checkpoint.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describeBackend } from '../../lib';
import { atomicWriteFile } from '../../lib/io';
import { type ParsedFlags, UsageError } from '../../lib/cli';
import { accuracy, ConvNetFeatures, type FeatureExtractor } from '../../models/encoder';
import { loadArModel } from '../pipeline/ar-trainer';
import { checkDataFlags, checkSplit, dataFiles, dataFlags, imageSizeOf, loadData } from '../pipeline/datasets';
import { openEncoder } from '../pipeline/encoders';
import {
  catImages, checkIndependence, evaluationWarnings, firstPerClass, generate, printWarnings, saveSampleGrid, scoreSamples, scoringNetwork,
} from '../pipeline/evaluate';
import { describeNetwork, escapeMarkdown, reproduceCommand } from '../pipeline/report';
import { loadVq } from '../pipeline/vq-trainer';
import { attributeClassifierAt, attributeClassifierProblem } from '../pipeline/attribute-trainer';
import { describeModeScores, fidOf, heldOutPrompts, scoreTextSamples, scoreUnconditionalSamples, textRequest } from '../pipeline/evaluate-modes';
import { generateImages } from '../pipeline/generate';
import { checkConditionMatches, expectConditionFlag } from '../pipeline/conditioning';
import { checkTokenizerFits } from '../pipeline/checkpoints';
import { checkSamplingFlags, samplingFlags } from './sample';
import { command } from './command';

/** Generated images an evaluation draws by default (spread evenly over the classes). */
export const DEFAULT_EVAL_SAMPLES = 1000;

export const evalFlags = [
  ...dataFlags,
  { name: 'model', type: 'string', required: true, help: 'model.safetensors from arra train' },
  { name: 'vq', type: 'string', required: true, help: 'tokenizer checkpoint the model was trained with' },
  { name: 'fidEncoder', type: 'string', required: true, help: 'FID/KID feature network: convnet:<file> or mobilenet[@<px>] (not the alignment encoder, not the classifier)' },
  { name: 'classifier', type: 'string', help: 'ConvNet checkpoint judging prompt accuracy: a different network from --fid-encoder and the alignment encoder (required)' },
  { name: 'perClass', type: 'int', min: 2, max: 10000, help: `generated images per class (default: ⌈${DEFAULT_EVAL_SAMPLES} / classes⌉, so N ≥ ${DEFAULT_EVAL_SAMPLES}; compare FID only at equal N)` },
  { name: 'kidSubsets', type: 'int', default: 50, min: 1, max: 10000, help: 'KID: random subsets averaged over (Bińkowski et al.: 50)' },
  { name: 'kidSubsetSize', type: 'int', min: 2, help: 'KID: vectors per subset (default min(1000, half the smaller set))' },
  { name: 'attributeClassifier', type: 'string', help: 'text models on --dataset shapes: the attribute classifier judging caption accuracy (default runs/cache/attributes-<px>px.safetensors, trained there on first use)' },
  ...samplingFlags,
  expectConditionFlag,
  { name: 'seed', type: 'int', default: 1234, help: 'sampling seed' },
  { name: 'out', type: 'string', default: join('runs', 'eval'), help: 'folder for eval.json, eval.md and samples.png' },
] as const;

export const evalCommand = command({
  summary: 'FID, KID, the conditioning mode\'s scores (prompt / caption accuracy, or confidence and coverage) and a sample grid for a trained model',
  flags: evalFlags,
  check: (f) => {
    checkDataFlags(f);
    checkSamplingFlags(f);
    if (!f.classifier) {
      throw new UsageError('--classifier: required: a ConvNet checkpoint (arra train-encoder) other than the --fid-encoder network judges prompt accuracy', '--classifier');
    }
  },
  files: (f) => [
    dataFiles(f),
    { flag: '--model', path: f.model, checkpoint: 'arra-transformer' },
    { flag: '--vq', path: f.vq, checkpoint: 'arra-vq' },
    { flag: '--fid-encoder', path: f.fidEncoder, encoder: true },
    f.classifier === undefined ? undefined : { flag: '--classifier', path: f.classifier, checkpoint: 'arra-convnet' },
    // an existing judge must be a ConvNet checkpoint; an absent one is trained and written there
    f.attributeClassifier === undefined ? undefined
      : existsSync(f.attributeClassifier) ? { flag: '--attribute-classifier', path: f.attributeClassifier, checkpoint: 'arra-convnet' }
        : { flag: '--attribute-classifier', path: f.attributeClassifier, output: 'file' },
    { flag: '--out', path: f.out, output: 'dir' },
  ],
  run: (f) => {
    const backend = describeBackend();
    console.log(backend);
    const { model, layout, arra, step, split: trainedSplit, seed: trainSeed, condition } = loadArModel(f.model);
    checkConditionMatches(f.condition, condition, f.model);
    if (f.attributeClassifier !== undefined) {
      if (condition.mode !== 'text' || f.dataset !== 'shapes') {
        throw new UsageError(`--attribute-classifier: has no effect for a ${condition.mode}-conditional model on --dataset ${f.dataset} (it judges the captions of text models on shapes); drop it`, '--attribute-classifier');
      }
      const problem = existsSync(f.attributeClassifier) ? attributeClassifierProblem(f.attributeClassifier, imageSizeOf(f)) : null;
      if (problem !== null) throw new UsageError(`--attribute-classifier: ${f.attributeClassifier}: ${problem}`, '--attribute-classifier');
    }
    const { test, split } = loadData(f);
    const warnings: string[] = [];
    const splitWarning = checkSplit(trainedSplit, split, `the model ${f.model}`, '--model');
    if (splitWarning) warnings.push(splitWarning);
    const vq = loadVq(f.vq);
    checkTokenizerFits(f.vq, vq, '--model', f.model, { numCodes: layout.numCodes, numTokens: model.config.maxSeqLen - (model.config.prefixLen ?? 2), madeWith: model.config });
    const fidNet = openEncoder(f.fidEncoder, '--fid-encoder');
    const classifierFile = f.classifier!;
    const classifierNet = openEncoder(`convnet:${classifierFile}`, '--classifier') as ConvNetFeatures;
    const networks = [scoringNetwork('FID/KID network', '--fid-encoder', fidNet), scoringNetwork('accuracy classifier', '--classifier', classifierNet)];
    if (arra.mode !== 'off') {
      networks.push({ role: 'alignment encoder', flag: '--align-encoder', name: arra.encoderName, digest: arra.encoderDigest ?? `name:${arra.encoderName}` });
      if (!arra.encoderDigest) warnings.push(`the model records its alignment encoder by name only ('${arra.encoderName}'), not by weight digest: independence was checked by name`);
    }
    checkIndependence(networks);
    const heldOutAccuracy = [{ role: 'accuracy classifier', accuracy: accuracy(classifierNet.net, test.images, test.labels) }];
    if (fidNet instanceof ConvNetFeatures && fidNet.net.config.numClasses === test.classNames.length) {
      heldOutAccuracy.push({ role: 'FID/KID network', accuracy: accuracy(fidNet.net, test.images, test.labels) });
    }
    if (condition.mode !== 'class') {
      evalOtherModes(f, { model, layout, arra, step, condition }, { test, vq, fidNet, classifierNet, networks, split, warnings, heldOutAccuracy, trainSeed });
      return;
    }

    const numClasses = layout.numClasses;
    const perClass = f.perClass ?? Math.ceil(DEFAULT_EVAL_SAMPLES / numClasses);
    const classes = Array.from({ length: numClasses * perClass }, (_, i) => Math.floor(i / perClass));
    checkKidSubsetSize(f, classes.length, test.labels.length);
    const images = catImages(generate(model, layout, vq, classes, { cfgScale: f.cfgScale, temperature: f.temperature, topK: f.topK, seed: f.seed }));
    const result = scoreSamples(images, classes, fidNet.extract(test.images), fidNet, classifierNet.net, { subsets: f.kidSubsets, subsetSize: f.kidSubsetSize, seed: f.seed });
    warnings.push(...evaluationWarnings({ numGenerated: result.numGenerated, numReal: result.numReal, featureDim: result.featureDim, numClasses, heldOutAccuracy }));

    const command = reproduceCommand('eval', evalFlags, f);
    atomicWriteFile(join(f.out, 'eval.json'), `${JSON.stringify({
      model: f.model, step, align: arra.mode, trainSeed: trainSeed ?? null, samplingSeed: f.seed, ...result,
      heldOutAccuracy, networks, split, warnings, command,
    }, null, 2)}\n`);
    const grid = firstPerClass(images, numClasses, perClass, Math.min(perClass, 10));
    saveSampleGrid(grid, numClasses, join(f.out, 'samples.png'));
    writeEvalReport(join(f.out, 'eval.md'), { f, result, warnings, heldOutAccuracy, fidNet, classifierNet, arra, step, trainSeed, command, backend, split: split.rule });
    printWarnings(warnings);
    console.log(
      `FID ${result.fid.toFixed(3)}, KID ${result.kid.toFixed(5)} ± ${result.kidStd.toFixed(5)} (${result.numGenerated} generated vs ${result.numReal} real, ${result.fidNetwork}, ${result.featureDim}-d); ` +
      `prompt accuracy ${(100 * result.promptAccuracy).toFixed(1)}%`,
    );
    console.log(`wrote ${join(f.out, 'eval.json')}, eval.md and samples.png`);
  },
});

function writeEvalReport(path: string, r: {
  f: { model: string; seed: number; kidSubsets: number }; result: ReturnType<typeof scoreSamples>; warnings: string[];
  heldOutAccuracy: { role: string; accuracy: number }[]; fidNet: FeatureExtractor; classifierNet: ConvNetFeatures;
  arra: { mode: string; encoderName: string }; step: number; trainSeed?: number; command: string; backend: string; split: string;
}): void {
  const m = r.result;
  const lines = [`# arra eval: ${escapeMarkdown(r.f.model)}`, ''];
  if (r.warnings.length > 0) lines.push('> **WARNING**', ...r.warnings.map((w) => `> - ${escapeMarkdown(w)}`), '');
  lines.push(
    `Step ${r.step}, alignment \`${r.arra.mode}\`, training seed ${r.trainSeed ?? 'not recorded'}, sampling seed ${r.f.seed}; ${r.backend}.`,
    `Reproduce with \`${r.command}\`.`, '',
    '| metric | value | uncertainty | N |', '|---|---|---|---|',
    `| FID ↓ | ${m.fid.toFixed(3)} | none (one sampling seed; FID is biased at small N: compare only at equal N) | ${m.numGenerated} generated vs ${m.numReal} real |`,
    `| KID ↓ | ${m.kid.toFixed(5)} | ± ${m.kidStd.toFixed(5)} (std over ${m.kidSubsets} subsets of ${m.kidSubsetSize}) | same |`,
    `| prompt accuracy ↑ | ${(100 * m.promptAccuracy).toFixed(1)}% | ± ${(100 * Math.sqrt(m.promptAccuracy * (1 - m.promptAccuracy) / m.numGenerated)).toFixed(1)}% (binomial standard error) | ${m.numGenerated} |`,
    '', 'One model, one sampling seed: a comparison between models needs several training seeds.', '',
    '## Networks', '', '| role | network | held-out accuracy |', '|---|---|---|',
    `| FID/KID features | ${describeNetwork(r.fidNet)} | ${fmtAcc(r.heldOutAccuracy.find((a) => a.role === 'FID/KID network'))} |`,
    `| accuracy classifier | ${describeNetwork(r.classifierNet)} | ${fmtAcc(r.heldOutAccuracy.find((a) => a.role === 'accuracy classifier'))} |`,
    `| alignment encoder | ${r.arra.mode === 'off' ? 'none (baseline)' : escapeMarkdown(r.arra.encoderName)} | — |`,
    '', `Held-out split: ${escapeMarkdown(r.split)}.`, '',
  );
  atomicWriteFile(path, lines.join('\n'));
}

const fmtAcc = (a: { accuracy: number } | undefined): string => (a ? `${(100 * a.accuracy).toFixed(1)}%` : 'not a classifier of these classes');

/** KID subsets are drawn without replacement: one cannot be larger than either set (checked before generating). */
function checkKidSubsetSize(f: { kidSubsetSize?: number }, generated: number, real: number): void {
  if (f.kidSubsetSize !== undefined && f.kidSubsetSize > Math.min(generated, real)) {
    throw new UsageError(`--kid-subset-size: subsets are drawn without replacement from ${generated} generated and ${real} held-out images; got ${f.kidSubsetSize}`, '--kid-subset-size');
  }
}

/** The flags the text and unconditional evaluations read. */
type EvalFlags = ParsedFlags<typeof evalFlags>;

/** What the class, text and unconditional paths share once the inputs are checked. */
interface EvalContext {
  test: ReturnType<typeof loadData>['test'];
  vq: ReturnType<typeof loadVq>;
  fidNet: FeatureExtractor;
  classifierNet: ConvNetFeatures;
  networks: ReturnType<typeof scoringNetwork>[];
  split: ReturnType<typeof loadData>['split'];
  warnings: string[];
  heldOutAccuracy: { role: string; accuracy: number }[];
  trainSeed?: number;
}

/** Text-conditional and unconditional checkpoints: held-out prompts or none, FID and KID, and the mode's scores. */
function evalOtherModes(f: EvalFlags, m: Pick<ReturnType<typeof loadArModel>, 'model' | 'layout' | 'arra' | 'step' | 'condition'>, c: EvalContext): void {
  const { test } = c;
  const n = test.classNames.length * (f.perClass ?? Math.ceil(DEFAULT_EVAL_SAMPLES / test.classNames.length));
  checkKidSubsetSize(f, n, test.labels.length); // before any image is generated, as in class mode
  const prompts = m.condition.mode === 'text' ? heldOutPrompts(test, n, f.seed) : null;
  const request = prompts ? textRequest(m.condition, prompts) : { mode: 'none' as const, count: n }; // unknown words: usage error before any work
  if (m.condition.mode === 'none' && f.cfgScale !== 1) console.log('unconditional model: no classifier-free guidance (there is no condition to contrast with)');
  const settings = { cfgScale: m.condition.mode === 'none' ? 1 : f.cfgScale, temperature: f.temperature, topK: f.topK, seed: f.seed };
  const images = catImages(generateImages(m.model, m.layout, c.vq, request, settings));
  const fid = fidOf(images, c.fidNet.extract(test.images), c.fidNet, { subsets: f.kidSubsets, subsetSize: f.kidSubsetSize, seed: f.seed });
  const attributes = prompts?.scenes
    ? attributeClassifierAt(f.attributeClassifier ?? join('runs', 'cache', `attributes-${imageSizeOf(f)}px.safetensors`), images.shape[2]!)
    : undefined;
  const scores = prompts
    ? { text: scoreTextSamples(images, prompts, c.classifierNet.net, attributes) }
    : { unconditional: scoreUnconditionalSamples(images, c.classifierNet.net) };
  c.warnings.push(...evaluationWarnings({ numGenerated: fid.numGenerated, numReal: fid.numReal, featureDim: fid.featureDim, numClasses: test.classNames.length, heldOutAccuracy: c.heldOutAccuracy }));
  const command = reproduceCommand('eval', evalFlags, f);
  atomicWriteFile(join(f.out, 'eval.json'), `${JSON.stringify({
    model: f.model, step: m.step, align: m.arra.mode, condition: m.condition.mode, trainSeed: c.trainSeed ?? null, samplingSeed: f.seed, ...fid, ...scores,
    heldOutAccuracy: c.heldOutAccuracy, networks: c.networks, split: c.split, warnings: c.warnings, command,
  }, null, 2)}\n`);
  const show = Math.min(64, images.shape[0]!);
  saveSampleGrid(firstPerClass(images, 1, show, show), Math.ceil(show / 8), join(f.out, 'samples.png'));
  if (prompts) atomicWriteFile(join(f.out, 'prompts.txt'), `${prompts.texts.slice(0, show).join('\n')}\n`);
  printWarnings(c.warnings);
  console.log(
    `FID ${fid.fid.toFixed(3)}, KID ${fid.kid.toFixed(5)} ± ${fid.kidStd.toFixed(5)} (${fid.numGenerated} generated vs ${fid.numReal} real, ${fid.fidNetwork}); ` +
    describeModeScores(m.condition.mode, scores),
  );
  console.log(`wrote ${join(f.out, 'eval.json')} and ${join(f.out, 'samples.png')}${prompts ? ' (prompts.txt: the grid\'s prompts, row by row)' : ''}`);
}
