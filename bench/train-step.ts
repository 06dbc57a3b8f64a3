/**
 * Training-step section of the benchmark: one step = forward, cross-entropy, backward and
 * AdamW on the reference tiny transformer (models/reference-config.ts), in tokens per second.
 *
 * Ours runs models/transformer.ts (the `bench` preset) on each backend; the peers run the
 * same architecture written with PyTorch (bench/peers/torch_transformer.py, 2 threads, run
 * between two of our measurements so both see the same load) and with tfjs
 * (bench/peers/tfjs-transformer.ts) on tfjs-wasm and tfjs-cpu.
 */
import { AdamW, crossEntropy, Rng, setBackend, type Tensor } from '../lib';
import { transformerPresets } from '../models/presets';
import { Transformer } from '../models/transformer';
import { tfjsTrainStep } from './peers/tfjs-transformer';
import { useTfjs, tfjsReset } from './peers/tfjs';
import { REFERENCE_TINY } from '../models/reference-config';
import { describeTorch, runTorch } from './peers/torch';
import { time, timeAsync, type Timing } from './timing';

/** One row of the `trainStep` table. */
export interface TrainRow {
  impl: string;
  config: string;
  tokensPerSec: number;
  msPerStep: number;
  medianMsPerStep: number;
  steps: number;
}

const { batch, seqLen, dModel, nLayers, nHeads, vocabSize } = REFERENCE_TINY;
const CONFIG = `d=${dModel} L=${nLayers} H=${nHeads} T=${seqLen} B=${batch}`;
const tokensPerStep = batch * seqLen;

/** Random next-token data: inputs [B, T] and targets shifted by one. */
export function randomBatch(seed: number): { tokens: Int32Array; targets: Int32Array } {
  const rng = new Rng(seed);
  const seq = Int32Array.from({ length: batch * (seqLen + 1) }, () => rng.int(vocabSize));
  const tokens = new Int32Array(batch * seqLen);
  const targets = new Int32Array(batch * seqLen);
  for (let b = 0; b < batch; b++) {
    tokens.set(seq.subarray(b * (seqLen + 1), b * (seqLen + 1) + seqLen), b * seqLen);
    targets.set(seq.subarray(b * (seqLen + 1) + 1, (b + 1) * (seqLen + 1)), b * seqLen);
  }
  return { tokens, targets };
}

function row(impl: string, t: Timing): TrainRow {
  const r = (x: number): number => Math.round(x * 100) / 100;
  return { impl, config: CONFIG, tokensPerSec: r(tokensPerStep / t.best), msPerStep: r(t.best * 1e3), medianMsPerStep: r(t.median * 1e3), steps: t.reps };
}

/** Our step on backend `name`. */
export function oursStep(name: string): () => void {
  setBackend(name);
  const model = new Transformer({ ...transformerPresets.bench });
  const opt = new AdamW(model.parameters(), { lr: 3e-4, weightDecay: 0.1 });
  const { tokens, targets } = randomBatch(1);
  return () => {
    const { logits } = model.forward(tokens, [batch, seqLen]); // [B, T, V]
    const loss: Tensor = crossEntropy(logits.reshape([batch * seqLen, vocabSize]), targets);
    opt.zeroGrad();
    loss.backward();
    opt.step();
  };
}

/** Run the section: ours per backend, then tfjs-wasm and tfjs-cpu. */
export async function runTrainSection(ctx: { quick: boolean; all: boolean; log: (r: object) => void; notes: string[] }): Promise<TrainRow[]> {
  const steps = ctx.quick ? 2 : 5;
  const rows: TrainRow[] = [];
  // ref (≈ 150 s/step) and gpujs webasm (≈ 35 s/step) only with --train-all, one timed step.
  const ours: [string, string][] = [['arra fast', 'fast'], ...(ctx.all ? [['arra gpujs (webasm)', 'gpujs'], ['arra ref', 'ref']] as [string, string][] : [])];
  for (const [impl, name] of ours) {
    rows.push(row(impl, time(oursStep(name), name === 'fast' ? steps : 1, 1)));
    ctx.log(rows[rows.length - 1]!);
  }
  // PyTorch, then ours once more: A/B/A, so a change of load during the run shows up.
  const torch = runTorch({ steps: ctx.quick ? 3 : 10 });
  if (typeof torch === 'string') ctx.notes.push(torch);
  else if (torch.train) {
    ctx.notes.push(`trainStep: ${describeTorch(torch)}`);
    rows.push(row(`torch ${torch.torch} CPU (${torch.threads} threads)`, torch.train));
    ctx.log(rows[rows.length - 1]!);
    rows.push(row('arra fast (again, after torch)', time(oursStep('fast'), steps, 1)));
    ctx.log(rows[rows.length - 1]!);
  }
  if (!ctx.all) ctx.notes.push('trainStep: arra ref and arra gpujs skipped (minutes per step); add --train-all to include them');
  setBackend('ref');
  for (const name of ['wasm', 'cpu'] as const) {
    await useTfjs(name);
    const step = tfjsTrainStep(randomBatch(1));
    rows.push(row(`tfjs-${name}`, await timeAsync(step, name === 'cpu' ? 2 : steps, 1)));
    ctx.log(rows[rows.length - 1]!);
    tfjsReset();
  }
  return rows;
}
