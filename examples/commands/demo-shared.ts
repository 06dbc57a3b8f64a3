/**
 * Steps 1–2 of `arra demo` as jobs: the VQ tokenizer and the three ConvNets are independent
 * trainings, so with `--jobs 2` the tokenizer trains in one worker while the networks train in
 * the other (demo-worker.ts). Each job trains, saves its weights under the demo's folder and
 * returns what the report needs; the demo then reads every stage back from disk, with one job
 * at a time too, so both ways run steps 3–5 on the same bytes.
 */
import { join } from 'node:path';
import type { ImageDataset, SplitRecord } from '../../lib';
import { createProgress } from '../../lib/cli';
import type { ConvNetArch } from '../../models/encoder';
import { trainConvNet } from '../pipeline/encoder-trainer';
import { evaluateVq, saveReconstructions, saveVq, trainVq, type VqHeldOut } from '../pipeline/vq-trainer';
import { demoFiles, type DemoSpec } from './demo-models';

/** Images per step when the demo trains its ConvNets. */
export const ENCODER_BATCH = 64;

/** One shared stage: the tokenizer, or one ConvNet (file, seed, widths, feature size, architecture). */
export type SharedJob =
  | { kind: 'vq' }
  | { kind: 'net'; file: string; seed: number; width: number; featureDim: number; arch: ConvNetArch };

/** What a shared stage hands back (its weights are on disk), with its wall time. */
export type SharedResult = ({ kind: 'vq'; heldOut: VqHeldOut } | { kind: 'net'; testAccuracy: number }) & { seconds: number };

/** The demo's three ConvNets: the prompt-accuracy classifier, the FID/KID network and the in-project alignment encoder. */
export function demoNets(out: string): { classifier: SharedJob; fidNet: SharedJob; alignNet: SharedJob } {
  const files = demoFiles(out);
  return {
    classifier: { kind: 'net', file: files.classifier, seed: 100, width: 16, featureDim: 64, arch: 'strided' },
    // a different architecture from the alignment encoder: max pooling instead of strided convolutions
    fidNet: { kind: 'net', file: files.fidNet, seed: 300, width: 16, featureDim: 64, arch: 'maxpool' },
    alignNet: { kind: 'net', file: files.alignNet, seed: 200, width: 24, featureDim: 128, arch: 'strided' },
  };
}

/** Train one shared stage and save it under `spec.out`. */
export function runSharedJob(spec: DemoSpec, data: { train: ImageDataset; test: ImageDataset; split: SplitRecord }, job: SharedJob): SharedResult {
  const p = spec.sizes;
  const { train, test, split } = data;
  const t0 = performance.now();
  if (job.kind === 'vq') {
    const bar = createProgress({ label: 'train-vq', total: p.vqSteps });
    const v = trainVq(train, {
      steps: p.vqSteps, batchSize: p.vqBatch, lr: 2e-3, seed: 0, codebookSize: p.codebook, codeDim: 8, hidden: [16, 32],
      downsample: 4, reviveEvery: 50, onStep: (s, m) => bar.update(s, { loss: m.loss }),
    });
    bar.stop();
    const heldOut = evaluateVq(v, test);
    saveVq(demoFiles(spec.out).vq, v, { heldOut, split });
    saveReconstructions(v, test, join(spec.out, 'vq', 'reconstructions.png'));
    return { kind: 'vq', heldOut, seconds: (performance.now() - t0) / 1000 };
  }
  const r = trainConvNet(train, test, job.file, {
    epochs: p.encoderEpochs, batchSize: ENCODER_BATCH, lr: 2e-3, seed: job.seed, widths: [job.width, 2 * job.width], featureDim: job.featureDim,
    datasetName: spec.dataset, arch: job.arch, split,
  });
  return { kind: 'net', testAccuracy: r.testAccuracy, seconds: (performance.now() - t0) / 1000 };
}
