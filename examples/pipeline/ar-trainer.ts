/**
 * Training the autoregressive model, baseline or ARRA: the loop behind `arra train` and the
 * demo. One function, {@link trainAr}, so that the baseline and ARRA runs differ only in
 * `arra.mode` (the paper's method, §3: ARRA changes the training loss only, not the architecture or the sampler).
 *
 * Per step: draw a batch (seeded) → build its sequences in the data's conditioning mode
 * ({@link conditionedSequences}: `[class]`, `[prompt]` or `[null]`, then `[begin-image] z_1..z_N`) →
 * L_ARRA = L_AR + λ·L_GVA (models/arra.ts) → backward → clip the gradient norm to 1 →
 * AdamW with betas (0.9, 0.95), weight decay 0.05 on ≥ 2-D weights only (LlamaGen's recipe) → log a JSONL line.
 *
 * Checkpoints (`train-state.safetensors`) hold the model, the projector, the optimizer's
 * moments and the data generator's state, written atomically, so `--resume` continues with
 * exactly the losses an uninterrupted run would have produced.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  AdamW, assertFiniteStep, atStep, clipGradNorm, cosineWithWarmup, indexSelect, noDecayParameters, noGrad, Rng, streamSeed, type SplitRecord, type Tensor,
} from '../../lib';
import { ensureDir, loadSafetensors, readJsonMetadata, readSafetensorsHeader, saveSafetensors, jsonMetadata, type SafetensorsFile, type SafetensorsHeader } from '../../lib/io';
import { assertCheckpointMeta } from './checkpoint-meta';
import { UsageError } from '../../lib/cli';
import { arraLoss, checkArraConfig, inferenceStateDict, type ArraConfig } from '../../models/arra';
import { Projector } from '../../models/projector';
import { prefixLength, type ConditionSpec } from '../../models/prefix';
import { buildClassSequences, buildTextSequences, buildUnconditionalSequences, type SequenceBatch, type VocabLayout } from '../../models/sequence';
import { Transformer, type TransformerConfig } from '../../models/transformer';
import { loadingFrom } from './checkpoints';

/** What the model learns from: image codes, their classes and the frozen encoder's features. */
export interface ArTrainData {
  /** [N, numTokens] code indices from the VQ tokenizer, row-major */
  codes: Int32Array;
  /** [N] class ids */
  labels: Int32Array;
  /** [N, D_enc] f_GF of every image (precomputed, no gradient); unused when arra.mode is 'off' */
  globalFeatures: Tensor | null;
  layout: VocabLayout;
  numTokens: number;
  /** readable class names (saved with the model, so `arra sample` can take prompts by name) */
  classNames?: string[];
  /** how the data was split (lib/data/split.ts): saved so `arra eval` can refuse an overlapping held-out set */
  split?: SplitRecord;
  /** how the sequences are conditioned (default class; saved with the model) */
  condition?: ConditionSpec;
  /** text mode: [N] each image's prompt as word ids (at most condition.promptLen each) */
  prompts?: Int32Array[];
}

/**
 * One batch of sequences in the data's conditioning mode. class: `[class] [begin] z…`;
 * text: `[pad… prompt] [begin] z…`; both drop the condition to the unconditional prefix with
 * probability `dropCondProb`. none: `[null] [begin] z…` always (nothing to drop).
 */
export function conditionedSequences(data: ArTrainData, rows: Int32Array, codes: Int32Array, dropCondProb: number, rng: Rng): SequenceBatch {
  const mode = data.condition?.mode ?? 'class';
  if (mode === 'none') return buildUnconditionalSequences(data.layout, codes, rows.length);
  if (mode === 'text') {
    const prompts = data.prompts;
    if (!prompts) throw new Error('trainAr: text conditioning needs data.prompts (word ids per image), got none');
    return buildTextSequences(data.layout, codes, Array.from(rows, (r) => prompts[r]!), { promptLen: data.condition!.promptLen!, dropCondProb, rng });
  }
  return buildClassSequences(data.layout, codes, Int32Array.from(rows, (r) => data.labels[r]!), { dropCondProb, rng });
}

export interface ArTrainOptions {
  model: TransformerConfig;
  arra: ArraConfig;
  steps: number;
  batchSize: number;
  /** peak learning rate (after warm-up) */
  lr: number;
  warmup?: number;
  weightDecay?: number;
  gradClip?: number;
  /** probability of replacing the class by the null condition (classifier-free guidance) */
  dropCondProb?: number;
  seed: number;
  /** run folder: train-state.safetensors, model.safetensors */
  outDir: string;
  /** save train-state every this many steps (0: only at the end) */
  checkpointEvery?: number;
  /** continue from outDir/train-state.safetensors */
  resume?: boolean;
  /** called after every step with its metrics (progress display, JSONL log) */
  onStep?: (m: StepMetrics) => void;
  /** polled after every step; when it returns true the loop saves and stops (Ctrl-C) */
  shouldStop?: () => boolean;
  /** called every `evalEvery` steps with the model (e.g. FID against step) */
  evalEvery?: number;
  onEval?: (step: number, model: Transformer) => void;
  /**
   * Called with each batch before its forward pass (the model still holds the weights the
   * batch will see): `rows` are the drawn image indices, `tokens` the [B, T] input sequences.
   * `arra experiment`'s pairing test reads the first batch and the initial weights here.
   */
  onBatch?: (step: number, batch: { rows: Int32Array; tokens: Int32Array }, model: Transformer) => void;
}

/** One line of metrics.jsonl. */
export interface StepMetrics {
  step: number;
  loss: number;
  lossAR: number;
  lossGVA: number;
  lr: number;
  gradNorm: number;
  tokensPerSec: number;
  alignedPositions: number;
}

export interface ArTrainResult {
  model: Transformer;
  projector: Projector | null;
  /** steps completed in total (including those before a resume) */
  step: number;
  /** losses of the steps this call ran */
  history: StepMetrics[];
  /** true when stopped early by shouldStop */
  interrupted: boolean;
}

export const TRAIN_STATE_FILE = 'train-state.safetensors';
export const MODEL_FILE = 'model.safetensors';

/**
 * Train (or resume) an AR model; see the file comment for the recipe. Asynchronous only so
 * that it yields to the event loop between steps: a signal handler (Ctrl-C) can run only then.
 */
export async function trainAr(data: ArTrainData, opts: ArTrainOptions): Promise<ArTrainResult> {
  checkArraConfig(opts.arra, opts.model.nLayers);
  const N = data.labels.length;
  if (data.codes.length !== N * data.numTokens) {
    throw new Error(`trainAr: ${data.codes.length} codes do not match ${N} images × ${data.numTokens} tokens`);
  }
  const aligned = opts.arra.mode !== 'off';
  if (aligned && data.globalFeatures === null) throw new Error(`trainAr: alignment mode '${opts.arra.mode}' needs global features, got none`);
  if (data.condition?.mode === 'text' && data.prompts?.length !== N) {
    throw new Error(`trainAr: text conditioning needs one prompt per image: ${N} images, ${data.prompts?.length ?? 0} prompts`);
  }
  const prefixLen = prefixLength(data.condition ?? { mode: 'class' });
  if (opts.model.rope === '2d' && (opts.model.prefixLen ?? 2) !== prefixLen) { // 2-D RoPE places the grid after the prefix
    throw new Error(`trainAr: the model's prefixLen is ${opts.model.prefixLen ?? 2} but '${data.condition?.mode}' sequences have ${prefixLen} positions before the image`);
  }

  const model = new Transformer({ ...opts.model, seed: opts.seed });
  const encoderDim = data.globalFeatures?.shape[1] ?? 0;
  // The projector exists only for training with alignment (§3.2); the baseline never builds it.
  const projector = aligned
    ? new Projector(opts.model.dModel, encoderDim, { hidden: opts.arra.projectorHidden, rng: new Rng(streamSeed(opts.seed, 1)) })
    : null;
  const params = [...model.parameters(), ...(projector?.parameters() ?? [])];
  const optimizer = new AdamW(params, { lr: opts.lr, betas: [0.9, 0.95], weightDecay: opts.weightDecay ?? 0.05, noDecay: noDecayParameters(params) });
  const schedule = cosineWithWarmup({ warmup: opts.warmup ?? Math.min(50, Math.floor(opts.steps / 10)), total: opts.steps, base: opts.lr, min: opts.lr * 0.1 });
  const rng = new Rng(streamSeed(opts.seed, 2)); // batches and condition dropping
  let step = 0;

  ensureDir(opts.outDir);
  const statePath = join(opts.outDir, TRAIN_STATE_FILE);
  if (opts.resume) {
    if (!existsSync(statePath)) throw new UsageError(`--resume: no ${TRAIN_STATE_FILE} in ${opts.outDir} (nothing to resume; drop --resume to start a new run)`, '--resume');
    step = loadTrainState(statePath, model, projector, optimizer, rng, opts);
  }

  const history: StepMetrics[] = [];
  let interrupted = false;
  const B = opts.batchSize;
  while (step < opts.steps) {
    const t0 = performance.now();
    // A batch of B images drawn with replacement (seeded): resuming needs only the rng state.
    const rows = Int32Array.from({ length: B }, () => rng.int(N));
    const codes = new Int32Array(B * data.numTokens);
    rows.forEach((r, b) => codes.set(data.codes.subarray(r * data.numTokens, (r + 1) * data.numTokens), b * data.numTokens));
    const seq = conditionedSequences(data, rows, codes, opts.dropCondProb ?? 0.1, rng);
    opts.onBatch?.(step + 1, { rows, tokens: seq.tokens }, model);

    const out = atStep('train', step + 1, () => {
      const globalFeatures = data.globalFeatures ? noGrad(() => indexSelect(data.globalFeatures!, 0, rows)) : null;
      const o = arraLoss(model, projector, { ...seq, globalFeatures: globalFeatures as Tensor }, opts.arra);
      optimizer.zeroGrad();
      o.loss.backward();
      return o;
    });
    const loss = out.loss.item();
    const gradNorm = clipGradNorm(params, opts.gradClip ?? 1.0); // the norm before clipping
    // A finite loss can still have an infinite gradient (--lambda 1e38): check both before the update.
    assertFiniteStep('train', step + 1, { loss, 'gradient norm': gradNorm }, 'run with --anomaly to name the op that produced it');
    optimizer.lr = schedule(step);
    optimizer.step();
    step++;

    const seconds = (performance.now() - t0) / 1000;
    const m: StepMetrics = {
      step, loss, lossAR: out.lossAR.item(), lossGVA: out.lossGVA.item(), lr: optimizer.lr, gradNorm,
      tokensPerSec: (B * seq.shape[1]) / seconds, alignedPositions: out.alignedPositions,
    };
    history.push(m);
    opts.onStep?.(m);
    if (opts.evalEvery && opts.onEval && step % opts.evalEvery === 0) opts.onEval(step, model);
    const every = opts.checkpointEvery ?? 0;
    if (every > 0 && step % every === 0 && step < opts.steps) saveTrainState(statePath, model, projector, optimizer, rng, step, opts, data);
    await new Promise<void>((resolve) => setImmediate(resolve)); // let a pending SIGINT handler run
    if (opts.shouldStop?.()) {
      interrupted = true;
      break;
    }
  }
  saveTrainState(statePath, model, projector, optimizer, rng, step, opts, data);
  saveInferenceModel(join(opts.outDir, MODEL_FILE), model, data, opts, step);
  return { model, projector, step, history, interrupted };
}

/** Everything needed to resume, in one atomically written file. */
function saveTrainState(path: string, model: Transformer, projector: Projector | null, optimizer: AdamW, rng: Rng, step: number, opts: ArTrainOptions, data: ArTrainData): void {
  const tensors = new Map<string, Tensor>();
  for (const [k, t] of model.stateDict()) tensors.set(`model.${k}`, t);
  for (const [k, t] of projector?.stateDict() ?? []) tensors.set(`projector.${k}`, t);
  const optState = optimizer.stateDict();
  for (const [k, t] of optState.tensors) tensors.set(`optim.${k}`, t);
  saveSafetensors(path, tensors, jsonMetadata({
    kind: 'arra-train-state', step, model: opts.model, arra: opts.arra, seed: opts.seed, split: data.split ?? null,
    optimizer: { kind: optState.kind, step: optState.step, hyper: optState.hyper }, rng: rng.getState(),
  }));
}

/**
 * The settings that decide the shapes of the saved tensors must match the run that resumes:
 * another preset or alignment mode is a usage error naming the file, what it was made with and
 * what differs.
 */
type ShapeSettings = Pick<ArraConfig, 'mode' | 'projectorHidden' | 'alignLayer' | 'encoderName'>;

function checkResumable(path: string, saved: { model: TransformerConfig; arra: ShapeSettings }, opts: { model: TransformerConfig; arra: ShapeSettings }): void {
  const differs: string[] = [];
  const keys = new Set([...Object.keys(saved.model), ...Object.keys(opts.model)]) as Set<keyof TransformerConfig>;
  for (const k of keys) {
    if (JSON.stringify(saved.model[k]) !== JSON.stringify(opts.model[k])) differs.push(`${k}: checkpoint ${JSON.stringify(saved.model[k])}, now ${JSON.stringify(opts.model[k])}`);
  }
  for (const k of ['mode', 'projectorHidden', 'alignLayer', 'encoderName'] as const) {
    if (saved.arra[k] !== opts.arra[k]) differs.push(`arra.${k}: checkpoint ${JSON.stringify(saved.arra[k])}, now ${JSON.stringify(opts.arra[k])}`);
  }
  if (differs.length > 0) {
    throw new UsageError(
      `--resume: ${path} was made with model ${JSON.stringify(saved.model)} and alignment ${JSON.stringify(saved.arra)}; ` +
      `this run differs in ${differs.join('; ')} (use the same --preset and alignment flags, or another --out)`, '--resume',
    );
  }
}

/**
 * Check, from the header alone, that the train state at `path` can be resumed with this model
 * config and these alignment settings: what `arra train --resume` runs before it tokenizes
 * anything. Throws a UsageError naming the file, the config it was made with and what differs.
 */
export function checkResumeFile(path: string, model: TransformerConfig, arra: ShapeSettings): void {
  const header = readSafetensorsHeader(path);
  const { metadata } = header;
  assertCheckpointMeta('arra-train-state', header, path);
  checkResumable(path, { model: readJsonMetadata<TransformerConfig>(metadata, 'model', path), arra: readJsonMetadata<ArraConfig>(metadata, 'arra', path) }, { model, arra });
}

/**
 * `--resume` continues to `steps`: a checkpoint already at or past it leaves nothing to train
 * (and would otherwise rewrite the run's files with an empty history). Header only.
 */
export function checkResumeSteps(path: string, steps: number): void {
  const raw = readSafetensorsHeader(path).metadata.step;
  const done = raw === undefined ? NaN : Number(JSON.parse(raw));
  if (Number.isInteger(done) && done >= steps) {
    throw new UsageError(`--steps: ${path} is already at step ${done}, so --steps ${steps} leaves nothing to train; pass a larger --steps to continue it`, '--steps');
  }
}

function loadTrainState(path: string, model: Transformer, projector: Projector | null, optimizer: AdamW, rng: Rng, opts: ArTrainOptions): number {
  const file = loadSafetensors(path);
  requireKind(file.metadata, path, 'arra-train-state', 'a training state');
  assertCheckpointMeta('arra-train-state', headerOf(file), path);
  const saved = { model: readJsonMetadata<TransformerConfig>(file.metadata, 'model', path), arra: readJsonMetadata<ArraConfig>(file.metadata, 'arra', path) };
  checkResumable(path, saved, opts);
  const part = (prefix: string): Map<string, Tensor> => withPrefix(file.tensors, prefix);
  loadingFrom(path, saved.model, () => model.loadStateDict(part('model.')));
  if (projector) loadingFrom(path, saved.arra, () => projector.loadStateDict(part('projector.')));
  const opt = readJsonMetadata<{ kind: string; step: number; hyper: Record<string, number> }>(file.metadata, 'optimizer', path);
  optimizer.loadStateDict({ ...opt, tensors: part('optim.') });
  rng.setState(readJsonMetadata(file.metadata, 'rng', path));
  return readJsonMetadata<number>(file.metadata, 'step', path);
}

/** The inference checkpoint: transformer weights only — the projector is training-only (§3.2). */
function saveInferenceModel(path: string, model: Transformer, data: ArTrainData, opts: ArTrainOptions, step: number): void {
  saveSafetensors(path, inferenceStateDict(model), jsonMetadata({
    kind: 'arra-transformer', config: model.config, layout: data.layout, classNames: data.classNames ?? [], arra: opts.arra, step,
    seed: opts.seed, split: data.split ?? null,
    condition: data.condition ?? { mode: 'class' },
  }));
}

/** Load an inference checkpoint written by {@link trainAr}. */
export function loadArModel(path: string): {
  model: Transformer; layout: VocabLayout; arra: ArraConfig; step: number; classNames: string[]; condition: ConditionSpec;
  /** the training split, when the checkpoint records one; the training seed, when recorded */
  split?: SplitRecord; seed?: number;
} {
  const file = loadSafetensors(path);
  requireKind(file.metadata, path, 'arra-transformer', 'a transformer checkpoint');
  assertCheckpointMeta('arra-transformer', headerOf(file), path);
  const config = readJsonMetadata<TransformerConfig>(file.metadata, 'config', path);
  const model = loadingFrom(path, config, () => {
    const m = new Transformer(config);
    m.loadStateDict(file.tensors);
    return m;
  });
  const layout = readJsonMetadata<VocabLayout>(file.metadata, 'layout', path);
  const names = readJsonMetadata<string[]>(file.metadata, 'classNames', path);
  return {
    model, layout,
    arra: readJsonMetadata<ArraConfig>(file.metadata, 'arra', path), step: readJsonMetadata<number>(file.metadata, 'step', path),
    // a model trained without class names (a library call) answers to its class ids: '0', '1', …
    classNames: names.length === 0 && layout.numClasses > 0 ? Array.from({ length: layout.numClasses }, (_, i) => String(i)) : names,
    split: optionalMetadata<SplitRecord>(file.metadata, 'split'), seed: optionalMetadata<number>(file.metadata, 'seed'),
    // Checkpoints from before conditioning modes existed are class-conditional.
    condition: file.metadata.condition === undefined ? { mode: 'class' } : readJsonMetadata<ConditionSpec>(file.metadata, 'condition', path),
  };
}

/** The tensors whose names start with `prefix` (`model.`, `projector.`, `optim.`), with the prefix cut off. */
function withPrefix(tensors: Map<string, Tensor>, prefix: string): Map<string, Tensor> {
  return new Map([...tensors].filter(([k]) => k.startsWith(prefix)).map(([k, t]) => [k.slice(prefix.length), t]));
}

/** Throw unless the file's recorded `kind` is `kind` (`what` names it in the message). */
function requireKind(metadata: Record<string, string>, path: string, kind: string, what: string): void {
  const found = readJsonMetadata<string>(metadata, 'kind', path);
  if (found !== kind) throw new Error(`${path}: expected ${what}, found '${found}'`);
}

/** The header view of a loaded file (names, dtypes, shapes), for the metadata checks. */
function headerOf(file: SafetensorsFile): SafetensorsHeader {
  return { metadata: file.metadata, tensors: [...file.raw].map(([name, r]) => ({ name, dtype: r.dtype, shape: r.shape })) };
}

/** A JSON metadata entry that older checkpoints may lack (undefined when absent or null). */
function optionalMetadata<T>(metadata: Record<string, string>, key: string): T | undefined {
  const raw = metadata[key];
  if (raw === undefined) return undefined;
  const v = JSON.parse(raw) as T | null;
  return v === null ? undefined : v;
}

/** Model + projector + settings from a run's train-state (what `arra explain` needs: the projector too). */
export function loadTrainingRun(path: string): { model: Transformer; projector: Projector | null; arra: ArraConfig; step: number; split?: SplitRecord } {
  const file = loadSafetensors(path);
  requireKind(file.metadata, path, 'arra-train-state', 'a training state');
  assertCheckpointMeta('arra-train-state', headerOf(file), path);
  const config = readJsonMetadata<TransformerConfig>(file.metadata, 'model', path);
  const arra = readJsonMetadata<ArraConfig>(file.metadata, 'arra', path);
  const part = (prefix: string): Map<string, Tensor> => withPrefix(file.tensors, prefix);
  const model = loadingFrom(path, config, () => {
    const m = new Transformer(config);
    m.loadStateDict(part('model.'));
    return m;
  });
  let projector: Projector | null = null;
  const proj = part('projector.');
  if (proj.size > 0) {
    // fc2.weight is [D_enc, p] (Linear stores [out, in]).
    const fc2 = proj.get('fc2.weight');
    if (!fc2) throw new Error(`${path}: projector tensors lack 'fc2.weight'`);
    const encoderDim = fc2.shape[0]!;
    projector = loadingFrom(path, arra, () => {
      const p = new Projector(config.dModel, encoderDim, { hidden: arra.projectorHidden });
      p.loadStateDict(proj);
      return p;
    });
  }
  return { model, projector, arra, step: readJsonMetadata<number>(file.metadata, 'step', path), split: optionalMetadata<SplitRecord>(file.metadata, 'split') };
}
