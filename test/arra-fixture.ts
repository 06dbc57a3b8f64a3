/**
 * A tiny float64 ARRA setup shared by the test/arra*.test.ts files: 2 blocks, d = 8, 2×2 image
 * tokens, two sequences, a 4-d "encoder" feature. Small enough for gradient checks over every
 * parameter element.
 */
import { gradcheck, type GradcheckReport, Rng, Tensor } from '../lib';
import { arraConfig, arraLoss, type ArraBatch, type ArraConfig } from '../models/arra';
import { Projector } from '../models/projector';
import { buildClassSequences, classConditionalLayout, type VocabLayout } from '../models/sequence';
import { Transformer, type TransformerConfig } from '../models/transformer';

export interface TinySetup {
  model: Transformer;
  projector: Projector;
  layout: VocabLayout;
  batch: ArraBatch;
  codes: Int32Array;
  classes: Int32Array;
}

export const TINY = { numCodes: 5, numClasses: 2, grid: 2, B: 2, dModel: 8, nLayers: 2, encoderDim: 4, projectorHidden: 6 };

/** Seeded normal values as a float64 tensor (no gradient). */
export function normal(shape: number[], seed: number, scale = 1): Tensor {
  const rng = new Rng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  return new Tensor(Float64Array.from({ length: n }, () => scale * rng.normal()), shape);
}

/**
 * The tiny model, projector and one batch. `randomiseZeros` refills parameters that start at
 * exactly zero (LlamaGen's output head) so every gradient path carries signal.
 */
export function tinySetup(opts: { seed?: number; randomiseZeros?: boolean; nLayers?: number } = {}): TinySetup {
  const seed = opts.seed ?? 1;
  const N = TINY.grid * TINY.grid;
  const layout = classConditionalLayout(TINY.numCodes, TINY.numClasses);
  const config: TransformerConfig = {
    vocabSize: layout.vocabSize, dModel: TINY.dModel, nLayers: opts.nLayers ?? TINY.nLayers, nHeads: 2, mlpHidden: 12,
    maxSeqLen: 2 + N, rope: '1d', dtype: 'float64', seed,
  };
  const model = new Transformer(config);
  const projector = new Projector(TINY.dModel, TINY.encoderDim, { hidden: TINY.projectorHidden, rng: new Rng(seed + 100), dtype: 'float64' });
  if (opts.randomiseZeros ?? true) {
    const rng = new Rng(seed + 200);
    for (const p of model.parameters()) {
      const d = p.nd.data;
      if (d.every((x) => x === 0)) for (let i = 0; i < d.length; i++) d[i] = 0.5 * rng.normal();
    }
  }
  const rng = new Rng(seed + 300);
  const codes = Int32Array.from({ length: TINY.B * N }, () => rng.int(TINY.numCodes));
  const classes = Int32Array.from({ length: TINY.B }, (_, b) => b % TINY.numClasses);
  const seq = buildClassSequences(layout, codes, classes, { dropCondProb: 0, rng });
  const globalFeatures = normal([TINY.B, TINY.encoderDim], seed + 400);
  return { model, projector, layout, batch: { ...seq, globalFeatures }, codes, classes };
}

/** The ARRA config for the tiny setup. */
export function tinyConfig(overrides: Partial<ArraConfig> = {}): ArraConfig {
  return arraConfig({ encoderName: 'test-features', projectorHidden: TINY.projectorHidden, ...overrides });
}

/**
 * Central-difference check of the full L_ARRA with respect to every parameter element of the
 * transformer (embedding, every block, final norm, head) and the projector. Returns the
 * report plus, per parameter tensor, whether its analytic gradient is non-zero.
 */
export function gradcheckFullLoss(cfg: ArraConfig, seed = 1): { report: GradcheckReport; names: string[]; silent: string[] } {
  const s = tinySetup({ seed });
  const named = [...s.model.namedParameters(), ...s.projector.namedParameters().map(([n, t]): [string, Tensor] => [`projector.${n}`, t])];
  const params = named.map(([, t]) => t);
  const report = gradcheck(() => arraLoss(s.model, s.projector, s.batch, cfg).loss, params);
  // gradcheck leaves the analytic gradients on the parameters: every tensor must have carried signal.
  const silent = named.filter(([, t]) => !(t.grad?.values().some((g) => g !== 0) ?? false)).map(([n]) => n);
  return { report, names: named.map(([n]) => n), silent };
}

/**
 * The full-loss gradient checks of one alignment mode (cosine, raw-feature mse and normalised mse × first and last
 * block, and the normalised mse). One test file per mode, so tap runs the two modes in parallel.
 */
export function fullLossGradcheckSuite(tap: typeof import('tap'), mode: 'hybnext' | 'rep'): void {
  for (const objective of ['cosine', 'mse', 'mse-normalized'] as const) {
    for (const alignLayer of [0, TINY.nLayers - 1]) {
      tap.test(`${mode}, ${objective}, aligned block ${alignLayer}`, async (t) => {
        const { report, names, silent } = gradcheckFullLoss(tinyConfig({ mode, objective, alignLayer, lambda: 0.7 }));
        t.ok(names.some((n) => n.startsWith('embed')) && names.some((n) => n.startsWith('head')) && names.some((n) => n.startsWith('projector.')), 'embedding, head and projector are among the checked tensors');
        t.ok(names.filter((n) => n.startsWith('blocks.1.')).length > 0, 'the last block is checked');
        t.same(silent, [], 'every parameter tensor receives a non-zero gradient');
        t.ok(report.checked > 1000, `${report.checked} elements compared`);
        t.ok(report.ok, `worst: ${JSON.stringify(report.worst)}`);
        t.ok(report.maxRelError < 1e-6, `max relative error ${report.maxRelError.toExponential(2)}`);
      });
    }
  }
}
