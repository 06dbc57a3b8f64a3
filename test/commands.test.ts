/**
 * The `run` bodies of `train-vq`, `train-encoder`, `features`, `train` and `explain`, in
 * process through `main()`, on a small captioned-shapes set (16 px, 96 training images) and
 * the tiny transformer preset. Each stage reads what the previous one wrote, and the numbers
 * a command prints or stores are checked against a recomputation from its files.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { setBackend } from '../lib';
import { readMetrics } from '../lib/cli';
import { loadSafetensors, readJsonMetadata } from '../lib/io';
import { accuracy, ConvNetFeatures, loadConvNet } from '../models/encoder';
import { loadArModel, loadTrainingRun, MODEL_FILE, TRAIN_STATE_FILE } from '../examples/pipeline/ar-trainer';
import { describeData, loadData, type DataFlags } from '../examples/pipeline/datasets';
import { featureCachePath } from '../examples/pipeline/prepare';
import { evaluateVq, loadVq } from '../examples/pipeline/vq-trainer';
import { main } from '../examples/cli';
import { runCli } from './cli-run';

setBackend('ref');
const dir = mkdtempSync(join(tmpdir(), 'arra-commands-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

const data = ['--dataset', 'shapes', '--image-size', '16', '--train-limit', '96', '--test-limit', '32'];
const dataFlags: DataFlags = { dataset: 'shapes', imageSize: 16, trainLimit: 96, testLimit: 32 };

const run = runCli; // main() with stdout, stderr and console.log captured (cli-run.ts)

const vqFile = join(dir, 'vq', 'vq.safetensors');
const encoderFile = join(dir, 'convnet.safetensors');
const runDir = join(dir, 'run');

t.test('train-vq: writes the tokenizer; the held-out numbers it prints and stores are the ones its file gives', async (t) => {
  const r = await run(['train-vq', ...data, '--steps', '12', '--batch-size', '16', '--codebook-size', '16', '--seed', '3', '--out', join(dir, 'vq')]);
  t.equal(r.code, 0, `exit 0 (${r.err.slice(-300)})`);
  t.ok(existsSync(join(dir, 'vq', 'reconstructions.png')), 'reconstructions.png');
  const vq = loadVq(vqFile);
  t.equal(vq.gridSize, 4, '16 px / 4');
  const stored = readJsonMetadata<{ mse: number; usage: number; perplexity: number }>(loadSafetensors(vqFile).metadata, 'heldOut', vqFile);
  const again = evaluateVq(vq, loadData(dataFlags, 3).test);
  t.ok(Math.abs(stored.mse - again.mse) < 1e-9, `stored held-out MSE ${stored.mse} = recomputed ${again.mse}`);
  t.equal(stored.usage, again.usage);
  t.match(r.out, new RegExp(`held-out reconstruction MSE ${stored.mse.toFixed(4)} per pixel; codebook usage ${(100 * stored.usage).toFixed(1)}%`), 'and printed');
  t.ok(stored.mse > 0 && stored.mse < 0.5, `MSE per pixel in (0, 0.5): ${stored.mse}`);
});

t.test('train-encoder: the test accuracy it reports is the saved network\'s accuracy', async (t) => {
  const r = await run(['train-encoder', ...data, '--epochs', '8', '--batch-size', '16', '--width', '8', '--feature-dim', '8', '--seed', '1', '--out', encoderFile]);
  t.equal(r.code, 0, `exit 0 (${r.err.slice(-300)})`);
  const { net, meta } = loadConvNet(encoderFile);
  const { test } = loadData(dataFlags, 1);
  const acc = accuracy(net, test.images, test.labels);
  t.equal(meta.testAccuracy, acc, `stored accuracy ${meta.testAccuracy} = recomputed`);
  t.match(r.out, new RegExp(`test accuracy ${(100 * acc).toFixed(2)}% on ${test.labels.length} images`));
  t.ok(acc > 1 / test.classNames.length, `better than chance (${acc} vs ${1 / test.classNames.length})`);
});

t.test('features: caches the encoder\'s features of the training images, equal to a fresh extraction', async (t) => {
  const cacheDir = join(dir, 'cache');
  const r = await run(['features', ...data, '--encoder', `convnet:${encoderFile}`, '--cache-dir', cacheDir]);
  t.equal(r.code, 0, `exit 0 (${r.err.slice(-300)})`);
  const encoder = ConvNetFeatures.load(encoderFile);
  const file = featureCachePath(cacheDir, encoder, describeData(dataFlags));
  t.ok(existsSync(file), `cache at ${file}`);
  t.match(r.out, new RegExp(`96 × 8 features from ${encoder.name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  const cached = loadSafetensors(file).tensors.get('features')!;
  const fresh = encoder.extract(loadData(dataFlags, 0).train.images);
  t.same(cached.shape, [96, 8]);
  t.same(Array.from(cached.values()), Array.from(fresh.values()), 'the cached features are the encoder\'s');
});

t.test('train (ARRA, tiny preset): checkpoints, one metrics line per step, the printed loss is the logged one', async (t) => {
  const r = await run([
    'train', ...data, '--vq', vqFile, '--align', 'hybnext', '--align-encoder', `convnet:${encoderFile}`, '--preset', 'tiny',
    '--steps', '6', '--batch-size', '8', '--lr', '3e-3', '--seed', '2', '--out', runDir, '--cache-dir', join(dir, 'cache'),
  ]);
  t.equal(r.code, 0, `exit 0 (${r.err.slice(-300)})`);
  const lines = readMetrics(join(runDir, 'metrics.jsonl'));
  t.same(lines.map((l) => l.step), [1, 2, 3, 4, 5, 6]);
  const last = lines.at(-1)! as { lossAR: number; lossGVA: number; loss: number };
  t.ok(Math.abs(last.loss - (last.lossAR + last.lossGVA)) < 1e-5, 'loss = L_AR + 1·L_GVA');
  t.match(r.out, new RegExp(`step 6: L_AR ${last.lossAR.toFixed(4)}, L_GVA ${last.lossGVA.toFixed(4)}`), 'printed = logged');
  const { model, step, arra } = loadArModel(join(runDir, MODEL_FILE));
  t.equal(step, 6);
  t.equal(arra.mode, 'hybnext');
  t.equal(model.config.maxSeqLen, 2 + 16, 'sequence: class, begin-image, 4×4 codes');
  t.ok(loadTrainingRun(join(runDir, TRAIN_STATE_FILE)).projector !== null, 'the train state keeps the projector');
  t.ok(existsSync(join(runDir, 'loss.svg')));
});

t.test('explain: the attribution report of that run, gradients where the losses can reach', async (t) => {
  const out = join(dir, 'explain');
  const r = await run(['explain', ...data, '--run', runDir, '--vq', vqFile, '--align-encoder', `convnet:${encoderFile}`, '--batch-size', '4', '--cache-dir', join(dir, 'cache'), '--out', out]);
  t.equal(r.code, 0, `exit 0 (${r.err.slice(-300)})`);
  const report = readFileSync(join(out, 'report.md'), 'utf8');
  t.match(report, /\| blocks\.0 \| \d+ \| \d+\.\d+ \| \d+\.\d+ \|/, 'the aligned block 0 gets both gradients');
  // L_GVA reads block 0's output: nothing above it, and not the head, gets any of its gradient
  for (const group of ['blocks\\.1', 'head']) t.match(report, new RegExp(`\\| ${group} \\| \\d+ \\| \\d+\\.\\d+ \\| 0 \\|`), `${group}: λ·∂L_GVA/∂θ is exactly 0`);
  t.match(report, /\| projector \| \d+ \| 0 \| \d+\.\d+ \|/, 'the projector gets no L_AR gradient');
  t.notMatch(report, /blocks\.2/, 'the tiny preset has two blocks only');
  t.ok(existsSync(join(out, 'alignment.png')) && existsSync(join(out, 'blocks.svg')));
  const baseline = await run(['explain', ...data, '--run', join(dir, 'nothing'), '--vq', vqFile, '--align-encoder', `convnet:${encoderFile}`]);
  t.not(baseline.code, 0, 'a missing run is refused');
});
