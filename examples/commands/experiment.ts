/**
 * `arra experiment --grid examples/experiments/<name>.json`: every arm × seed of a grid,
 * paired by seed, resumable, into results.json and results.md (examples/pipeline/experiment/).
 */
import { join } from 'node:path';
import { describeBackend } from '../../lib';
import { loadGrid } from '../pipeline/experiment/grid';
import { runExperiment } from '../pipeline/experiment/run';
import { command } from './command';

export const experimentCommand = command({
  summary: 'a grid of arms × seeds (baseline vs ARRA variants), paired by seed, resumable, with confidence intervals',
  flags: [
    { name: 'grid', type: 'string', required: true, help: 'grid file (JSON), e.g. examples/experiments/mnist-class.json' },
    { name: 'out', type: 'string', help: 'output folder (default runs/exp/<grid name>); rerunning into it resumes' },
    { name: 'budgetMinutes', type: 'float', min: 0, help: 'estimate the grid from timed steps first and refuse it if it needs longer (see --yes)' },
    { name: 'yes', type: 'bool', help: 'run even when the estimate exceeds --budget-minutes' },
    { name: 'estimate', type: 'bool', help: 'print the estimated time of the grid and stop' },
    { name: 'jobs', type: 'int', min: 1, default: 1, help: 'cells trained at a time, each in a worker thread with its share of the cores (same results; 2 on a 2-core machine: ≈ 1.3× the throughput, measured by bench/jobs.ts)' },
  ],
  run: async (f) => {
    const grid = loadGrid(f.grid); // the whole grid is checked before any work starts
    const outDir = f.out ?? join('runs', 'exp', grid.name);
    console.log(describeBackend());
    const cmd = `npx arra experiment --grid ${f.grid}${f.out ? ` --out ${f.out}` : ''}`;
    const outcome = await runExperiment(grid, { outDir, command: cmd, budgetMinutes: f.budgetMinutes, yes: f.yes, estimateOnly: f.estimate, jobs: f.jobs });
    if (outcome.status === 'interrupted') {
      console.log(`stopped with ${outcome.cellsDone} cells finished; rerun '${cmd}' to continue`);
      process.exitCode = 130;
    } else if (outcome.status === 'done') {
      console.log(`report: ${join(outDir, 'results.md')}`);
    }
  },
});
