/**
 * A progress display for long loops (decoding thousands of images, epochs).
 *
 * On a terminal it draws a `cli-progress` bar on stderr; anywhere else (CI logs, files,
 * test runners) a bar would fill the log with carriage returns, so it prints a plain line at
 * every tenth of the way instead. Both go to stderr so stdout stays clean for results.
 */
import { SingleBar, Presets } from 'cli-progress';

/** What {@link progress} hands back: call `tick` as work completes and `done` at the end. */
export interface Progress {
  /** Record `n` more finished items (default 1). */
  tick(n?: number): void;
  /** Finish the display (idempotent). */
  done(): void;
}

/** Options for {@link progress}. */
export interface ProgressOptions {
  /** Where lines go; default `process.stderr`. */
  stream?: NodeJS.WriteStream;
  /** Print nothing at all (tests, quiet runs). */
  silent?: boolean;
}

/**
 * Start a progress display for `total` items labelled `label`.
 * A bar when the stream is a TTY, otherwise lines like `decode imagenet: 300/1000 (30%)`.
 */
export function progress(total: number, label: string, opts: ProgressOptions = {}): Progress {
  const stream = opts.stream ?? process.stderr;
  let count = 0;
  let finished = false;
  // ARRA_PROGRESS=off (set by the test suite) silences the default stream, as in lib/cli/progress.ts
  if (opts.silent || total <= 0 || (opts.stream === undefined && process.env.ARRA_PROGRESS === 'off')) {
    return { tick: () => undefined, done: () => undefined };
  }
  if (stream.isTTY) {
    const bar = new SingleBar({ format: `${label} [{bar}] {value}/{total} {percentage}% eta {eta}s`, stream }, Presets.shades_classic);
    bar.start(total, 0);
    return {
      tick(n = 1) {
        count += n;
        bar.update(Math.min(count, total));
      },
      done() {
        if (finished) return;
        finished = true;
        bar.update(Math.min(count, total));
        bar.stop();
      },
    };
  }
  // Plain lines: one each time another tenth of the work is done, then a final line.
  let nextTenth = 1;
  const line = () => `${label}: ${count}/${total} (${Math.floor((100 * count) / total)}%)\n`;
  return {
    tick(n = 1) {
      count += n;
      let crossed = false;
      while (nextTenth < 10 && count >= (nextTenth * total) / 10) {
        nextTenth++;
        crossed = true;
      }
      if (crossed && count < total) stream.write(line());
    },
    done() {
      if (finished) return;
      finished = true;
      stream.write(line());
    },
  };
}
