/**
 * From the cells' result.json files to the experiment's figures: mean ± sd per arm, and for
 * every arm the paired difference against the baseline arm, seed by seed, with a 95% paired
 * t interval and a percentile-bootstrap interval over seeds (lib/stats), and the relative
 * change in % of the baseline's mean. Everything here is a pure function of the cells, so a
 * rerun that skips finished cells writes the same results.json.
 */
import { bootstrapInterval, mean, pairedTInterval, sd } from '../../../lib/stats';
import type { CellResult } from './cell';
import type { ExperimentGrid } from './grid';

/** The figures compared between arms, how they are shown, and which direction is better. */
export const METRICS = [
  { key: 'fid', label: 'FID', better: 'lower', scale: 1, decimals: 2 },
  { key: 'kid', label: 'KID ×10³', better: 'lower', scale: 1e3, decimals: 3 },
  { key: 'promptAccuracy', label: 'accuracy %', better: 'higher', scale: 100, decimals: 1 },
  { key: 'finalLossAR', label: 'final L_AR', better: 'lower', scale: 1, decimals: 4 },
] as const;
export type MetricKey = (typeof METRICS)[number]['key'];

export interface Summary {
  mean: number;
  /** sample sd over seeds (null with one seed) */
  sd: number | null;
  n: number;
}

/** One paired comparison: arm − baseline, seed by seed. */
export interface Comparison {
  arm: string;
  baseline: string;
  metric: MetricKey;
  seeds: number[];
  /** per-seed differences arm − baseline, in seed order */
  differences: number[];
  meanDifference: number;
  /** 100 · meanDifference / mean of the baseline */
  relativePercent: number;
  /** null with fewer than two seeds */
  pairedT: { low: number; high: number; t: number; df: number; p: number } | null;
  bootstrap: { low: number; high: number; resamples: number; seed: number } | null;
}

export interface CurvePoint {
  step: number;
  fid: Summary;
  kid: Summary;
}

export interface ExperimentResults {
  grid: ExperimentGrid;
  command: string;
  backend: string;
  /** what `promptAccuracy` measures in the grid's conditioning mode (accuracy, caption accuracy, class coverage…) */
  scoreName: string;
  /** set while only some of the grid's seeds are finished (`grid.seeds` then lists those) */
  partial: { seedsDone: number; seedsPlanned: number } | null;
  /** every cell's figures, arm by arm in grid order, seeds in grid order */
  cells: CellResult[];
  summary: Record<string, Record<MetricKey | 'finalLossGVA' | 'trainSeconds', Summary | null>>;
  comparisons: Comparison[];
  curves: Record<string, CurvePoint[]>;
  /** the evaluation's loud warnings (scoring network near chance, N ≤ feature dimension, held-out set too small), per seed */
  warnings: string[];
  /** wall time: the cells' training, their evaluations (curve and final), and the shared per-seed stages, each summed */
  totalSeconds: { train: number; eval: number; shared: number };
  /** the commits that computed the cells, in cell order, each once ('unrecorded' for cells from before the record, or outside git) */
  code: string[];
}

const BOOTSTRAP = { resamples: 10_000, seed: 0 };

function summarize(xs: number[]): Summary | null {
  if (xs.length === 0) return null;
  return { mean: mean(xs), sd: xs.length > 1 ? sd(xs) : null, n: xs.length };
}

/** The comparison of `arm` with `baseline` on one metric (cells must exist for every seed). */
export function compare(cells: CellResult[], arm: string, baseline: string, metric: MetricKey, seeds: number[]): Comparison {
  const valueOf = (name: string, seed: number): number => {
    const c = cells.find((x) => x.arm === name && x.seed === seed);
    if (!c) throw new Error(`experiment results: no cell for arm '${name}', seed ${seed}`);
    return c[metric];
  };
  const base = seeds.map((s) => valueOf(baseline, s));
  const other = seeds.map((s) => valueOf(arm, s));
  const differences = other.map((x, i) => x - base[i]!);
  const meanDifference = mean(differences);
  let pairedT: Comparison['pairedT'] = null;
  let bootstrap: Comparison['bootstrap'] = null;
  if (seeds.length >= 2) {
    const r = pairedTInterval(base, other, 0.95);
    pairedT = { low: r.low, high: r.high, t: r.t, df: r.df, p: r.p };
    const b = bootstrapInterval(base, other, { level: 0.95, ...BOOTSTRAP });
    bootstrap = { low: b.low, high: b.high, ...BOOTSTRAP };
  }
  return { arm, baseline, metric, seeds, differences, meanDifference, relativePercent: (100 * meanDifference) / mean(base), pairedT, bootstrap };
}

/** Mean ± sd over seeds of FID and KID at each curve step an arm's cells share. */
function curveOf(cells: CellResult[]): CurvePoint[] {
  const steps = [...new Set(cells.flatMap((c) => c.curve.map((p) => p.step)))].sort((a, b) => a - b);
  return steps.flatMap((step) => {
    const points = cells.map((c) => c.curve.find((p) => p.step === step)).filter((p) => p !== undefined);
    if (points.length !== cells.length) return []; // a step not every seed reached
    return [{ step, fid: summarize(points.map((p) => p.fid))!, kid: summarize(points.map((p) => p.kid))! }];
  });
}

/** Aggregate the finished cells of a grid (every arm × seed). */
export function aggregate(
  grid: ExperimentGrid, cells: CellResult[], command: string, backend: string, scoreName = 'accuracy', warnings: string[] = [], sharedSeconds = 0,
  seedsPlanned = grid.seeds.length,
): ExperimentResults {
  const ordered = grid.arms.flatMap((a) => grid.seeds.map((s) => {
    const c = cells.find((x) => x.arm === a.name && x.seed === s);
    if (!c) throw new Error(`experiment results: cell ${a.name}-s${s} has no result`);
    return c;
  }));
  const summary: ExperimentResults['summary'] = {};
  const curves: ExperimentResults['curves'] = {};
  for (const a of grid.arms) {
    const mine = ordered.filter((c) => c.arm === a.name);
    const row = {} as ExperimentResults['summary'][string];
    for (const m of METRICS) row[m.key] = summarize(mine.map((c) => c[m.key]));
    row.finalLossGVA = summarize(mine.flatMap((c) => (c.finalLossGVA === null ? [] : [c.finalLossGVA])));
    row.trainSeconds = summarize(mine.map((c) => c.trainSeconds));
    summary[a.name] = row;
    curves[a.name] = curveOf(mine);
  }
  const comparisons = grid.arms.filter((a) => a.name !== grid.baseline)
    .flatMap((a) => METRICS.map((m) => compare(ordered, a.name, grid.baseline, m.key, grid.seeds)));
  return {
    grid, command, backend, scoreName, partial: seedsPlanned > grid.seeds.length ? { seedsDone: grid.seeds.length, seedsPlanned } : null,
    cells: ordered, summary, comparisons, curves, warnings,
    totalSeconds: { train: ordered.reduce((s, c) => s + c.trainSeconds, 0), eval: ordered.reduce((s, c) => s + c.evalSeconds + c.curveSeconds, 0), shared: sharedSeconds },
    code: [...new Set(ordered.map((c) => c.code ?? 'unrecorded'))],
  };
}
