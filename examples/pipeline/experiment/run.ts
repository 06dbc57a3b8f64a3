/**
 * `arra experiment`'s loop: seed by seed, build the shared stages once, then run every arm's
 * cell (skipping finished ones, resuming a half-finished one), print a line per cell with an
 * ETA for the whole grid, and after every seed write results.json and results.md for the seeds
 * finished so far (marked partial until the last).
 *
 * Ctrl-C (or SIGTERM) is safe at any point: during training the trainer saves a checkpoint after the
 * current step; during another stage the loop stops when that stage ends. Nothing but a
 * finished cell writes result.json, so a rerun of the same command picks up where it stopped.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeArithmetic, describeBackend } from '../../../lib';
import { formatDuration, UsageError } from '../../../lib/cli';
import { atomicWriteFile } from '../../../lib/io';
import { describeData, loadData, type DataFlags } from '../datasets';
import { evaluationWarnings, printWarnings } from '../evaluate';
import { heldOutPrompts, textRequest } from '../evaluate-modes';
import { estimateGrid, type GridEstimate } from './budget';
import { cellDir, cellName, RESULT_FILE, runCell, type CellHooks, type CellOutcome, type CellResult } from './cell';
import type { CellJob, CellWorkerShared } from './cell-worker';
import { WorkerPool } from '../workers';
import { conditioningFor, withAttributeClassifier } from './conditioning';
import { EXPERIMENT_PRESETS, type ExperimentGrid } from './grid';
import { aggregate, type ExperimentResults } from './results';
import { writeResultsMd } from './results-md';
import { prepareSeed, seedArrays } from './shared-stages';

export interface ExperimentOptions {
  outDir: string;
  /** the command line that reproduces the run (written into the report) */
  command: string;
  /** refuse a grid whose estimate exceeds this many minutes (unless `yes`) */
  budgetMinutes?: number;
  yes?: boolean;
  /** print the estimate and stop */
  estimateOnly?: boolean;
  log?: (line: string) => void;
  /**
   * Cells trained at a time (default 1: in this thread). With more, each runs in a worker thread
   * (cell-worker.ts) with its share of the cores for its matmul; the results are the same bits.
   */
  jobs?: number;
  hooks?: CellHooks & { afterCell?: (result: CellResult, status: 'done' | 'skipped') => void };
}

export type ExperimentOutcome =
  | { status: 'done'; results: ExperimentResults }
  | { status: 'interrupted'; cellsDone: number }
  | { status: 'estimated'; estimate: GridEstimate };

export const GRID_COPY = 'grid.json';

/** An output folder made by another grid is refused: its cells would not be comparable. */
export function checkOutDir(grid: ExperimentGrid, outDir: string): void {
  const copy = join(outDir, GRID_COPY);
  if (!existsSync(copy)) return;
  const before = JSON.parse(readFileSync(copy, 'utf8')) as Record<string, unknown>;
  const now = JSON.parse(JSON.stringify(grid)) as Record<string, unknown>;
  const differs = [...new Set([...Object.keys(before), ...Object.keys(now)])].find((k) => JSON.stringify(before[k]) !== JSON.stringify(now[k]));
  if (differs !== undefined) {
    throw new UsageError(
      `--out: ${outDir} holds an experiment made by a different grid (field '${differs}': ${JSON.stringify(before[differs])} there, ${JSON.stringify(now[differs])} now); use another --out or remove it`,
      '--out',
    );
  }
}

export const ARITHMETIC_COPY = 'arithmetic.json';

/**
 * An output folder whose cells were computed on other arithmetic (another backend, `fast`
 * with the fused multiply-add on one side only: `ARRA_FMA`, or an older revision of `fast`'s
 * kernels — lib/backend/index.ts, FAST_KERNELS_REVISION) is refused: the finished cells
 * would not be what this run computes, so results.json would mix two computations. Folders
 * from before this record existed have no arithmetic.json and are taken as they are.
 */
export function checkArithmetic(outDir: string, arithmetic: string): void {
  const copy = join(outDir, ARITHMETIC_COPY);
  if (!existsSync(copy)) return;
  const before = (JSON.parse(readFileSync(copy, 'utf8')) as { arithmetic?: unknown }).arithmetic;
  if (before !== arithmetic) {
    throw new UsageError(
      `--out: ${outDir} was computed on backend ${JSON.stringify(before)}, this run is on ${JSON.stringify(arithmetic)}: continuing would mix two computations in one grid; run with the same backend (ARRA_BACKEND, and ARRA_FMA=${String(before).includes('fused') ? '1' : '0'} for fast) and a checkout of the code that computed them${String(before).startsWith('fast') && !String(before).includes('kernels r') ? ' — this folder predates the float32 GELU kernels (2026-12-03)' : ''}, or use another --out`,
      '--out',
    );
  }
}

/** Run (or continue) a validated grid. */
export async function runExperiment(grid: ExperimentGrid, opts: ExperimentOptions): Promise<ExperimentOutcome> {
  const log = opts.log ?? ((line: string) => console.log(line));
  const jobs = opts.jobs ?? 1;
  if (!Number.isInteger(jobs) || jobs < 1) throw new UsageError(`--jobs: expected a positive integer, got ${jobs}`, '--jobs');
  if (jobs > 1 && opts.hooks?.onBatch) throw new Error('experiment: an onBatch hook sees batches in this thread only; run with jobs = 1');
  const p = EXPERIMENT_PRESETS[grid.preset];
  checkOutDir(grid, opts.outDir);
  const arithmetic = describeArithmetic();
  checkArithmetic(opts.outDir, arithmetic);
  const flags: DataFlags = { dataset: grid.dataset, dataDir: grid.dataDir, trainLimit: p.trainLimit, testLimit: p.testLimit };
  const data = loadData(flags, 0, join(opts.outDir, 'cache')); // one fixed split for every seed and arm
  const numClasses = data.train.classNames.length;
  // class prompts are balanced over the classes: every class needs a sample
  for (const [field, n] of grid.condition !== 'class' ? [] : [['evalSamples', grid.evalSamples], ['curve.samples', grid.curve.every > 0 ? grid.curve.samples : numClasses]] as const) {
    if (n < numClasses) throw new UsageError(`--grid: ${field}: expected at least one sample per class (${numClasses} classes in ${grid.dataset}), found ${n}`, '--grid');
  }
  if (data.train.labels.length < grid.batchSize) throw new UsageError(`--grid: batchSize: ${data.train.labels.length} training images cannot fill a batch of ${grid.batchSize}`, '--grid');

  let cond = conditioningFor(grid, data);
  // Every held-out prompt must be in the training vocabulary: a usage error now, not after hours of training.
  if (cond.spec.mode === 'text') textRequest(cond.spec, heldOutPrompts(data.test, Math.max(grid.evalSamples, grid.curve.samples), 0));
  let estimate: GridEstimate | null = null;
  if (opts.budgetMinutes !== undefined || opts.estimateOnly) {
    log(`timing a few steps of every stage to estimate the grid…`);
    estimate = await estimateGrid(grid, data.train, cond, opts.outDir);
    const ar = Object.entries(estimate.perStep.ar).map(([k, v]) => `${k} ${(1000 * v).toFixed(0)} ms`).join(', ');
    log(`estimate: ${formatDuration(estimate.seconds)} for ${estimate.cellsLeft} of ${estimate.cellsTotal} cells (AR step: ${ar}; sampling ${(1000 * estimate.perStep.sample).toFixed(0)} ms/image)${jobs > 1 ? `, one cell at a time: with --jobs ${jobs} expect less (≈ 1.3× the throughput with 2 jobs on 2 cores)` : ''}`);
    if (opts.estimateOnly) return { status: 'estimated', estimate };
    if (estimate.seconds > opts.budgetMinutes! * 60 && !opts.yes) {
      throw new UsageError(
        `--budget-minutes: the grid needs an estimated ${(estimate.seconds / 60).toFixed(1)} min, more than the budget of ${opts.budgetMinutes} min; pass --yes to run it anyway, or use fewer seeds, arms or steps`,
        '--budget-minutes',
      );
    }
  }

  mkdirSync(opts.outDir, { recursive: true });
  cond = withAttributeClassifier(cond, data.test, opts.outDir, log);
  atomicWriteFile(join(opts.outDir, GRID_COPY), `${JSON.stringify(grid, null, 2)}\n`);
  atomicWriteFile(join(opts.outDir, ARITHMETIC_COPY), `${JSON.stringify({ arithmetic }, null, 2)}\n`);
  let stopRequested = false;
  let pool: WorkerPool<CellJob, CellOutcome> | null = null;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopRequested) process.exit(signal === 'SIGTERM' ? 143 : 130);
    stopRequested = true;
    pool?.stop(); // the workers' trainers save a checkpoint after their current step
    process.stderr.write(`\n[experiment] ${signal === 'SIGINT' ? 'Ctrl-C' : signal}: stopping after the current step or stage; rerun the same command to continue (press again to quit at once)\n`);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const total = grid.seeds.length * grid.arms.length;
    const cells: CellResult[] = [];
    const ranSeconds: number[] = [];
    let index = 0;
    const dataKey = describeData(flags);
    const warnings: string[] = [];
    let sharedSeconds = 0;
    for (const seed of grid.seeds) {
      const stages = prepareSeed(grid, data, dataKey, seed, opts.outDir, log);
      sharedSeconds += stages.stageSeconds;
      if (stopRequested) return { status: 'interrupted', cellsDone: cells.length };
      const w = evaluationWarnings({
        numGenerated: Math.min(grid.evalSamples, grid.curve.every > 0 ? grid.curve.samples : Infinity), numReal: stages.realFeatures.shape[0]!,
        featureDim: stages.fidNet.dim, numClasses, heldOutAccuracy: stages.heldOutAccuracy,
      }).map((line) => `seed ${seed}: ${line}`);
      printWarnings(w);
      warnings.push(...w);
      // Cells already finished are read here; the rest train in this thread or in the pool.
      const pendingArms = grid.arms.filter((arm) => !existsSync(join(cellDir(opts.outDir, arm.name, seed), RESULT_FILE)));
      if (jobs > 1 && pendingArms.length > 0) pool ??= new WorkerPool<CellJob, CellOutcome>(join(__dirname, 'cell-worker.ts'), jobs, { grid, outDir: opts.outDir } satisfies CellWorkerShared);
      const report = (arm: (typeof grid.arms)[number], outcome: CellOutcome & { status: 'done' | 'skipped' }, seconds: number): void => {
        index++;
        const r = outcome.result;
        if (outcome.status === 'done') ranSeconds.push(seconds);
        const left = total - index;
        // cells run `jobs` at a time, so the grid's wall time per cell is a cell's time over jobs
        const perCell = ranSeconds.length > 0 ? ranSeconds.reduce((a, b) => a + b, 0) / ranSeconds.length / jobs : estimate && estimate.cellsLeft > 0 ? estimate.seconds / estimate.cellsLeft : NaN;
        log(
          `[experiment] cell ${index}/${total} ${cellName(arm.name, seed)} ${outcome.status === 'skipped' ? '(finished before, skipped)' : `in ${formatDuration(seconds)}`}: `
          + `FID ${r.fid.toFixed(2)}, KID ${r.kid.toPrecision(4)} ± ${r.kidStd.toPrecision(3)}, ${cond.scoreName} ${(100 * r.promptAccuracy).toFixed(1)}%, L_AR ${r.finalLossAR.toFixed(4)}`
          + ` — grid ETA ${left === 0 ? 'done' : formatDuration(left * perCell)}`,
        );
        opts.hooks?.afterCell?.(r, outcome.status);
      };
      const outcomes: (CellOutcome | null)[] = grid.arms.map(() => null);
      const arrays = pool ? seedArrays(stages) : null; // sent with each cell, so no worker computes them again
      const runOne = async (a: number): Promise<void> => {
        const arm = grid.arms[a]!;
        const t0 = performance.now();
        const outcome = pool && pendingArms.includes(arm)
          ? await pool.run({ seed, arm: arm.name, arrays: arrays! }).catch((err: Error): CellOutcome => {
            if (stopRequested) return { status: 'interrupted', step: 0 }; // dropped from the queue by Ctrl-C
            throw err;
          })
          : await runCell(grid, arm, stages, data, cond, opts.outDir, opts.hooks);
        outcomes[a] = outcome;
        if (outcome.status === 'interrupted') {
          log(`[experiment] ${cellName(arm.name, seed)} stopped${outcome.step > 0 ? ` at step ${outcome.step}` : ' before it started'}; rerun the same command to resume it`);
          return;
        }
        report(arm, outcome, (performance.now() - t0) / 1000);
      };
      if (pool) {
        await Promise.all(grid.arms.map((_, a) => runOne(a)));
      } else {
        for (let a = 0; a < grid.arms.length; a++) {
          if (stopRequested) break;
          await runOne(a);
          if (outcomes[a]!.status === 'interrupted') break;
        }
      }
      if (outcomes.some((o) => o === null || o.status === 'interrupted')) return { status: 'interrupted', cellsDone: cells.length + outcomes.filter((o) => o && o.status !== 'interrupted').length };
      for (const o of outcomes) cells.push((o as CellOutcome & { result: CellResult }).result); // in the grid's arm order
      // Every seed finished so far, in a report that a long grid keeps up to date (marked partial).
      const seedsDone = grid.seeds.slice(0, grid.seeds.indexOf(seed) + 1);
      const results = aggregate({ ...grid, seeds: seedsDone }, cells, opts.command, describeBackend(), cond.scoreName, warnings, sharedSeconds, grid.seeds.length);
      atomicWriteFile(join(opts.outDir, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
      writeResultsMd(results, opts.outDir);
      if (seedsDone.length === grid.seeds.length) {
        log(`[experiment] wrote ${join(opts.outDir, 'results.json')} and results.md`);
        return { status: 'done', results };
      }
    }
    throw new Error('experiment: the seed loop ended without a report'); // unreachable: the last seed returns
  } finally {
    await pool?.close();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
