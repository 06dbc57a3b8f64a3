/**
 * Resume equals uninterrupted: 8 steps straight vs 4 steps, stop (as Ctrl-C would), resume
 * from the checkpoint, 4 more — the loss trajectory must be bit-identical (reference backend).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { Rng, setBackend, tensor } from '../lib';
import { loadSafetensors } from '../lib/io';
import { arraConfig } from '../models/arra';
import { transformerPresets } from '../models/presets';
import { classConditionalLayout } from '../models/sequence';
import { loadArModel, MODEL_FILE, trainAr, TRAIN_STATE_FILE, type ArTrainData, type ArTrainOptions } from '../examples/pipeline/ar-trainer';

setBackend('ref');
const layout = classConditionalLayout(16, 3);
const rng = new Rng(7);
const N = 12;
const data: ArTrainData = {
  codes: Int32Array.from({ length: N * 4 }, () => rng.int(16)),
  labels: Int32Array.from({ length: N }, () => rng.int(3)),
  globalFeatures: tensor(Float32Array.from({ length: N * 5 }, () => rng.normal()), [N, 5]),
  layout,
  numTokens: 4,
};
const dir = mkdtempSync(join(tmpdir(), 'arra-resume-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

const base = (outDir: string): ArTrainOptions => ({
  model: transformerPresets.tiny as ArTrainOptions['model'],
  arra: arraConfig({ encoderName: 'test', mode: 'hybnext', projectorHidden: 6 }),
  steps: 8, batchSize: 3, lr: 3e-3, seed: 11, outDir,
});

t.test('8 steps straight == 4 + resume + 4, bit for bit', async (t) => {
  const straight = await trainAr(data, base(join(dir, 'a')));
  let n = 0;
  const first = await trainAr(data, { ...base(join(dir, 'b')), shouldStop: () => ++n === 4 });
  t.equal(first.interrupted, true, 'first half stopped early');
  t.equal(first.step, 4);
  const second = await trainAr(data, { ...base(join(dir, 'b')), resume: true });
  t.equal(second.step, 8);
  const losses = (h: { loss: number }[]): number[] => h.map((m) => m.loss);
  t.same([...losses(first.history), ...losses(second.history)], losses(straight.history), 'identical loss trajectory');
  t.ok(straight.history[7]!.loss < straight.history[0]!.loss, 'and the loss went down');
});

t.test('the inference checkpoint holds no projector and reloads to the same logits', async (t) => {
  const out = join(dir, 'a');
  const names = [...loadSafetensors(join(out, MODEL_FILE)).tensors.keys()];
  t.notOk(names.some((k) => k.includes('projector')), 'no projector tensors in model.safetensors');
  t.ok([...loadSafetensors(join(out, TRAIN_STATE_FILE)).tensors.keys()].some((k) => k.startsWith('projector.')), 'train state keeps the projector');
  const { model, arra, step } = loadArModel(join(out, MODEL_FILE));
  t.equal(step, 8);
  t.equal(arra.mode, 'hybnext');
  const again = await trainAr(data, { ...base(join(dir, 'c')), steps: 8 });
  const tokens = Int32Array.from([layout.classOffset, layout.beginImage, 1, 2, 3, 4]);
  t.same(Array.from(model.forward(tokens, [1, 6]).logits.values()), Array.from(again.model.forward(tokens, [1, 6]).logits.values()));
});

t.test('resume without a checkpoint names the folder', async (t) => {
  await t.rejects(trainAr(data, { ...base(join(dir, 'none')), resume: true }), /--resume: no train-state\.safetensors in .*none/);
});
