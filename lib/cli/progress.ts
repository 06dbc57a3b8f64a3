/**
 * Progress reporting for long loops (training steps, sampling, evaluation).
 *
 * On a terminal it draws a live bar with [cli-progress](https://github.com/npkgz/cli-progress);
 * anywhere else (a log file, CI, a pipe) it prints a plain line every few seconds that
 * reads well in a log:
 *
 *     [train] 119/500 (23%) 3.1 it/s ETA 2m03s loss=0.4123
 *
 * and a final `[train] 500/500 (100%) 3.1 it/s done in 2m41s`. The stream and the clock
 * can be injected, which is how the tests check the plain format without waiting.
 *
 * `ARRA_PROGRESS=off` silences the default stream (stderr) entirely — the test suite sets it
 * (test/setup/quiet.mjs) so that tap's report is not interleaved with progress lines.
 */
import { Presets, SingleBar } from 'cli-progress';

/** Where progress goes: any object with `write` (process.stderr by default); `isTTY` selects the live bar. */
export interface ProgressStream {
  write(chunk: string): unknown;
  isTTY?: boolean;
}

/** Options of {@link createProgress}. */
export interface ProgressOptions {
  /** Shown in brackets at the start of each line: `[train]`. */
  label: string;
  /** The value that means done (steps, images, batches…). */
  total: number;
  /** Output stream (default `process.stderr`, so stdout stays clean for results). */
  stream?: ProgressStream;
  /** Live bar (true) or plain lines (false); default: whether the stream is a TTY. */
  tty?: boolean;
  /** Plain mode: print at most one line per this many milliseconds (default 2000). */
  intervalMs?: number;
  /** Clock in milliseconds (default `Date.now`); tests inject a fake one. */
  now?: () => number;
}

/** Extra values shown after the counters, e.g. `{ loss: 0.41, lr: 3e-4 }` → `loss=0.4100 lr=3.00e-4`. */
export type ProgressExtras = Record<string, number | string>;

/** A running progress display. */
export interface Progress {
  /** Set the current value (0…total), optionally with extra values to show. */
  update(value: number, extras?: ProgressExtras): void;
  /** Add `by` (default 1) to the current value. */
  increment(by?: number, extras?: ProgressExtras): void;
  /** Finish: prints the final line (plain mode) or releases the bar (TTY). Safe to call twice. */
  stop(): void;
}

/** Whether `ARRA_PROGRESS=off` asks for no progress on the default stream. */
export function progressSilenced(): boolean {
  return process.env.ARRA_PROGRESS === 'off';
}

/** `45s`, `2m03s`, `1h05m` (seconds rounded). */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** Rate with sensible precision: `312 it/s`, `3.1 it/s`, `0.25 it/s`. */
function formatRate(perSecond: number): string {
  if (!Number.isFinite(perSecond)) return '?';
  return perSecond >= 100 ? perSecond.toFixed(0) : perSecond >= 1 ? perSecond.toFixed(1) : perSecond.toFixed(2);
}

/** A metric value for a log line: 4 significant digits, exponent form when very small or large. */
export function formatMetric(v: number | string): string {
  if (typeof v === 'string') return v;
  if (Number.isInteger(v) && Math.abs(v) < 1e9) return String(v);
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-3 || a >= 1e4) ? v.toExponential(2) : v.toPrecision(4);
}

function formatExtras(extras: ProgressExtras): string {
  return Object.entries(extras).map(([k, v]) => ` ${k}=${formatMetric(v)}`).join('');
}

/** Create a progress display (see the module comment for the two modes). */
export function createProgress(opts: ProgressOptions): Progress {
  if (opts.stream === undefined && progressSilenced()) return { update: () => undefined, increment: () => undefined, stop: () => undefined };
  const stream = opts.stream ?? process.stderr;
  const tty = opts.tty ?? stream.isTTY === true;
  return tty ? ttyProgress(opts, stream) : plainProgress(opts, stream);
}

function plainProgress(opts: ProgressOptions, stream: ProgressStream): Progress {
  const { label, total, intervalMs = 2000, now = Date.now } = opts;
  const start = now();
  let lastPrint = start;
  let value = 0;
  let extras: ProgressExtras = {};
  let finished = false;

  const line = (tail: string): void => {
    const elapsed = (now() - start) / 1000;
    const rate = elapsed > 0 ? value / elapsed : NaN;
    const pct = total > 0 ? Math.floor((100 * value) / total) : 100;
    const timing = tail === 'eta' ? `ETA ${rate > 0 ? formatDuration((total - value) / rate) : '?'}` : tail.replace('{elapsed}', formatDuration(elapsed));
    stream.write(`[${label}] ${value}/${total} (${pct}%) ${formatRate(rate)} it/s ${timing}${formatExtras(extras)}\n`);
  };

  const progress: Progress = {
    update(v, more) {
      if (finished) return;
      value = v;
      if (more) extras = { ...extras, ...more };
      if (value >= total) {
        finished = true;
        line('done in {elapsed}');
      } else if (now() - lastPrint >= intervalMs) {
        lastPrint = now();
        line('eta');
      }
    },
    increment(by = 1, more) {
      progress.update(value + by, more);
    },
    stop() {
      if (finished) return;
      finished = true;
      line('stopped after {elapsed}');
    },
  };
  return progress;
}

function ttyProgress(opts: ProgressOptions, stream: ProgressStream): Progress {
  const { label, total, now = Date.now } = opts;
  const start = now();
  let value = 0;
  let extras: ProgressExtras = {};
  let stopped = false;
  const bar = new SingleBar(
    {
      format: `[${label}] {bar} {value}/{total} ({percentage}%) {rate} it/s ETA {eta_formatted}{extras}`,
      stream: stream as NodeJS.WritableStream,
      hideCursor: true,
    },
    Presets.shades_classic,
  );
  const payload = (): Record<string, string> => ({
    rate: formatRate(value / Math.max((now() - start) / 1000, 1e-9)),
    extras: formatExtras(extras),
  });
  bar.start(total, 0, payload());
  const progress: Progress = {
    update(v, more) {
      if (stopped) return;
      value = v;
      if (more) extras = { ...extras, ...more };
      bar.update(value, payload());
    },
    increment(by = 1, more) {
      progress.update(value + by, more);
    },
    stop() {
      if (stopped) return;
      stopped = true;
      bar.stop();
    },
  };
  return progress;
}
