/** `arra train`: train an AR model (class-, text- or unconditional) — the baseline (--align off) or ARRA. */
import { join } from 'node:path';
import { describeBackend } from '../../lib';
import { rejectUnusedFlags, UsageError } from '../../lib/cli';
import { ARRA_OBJECTIVES, arraConfig, ENCODER_POOLINGS } from '../../models/arra';
import { parametersDigest } from '../../models/encoder';
import { transformerPresets, type TransformerPresetName } from '../../models/presets';
import { checkDataFlags, dataFiles, dataFlags, describeData, loadData } from '../pipeline/datasets';
import { openEncoder } from '../pipeline/encoders';
import { MODEL_PRESETS, modelConfigFor } from '../pipeline/model-config';
import { codesOf, globalFeatures } from '../pipeline/prepare';
import { conditionFlag, textConditioning } from '../pipeline/conditioning';
import type { ConditionSpec } from '../../models/prefix';
import { runTraining } from '../pipeline/run-training';
import { loadVq } from '../pipeline/vq-trainer';
import { checkResumeFile, checkResumeSteps, MODEL_FILE, TRAIN_STATE_FILE } from '../pipeline/ar-trainer';
import { checkTokenizerReads } from '../pipeline/checkpoints';
import { command } from './command';

export const alignFlags = [
  { name: 'align', type: 'enum', choices: ['off', 'hybnext', 'rep'], default: 'hybnext', help: 'alignment: off (baseline), hybnext (every image-token position), rep (first position only)' },
  { name: 'alignEncoder', type: 'string', help: 'frozen encoder whose global feature is aligned to: convnet:<file> or mobilenet[@<px>] (required unless --align off)' },
  { name: 'alignLayer', type: 'int', default: 0, min: 0, help: 'block whose output is aligned (0 = first)' },
  { name: 'lambda', type: 'float', default: 1, min: 0, help: 'weight λ of L_GVA' },
  { name: 'objective', type: 'enum', choices: ARRA_OBJECTIVES, default: 'cosine', help: 'alignment objective: cosine (1 − cos, the paper), mse (raw features, F.mse_loss), mse-normalized (unit vectors, = 2·cosine)' },
  { name: 'projectorHidden', type: 'int', default: 128, min: 1, max: 8192, help: 'hidden width p of the projector' },
  { name: 'alignPooling', type: 'enum', choices: ENCODER_POOLINGS, help: "global feature of the encoder: convnet penultimate (default) | avg (pooled conv map) | both; mobilenet avg (default) | max | both" },
] as const;

export const trainFlags = [
  ...dataFlags,
  { name: 'vq', type: 'string', required: true, help: 'tokenizer checkpoint (from arra train-vq)' },
  ...alignFlags,
  conditionFlag,
  { name: 'preset', type: 'enum', choices: MODEL_PRESETS, default: 'mnist', help: 'transformer size preset' },
  { name: 'steps', type: 'int', default: 400, min: 1, help: 'optimizer steps' },
  { name: 'batchSize', type: 'int', default: 32, min: 1, help: 'sequences per step' },
  { name: 'lr', type: 'float', default: 3e-3, min: 0, help: 'peak learning rate (cosine decay to 1/10 after warm-up)' },
  { name: 'seed', type: 'int', default: 0, help: 'random seed (model init, batches, condition dropping)' },
  { name: 'out', type: 'string', default: join('runs', 'train'), help: 'run folder' },
  { name: 'resume', type: 'bool', help: 'continue the run in --out from its checkpoint' },
  { name: 'checkpointEvery', type: 'int', default: 50, min: 0, help: 'save a checkpoint every N steps (0 = only at the end)' },
  { name: 'anomaly', type: 'bool', help: 'stop at the first op that creates a NaN/Inf from finite inputs, naming it and the step' },
  { name: 'cacheDir', type: 'string', default: join('runs', 'cache'), help: 'folder of feature caches' },
] as const;

/** Flag combinations that single flags cannot express. */
export function checkAlignFlags(f: { align: string; alignEncoder?: string; alignLayer: number; preset?: string }): void {
  if (f.align === 'off') {
    rejectUnusedFlags(f, ['alignEncoder', 'alignLayer', 'lambda', 'objective', 'projectorHidden', 'alignPooling', 'cacheDir'], 'with --align off (the baseline has no alignment loss)');
  }
  if (f.align !== 'off' && !f.alignEncoder) throw new UsageError(`--align-encoder: required with --align ${f.align} (or use --align off for the baseline)`, '--align-encoder');
  const layers = transformerPresets[(f.preset ?? 'mnist') as TransformerPresetName].nLayers;
  if (f.alignLayer >= layers) throw new UsageError(`--align-layer: the '${f.preset ?? 'mnist'}' model has blocks 0..${layers - 1}, got ${f.alignLayer}`, '--align-layer');
}

export const trainCommand = command({
  summary: 'train the AR model: baseline (--align off) or ARRA (--align hybnext|rep)',
  flags: trainFlags,
  check: (f) => {
    checkDataFlags(f);
    checkAlignFlags(f);
  },
  files: (f) => [
    dataFiles(f),
    { flag: '--vq', path: f.vq, checkpoint: 'arra-vq' },
    f.align === 'off' ? undefined : { flag: '--align-encoder', path: f.alignEncoder!, encoder: true },
    f.resume ? { flag: '--resume', path: join(f.out, TRAIN_STATE_FILE), checkpoint: 'arra-train-state' } : undefined,
    { flag: '--out', path: f.out, output: 'dir' },
    // the files the run writes: a folder in the way of one would fail only at the first save
    ...[MODEL_FILE, 'metrics.jsonl', 'loss.svg'].map((name) => ({ flag: '--out', path: join(f.out, name), output: 'file' as const })),
    f.align === 'off' ? undefined : { flag: '--cache-dir', path: f.cacheDir, output: 'dir' },
  ],
  run: async (f) => {
    if (f.resume) checkResumeSteps(join(f.out, TRAIN_STATE_FILE), f.steps);
    console.log(describeBackend());
    const vq = loadVq(f.vq);
    const { train, split } = loadData(f);
    checkTokenizerReads(f.vq, vq, train.images, describeData(f));
    // batches are drawn with replacement, but a batch larger than the data is a mistake (train-vq and train-encoder refuse it too)
    if (train.labels.length < f.batchSize) throw new UsageError(`--batch-size: ${train.labels.length} training images cannot fill one batch of ${f.batchSize}`, '--batch-size');
    const text = f.condition === 'text' ? textConditioning(train, f.seed) : null;
    const condition: ConditionSpec = text?.spec ?? { mode: f.condition };
    if (text) console.log(`text conditioning: ${condition.vocab!.length - 2} words, prompt slot ${condition.promptLen}; e.g. "${text.texts[0]}"`);
    const { config, layout } = modelConfigFor(f.preset, vq, train.classNames.length, condition);
    const encoder = f.align === 'off' ? null : openEncoder(f.alignEncoder!, '--align-encoder', f.alignPooling);
    if (f.resume) checkResumeFile(join(f.out, TRAIN_STATE_FILE), config, { mode: f.align, alignLayer: f.alignLayer, projectorHidden: f.projectorHidden, encoderName: encoder?.name ?? 'none' });
    console.log(`encoding ${train.labels.length} images with the tokenizer (${vq.gridSize}×${vq.gridSize} codes)…`);
    const codes = codesOf(vq, train);
    const features = encoder ? globalFeatures(encoder, train, describeData(f), f.cacheDir, console.log, split) : null;
    const arra = arraConfig({
      encoderName: encoder?.name ?? 'none', encoderDigest: encoder ? parametersDigest(encoder.parameters()) : undefined,
      pooling: encoder ? (f.alignPooling ?? (f.alignEncoder!.startsWith('convnet:') ? 'penultimate' : 'avg')) : undefined, mode: f.align, alignLayer: f.alignLayer, lambda: f.lambda,
      objective: f.objective, projectorHidden: f.projectorHidden,
    });
    const result = await runTraining(
      { codes, labels: train.labels, globalFeatures: features, layout, numTokens: vq.gridSize * vq.gridSize, classNames: train.classNames, split, condition, prompts: text?.prompts },
      {
        label: `train ${f.align}${f.condition === 'class' ? '' : ` (${f.condition})`}`, model: config, arra, steps: f.steps, batchSize: f.batchSize, lr: f.lr, seed: f.seed,
        outDir: f.out, checkpointEvery: f.checkpointEvery, resume: f.resume, anomaly: f.anomaly,
      },
    );
    const last = result.history[result.history.length - 1];
    console.log(`step ${result.step}: L_AR ${last?.lossAR.toFixed(4)}${f.align !== 'off' ? `, L_GVA ${last?.lossGVA.toFixed(4)}` : ''}`);
    console.log(`wrote ${join(f.out, 'model.safetensors')} (inference), train-state.safetensors (resume), metrics.jsonl, loss.svg`);
  },
});
