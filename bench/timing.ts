/**
 * Timing helpers for the benchmark. The machine is shared, so every figure is a best-of-N
 * (what the code can do) reported with its median (what you will typically see).
 */

/** Seconds of best and median over `reps` timed runs, after `warmup` untimed ones. */
export interface Timing {
  best: number;
  median: number;
  reps: number;
}

/** Time `fn` (synchronous) `reps` times. */
export function time(fn: () => void, reps: number, warmup = 1): Timing {
  for (let i = 0; i < warmup; i++) fn();
  const s: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = process.hrtime.bigint();
    fn();
    s.push(Number(process.hrtime.bigint() - t0) / 1e9);
  }
  return summarise(s);
}

/** Time an async `fn` (tfjs data downloads are async). */
export async function timeAsync(fn: () => Promise<void>, reps: number, warmup = 1): Promise<Timing> {
  for (let i = 0; i < warmup; i++) await fn();
  const s: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = process.hrtime.bigint();
    await fn();
    s.push(Number(process.hrtime.bigint() - t0) / 1e9);
  }
  return summarise(s);
}

function summarise(s: number[]): Timing {
  const sorted = [...s].sort((a, b) => a - b);
  return { best: sorted[0]!, median: sorted[Math.floor(sorted.length / 2)]!, reps: s.length };
}

/** Repetitions so that one size takes roughly `budgetS` seconds at `secondsPerRun`, within [3, 30]. */
export function repsFor(secondsPerRun: number, budgetS: number): number {
  return Math.max(3, Math.min(30, Math.round(budgetS / Math.max(secondsPerRun, 1e-6))));
}
