/**
 * The stages every arm of one seed shares, built once per seed and reused: the VQ tokenizer,
 * the FID network (also the prompt-accuracy classifier), the in-project alignment ConvNet
 * when an arm uses it, the codes of every training image and each encoder's global features
 * (feature caches on disk). Pairing starts here: for seed s every arm trains on the same
 * codes from the same tokenizer and is scored by the same network against the same real
 * features.
 *
 * Each stage is saved under `<out>/shared/s<seed>/` and *always read back from disk*, also
 * right after training it, so an uninterrupted run and one resumed after Ctrl-C use
 * bit-identical weights.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ImageDataset, Tensor } from '../../../lib';
import { ConvNetFeatures, type FeatureExtractor } from '../../../models/encoder';
import type { VQTokenizer } from '../../../models/vq';
import { trainConvNet } from '../encoder-trainer';
import { openEncoder } from '../encoders';
import { codesOf, globalFeatures } from '../prepare';
import { loadVq, saveVq, trainVq, evaluateVq } from '../vq-trainer';
import { EXPERIMENT_PRESETS, type ArmEncoder, type ExperimentGrid } from './grid';

/** What the arms of one seed share. */
export interface SeedStages {
  seed: number;
  vq: VQTokenizer;
  /** the FID/KID network and the accuracy classifier (never an alignment encoder) */
  fidNet: ConvNetFeatures;
  /** FID network features of the held-out images, [N_real, D] */
  realFeatures: Tensor;
  /** [N, h·w] codes of every training image */
  codes: Int32Array;
  /** f_GF of every training image, per alignment encoder the grid's arms use */
  features: Map<ArmEncoder, { name: string; features: Tensor }>;
}

/** Seeds of the shared stages for experiment seed s: distinct streams per stage, never equal across stages. */
export const stageSeeds = (s: number): { vq: number; fidNet: number; alignNet: number } => ({ vq: s, fidNet: 100_000 + s, alignNet: 200_000 + s });

/** The alignment encoders the grid's arms name (each built once per seed). */
export function encodersOf(grid: ExperimentGrid): ArmEncoder[] {
  return [...new Set(grid.arms.flatMap((a) => (a.encoder ? [a.encoder] : [])))];
}

/** Train (or load) every shared stage of one seed. `dataKey` names the data for the feature caches. */
export function prepareSeed(
  grid: ExperimentGrid, data: { train: ImageDataset; test: ImageDataset }, dataKey: string, seed: number, outDir: string, log: (line: string) => void,
): SeedStages {
  const p = EXPERIMENT_PRESETS[grid.preset];
  const dir = join(outDir, 'shared', `s${seed}`);
  const seeds = stageSeeds(seed);

  const vqFile = join(dir, 'vq.safetensors');
  if (!existsSync(vqFile)) {
    const t0 = performance.now();
    const v = trainVq(data.train, {
      steps: p.vqSteps, batchSize: p.vqBatch, lr: 2e-3, seed: seeds.vq, codebookSize: p.codebook, codeDim: 8, hidden: [16, 32], downsample: 4, reviveEvery: 50,
    });
    const held = evaluateVq(v, data.test);
    saveVq(vqFile, v, { heldOut: held });
    log(`seed ${seed}: tokenizer trained (${p.vqSteps} steps, ${((performance.now() - t0) / 1000).toFixed(0)} s), held-out MSE ${held.mse.toFixed(4)}, usage ${(100 * held.usage).toFixed(0)}%`);
  }
  const vq = loadVq(vqFile);

  const convNet = (file: string, netSeed: number, width: number, featureDim: number, role: string): ConvNetFeatures => {
    if (!existsSync(file)) {
      const r = trainConvNet(data.train, data.test, file, {
        epochs: p.encoderEpochs, batchSize: Math.min(64, data.train.labels.length), lr: 2e-3, seed: netSeed, widths: [width, 2 * width], featureDim, datasetName: grid.dataset,
      });
      log(`seed ${seed}: ${role} ConvNet trained, held-out accuracy ${(100 * r.testAccuracy).toFixed(1)}%`);
    }
    return ConvNetFeatures.load(file);
  };
  // The FID network and the alignment ConvNet differ in seed and width (as in `arra demo`).
  const fidNet = convNet(join(dir, 'fid-convnet.safetensors'), seeds.fidNet, 16, 64, 'FID network');
  const features = new Map<ArmEncoder, { name: string; features: Tensor }>();
  for (const enc of encodersOf(grid)) {
    const extractor: FeatureExtractor = enc === 'convnet'
      ? convNet(join(dir, 'align-convnet.safetensors'), seeds.alignNet, 24, 128, 'alignment')
      : openEncoder(enc, '--grid arms[].encoder');
    if (extractor.name === fidNet.name) throw new Error(`experiment: the alignment encoder '${extractor.name}' is the FID network; they must differ`);
    features.set(enc, { name: extractor.name, features: globalFeatures(extractor, data.train, dataKey, join(outDir, 'cache'), () => {}) });
  }
  return { seed, vq, fidNet, realFeatures: fidNet.extract(data.test.images), codes: codesOf(vq, data.train), features };
}
