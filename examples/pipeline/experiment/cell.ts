/**
 * One cell of the grid: one arm trained and scored with one seed, in its own folder
 * `<out>/cells/<arm>-s<seed>/`. The folder is the cell's state:
 *
 *   result.json          written last (atomically): the cell is finished, a rerun skips it
 *   train-state.*        the trainer's checkpoint: a rerun resumes it (`--resume`)
 *   metrics.jsonl        one line per step (duplicates after a resume: the last one counts)
 *   curve.jsonl          FID/KID at every `curve.every` steps (same rule)
 *   time.json            training seconds so far, summed over interrupted runs
 *   samples.png          the final samples, one row per class
 *
 * Pairing: for seed s the transformer is initialised from seed s, batches are drawn from
 * seed s's stream and sampled with seed s's sampling seed whatever the arm; the projector has
 * its own generator (examples/pipeline/ar-trainer.ts), so building it shifts nothing else.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { indexSelect, noGrad, type ImageDataset, type SplitRecord, type Tensor } from '../../../lib';
import { atomicWriteFile } from '../../../lib/io';
import { arraConfig, type ArraConfig } from '../../../models/arra';
import type { VocabLayout } from '../../../models/sequence';
import type { Transformer } from '../../../models/transformer';
import { TRAIN_STATE_FILE } from '../ar-trainer';
import { catImages, DEFAULT_SAMPLING, generate, saveSampleGrid, scoreSamples } from '../evaluate';
import { fidOf, heldOutPrompts, scoreTextSamples, scoreUnconditionalSamples, textRequest } from '../evaluate-modes';
import { generateImages } from '../generate';
import { modelConfigFor } from '../model-config';
import { runTraining } from '../run-training';
import { codeVersion } from './code-version';
import type { Conditioning } from './conditioning';
import { EXPERIMENT_PRESETS, type Arm, type ExperimentGrid } from './grid';
import { targetKey, type SeedStages } from './shared-stages';

/** One evaluation: FID and KID from the FID network, accuracy from the classifier. */
export interface Scores {
  fid: number;
  kid: number;
  kidStd: number;
  promptAccuracy: number;
  numGenerated: number;
}

/** What result.json holds. */
export interface CellResult extends Scores {
  arm: string;
  seed: number;
  steps: number;
  numReal: number;
  kidSubsets: number;
  kidSubsetSize: number;
  finalLossAR: number;
  /** null for an arm without alignment */
  finalLossGVA: number | null;
  /** training wall time (without the curve's evaluations), summed over resumed runs */
  trainSeconds: number;
  /** wall time of the curve's evaluations, summed over resumed runs */
  curveSeconds: number;
  /** wall time of the final evaluation */
  evalSeconds: number;
  /** FID/KID against step (empty without a `curve`) */
  curve: ({ step: number } & Scores)[];
  fidNetwork: string;
  classifier: string;
  alignEncoder: string | null;
  /** path of the sample grid, relative to the experiment folder */
  samples: string;
  /** the commit that computed the cell (code-version.ts); absent in cells from before it was recorded */
  code?: string | null;
}

/** A hook for tests: see every batch (and the weights it meets) of every cell. */
export interface CellHooks {
  onBatch?: (arm: string, seed: number, step: number, batch: { rows: Int32Array; tokens: Int32Array }, model: Transformer) => void;
}

export const cellName = (arm: string, seed: number): string => `${arm}-s${seed}`;
export const cellDir = (outDir: string, arm: string, seed: number): string => join(outDir, 'cells', cellName(arm, seed));
export const RESULT_FILE = 'result.json';

/** The sampling seeds of experiment seed s, shared by every arm: the final evaluation's and the curve's. */
export const samplingSeeds = (s: number): { final: number; curve: number } => ({ final: 1_000_000 + s, curve: 2_000_000 + s });

/** Class prompts for n samples over C classes: as even as possible, in class order. */
export function balancedClasses(n: number, numClasses: number): number[] {
  return Array.from({ length: n }, (_, i) => Math.floor((i * numClasses) / n));
}

/** The ArraConfig of an arm with the encoder it aligns to. */
export function armConfig(arm: Arm, encoderName: string | null): ArraConfig {
  return arraConfig({
    encoderName: encoderName ?? 'none', mode: arm.align, alignLayer: arm.alignLayer, lambda: arm.lambda, objective: arm.objective, projectorHidden: arm.projectorHidden,
    pooling: arm.pooling ?? undefined,
  });
}

/** Read a JSONL file keeping, for every step, the last line written (a resume rewrites steps after the checkpoint). */
export function readByStep<T extends { step: number }>(file: string): T[] {
  if (!existsSync(file)) return [];
  const byStep = new Map<number, T>();
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    try {
      const rec = JSON.parse(line) as T;
      byStep.set(rec.step, rec);
    } catch {
      // a line cut short by a hard kill: the step is rerun after the resume and logged again
    }
  }
  return [...byStep.values()].sort((a, b) => a.step - b.step);
}

/**
 * Generate `n` images and score them in the grid's conditioning mode: FID and KID (lib/eval,
 * KID's subsets drawn with the sampling seed) by the FID/KID network; `promptAccuracy` is the
 * mode's score ({@link Conditioning.scoreName}). Class prompts are balanced over the classes;
 * text prompts are the held-out set's, in order.
 */
export function scoreModel(
  model: Transformer, layout: VocabLayout, stages: SeedStages, cond: Conditioning, test: ImageDataset, n: number, seed: number,
): { images: Tensor; classes: number[] | null; scores: Scores; kidSubsets: number; kidSubsetSize: number } {
  const numClasses = test.classNames.length;
  if (cond.spec.mode === 'class') {
    const classes = balancedClasses(n, numClasses);
    const images = catImages(generate(model, layout, stages.vq, classes, { ...DEFAULT_SAMPLING, seed }));
    const r = scoreSamples(images, classes, stages.realFeatures, stages.fidNet, stages.classifier.net, { seed });
    return { images, classes, kidSubsets: r.kidSubsets, kidSubsetSize: r.kidSubsetSize, scores: { fid: r.fid, kid: r.kid, kidStd: r.kidStd, promptAccuracy: r.promptAccuracy, numGenerated: r.numGenerated } };
  }
  const prompts = cond.spec.mode === 'text' ? heldOutPrompts(test, n, 0) : null;
  const request = prompts ? textRequest(cond.spec, prompts) : { mode: 'none' as const, count: n };
  // no guidance without a condition to guide by
  const images = catImages(generateImages(model, layout, stages.vq, request, { ...DEFAULT_SAMPLING, cfgScale: prompts ? DEFAULT_SAMPLING.cfgScale : 1, seed }));
  const f = fidOf(images, stages.realFeatures, stages.fidNet, { seed });
  let score: number;
  if (prompts) {
    const t = scoreTextSamples(images, prompts, stages.classifier.net, cond.attributes);
    score = t.captionAccuracy?.allCorrect ?? t.classAccuracy;
  } else {
    score = scoreUnconditionalSamples(images, stages.classifier.net).coverage;
  }
  return { images, classes: null, kidSubsets: f.kidSubsets, kidSubsetSize: f.kidSubsetSize, scores: { fid: f.fid, kid: f.kid, kidStd: f.kidStd, promptAccuracy: score, numGenerated: f.numGenerated } };
}

/** Up to `show` samples of every class, one row per class (for the side-by-side grids). */
function perClassGrid(classes: number[], numClasses: number, show: number): number[] {
  const counts = Array.from({ length: numClasses }, (_, c) => classes.filter((k) => k === c).length);
  const k = Math.max(1, Math.min(show, ...counts));
  const rows: number[] = [];
  for (let c = 0; c < numClasses; c++) {
    const first = classes.indexOf(c);
    for (let i = 0; i < k; i++) rows.push(first + i);
  }
  return rows;
}

function appendLine(file: string, line: string): void {
  mkdirSync(dirname(file), { recursive: true });
  appendFileSync(file, `${line}\n`);
}

export type CellOutcome = { status: 'done' | 'skipped'; result: CellResult } | { status: 'interrupted'; step: number };

/** Run (or resume, or skip) one cell. */
export async function runCell(
  grid: ExperimentGrid, arm: Arm, stages: SeedStages, data: { train: ImageDataset; test: ImageDataset; split?: SplitRecord }, cond: Conditioning,
  outDir: string, hooks: CellHooks = {},
): Promise<CellOutcome> {
  const { train, test } = data;
  const dir = cellDir(outDir, arm.name, stages.seed);
  const resultFile = join(dir, RESULT_FILE);
  if (existsSync(resultFile)) return { status: 'skipped', result: JSON.parse(readFileSync(resultFile, 'utf8')) as CellResult };

  const p = EXPERIMENT_PRESETS[grid.preset];
  const numClasses = train.classNames.length;
  const { config, layout } = modelConfigFor(p.model, stages.vq, numClasses, cond.spec);
  const key = targetKey(arm);
  const aligned = key === null ? null : stages.features.get(key)!;
  const arra = armConfig(arm, aligned?.name ?? null);
  const seeds = samplingSeeds(stages.seed);
  const curveFile = join(dir, 'curve.jsonl');
  const timeFile = join(dir, 'time.json');
  const before = existsSync(timeFile) ? JSON.parse(readFileSync(timeFile, 'utf8')) as { trainSeconds: number; curveSeconds: number } : { trainSeconds: 0, curveSeconds: 0 };
  let curveSeconds = 0;
  const resume = existsSync(join(dir, TRAIN_STATE_FILE));

  const t0 = performance.now();
  const run = await runTraining(
    {
      codes: stages.codes, labels: train.labels, globalFeatures: aligned?.features ?? null, layout, numTokens: stages.vq.gridSize ** 2, classNames: train.classNames,
      split: data.split, condition: cond.spec, prompts: cond.prompts,
    },
    {
      label: cellName(arm.name, stages.seed), model: config, arra, steps: grid.steps, batchSize: grid.batchSize, lr: grid.lr, seed: stages.seed,
      outDir: dir, checkpointEvery: grid.checkpointEvery, resume,
      evalEvery: grid.curve.every > 0 ? grid.curve.every : undefined,
      onEval: (step, model) => {
        const e0 = performance.now();
        const { scores } = scoreModel(model, layout, stages, cond, test, grid.curve.samples, seeds.curve);
        appendLine(curveFile, JSON.stringify({ step, ...scores }));
        curveSeconds += (performance.now() - e0) / 1000;
      },
      onBatch: hooks.onBatch ? (step, batch, model) => hooks.onBatch!(arm.name, stages.seed, step, batch, model) : undefined,
    },
  );
  const trainSeconds = before.trainSeconds + (performance.now() - t0) / 1000 - curveSeconds;
  curveSeconds += before.curveSeconds;
  atomicWriteFile(timeFile, JSON.stringify({ trainSeconds, curveSeconds }));
  if (run.interrupted) return { status: 'interrupted', step: run.step };

  const e0 = performance.now();
  const final = scoreModel(run.model, layout, stages, cond, test, grid.evalSamples, seeds.final);
  // class prompts: one row per class; text prompts / unconditional: the first 64 in rows of 8
  const shown = final.classes ? perClassGrid(final.classes, numClasses, 8) : Array.from({ length: Math.min(64, grid.evalSamples) }, (_, i) => i);
  const rows = final.classes ? numClasses : Math.ceil(shown.length / 8);
  saveSampleGrid(noGrad(() => indexSelect(final.images, 0, shown)), rows, join(dir, 'samples.png'));
  const evalSeconds = (performance.now() - e0) / 1000;

  const metrics = readByStep<{ step: number; lossAR: number; lossGVA: number }>(join(dir, 'metrics.jsonl'));
  const last = metrics[metrics.length - 1];
  if (!last || last.step !== grid.steps) throw new Error(`experiment: ${join(dir, 'metrics.jsonl')} ends at step ${last?.step ?? 'none'}, expected ${grid.steps}`);
  const result: CellResult = {
    arm: arm.name, seed: stages.seed, steps: grid.steps, ...final.scores, numReal: stages.realFeatures.shape[0]!,
    kidSubsets: final.kidSubsets, kidSubsetSize: final.kidSubsetSize,
    finalLossAR: last.lossAR, finalLossGVA: arm.align === 'off' ? null : last.lossGVA, trainSeconds, curveSeconds, evalSeconds,
    curve: readByStep<{ step: number } & Scores>(curveFile), fidNetwork: stages.fidNet.name, classifier: stages.classifier.name, alignEncoder: aligned?.name ?? null,
    samples: `cells/${cellName(arm.name, stages.seed)}/samples.png`,
    code: codeVersion(),
  };
  atomicWriteFile(resultFile, `${JSON.stringify(result, null, 2)}\n`);
  return { status: 'done', result };
}
