/**
 * One AR training run as a user sees it: a run folder, a progress bar, metrics.jsonl, a loss
 * curve, Ctrl-C that saves and stops, and a NaN that stops the run naming the step.
 */
import { join } from 'node:path';
import { lineChartSvg, NonFiniteStepError, saveSvg, setAnomalyMode } from '../../lib';
import { createProgress, MetricsLogger } from '../../lib/cli';
import { trainAr, type ArTrainData, type ArTrainOptions, type ArTrainResult, type StepMetrics } from './ar-trainer';

export interface RunOptions extends Omit<ArTrainOptions, 'onStep' | 'shouldStop'> {
  /** label of the progress bar */
  label: string;
  /** throw at the first op producing NaN/Inf (slower) */
  anomaly?: boolean;
}

/** Train with progress, JSONL metrics and Ctrl-C handling; writes loss.svg into the run folder. */
export async function runTraining(data: ArTrainData, opts: RunOptions): Promise<ArTrainResult> {
  const metrics = new MetricsLogger(join(opts.outDir, 'metrics.jsonl'), { truncate: !opts.resume });
  const bar = createProgress({ label: opts.label, total: opts.steps });
  let stopRequested = false;
  const onSigint = (): void => {
    if (stopRequested) process.exit(130); // a second Ctrl-C: give up at once
    stopRequested = true;
    process.stderr.write(`\n[${opts.label}] Ctrl-C: saving a checkpoint after this step (press again to quit without saving)\n`);
  };
  process.on('SIGINT', onSigint);
  setAnomalyMode(opts.anomaly ?? false);
  try {
    const result = await trainAr(data, {
      ...opts,
      onStep: (m: StepMetrics) => {
        metrics.log({ ...m });
        bar.update(m.step, { loss: m.loss, gva: m.lossGVA, 'tok/s': Math.round(m.tokensPerSec) });
      },
      shouldStop: () => stopRequested,
    }).catch((err: unknown) => {
      bar.stop();
      // the diverging step goes into the log too, with every quantity that was measured
      if (err instanceof NonFiniteStepError) metrics.log({ step: err.step, ...err.values, diverged: err.quantity });
      throw err;
    });
    bar.stop();
    if (result.interrupted) console.log(`[${opts.label}] stopped at step ${result.step}; resume with --resume (checkpoint in ${opts.outDir})`);
    saveLossCurve(result.history, join(opts.outDir, 'loss.svg'), opts.label);
    return result;
  } finally {
    setAnomalyMode(false);
    process.off('SIGINT', onSigint);
    metrics.close();
  }
}

/** L_AR (and L_GVA when present) against step. */
export function saveLossCurve(history: StepMetrics[], path: string, title: string): void {
  const series = [{ name: 'L_AR', points: history.map((m) => [m.step, m.lossAR] as [number, number]) }];
  if (history.some((m) => m.alignedPositions > 0)) series.push({ name: 'L_GVA', points: history.map((m) => [m.step, m.lossGVA] as [number, number]) });
  saveSvg(path, lineChartSvg(series, { title, xLabel: 'step', yLabel: 'loss' }));
}
