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
  catImages, checkIndependence, evaluationWarnings, type FidKidResult, firstPerClass, generate, printWarnings, saveSampleGrid, scoreSamples, scoringNetwork,
} from '../pipeline/evaluate';
import { describeNetwork, escapeMarkdown, reproduceCommand } from '../pipeline/report';
import { loadVq } from '../pipeline/vq-trainer';
import { attributeClassifierAt, attributeClassifierProblem } from '../pipeline/attribute-trainer';
import { describeModeScores, fidOf, heldOutPrompts, scoreTextSamples, scoreUnconditionalSamples, textRequest, type TextEvalResult } from '../pipeline/evaluate-modes';
import type { ClassDistributionScores } from '../pipeline/class-scores';
import type { ConditionSpec } from '../../models/prefix';
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
      evalOtherModes(f, { model, layout, arra, step, condition }, { test, vq, fidNet, classifierNet, networks, split, warnings, heldOutAccuracy, trainSeed, backend });
      return;
    }

    const numClasses = layout.numClasses;
    const perClass = f.perClass ?? Math.ceil(DEFAULT_EVAL_SAMPLES / numClasses);
    const classes = Array.from({ length: numClasses * perClass }, (_, i) => Math.floor(i / perClass));
    checkKidSubsetSize(f.kidSubsetSize, classes.length, test.labels.length);
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
    writeEvalReport(join(f.out, 'eval.md'), {
      f, result, warnings, heldOutAccuracy, fidNet, classifierNet, arra, step, trainSeed, command, backend, split: split.rule,
      scoreRows: [shareRow('prompt accuracy ↑', result.promptAccuracy, result.numGenerated)], condition: 'class',
    });
    printWarnings(warnings);
    console.log(
      `FID ${result.fid.toFixed(3)}, KID ${result.kid.toFixed(5)} ± ${result.kidStd.toFixed(5)} (${result.numGenerated} generated vs ${result.numReal} real, ${result.fidNetwork}, ${result.featureDim}-d); ` +
      `prompt accuracy ${(100 * result.promptAccuracy).toFixed(1)}%`,
    );
    console.log(`wrote ${join(f.out, 'eval.json')}, eval.md and samples.png`);
  },
});

/** `--kid-subset-size` must fit both sets: subsets are drawn without replacement (checked before any sampling). */
function checkKidSubsetSize(size: number | undefined, numGenerated: number, numReal: number): void {
  if (size !== undefined && size > Math.min(numGenerated, numReal)) {
    throw new UsageError(`--kid-subset-size: subsets are drawn without replacement from ${numGenerated} generated and ${numReal} held-out images; got ${size}`, '--kid-subset-size');
  }
}

function writeEvalReport(path: string, r: {
  f: { model: string; seed: number; kidSubsets: number }; result: FidKidResult; warnings: string[];
  heldOutAccuracy: { role: string; accuracy: number }[]; fidNet: FeatureExtractor; classifierNet: ConvNetFeatures;
  arra: { mode: string; encoderName: string }; step: number; trainSeed?: number; command: string; backend: string; split: string;
  /** the conditioning mode's own rows of the metric table (`| name | value | uncertainty | N |`) */
  scoreRows: string[]; condition: ConditionSpec['mode'];
}): void {
  const m = r.result;
  const lines = [`# arra eval: ${escapeMarkdown(r.f.model)}`, ''];
  if (r.warnings.length > 0) lines.push('> **WARNING**', ...r.warnings.map((w) => `> - ${escapeMarkdown(w)}`), '');
  lines.push(
    `Step ${r.step}, alignment \`${r.arra.mode}\`, conditioning \`${r.condition}\`, training seed ${r.trainSeed ?? 'not recorded'}, sampling seed ${r.f.seed}; ${r.backend}.`,
    `Reproduce with \`${r.command}\`.`, '',
    '| metric | value | uncertainty | N |', '|---|---|---|---|',
    `| FID ↓ | ${m.fid.toFixed(3)} | none (one sampling seed; FID is biased at small N: compare only at equal N) | ${m.numGenerated} generated vs ${m.numReal} real |`,
    `| KID ↓ | ${m.kid.toFixed(5)} | ± ${m.kidStd.toFixed(5)} (std over ${m.kidSubsets} subsets of ${m.kidSubsetSize}) | same |`,
    ...r.scoreRows,
    '', 'One model, one sampling seed: a comparison between models needs several training seeds.', '',
    '## Networks', '', '| role | network | held-out accuracy |', '|---|---|---|',
    `| FID/KID features | ${describeNetwork(r.fidNet)} | ${fmtAcc(r.heldOutAccuracy.find((a) => a.role === 'FID/KID network'))} |`,
    `| accuracy classifier | ${describeNetwork(r.classifierNet)} | ${fmtAcc(r.heldOutAccuracy.find((a) => a.role === 'accuracy classifier'))} |`,
    `| alignment encoder | ${r.arra.mode === 'off' ? 'none (baseline)' : escapeMarkdown(r.arra.encoderName)} | — |`,
    '', `Held-out split: ${escapeMarkdown(r.split)}.`, '',
  );
  atomicWriteFile(path, lines.join('\n'));
}

/** A share p of n samples as a metric-table row, with its binomial standard error √(p(1 − p)/n). */
function shareRow(name: string, p: number, n: number): string {
  return `| ${name} | ${(100 * p).toFixed(1)}% | ± ${(100 * Math.sqrt(p * (1 - p) / n)).toFixed(1)}% (binomial standard error) | ${n} |`;
}

/** The text and unconditional modes' rows of eval.md's metric table. */
function modeScoreRows(scores: { text?: TextEvalResult; unconditional?: ClassDistributionScores }, n: number): string[] {
  if (scores.text) {
    const c = scores.text.captionAccuracy;
    return [
      shareRow('class accuracy of the prompt ↑', scores.text.classAccuracy, n),
      ...(c ? [
        shareRow('caption accuracy: all attributes ↑', c.allCorrect, c.images), shareRow('caption accuracy: layout ↑', c.layout, c.images),
        ...(['position', 'shape', 'colour', 'size'] as const).map((k) => shareRow(`caption accuracy: ${k} ↑ (per object)`, c[k], c.objects)),
      ] : []),
    ];
  }
  const u = scores.unconditional!;
  return [
    `| mean confidence ↑ | ${(100 * u.meanConfidence).toFixed(1)}% | none (one sampling seed) | ${u.numSamples} |`,
    `| class entropy H(y\\|x) ↓ | ${u.meanClassEntropy.toFixed(3)} nats | none | ${u.numSamples} |`,
    `| IS-style exp(H(y) − H(y\\|x)) ↑ | ${u.inceptionScore.toFixed(2)} of ${u.numClasses} | none | ${u.numSamples} |`,
    `| class coverage ↑ | ${(100 * u.coverage).toFixed(1)}% | none | ${u.numSamples} |`,
  ];
}

const fmtAcc = (a: { accuracy: number } | undefined): string => (a ? `${(100 * a.accuracy).toFixed(1)}%` : 'not a classifier of these classes');

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
  /** the backend line printed at the start */
  backend: string;
}

/** Text-conditional and unconditional checkpoints: held-out prompts or none, FID and KID, and the mode's scores. */
function evalOtherModes(f: EvalFlags, m: Pick<ReturnType<typeof loadArModel>, 'model' | 'layout' | 'arra' | 'step' | 'condition'>, c: EvalContext): void {
  const { test } = c;
  const n = test.classNames.length * (f.perClass ?? Math.ceil(DEFAULT_EVAL_SAMPLES / test.classNames.length));
  checkKidSubsetSize(f.kidSubsetSize, n, test.labels.length);
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
  writeEvalReport(join(f.out, 'eval.md'), {
    f, result: fid, warnings: c.warnings, heldOutAccuracy: c.heldOutAccuracy, fidNet: c.fidNet, classifierNet: c.classifierNet, arra: m.arra, step: m.step,
    trainSeed: c.trainSeed, command, backend: c.backend, split: c.split.rule, scoreRows: modeScoreRows(scores, fid.numGenerated), condition: m.condition.mode,
  });
  const show = Math.min(64, images.shape[0]!);
  saveSampleGrid(firstPerClass(images, 1, show, show), Math.ceil(show / 8), join(f.out, 'samples.png'));
  if (prompts) atomicWriteFile(join(f.out, 'prompts.txt'), `${prompts.texts.slice(0, show).join('\n')}\n`);
  printWarnings(c.warnings);
  console.log(
    `FID ${fid.fid.toFixed(3)}, KID ${fid.kid.toFixed(5)} ± ${fid.kidStd.toFixed(5)} (${fid.numGenerated} generated vs ${fid.numReal} real, ${fid.fidNetwork}); ` +
    describeModeScores(m.condition.mode, scores),
  );
  console.log(`wrote ${join(f.out, 'eval.json')}, eval.md and samples.png${prompts ? ' (prompts.txt: the grid\'s prompts, row by row)' : ''}`);
}
