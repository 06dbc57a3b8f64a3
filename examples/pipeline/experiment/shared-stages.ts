/**
 * The stages every arm of one seed shares, built once per seed and reused: the VQ tokenizer,
 * the three networks the demo uses (examples/commands/demo.ts) — the prompt-accuracy
 * classifier (strided ConvNet), the FID/KID network (a max-pooling ConvNet, a different
 * architecture) and the in-project alignment ConvNet when an arm uses it — the codes of
 * every training image and each (encoder, pooling) pair's global features (feature caches on
 * disk). The scoring networks and every alignment encoder are checked to be different
 * networks by the digest of their weights before any arm trains. Pairing starts here: for seed s every arm trains on the same
 * codes from the same tokenizer and is scored by the same network against the same real
 * features.
 *
 * Each stage is saved under `<out>/shared/s<seed>/` and *always read back from disk*, also
 * right after training it, so an uninterrupted run and one resumed after Ctrl-C use
 * bit-identical weights.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { atomicWriteFile } from '../../../lib/io';
import { join } from 'node:path';
import type { FloatArray, ImageDataset, SplitRecord } from '../../../lib';
import { streamSeed, Tensor } from '../../../lib';
import type { EncoderPooling } from '../../../models/arra';
import { ConvNetFeatures, loadConvNet, type ConvNetArch, type FeatureExtractor } from '../../../models/encoder';
import type { VQTokenizer } from '../../../models/vq';
import { trainConvNet } from '../encoder-trainer';
import { openEncoder } from '../encoders';
import { checkIndependence, scoringNetwork, type ScoringNetwork } from '../evaluate';
import { codesOf, globalFeatures } from '../prepare';
import { evaluateVq, loadVq, saveVq, tokenizerCollapse, trainVq } from '../vq-trainer';
import { EXPERIMENT_PRESETS, type Arm, type ExperimentGrid } from './grid';

/** What the arms of one seed share. */
export interface SeedStages {
  seed: number;
  vq: VQTokenizer;
  /** the FID/KID network (max-pooling ConvNet; never an alignment encoder) */
  fidNet: ConvNetFeatures;
  /** the prompt-accuracy classifier (strided ConvNet, another seed) */
  classifier: ConvNetFeatures;
  /** held-out accuracy of the classifier-like networks (for the evaluation warnings) */
  heldOutAccuracy: { role: string; accuracy: number }[];
  /** FID network features of the held-out images, [N_real, D] */
  realFeatures: Tensor;
  /** [N, h·w] codes of every training image */
  codes: Int32Array;
  /** f_GF of every training image, per alignment target (see {@link targetKey}) the grid's arms use */
  features: Map<string, { name: string; features: Tensor }>;
  /** wall time of this seed's shared stages (tokenizer, networks, feature caches), summed over resumed runs */
  stageSeconds: number;
}

/** Seeds of the shared stages for experiment seed s: distinct streams per stage, never equal across stages. */
/** Tokenizer trainings per seed before the grid gives up (a collapsed one is retrained). */
export const MAX_TOKENIZER_ATTEMPTS = 4;

export const stageSeeds = (s: number): { vq: number; classifier: number; fidNet: number; alignNet: number } =>
  ({ vq: s, classifier: 100_000 + s, fidNet: 300_000 + s, alignNet: 200_000 + s });

/** An arm's alignment target: encoder and pooling (`convnet/penultimate`, `mobilenet@64/avg`); null for `off`. */
export function targetKey(arm: Arm): string | null {
  return arm.encoder ? `${arm.encoder}/${arm.pooling}` : null;
}

/** The alignment encoders the grid's arms name (each built once per seed). */
export function encodersOf(grid: ExperimentGrid): NonNullable<Arm['encoder']>[] {
  return [...new Set(grid.arms.flatMap((a) => (a.encoder ? [a.encoder] : [])))];
}

/** A seed's arrays that are computed from its stages rather than stored: what a worker can be handed instead of computing them again. */
export interface SeedArrays {
  codes: Int32Array;
  realFeatures: { data: FloatArray; shape: number[] };
}

/** The computed arrays of a prepared seed, as plain arrays (structured-cloned into a worker). */
export function seedArrays(stages: SeedStages): SeedArrays {
  return { codes: stages.codes, realFeatures: { data: stages.realFeatures.values(), shape: [...stages.realFeatures.shape] } };
}

/**
 * Train (or load) every shared stage of one seed. `dataKey` names the data for the feature
 * caches. `arrays`, when given, are the codes and real features the main thread computed from
 * these same files (cell-worker.ts), taken instead of computing them again.
 */
export function prepareSeed(
  grid: ExperimentGrid, data: { train: ImageDataset; test: ImageDataset; split: SplitRecord }, dataKey: string, seed: number, outDir: string, log: (line: string) => void,
  arrays?: SeedArrays,
): SeedStages {
  const p = EXPERIMENT_PRESETS[grid.preset];
  const dir = join(outDir, 'shared', `s${seed}`);
  const seeds = stageSeeds(seed);

  // Wall time of each stage trained, kept in time.json so that a resumed grid still counts it.
  const timeFile = join(dir, 'time.json');
  const stageSeconds: Record<string, number> = existsSync(timeFile) ? JSON.parse(readFileSync(timeFile, 'utf8')) as Record<string, number> : {};
  const timed = <T>(stage: string, fn: () => T): T => {
    const t0 = performance.now();
    const value = fn();
    stageSeconds[stage] = (performance.now() - t0) / 1000;
    mkdirSync(dir, { recursive: true });
    atomicWriteFile(timeFile, JSON.stringify(stageSeconds));
    return value;
  };

  const vqFile = join(dir, 'vq.safetensors');
  if (!existsSync(vqFile)) timed('tokenizer', () => {
    // A tokenizer that collapsed (its decoder ignores the codes: lib tokenizerCollapse) would make
    // every arm of this seed score noise. It is retrained from a derived seed, before any arm has
    // trained, on the tokenizer's own held-out MSE alone — a quality gate of a shared stage, blind
    // to the comparison; the attempt used is recorded in vq.safetensors and logged.
    const t0 = performance.now();
    for (let attempt = 0; ; attempt++) {
      const vqSeed = attempt === 0 ? seeds.vq : streamSeed(seeds.vq, 100 + attempt);
      const v = trainVq(data.train, {
        steps: p.vqSteps, batchSize: p.vqBatch, lr: 2e-3, seed: vqSeed, codebookSize: p.codebook, codeDim: 8, hidden: [16, 32], downsample: 4, reviveEvery: 50,
      });
      const held = evaluateVq(v, data.test);
      const collapse = tokenizerCollapse(held);
      if (collapse && grid.preset !== 'tiny') { // the tiny preset's 4 steps never get past the constant image
        log(`seed ${seed}: tokenizer attempt ${attempt + 1} (seed ${vqSeed}): ${collapse}`);
        if (attempt + 1 >= MAX_TOKENIZER_ATTEMPTS) throw new Error(`seed ${seed}: the tokenizer collapsed in ${MAX_TOKENIZER_ATTEMPTS} attempts; lower the VQ learning rate`);
        continue;
      }
      saveVq(vqFile, v, { heldOut: held, attempt: attempt + 1, vqSeed });
      log(`seed ${seed}: tokenizer trained (${p.vqSteps} steps, attempt ${attempt + 1}, ${((performance.now() - t0) / 1000).toFixed(0)} s), held-out MSE ${held.mse.toFixed(4)}, usage ${(100 * held.usage).toFixed(0)}%`);
      return;
    }
  });
  const vq = loadVq(vqFile);

  const heldOutAccuracy: { role: string; accuracy: number }[] = [];
  const convNet = (file: string, netSeed: number, width: number, featureDim: number, arch: ConvNetArch, role: string): string => {
    if (!existsSync(file)) {
      timed(role, () => trainConvNet(data.train, data.test, file, {
        epochs: p.encoderEpochs, batchSize: Math.min(64, data.train.labels.length), lr: 2e-3, seed: netSeed, widths: [width, 2 * width], featureDim,
        datasetName: grid.dataset, arch, split: data.split,
      }));
    }
    const acc = loadConvNet(file).meta.testAccuracy;
    if (acc !== undefined && role !== 'alignment encoder') heldOutAccuracy.push({ role, accuracy: acc }); // the scoring networks' warnings
    return file;
  };
  // As in `arra demo`: the classifier and the alignment ConvNet are strided ConvNets of other
  // seeds and widths; the FID/KID network is a different architecture (max pooling).
  const classifier = ConvNetFeatures.load(convNet(join(dir, 'classifier-convnet.safetensors'), seeds.classifier, 16, 64, 'strided', 'accuracy classifier'));
  const fidNet = ConvNetFeatures.load(convNet(join(dir, 'fid-convnet.safetensors'), seeds.fidNet, 16, 64, 'maxpool', 'FID/KID network'));
  const networks: ScoringNetwork[] = [scoringNetwork('FID/KID network', '--grid', fidNet), scoringNetwork('accuracy classifier', '--grid', classifier)];
  const features = new Map<string, { name: string; features: Tensor }>();
  for (const arm of grid.arms) {
    const key = targetKey(arm);
    if (key === null || features.has(key)) continue;
    const pooling = arm.pooling as EncoderPooling;
    const extractor: FeatureExtractor = arm.encoder === 'convnet'
      ? ConvNetFeatures.load(convNet(join(dir, 'align-convnet.safetensors'), seeds.alignNet, 24, 128, 'strided', 'alignment encoder'), pooling as 'penultimate')
      : openEncoder(arm.encoder!, `--grid arms[].encoder`, pooling);
    const entry = scoringNetwork('alignment encoder', '--grid', extractor);
    // Two poolings of one encoder are one network: check it against the scoring networks once.
    if (!networks.some((n) => n.role === 'alignment encoder' && n.digest === entry.digest)) networks.push(entry);
    const cached = (): Tensor => globalFeatures(extractor, data.train, dataKey, join(outDir, 'cache'), () => {}, data.split);
    features.set(key, { name: extractor.name, features: stageSeconds[`features ${key}`] === undefined ? timed(`features ${key}`, cached) : cached() });
  }
  checkIndependence(networks);
  const totalSeconds = Object.values(stageSeconds).reduce((a, b) => a + b, 0);
  const realFeatures = arrays ? new Tensor(arrays.realFeatures.data, arrays.realFeatures.shape) : fidNet.extract(data.test.images);
  return { seed, vq, fidNet, classifier, heldOutAccuracy, realFeatures, codes: arrays?.codes ?? codesOf(vq, data.train), features, stageSeconds: totalSeconds };
}
