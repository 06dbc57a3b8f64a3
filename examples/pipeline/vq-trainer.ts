/**
 * Training the VQ tokenizer (models/vq.ts): the loop behind `arra train-vq` and the demo's
 * first stage. AdamW, cosine schedule, dead-code revival inside the model; at the end the
 * held-out reconstruction MSE and codebook usage, a PNG of originals over reconstructions,
 * and a safetensors checkpoint with the config in its metadata.
 */
import { join } from 'node:path';
import {
  AdamW, assertFiniteStep, atStep, batches, concat, cosineWithWarmup, gradNorm, type ImageDataset, jsonMetadata, loadSafetensors, noGrad, readJsonMetadata, Rng,
  saveImageGrid, saveSafetensors,
} from '../../lib';
import { UsageError } from '../../lib/cli';
import { VQTokenizer, type VQConfig } from '../../models/vq';
import { CHECKPOINT_KINDS, checkpointKind, loadingFrom } from './checkpoints';
import { assertCheckpointMeta } from './checkpoint-meta';

/** The downsampling factors the CLI offers: 28-px digits take 2 or 4, 32-px images also 8. */
export const VQ_DOWNSAMPLES = [2, 4, 8];

/** Channel widths of the tokenizer's log2(downsample) stride-2 stages: 16, 32, 64, … ([16, 32] for 4). */
export function vqHiddenWidths(downsample: number): number[] {
  const levels = Math.log2(downsample);
  if (!Number.isInteger(levels) || levels < 1) throw new Error(`vqHiddenWidths: downsample must be a power of two ≥ 2, got ${downsample}`);
  return Array.from({ length: levels }, (_, l) => 16 << l);
}

export interface VqTrainOptions {
  steps: number;
  batchSize: number;
  lr: number;
  seed: number;
  codebookSize: number;
  codeDim: number;
  hidden: number[];
  downsample: number;
  /** dead-code check period in steps */
  reviveEvery: number;
  onStep?: (step: number, m: { loss: number; recon: number; perplexity: number; usage: number; revived: number }) => void;
}

export interface VqHeldOut {
  /** mean squared error per pixel on the held-out images */
  mse: number;
  /** fraction of the codebook used on the held-out images */
  usage: number;
  perplexity: number;
  /** variance of the held-out pixels: the MSE of the best constant image (a decoder that ignores its codes) */
  pixelVariance: number;
}

/**
 * A tokenizer whose held-out MSE is no better than 80% of the pixel variance has collapsed:
 * its decoder draws (nearly) one constant image whatever the codes say, so every model trained
 * on its codes is scored on noise. Measured: with the demo's recipe some seeds collapse this
 * way within the first hundred steps (MSE ≈ 0.104 on MNIST, the variance of its pixels, against
 * ≈ 0.01 for a working tokenizer). Returns the explanation, or null when the tokenizer works.
 */
export function tokenizerCollapse(held: VqHeldOut): string | null {
  if (held.mse <= 0.8 * held.pixelVariance) return null; // NaN falls through: not a working tokenizer
  return `the tokenizer collapsed: held-out MSE ${held.mse.toFixed(4)} per pixel against a pixel variance of ${held.pixelVariance.toFixed(4)} ` +
    '(a constant image would score that): its decoder ignores the codes; train it again with another --seed or a lower --lr';
}

/** Reconstruction MSE and code usage over a whole dataset, in eval mode. */
export function evaluateVq(vq: VQTokenizer, ds: ImageDataset): VqHeldOut {
  vq.eval();
  const K = vq.config.codebookSize;
  const counts = new Float64Array(K);
  let se = 0;
  let pixels = 0;
  let codes = 0;
  let sum = 0;
  let sumSq = 0;
  noGrad(() => {
    for (const batch of batches(ds, 100)) {
      const indices = vq.encode(batch.images);
      const rec = vq.decode(indices).values();
      const orig = batch.images.values();
      for (let i = 0; i < orig.length; i++) {
        se += (rec[i]! - orig[i]!) ** 2;
        sum += orig[i]!;
        sumSq += orig[i]! ** 2;
      }
      pixels += orig.length;
      for (const k of indices) counts[k] = counts[k]! + 1;
      codes += indices.length;
    }
  });
  vq.train();
  let entropy = 0;
  let used = 0;
  for (const c of counts) {
    if (c === 0) continue;
    used++;
    entropy -= (c / codes) * Math.log(c / codes);
  }
  const mean = sum / pixels;
  return { mse: se / pixels, usage: used / K, perplexity: Math.exp(entropy), pixelVariance: Math.max(0, sumSq / pixels - mean * mean) };
}

/** Train a tokenizer for `train`'s image size and channels. */
export function trainVq(train: ImageDataset, opts: VqTrainOptions): VQTokenizer {
  const [N, C, S] = train.images.shape as [number, number, number, number];
  if (N < opts.batchSize) throw new UsageError(`--batch-size: ${N} training images cannot fill one batch of ${opts.batchSize}`, '--batch-size');
  const vq = new VQTokenizer({
    imageSize: S, channels: C, downsample: opts.downsample, codebookSize: opts.codebookSize, codeDim: opts.codeDim,
    hidden: opts.hidden, reviveEvery: opts.reviveEvery, seed: opts.seed,
  });
  const optimizer = new AdamW(vq.parameters(), { lr: opts.lr, betas: [0.9, 0.95], weightDecay: 0 });
  const schedule = cosineWithWarmup({ warmup: Math.min(50, Math.floor(opts.steps / 10)), total: opts.steps, base: opts.lr, min: opts.lr / 10 });
  const rng = new Rng(opts.seed);
  let step = 0;
  while (step < opts.steps) {
    for (const batch of batches(train, opts.batchSize, rng, { dropLast: true })) {
      if (step >= opts.steps) break;
      optimizer.lr = schedule(step);
      const r = atStep('train-vq', step + 1, () => {
        const out = vq.loss(batch.images);
        optimizer.zeroGrad();
        out.loss.backward();
        return out;
      });
      const loss = r.loss.item();
      // before the update: a diverged step never reaches the weights (lib/optim/finite.ts)
      assertFiniteStep('train-vq', step + 1, { loss, 'gradient norm': gradNorm(vq.parameters()) }, 'lower --lr?');
      optimizer.step();
      step++;
      opts.onStep?.(step, { loss, recon: r.recon.item(), perplexity: r.perplexity, usage: r.usage, revived: r.revived });
    }
  }
  vq.eval();
  return vq;
}

/** PNG: the first `n` held-out images on the top row, their reconstructions below. */
export function saveReconstructions(vq: VQTokenizer, ds: ImageDataset, path: string, n = 16): void {
  const first = batches(ds, Math.min(n, ds.labels.length)).next().value!;
  const rec = noGrad(() => vq.decode(vq.encode(first.images)));
  saveImageGrid(noGrad(() => concat([first.images, rec], 0)), path, { rows: 2, upscale: 2 });
}

/** Save a tokenizer as safetensors with its config (atomic write). */
export function saveVq(path: string, vq: VQTokenizer, extra: Record<string, unknown> = {}): void {
  saveSafetensors(path, vq.stateDict(), jsonMetadata({ kind: 'arra-vq', config: vq.config, ...extra }));
}

/** Load a tokenizer written by {@link saveVq}, in eval mode. */
export function loadVq(path: string): VQTokenizer {
  const file = loadSafetensors(path);
  const header = { metadata: file.metadata, tensors: [...file.raw].map(([name, r]) => ({ name, dtype: r.dtype, shape: r.shape })) };
  const kind = checkpointKind(header);
  if (kind !== 'arra-vq') throw new Error(`${path}: expected ${CHECKPOINT_KINDS['arra-vq']}, found ${kind ? CHECKPOINT_KINDS[kind] : 'no known kind'}`);
  assertCheckpointMeta('arra-vq', header, path);
  const config = readJsonMetadata<VQConfig>(file.metadata, 'config', path);
  const vq = loadingFrom(path, config, () => {
    const v = new VQTokenizer(config);
    v.loadStateDict(file.tensors);
    return v;
  });
  vq.eval();
  return vq;
}

export const VQ_FILE = 'vq.safetensors';
export const vqPathIn = (dir: string): string => join(dir, VQ_FILE);

/** Code indices of every image of a dataset: [N, h·w] row-major. */
export function encodeDataset(vq: VQTokenizer, ds: ImageDataset, batchSize = 200): Int32Array {
  const perImage = vq.gridSize * vq.gridSize;
  const out = new Int32Array(ds.labels.length * perImage);
  let off = 0;
  noGrad(() => {
    for (const batch of batches(ds, batchSize)) {
      const codes = vq.encode(batch.images);
      out.set(codes, off);
      off += codes.length;
    }
  });
  return out;
}
