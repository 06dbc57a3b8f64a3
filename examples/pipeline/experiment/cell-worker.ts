/**
 * A worker of `arra experiment --jobs N` (examples/pipeline/workers.ts): it runs whole cells.
 * Everything a cell needs it reads back from the experiment folder the main thread prepared —
 * the data split, the conditioning, and the seed's shared stages (which prepareSeed always
 * reads from disk, so these are the bytes the main thread would have used) — takes the codes and
 * real features the main thread computed from them, and keeps it all while the next cell has the
 * same seed.
 */
import { join } from 'node:path';
import { loadData, describeData, type DataFlags } from '../datasets';
import { serveJobs, sharedData } from '../workers';
import { runCell, type CellOutcome } from './cell';
import { conditioningFor, withAttributeClassifier, type Conditioning } from './conditioning';
import { EXPERIMENT_PRESETS, type ExperimentGrid } from './grid';
import { prepareSeed, type SeedArrays, type SeedStages } from './shared-stages';

/** What every worker gets once. */
export interface CellWorkerShared {
  grid: ExperimentGrid;
  outDir: string;
}

/** One job: the cell of `arm` (by name) and `seed`, with the seed's computed arrays (the main thread's). */
export interface CellJob {
  seed: number;
  arm: string;
  arrays: SeedArrays;
}

const { grid, outDir } = sharedData<CellWorkerShared>();
const p = EXPERIMENT_PRESETS[grid.preset];
const flags: DataFlags = { dataset: grid.dataset, dataDir: grid.dataDir, trainLimit: p.trainLimit, testLimit: p.testLimit };
let data: ReturnType<typeof loadData> | null = null;
let cond: Conditioning | null = null;
let stages: SeedStages | null = null;
const quiet = (): void => {};

serveJobs<CellJob, CellOutcome>(async ({ seed, arm, arrays }) => {
  data ??= loadData(flags, 0, join(outDir, 'cache'));
  cond ??= withAttributeClassifier(conditioningFor(grid, data), data.test, outDir, quiet);
  if (stages?.seed !== seed) stages = prepareSeed(grid, data, describeData(flags), seed, outDir, quiet, arrays);
  const a = grid.arms.find((x) => x.name === arm);
  if (!a) throw new Error(`cell worker: no arm '${arm}' in grid ${grid.name}`);
  return runCell(grid, a, stages, data, cond, outDir);
});
