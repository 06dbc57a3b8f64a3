/**
 * Learning-rate schedule: linear warm-up, then cosine decay (Loshchilov & Hutter 2017,
 * SGDR, without restarts), the usual recipe for transformers.
 */

/** Options of {@link cosineWithWarmup}. */
export interface CosineWithWarmupOptions {
  /** Steps of linear warm-up (0 for none). */
  warmup: number;
  /** Step at which the decay reaches `min` (and stays). */
  total: number;
  /** Peak learning rate, reached at the end of warm-up. */
  base: number;
  /** Final learning rate (default 0). */
  min?: number;
}

/**
 * A function from step (counting from 0) to learning rate:
 *
 *   step < warmup:           base · (step + 1) / warmup
 *   warmup ≤ step < total:   min + ½·(base − min)·(1 + cos(π · (step − warmup) / (total − warmup)))
 *   step ≥ total:            min
 *
 * Use it as `opt.lr = schedule(opt.stepCount)` before each `opt.step()`.
 */
export function cosineWithWarmup(opts: CosineWithWarmupOptions): (step: number) => number {
  const { warmup, total, base } = opts;
  const min = opts.min ?? 0;
  if (!(warmup >= 0 && total > warmup)) {
    throw new Error(`cosineWithWarmup: need 0 ≤ warmup < total, got warmup ${warmup}, total ${total}`);
  }
  return (step: number): number => {
    if (step < warmup) return (base * (step + 1)) / warmup;
    if (step >= total) return min;
    const progress = (step - warmup) / (total - warmup);
    return min + 0.5 * (base - min) * (1 + Math.cos(Math.PI * progress));
  };
}
