/**
 * How long will a grid take? Measured, not guessed: a few timed steps of every stage on this
 * machine (a VQ step, a ConvNet step, each arm's AR step, the sampling of a few images, one
 * KID), multiplied by what the grid asks for. Cells already finished in the output folder are
 * not counted. A step of a model is about as costly untrained as trained, so the timings use
 * fresh models on random codes; the estimate is good to a few tens of percent (the machine's
 * load varies more than that on a shared box).
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kidFromFeatures, randn, Rng, subset, type ImageDataset } from '../../../lib';
import { openEncoder } from '../encoders';
import { trainConvNet } from '../encoder-trainer';
import { catImages, DEFAULT_SAMPLING } from '../evaluate';
import { generateImages, type GenerationRequest } from '../generate';
import { modelConfigFor } from '../model-config';
import { trainAr } from '../ar-trainer';
import { trainVq } from '../vq-trainer';
import { armConfig, cellDir, RESULT_FILE } from './cell';
import type { Conditioning } from './conditioning';
import { EXPERIMENT_PRESETS, type Arm, type ExperimentGrid } from './grid';
import { encodersOf } from './shared-stages';

const TIMED_STEPS = 3;

export interface GridEstimate {
  /** seconds for everything still to do */
  seconds: number;
  cellsLeft: number;
  cellsTotal: number;
  /** the measured unit costs, in seconds */
  perStep: { vq: number; convnet: number; sample: number; kid: number; ar: Record<string, number> };
}

/**
 * Seconds per step of a loop that calls `onStep` after each step: the first step (warm-up:
 * buffer allocation, WASM compilation) is left out, the next TIMED_STEPS are averaged.
 */
async function perStep(run: (steps: number, onStep: () => void) => unknown): Promise<number> {
  const stamps: number[] = [];
  await run(TIMED_STEPS + 1, () => stamps.push(performance.now()));
  if (stamps.length < 2) throw new Error(`experiment budget: the timed loop ran ${stamps.length} steps, expected ${TIMED_STEPS + 1}`);
  return (stamps[stamps.length - 1]! - stamps[0]!) / 1000 / (stamps.length - 1);
}

const seconds = (fn: () => unknown): number => {
  const t0 = performance.now();
  fn();
  return (performance.now() - t0) / 1000;
};

/** Time the stages of `grid` on `train` and scale to the grid's remaining work. */
export async function estimateGrid(grid: ExperimentGrid, train: ImageDataset, cond: Conditioning, outDir: string): Promise<GridEstimate> {
  const p = EXPERIMENT_PRESETS[grid.preset];
  const tmp = mkdtempSync(join(tmpdir(), 'arra-budget-'));
  try {
    const N = train.labels.length;
    const few = (n: number): ImageDataset => subset(train, Array.from({ length: Math.min(n, N) }, (_, i) => i));
    const vqBatch = Math.min(p.vqBatch, N);
    let vq!: ReturnType<typeof trainVq>;
    const vqStep = await perStep((steps, onStep) => {
      vq = trainVq(few(vqBatch * steps), {
        steps, batchSize: vqBatch, lr: 2e-3, seed: 0, codebookSize: p.codebook, codeDim: 8, hidden: [16, 32], downsample: 4, reviveEvery: 50, onStep,
      });
    });
    const cnnBatch = Math.min(64, N);
    // a one-batch dataset: each epoch is one step
    const convnetStep = await perStep((steps, onStep) => trainConvNet(few(cnnBatch), few(cnnBatch), join(tmp, 'net.safetensors'), {
      epochs: steps, batchSize: cnnBatch, lr: 2e-3, seed: 0, widths: [24, 48], featureDim: 128, datasetName: grid.dataset, onStep,
    }));

    const { config, layout } = modelConfigFor(p.model, vq, train.classNames.length, cond.spec);
    const numTokens = vq.gridSize ** 2;
    const rng = new Rng(0); // private: timing must not advance the global generator
    const codes = Int32Array.from({ length: N * numTokens }, () => rng.int(p.codebook));
    // f_GF dimension: the alignment ConvNet's 128-d penultimate layer, its 48 channels averaged, or both; MobileNetV2's 1280 (2560 for both pools)
    const encoderDim = (arm: Arm): number =>
      arm.encoder !== 'convnet' ? (arm.pooling === 'both' ? 2560 : 1280) : arm.pooling === 'avg' ? 48 : arm.pooling === 'both' ? 176 : 128;
    const ar: Record<string, number> = {};
    let model!: Awaited<ReturnType<typeof trainAr>>['model'];
    for (const arm of grid.arms) {
      const globalFeatures = arm.encoder ? randn([N, encoderDim(arm)], { rng }) : null;
      ar[arm.name] = await perStep(async (steps, onStep) => {
        const r = await trainAr(
          { codes, labels: train.labels, globalFeatures, layout, numTokens, condition: cond.spec, prompts: cond.prompts },
          { model: config, arra: armConfig(arm, arm.encoder), steps, batchSize: grid.batchSize, lr: grid.lr, seed: 0, outDir: join(tmp, arm.name), checkpointEvery: 0, onStep },
        );
        model = r.model;
      });
    }
    const sampleN = Math.min(10, grid.evalSamples);
    const request: GenerationRequest = cond.spec.mode === 'class'
      ? { mode: 'class', classes: Array.from({ length: sampleN }, (_, i) => i % train.classNames.length) }
      : cond.spec.mode === 'text' ? { mode: 'text', prompts: cond.prompts!.slice(0, sampleN), promptLen: cond.spec.promptLen! } : { mode: 'none', count: sampleN };
    const cfgScale = cond.spec.mode === 'none' ? 1 : DEFAULT_SAMPLING.cfgScale;
    const sample = seconds(() => catImages(generateImages(model, layout, vq, request, { ...DEFAULT_SAMPLING, cfgScale }))) / sampleN;
    const kidAt = (n: number): number => seconds(() => kidFromFeatures(randn([Math.min(n, 2000), 64], { rng }), randn([n, 64], { rng })));
    const kidFinal = kidAt(grid.evalSamples);
    const kidCurve = grid.curve.every > 0 ? kidAt(grid.curve.samples) : 0;
    let mobilenetPerImage = 0;
    for (const e of encodersOf(grid)) {
      if (e === 'convnet') continue;
      const enc = openEncoder(e, '--grid arms[].encoder');
      mobilenetPerImage += seconds(() => enc.extract(few(16).images)) / Math.min(16, N);
    }

    const curvePoints = grid.curve.every > 0 ? Math.floor(grid.steps / grid.curve.every) : 0;
    const cellSeconds = (arm: Arm): number =>
      grid.steps * ar[arm.name]! + grid.evalSamples * sample + kidFinal + curvePoints * (grid.curve.samples * sample + kidCurve);
    let total = 0;
    let cellsLeft = 0;
    const nets = encodersOf(grid).includes('convnet') ? 3 : 2; // classifier, FID/KID network, alignment ConvNet
    const convnetSteps = nets * p.encoderEpochs * Math.floor(N / cnnBatch);
    for (const s of grid.seeds) {
      const left = grid.arms.filter((a) => !existsSync(join(cellDir(outDir, a.name, s), RESULT_FILE)));
      if (left.length === 0) continue;
      cellsLeft += left.length;
      if (!existsSync(join(outDir, 'shared', `s${s}`, 'vq.safetensors'))) total += p.vqSteps * vqStep + convnetSteps * convnetStep + N * mobilenetPerImage;
      for (const a of left) total += cellSeconds(a);
    }
    return { seconds: total, cellsLeft, cellsTotal: grid.arms.length * grid.seeds.length, perStep: { vq: vqStep, convnet: convnetStep, sample, kid: kidFinal, ar } };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
