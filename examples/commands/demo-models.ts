/**
 * Steps 4 and 5 of `arra demo` for one model: train it (baseline or ARRA) with the FID-vs-step
 * curve, sample and score it, and for ARRA seed 0 write the attribution report. Each of the
 * demo's models is one such job; the demo runs them one after the other, or two at a time in
 * worker threads (`--jobs 2`, demo-worker.ts), which read the shared stages back from the demo's
 * folder and take step 3's arrays from the main thread ({@link loadDemoContext}) — the same
 * bytes the main thread would have used.
 */
import { join } from 'node:path';
import { indexSelect, noGrad, Rng, Tensor, type FloatArray, type ImageDataset, type SplitRecord } from '../../lib';
import { explainToFiles, toArraBatch } from '../explain';
import { ConvNetFeatures, type FeatureExtractor } from '../../models/encoder';
import { arraConfig } from '../../models/arra';
import type { ConditionSpec } from '../../models/prefix';
import type { VocabLayout } from '../../models/sequence';
import type { TransformerConfig } from '../../models/transformer';
import type { VQTokenizer } from '../../models/vq';
import type { CaptionScores, ConvNet } from '../../models/encoder';
import type { DEMO_PRESETS } from './demo';
import { conditionedSequences, type ArTrainData } from '../pipeline/ar-trainer';
import { attributeClassifierAt } from '../pipeline/attribute-trainer';
import { encodePrompts, textConditioning } from '../pipeline/conditioning';
import { loadData, type DataFlags } from '../pipeline/datasets';
import { openEncoder } from '../pipeline/encoders';
import { catImages, DEFAULT_SAMPLING, firstPerClass, generate, saveSampleGrid, scoreSamples, scoringNetwork } from '../pipeline/evaluate';
import { describeModeScores, fidOf, heldOutPrompts, scoreTextSamples, scoreUnconditionalSamples, textRequest } from '../pipeline/evaluate-modes';
import { generateImages } from '../pipeline/generate';
import { modelConfigFor } from '../pipeline/model-config';
import { codesOf } from '../pipeline/prepare';
import type { ModelRow } from '../pipeline/report';
import { runTraining } from '../pipeline/run-training';
import { loadVq, VQ_FILE } from '../pipeline/vq-trainer';

/** Sizes of each stage of the demo: one of DEMO_PRESETS (demo.ts). */
export type DemoSizes = (typeof DEMO_PRESETS)[keyof typeof DEMO_PRESETS];

/** What identifies a demo run's inputs: enough to read its shared stages back from `out`. */
export interface DemoSpec {
  sizes: DemoSizes;
  dataset: DataFlags['dataset'];
  dataDir?: string;
  /** 'convnet' or a pretrained encoder (mobilenet[@px]) */
  alignEncoder: string;
  condition: ConditionSpec['mode'];
  out: string;
}

/** Everything steps 4–5 use, shared by every model of the demo. */
export interface DemoContext {
  spec: DemoSpec;
  train: ImageDataset;
  test: ImageDataset;
  split: SplitRecord;
  vq: VQTokenizer;
  classifier: ConvNetFeatures;
  fidNet: ConvNetFeatures;
  alignEncoder: FeatureExtractor;
  /** digest of the alignment encoder's weights (recorded in the ARRA config) */
  alignDigest: string;
  /** [N, h·w] codes of the training images */
  codes: Int32Array;
  /** f_GF of every training image */
  features: Tensor;
  /** FID network features of the held-out images */
  realFeatures: Tensor;
  text: ReturnType<typeof textConditioning> | null;
  condition: ConditionSpec;
  config: TransformerConfig;
  layout: VocabLayout;
  attributes?: { net: ConvNet; heldOut: CaptionScores };
}

/** Files of the shared stages under the demo's folder. */
export const demoFiles = (out: string) => ({
  vq: join(out, 'vq', VQ_FILE),
  classifier: join(out, 'encoders', 'classifier-convnet.safetensors'),
  fidNet: join(out, 'encoders', 'fid-convnet.safetensors'),
  alignNet: join(out, 'encoders', 'align-convnet.safetensors'),
  attributes: join(out, 'encoders', 'attributes.safetensors'),
  /** the feature caches (lib/data/cache.ts) */
  cache: join(out, 'cache'),
});

/** The data flags of a spec (what loadData and the feature cache key see). */
export const demoDataFlags = (spec: DemoSpec): DataFlags =>
  ({ dataset: spec.dataset, dataDir: spec.dataDir, trainLimit: spec.sizes.trainLimit, testLimit: spec.sizes.testLimit });

/** The model's configuration, layout and conditioning, from the tokenizer and the data. */
export function conditioningOf(spec: DemoSpec, vq: VQTokenizer, train: ImageDataset): Pick<DemoContext, 'text' | 'condition' | 'config' | 'layout'> {
  const text = spec.condition === 'text' ? textConditioning(train, 0) : null;
  const condition: ConditionSpec = text?.spec ?? { mode: spec.condition };
  const { config, layout } = modelConfigFor(spec.sizes.model, vq, train.classNames.length, condition);
  return { text, condition, config, layout };
}

/** Step 3's arrays as the main thread computed them, to spare each worker computing them again. */
export interface DemoArrays {
  codes: Int32Array;
  features: { data: FloatArray; shape: number[] };
  realFeatures: { data: FloatArray; shape: number[] };
}

/** Step 3's outputs as plain arrays (structured-cloned into a worker). */
export function demoArrays(ctx: Pick<DemoContext, 'codes' | 'features' | 'realFeatures'>): DemoArrays {
  return {
    codes: ctx.codes,
    features: { data: ctx.features.values(), shape: [...ctx.features.shape] },
    realFeatures: { data: ctx.realFeatures.values(), shape: [...ctx.realFeatures.shape] },
  };
}

/**
 * Read back a demo's shared stages from its folder (a worker's view of what the main thread
 * trained): the data split, the tokenizer, the three networks and the attribute classifier for
 * captions; step 3's codes and features come as `arrays`, computed by the main thread from the
 * same files.
 */
export function loadDemoContext(spec: DemoSpec, arrays: DemoArrays): DemoContext {
  const files = demoFiles(spec.out);
  const { train, test, split } = loadData(demoDataFlags(spec));
  const vq = loadVq(files.vq);
  const alignEncoder: FeatureExtractor = spec.alignEncoder === 'convnet' ? ConvNetFeatures.load(files.alignNet) : openEncoder(spec.alignEncoder, '--align-encoder');
  const cond = conditioningOf(spec, vq, train);
  return {
    spec, train, test, split, vq, classifier: ConvNetFeatures.load(files.classifier), fidNet: ConvNetFeatures.load(files.fidNet), alignEncoder,
    alignDigest: scoringNetwork('alignment encoder', '--align-encoder', alignEncoder).digest,
    codes: arrays.codes,
    features: new Tensor(arrays.features.data, arrays.features.shape),
    realFeatures: new Tensor(arrays.realFeatures.data, arrays.realFeatures.shape),
    ...cond,
    attributes: cond.condition.mode === 'text' && 'scenes' in test ? attributeClassifierAt(files.attributes, test.images.shape[2]!, () => {}) : undefined,
  };
}

/** One model of the demo. */
export interface DemoModelJob {
  seed: number;
  mode: 'off' | 'hybnext';
}

/** What a model job hands back: its row of the report, its curves, and its two stages' times. */
export interface DemoModelResult {
  row: ModelRow;
  fidPoints: [number, number][];
  lossPoints: [number, number][];
  stages: { name: string; seconds: number; note: string }[];
}

export const modelLabel = (mode: DemoModelJob['mode']): string =>
  (mode === 'off' ? 'baseline (LlamaGen)' : 'ARRA (<HYBNEXT>, block 0, λ=1)'); // escaped when written to Markdown

type Scores = ReturnType<typeof fidOf> & { promptAccuracy: number; detail: string };

/** Sample `perClass` images per class (class mode) or as many prompts (text / none) and score them. */
function evaluate(ctx: DemoContext, model: Parameters<typeof generate>[0], perClass: number, seed: number): { images: Tensor; result: Scores } {
  const { condition, layout, vq, realFeatures, fidNet, classifier, test } = ctx;
  const n = ctx.train.classNames.length * perClass;
  if (condition.mode === 'class') {
    const classes = Array.from({ length: n }, (_, i) => Math.floor(i / perClass));
    const images = catImages(generate(model, layout, vq, classes, { ...DEFAULT_SAMPLING, seed }));
    const r = scoreSamples(images, classes, realFeatures, fidNet, classifier.net, { seed });
    return { images, result: { ...r, detail: `prompt accuracy ${(100 * r.promptAccuracy).toFixed(1)}%` } };
  }
  const prompts = condition.mode === 'text' ? heldOutPrompts(test, n, 0) : null;
  const request = prompts ? textRequest(condition, prompts) : { mode: 'none' as const, count: n };
  const images = catImages(generateImages(model, layout, vq, request, { ...DEFAULT_SAMPLING, cfgScale: prompts ? DEFAULT_SAMPLING.cfgScale : 1, seed }));
  const fid = fidOf(images, realFeatures, fidNet, { seed });
  if (prompts) {
    const t = scoreTextSamples(images, prompts, classifier.net, ctx.attributes);
    return { images, result: { ...fid, promptAccuracy: t.captionAccuracy?.allCorrect ?? t.classAccuracy, detail: describeModeScores('text', { text: t }) } };
  }
  const u = scoreUnconditionalSamples(images, classifier.net);
  return { images, result: { ...fid, promptAccuracy: u.coverage, detail: describeModeScores('none', { unconditional: u }) } };
}

/** The trainer's view of the data; `features` null for the baseline. */
function trainData(ctx: DemoContext, features: Tensor | null): ArTrainData {
  return {
    codes: ctx.codes, labels: ctx.train.labels, globalFeatures: features, layout: ctx.layout, numTokens: ctx.vq.gridSize ** 2, classNames: ctx.train.classNames,
    split: ctx.split, condition: ctx.condition, prompts: ctx.text?.prompts,
  };
}

/** Samples per class of the FID-vs-step curve: a smaller, fixed N. */
export const curvePerClass = (sizes: DemoSizes): number => Math.max(2, Math.min(20, Math.floor(sizes.perClass / 2)));

/** Steps 4 and 5 for one model: train, score, sample grid (and, for ARRA seed 0, the attribution report). */
export async function trainDemoModel(ctx: DemoContext, { seed, mode }: DemoModelJob): Promise<DemoModelResult> {
  const { spec, test, vq, layout, condition, alignEncoder } = ctx;
  const p = spec.sizes;
  const numClasses = ctx.train.classNames.length;
  const label = modelLabel(mode);
  const name = `${mode === 'off' ? 'baseline' : 'arra'}-s${seed}`;
  const outDir = join(spec.out, name);
  const stages: DemoModelResult['stages'] = [];
  const fidPoints: [number, number][] = [];
  const arra = arraConfig({
    encoderName: mode === 'off' ? 'none' : alignEncoder.name, encoderDigest: mode === 'off' ? undefined : ctx.alignDigest,
    mode, projectorHidden: 128, pooling: mode === 'off' ? undefined : spec.alignEncoder === 'convnet' ? 'penultimate' : 'avg',
  });
  const t0 = performance.now();
  const result = await runTraining(trainData(ctx, mode === 'off' ? null : ctx.features), {
    label: name, model: ctx.config, arra,
    steps: p.arSteps, batchSize: p.arBatch, lr: p.arLr, seed, outDir, checkpointEvery: 0,
    evalEvery: p.evalEvery,
    onEval: (step, model) => fidPoints.push([step, evaluate(ctx, model, curvePerClass(p), 99).result.fid]),
  });
  const seconds = (performance.now() - t0) / 1000;
  const last = result.history[result.history.length - 1]!;
  stages.push({ name: `4. train ${label}, seed ${seed}`, seconds, note: `final L_AR ${last.lossAR.toFixed(4)}${mode === 'off' ? '' : `, L_GVA ${last.lossGVA.toFixed(4)}`}` });

  const e0 = performance.now();
  const { images, result: scores } = evaluate(ctx, result.model, p.perClass, 1234);
  stages.push({
    name: `5. evaluate ${label}, seed ${seed}`, seconds: (performance.now() - e0) / 1000,
    note: `FID ${scores.fid.toFixed(2)}, KID ${scores.kid.toFixed(4)} ± ${scores.kidStd.toFixed(4)} (${scores.numGenerated} samples), ${scores.detail}`,
  });
  if (mode !== 'off' && seed === 0 && result.projector) {
    // The attribution report for one held-out batch (arra explain, models/attribution.ts).
    const rows = Array.from({ length: Math.min(16, test.labels.length) }, (_, i) => i);
    const sub = { ...test, images: noGrad(() => indexSelect(test.images, 0, rows)), labels: test.labels.slice(0, rows.length) };
    const subCodes = codesOf(vq, sub);
    const batch = condition.mode === 'class'
      ? toArraBatch(layout, { codes: subCodes, classes: sub.labels, globalFeatures: alignEncoder.extract(sub.images) }, 'float32')
      : { // the same sequences the trainer builds, held-out prompts (or none), nothing dropped
        ...conditionedSequences(
          { ...trainData(ctx, null), codes: subCodes, labels: sub.labels, prompts: ctx.text ? encodePrompts(condition, heldOutPrompts(test, rows.length, 0).texts, 'held-out prompts') : undefined },
          Int32Array.from(rows), subCodes, 0, new Rng(0),
        ),
        globalFeatures: alignEncoder.extract(sub.images),
      };
    explainToFiles({ model: result.model, projector: result.projector, cfg: arra, layout }, batch, join(outDir, 'explain'));
  }
  const grid = `${name}/samples.png`;
  saveSampleGrid(firstPerClass(images, numClasses, p.perClass, Math.min(p.perClass, 10)), numClasses, join(spec.out, grid));
  return {
    row: {
      label, mode, seed, fid: scores.fid, kid: scores.kid, kidStd: scores.kidStd, kidSubsets: scores.kidSubsets, kidSubsetSize: scores.kidSubsetSize,
      promptAccuracy: scores.promptAccuracy, numGenerated: scores.numGenerated, numReal: scores.numReal,
      finalLossAR: last.lossAR, finalLossGVA: mode === 'off' ? null : last.lossGVA, seconds, grid,
    },
    fidPoints,
    lossPoints: result.history.map((m) => [m.step, m.lossAR]),
    stages,
  };
}
