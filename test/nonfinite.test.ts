/**
 * No NaN or ±Infinity ever reaches a checkpoint: every trainer stops on a non-finite loss or
 * gradient norm naming the step, the optimizer refuses non-finite gradients, the safetensors
 * writer refuses non-finite tensors, loading refuses them, and anomaly mode names the op that
 * *created* a non-finite value (not the causal mask's intended −∞).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { runCli } from './cli-run';
import {
  AdamW, AnomalyError, assertFiniteStep, createdNonFinite, fidFromFeatures, NonFiniteStepError, Rng, setAnomalyMode, setBackend, SGD, tensor,
  Tensor, type ImageDataset,
} from '../lib';
import { loadSafetensors, saveSafetensors } from '../lib/io';
import { readMetrics } from '../lib/cli';
import { arraConfig, arraLoss } from '../models/arra';
import { transformerPresets } from '../models/presets';
import { buildClassSequences, classConditionalLayout } from '../models/sequence';
import { Transformer, type TransformerConfig } from '../models/transformer';
import { trainAr, TRAIN_STATE_FILE, type ArTrainData, type ArTrainOptions } from '../examples/pipeline/ar-trainer';
import { runTraining } from '../examples/pipeline/run-training';
import { trainConvNet } from '../examples/pipeline/encoder-trainer';
import { loadConvNet } from '../models/encoder/convnet';
import { trainVq } from '../examples/pipeline/vq-trainer';

setBackend('ref');
const dir = mkdtempSync(join(tmpdir(), 'arra-nonfinite-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

/** 32 random 8×8 grey images in 2 classes. */
function tinyImages(seed: number): ImageDataset {
  const rng = new Rng(seed);
  const N = 32;
  return {
    images: tensor(Float32Array.from({ length: N * 64 }, () => rng.uniform()), [N, 1, 8, 8]),
    labels: Int32Array.from({ length: N }, (_, i) => i % 2), classNames: ['a', 'b'], source: 'test',
  };
}

t.test('assertFiniteStep names the quantity and the step', async (t) => {
  assertFiniteStep('x', 3, { loss: 1, 'gradient norm': 2 });
  const err = t.throws(() => assertFiniteStep('train', 7, { loss: 0.5, 'gradient norm': Infinity }, 'hint')) as NonFiniteStepError;
  t.ok(err instanceof NonFiniteStepError);
  t.equal(err.step, 7);
  t.equal(err.quantity, 'gradient norm');
  t.match(err.message, /^train: the gradient norm is Infinity at step 7; the update was not applied.*\(hint\)$/);
});

t.test('the optimizer refuses a non-finite gradient before changing anything', async (t) => {
  for (const make of [(p: Tensor[]) => new AdamW(p, { lr: 0.1 }), (p: Tensor[]) => new SGD(p, { lr: 0.1, momentum: 0.9 })]) {
    const w = tensor([1, 2, 3], undefined, { requiresGrad: true });
    w.name = 'w';
    const v = tensor([4], undefined, { requiresGrad: true });
    v.name = 'v';
    const opt = make([v, w]);
    v.grad = tensor([1]);
    w.grad = tensor([0, NaN, 0]);
    t.throws(() => opt.step(), /\.step 1: the gradient of 'w' holds NaN at flat index 1; nothing was updated/);
    t.same([...v.values(), ...w.values()], [4, 1, 2, 3], 'every parameter unchanged (v, whose gradient was fine, too)');
    t.equal(opt.stepCount, 0);
  }
  // An update that overflows float32: θ = 3e38 minus lr·(−1)·… with SGD lr 1e38
  const big = tensor([3e38], undefined, { requiresGrad: true });
  const sgd = new SGD([big], { lr: 1e38 });
  big.grad = tensor([-1]);
  t.throws(() => sgd.step(), /SGD\.step 1: the update made '0' Infinity at flat index 0 \(is lr = 1e\+38 too large\?\)/);
});

t.test('safetensors: the writer refuses non-finite tensors, the reader refuses them naming file and tensor', async (t) => {
  const file = join(dir, 'w.safetensors');
  saveSafetensors(file, { good: tensor([1, 2]) });
  const before = readFileSync(file);
  t.throws(() => saveSafetensors(file, { good: tensor([1, 2]), bad: tensor([0, 0, -Infinity]) }),
    /saveSafetensors .*w\.safetensors: refusing to write a non-finite checkpoint: tensor 'bad' \(shape \[3\]\) holds -Infinity at flat index 2/);
  t.same(readFileSync(file), before, 'the previous file is intact');
  t.notOk(existsSync(`${file}.tmp-${process.pid}`), 'no temporary file left');
  // F16 raw entries are floats too: 0x7e00 is a half-precision NaN
  t.throws(() => saveSafetensors(file, { h: { dtype: 'F16', shape: [1], data: Uint16Array.from([0x7e00]) } }), /tensor 'h' .*holds NaN/);

  const poisoned = join(dir, 'poisoned.safetensors');
  saveSafetensors(poisoned, { 'fc.weight': tensor([1, NaN]) }, {}, { allowNonFinite: true });
  t.throws(() => loadSafetensors(poisoned), /safetensors .*poisoned\.safetensors: tensor 'fc\.weight' \(shape \[2\]\) holds NaN at flat index 1; weights must be finite/);
  t.ok(Number.isNaN(loadSafetensors(poisoned, { allowNonFinite: true }).tensors.get('fc.weight')!.values()[1]!), 'opt-in reads it');
});

t.test('train-encoder --lr 1e30 stops naming the step and writes no checkpoint', async (t) => {
  const ds = tinyImages(1);
  const path = join(dir, 'convnet.safetensors');
  const opts = { epochs: 4, batchSize: 8, lr: 1e30, seed: 0, widths: [4, 8] as [number, number], featureDim: 8, datasetName: 'test' };
  const err = t.throws(() => trainConvNet(ds, ds, path, opts)) as Error;
  t.ok(err instanceof NonFiniteStepError, `a NonFiniteStepError (${err.message})`);
  t.match(err.message, /^train-encoder: the (loss|gradient norm) is (NaN|-?Infinity) at step \d+/);
  t.ok((err as NonFiniteStepError).step >= 2, 'the first step (finite, huge update) went through');
  t.notOk(existsSync(path), 'no checkpoint was written');
  // and a healthy run does write one, all finite
  trainConvNet(ds, ds, path, { ...opts, epochs: 1, lr: 1e-3 });
  t.ok(loadConvNet(path).net !== undefined, 'healthy run: a finite checkpoint that loads');
  // one NaN weight: the model loader refuses it, naming the file and the tensor
  const file = loadSafetensors(path);
  const [name, w] = [...file.tensors].at(-1)!;
  w.nd.data[0] = NaN;
  const poisoned = join(dir, 'poisoned-convnet.safetensors');
  saveSafetensors(poisoned, file.tensors, file.metadata, { allowNonFinite: true });
  t.throws(() => loadConvNet(poisoned), new RegExp(`poisoned-convnet\\.safetensors: tensor '${name.replace('.', '\\.')}' .*holds NaN at flat index 0`));
});

t.test('train-vq with an absurd learning rate stops naming the step', async (t) => {
  const ds = tinyImages(2);
  const err = t.throws(() => trainVq(ds, { steps: 30, batchSize: 8, lr: 1e30, seed: 0, codebookSize: 8, codeDim: 4, hidden: [4, 8], downsample: 4, reviveEvery: 0 })) as Error;
  t.ok(err instanceof NonFiniteStepError, `a NonFiniteStepError (${err.message})`);
  t.match(err.message, /^train-vq: the (loss|gradient norm) is (NaN|-?Infinity) at step \d+/);
});

// ----- the AR trainer: a finite loss with an infinite gradient norm ------------------------

const layout = classConditionalLayout(16, 3);
const rng = new Rng(3);
const N = 8;
const arData: ArTrainData = {
  codes: Int32Array.from({ length: N * 4 }, () => rng.int(16)), labels: Int32Array.from({ length: N }, () => rng.int(3)),
  globalFeatures: tensor(Float32Array.from({ length: N * 5 }, () => rng.normal()), [N, 5]), layout, numTokens: 4,
};
const arOpts = (outDir: string, lambda: number): ArTrainOptions => ({
  model: transformerPresets.tiny as ArTrainOptions['model'], arra: arraConfig({ encoderName: 't', projectorHidden: 4, lambda }),
  steps: 6, batchSize: 4, lr: 1e-3, seed: 2, outDir,
});

/**
 * A finite step-2 checkpoint in `out` whose next step has a finite loss but overflowing
 * gradients at λ = 1e33: the projector's output is shrunk to ~1e-15. The cosine objective is
 * scale-invariant, so the loss stays finite, but ∂cos/∂p grows like 1/max(‖p‖‖f‖, ε).
 */
async function overflowingCheckpoint(out: string): Promise<void> {
  await trainAr(arData, { ...arOpts(out, 1), steps: 2 });
  const state = loadSafetensors(join(out, TRAIN_STATE_FILE));
  const scaled = new Map(state.tensors);
  scaled.set('projector.fc2.weight', state.tensors.get('projector.fc2.weight')!.mul(1e-15));
  scaled.set('projector.fc2.bias', state.tensors.get('projector.fc2.bias')!.mul(0));
  saveSafetensors(join(out, TRAIN_STATE_FILE), scaled, state.metadata);
}

t.test('train: a finite loss with a non-finite gradient norm stops, logs the step, keeps the last good checkpoint', async (t) => {
  const out = join(dir, 'gradnorm');
  await overflowingCheckpoint(out);
  const good = readFileSync(join(out, TRAIN_STATE_FILE));
  const err = await runTraining(arData, { ...arOpts(out, 1e33), resume: true, label: 'gradnorm' }).then(() => null, (e: unknown) => e as Error);
  t.ok(err instanceof NonFiniteStepError, `a NonFiniteStepError (${err?.message})`);
  const e = err as NonFiniteStepError;
  t.equal(e.step, 3, 'the first step after the resume');
  t.equal(e.quantity, 'gradient norm');
  t.ok(Number.isFinite(e.values.loss!), `the loss itself was finite (${e.values.loss})`);
  t.same(readFileSync(join(out, TRAIN_STATE_FILE)), good, 'train-state.safetensors is the step-2 checkpoint, byte for byte');
  const last = readMetrics(join(out, 'metrics.jsonl')).at(-1)!;
  t.equal(last.step, 3);
  t.equal(last.diverged, 'gradient norm');
  t.ok(!Number.isFinite(last['gradient norm'] as number), `the diverging step is in metrics.jsonl with its norm (${String(last['gradient norm'])})`);
  t.ok(Number.isFinite(last.loss as number), 'and its finite loss');
});

// ----- anomaly mode ---------------------------------------------------------------------

t.test('the rule: created NaN/Inf is an anomaly, inherited is not', async (t) => {
  t.equal(createdNonFinite(tensor([-Infinity, 1]), [tensor([0, 1]), tensor([-Infinity, 0])]), null, 'mask add: −∞ came from an input');
  t.equal(createdNonFinite(tensor([0, 1]), [tensor([-Infinity, 5])]), null, 'softmax over −∞: finite output');
  t.match(createdNonFinite(tensor([Infinity]), [tensor([1e30]), tensor([1e30])])!, /produced Infinity at flat index 0 .*from finite inputs/);
  t.match(createdNonFinite(tensor([NaN]), [tensor([Infinity]), tensor([-Infinity])])!, /produced NaN .*from inputs without NaN/, '∞ − ∞ creates NaN');
  t.equal(createdNonFinite(tensor([NaN]), [tensor([NaN])]), null, 'NaN in, NaN out: inherited');
});

/** One forward + backward of the ARRA loss on a tiny transformer. */
function arraStep(model: Transformer): void {
  const seq = buildClassSequences(layout, arData.codes.subarray(0, 8), arData.labels.subarray(0, 2), { dropCondProb: 0, rng: new Rng(1) });
  const out = arraLoss(model, null, { ...seq, globalFeatures: null as unknown as Tensor }, arraConfig({ encoderName: 't', mode: 'off' }));
  out.loss.backward();
}

t.test('anomaly mode: a healthy transformer step passes; a poisoned weight is named with its op', async (t) => {
  const config = transformerPresets.tiny as TransformerConfig;
  setAnomalyMode(true);
  try {
    const model = new Transformer(config);
    t.doesNotThrow(() => arraStep(model), 'the causal mask\'s −∞ is not an anomaly (forward and backward)');
    const [name, weight] = [...model.namedParameters()].find(([n]) => n.endsWith('weight') && n.includes('attn'))!;
    weight.nd.data.fill(1e30); // finite, but its products overflow float32
    const err = t.throws(() => arraStep(model)) as Error;
    t.ok(err instanceof AnomalyError, `an AnomalyError (${err.message})`);
    t.match(err.message, /^anomaly: forward of \w+ produced -?Infinity at flat index \d+ .*from finite inputs/, `names the op (weight ${name})`);
  } finally {
    setAnomalyMode(false);
  }
});

t.test('anomaly mode inside a training run names the op and the step', async (t) => {
  const out = join(dir, 'anomaly');
  await overflowingCheckpoint(out);
  const good = readFileSync(join(out, TRAIN_STATE_FILE));
  await t.rejects(runTraining(arData, { ...arOpts(out, 1e33), resume: true, label: 'anomaly', anomaly: true }),
    /^anomaly: backward of \w+ \(input \d\) produced -?Infinity at flat index \d+ .*from finite inputs — train, step 3$/);
  t.same(readFileSync(join(out, TRAIN_STATE_FILE)), good, 'the checkpoint is untouched');
});

t.test('a healthy run with anomaly mode on trains to the end', async (t) => {
  const out = join(dir, 'healthy');
  const r = await runTraining(arData, { ...arOpts(out, 1), steps: 3, label: 'healthy', anomaly: true });
  t.equal(r.step, 3);
  t.ok(r.history.every((m) => Number.isFinite(m.loss) && Number.isFinite(m.gradNorm)));
});

t.test('FID refuses non-finite features at once, naming the row (not later in the eigen-solver)', async (t) => {
  const a = tensor(Float64Array.from({ length: 12 }, (_, i) => Math.sin(i)), [4, 3]);
  const b = tensor(Float64Array.from({ length: 12 }, (_, i) => (i === 7 ? NaN : Math.cos(i))), [4, 3]);
  t.throws(() => fidFromFeatures(a, b), /fidFromFeatures: feature 2 holds NaN at dimension 1; features must be finite/);
});

t.test('arra train-encoder --lr 1e30 exits non-zero naming the step, and writes nothing', async (t) => {
  const out = join(dir, 'cli-encoder.safetensors');
  const { code, err } = await runCli(['train-encoder', '--dataset', 'shapes', '--image-size', '16', '--train-limit', '64', '--test-limit', '16', '--epochs', '3', '--batch-size', '16', '--width', '4', '--feature-dim', '8', '--lr', '1e30', '--out', out]);
  t.equal(code, 1, 'exit status 1');
  t.match(err, /arra train-encoder: train-encoder: the (loss|gradient norm) is (NaN|-?Infinity) at step \d+; the update was not applied/);
  t.notOk(existsSync(out), 'no checkpoint');
});
