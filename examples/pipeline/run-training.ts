/**
 * One AR training run as a user sees it: a run folder, a progress bar, metrics.jsonl, a loss
 * curve, Ctrl-C that saves and stops, and a NaN that stops the run naming the step.
 */
import { join } from 'node:path';
import { lineChartSvg, NonFiniteStepError, saveSvg, setAnomalyMode } from '../../lib';
import { createProgress, MetricsLogger } from '../../lib/cli';
import { trainAr, type ArTrainData, type ArTrainOptions, type ArTrainResult, type StepMetrics } from './ar-trainer';
import { stopRequested as poolStopRequested } from './workers';

export interface RunOptions extends Omit<ArTrainOptions, 'onStep' | 'shouldStop'> {
  /** label of the progress bar */
  label: string;
  /** throw at the first op producing NaN/Inf (slower) */
  anomaly?: boolean;
}

/**
 * Train with progress, JSONL metrics and Ctrl-C / SIGTERM handling; writes loss.svg into the
 * run folder.
 *
 * metrics.jsonl is opened at the first finished step, not before: a run that fails while
 * starting (a bad `--resume`) leaves the folder as it was. A resumed run first drops the
 * records of steps after its checkpoint (logged by the run that crashed), so every step
 * appears once.
 */
export async function runTraining(data: ArTrainData, opts: RunOptions): Promise<ArTrainResult> {
  let metrics: MetricsLogger | null = null;
  const bar = createProgress({ label: opts.label, total: opts.steps });
  let stopRequested = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopRequested) process.exit(signal === 'SIGTERM' ? 143 : 130); // a second signal: give up at once
    stopRequested = true;
    const what = signal === 'SIGINT' ? 'Ctrl-C' : signal;
    process.stderr.write(`\n[${opts.label}] ${what}: saving a checkpoint after this step (send it again to quit without saving)\n`);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  setAnomalyMode(opts.anomaly ?? false);
  try {
    const result = await trainAr(data, {
      ...opts,
      onStep: (m: StepMetrics) => {
        metrics ??= new MetricsLogger(join(opts.outDir, 'metrics.jsonl'), { truncate: !opts.resume, dropFromStep: m.step });
        metrics.log({ ...m });
        bar.update(m.step, { loss: m.loss, gva: m.lossGVA, 'tok/s': Math.round(m.tokensPerSec) });
      },
      shouldStop: () => stopRequested || poolStopRequested(), // a signal here, or Ctrl-C forwarded to this worker
    }).catch((err: unknown) => {
      bar.stop();
      // the diverging step goes into the log too, with every quantity that was measured
      if (err instanceof NonFiniteStepError) {
        metrics ??= new MetricsLogger(join(opts.outDir, 'metrics.jsonl'), { truncate: !opts.resume, dropFromStep: err.step });
        metrics.log({ step: err.step, ...err.values, diverged: err.quantity });
      }
      throw err;
    });
    bar.stop();
    if (result.interrupted) console.log(`[${opts.label}] stopped at step ${result.step}; resume with --resume (checkpoint in ${opts.outDir})`);
    saveLossCurve(result.history, join(opts.outDir, 'loss.svg'), opts.label);
    return result;
  } finally {
    setAnomalyMode(false);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    (metrics as MetricsLogger | null)?.close();
  }
}

/** L_AR (and L_GVA when present) against step. */
export function saveLossCurve(history: StepMetrics[], path: string, title: string): void {
  const series = [{ name: 'L_AR', points: history.map((m) => [m.step, m.lossAR] as [number, number]) }];
  if (history.some((m) => m.alignedPositions > 0)) series.push({ name: 'L_GVA', points: history.map((m) => [m.step, m.lossGVA] as [number, number]) });
  saveSvg(path, lineChartSvg(series, { title, xLabel: 'step', yLabel: 'loss' }));
}
