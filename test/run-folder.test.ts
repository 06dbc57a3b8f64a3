/**
 * A run folder stays clean across crashes: folders are created one level at a time (no hang
 * under /proc), stale `*.tmp-<pid>` files of dead processes are swept, a resumed run logs
 * every step once, a failed --resume leaves no metrics file, another preset is refused.
 */
import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { Rng, setBackend, tensor } from '../lib';
import { atomicWriteFile, ensureDir, OutputPathError, removeIfEmpty } from '../lib/io';
import { MetricsLogger, readMetrics } from '../lib/cli';
import { arraConfig } from '../models/arra';
import { transformerPresets } from '../models/presets';
import { classConditionalLayout } from '../models/sequence';
import type { ArTrainData, ArTrainOptions } from '../examples/pipeline/ar-trainer';
import { runTraining } from '../examples/pipeline/run-training';

const dir = mkdtempSync(join(tmpdir(), 'arra-runfolder-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

t.test('ensureDir: nested folders, bounded under /proc, a file in the way', async (t) => {
  const created: string[] = [];
  const deep = join(dir, 'a', 'b', 'c');
  t.equal(ensureDir(deep, created), deep);
  t.ok(statSync(deep).isDirectory());
  t.same(created, [join(dir, 'a'), join(dir, 'a', 'b'), deep], 'each created folder, outermost first');
  t.same(ensureDir(deep, []), deep, 'idempotent');
  const t0 = performance.now();
  t.throws(() => ensureDir('/proc/arra-nope/x/y'), /cannot create \/proc\/arra-nope/);
  t.ok(performance.now() - t0 < 1000, 'fails at once');
  writeFileSync(join(dir, 'f'), 'x');
  t.throws(() => ensureDir(join(dir, 'f', 'g')), OutputPathError);
  removeIfEmpty(created);
  t.notOk(existsSync(join(dir, 'a')), 'removeIfEmpty undoes what was created');
});

t.test('atomicWriteFile sweeps temp files of dead processes, keeps live ones', async (t) => {
  const folder = join(dir, 'tmps');
  ensureDir(folder);
  const dead = spawnSync(process.execPath, ['-e', '0']).pid!; // a process that has exited
  writeFileSync(join(folder, `model.safetensors.tmp-${dead}`), 'half a checkpoint');
  writeFileSync(join(folder, `other.png.tmp-${process.pid}`), 'ours, in flight');
  writeFileSync(join(folder, 'notes.tmp-x'), 'not a temp name');
  writeFileSync(join(folder, `images.cache.${dead}.a1b2c3d4.tmp`), 'half a dataset cache');
  atomicWriteFile(join(folder, 'report.md'), 'hello');
  t.same(readdirSync(folder).sort(), ['notes.tmp-x', `other.png.tmp-${process.pid}`, 'report.md']);
});

t.test('MetricsLogger dropFromStep removes the steps a crashed run logged past its checkpoint', async (t) => {
  const file = join(dir, 'm.jsonl');
  writeFileSync(file, ['{"step":1}', '{"step":2}', '{"step":3}', '{"note":"kept"}', '{"step":4}', '{"step":3'].join('\n'));
  const m = new MetricsLogger(file, { dropFromStep: 3 });
  m.log({ step: 3, redo: true });
  m.close();
  t.same(readMetrics(file), [{ step: 1 }, { step: 2 }, { note: 'kept' }, { step: 3, redo: true }]);
});

setBackend('ref');
const rng = new Rng(4);
const N = 8;
const data: ArTrainData = {
  codes: Int32Array.from({ length: N * 4 }, () => rng.int(16)), labels: Int32Array.from({ length: N }, () => rng.int(3)),
  globalFeatures: tensor(Float32Array.from({ length: N * 5 }, () => rng.normal()), [N, 5]), layout: classConditionalLayout(16, 3), numTokens: 4,
};
const opts = (outDir: string, steps: number): ArTrainOptions & { label: string } => ({
  label: 'rf', model: transformerPresets.tiny as ArTrainOptions['model'], arra: arraConfig({ encoderName: 't', projectorHidden: 4 }),
  steps, batchSize: 2, lr: 1e-3, seed: 1, outDir,
});

t.test('resume after a crash: every step is in metrics.jsonl exactly once', async (t) => {
  const out = join(dir, 'crash');
  await runTraining(data, opts(out, 2)); // checkpoint at step 2
  // the crashed run got as far as step 4 before dying, without checkpointing again
  appendFileSync(join(out, 'metrics.jsonl'), '{"step":3,"loss":9}\n{"step":4,"loss":9}\n');
  await runTraining(data, { ...opts(out, 4), resume: true });
  const steps = readMetrics(join(out, 'metrics.jsonl')).map((r) => r.step);
  t.same(steps, [1, 2, 3, 4]);
  t.ok(readMetrics(join(out, 'metrics.jsonl')).every((r) => r.loss !== 9), "the crashed run's records are gone");
});

t.test('a failed --resume leaves no metrics file; another preset is refused naming the file and its config', async (t) => {
  const empty = join(dir, 'empty');
  await t.rejects(runTraining(data, { ...opts(empty, 4), resume: true }), /--resume: no train-state\.safetensors in/);
  t.notOk(existsSync(join(empty, 'metrics.jsonl')), 'no empty metrics.jsonl');
  const out = join(dir, 'preset');
  await runTraining(data, opts(out, 1));
  const other = { ...opts(out, 3), resume: true, model: { ...transformerPresets.tiny, nLayers: 3 } as ArTrainOptions['model'] };
  await t.rejects(runTraining(data, other), /--resume: .*preset\/train-state\.safetensors was made with model \{.*"nLayers":2.*differs in nLayers: checkpoint 2, now 3/);
  t.same(readMetrics(join(out, 'metrics.jsonl')).map((r) => r.step), [1], 'the metrics of the run are untouched');
});
