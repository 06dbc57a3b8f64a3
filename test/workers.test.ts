/**
 * Trainings side by side (examples/pipeline/workers.ts): the pool itself, and the two commands
 * that use it — `arra demo --jobs 2` and `arra experiment --jobs 2` give the results of
 * `--jobs 1` bit for bit (the same report rows, result.json figures and sample PNGs), and an
 * experiment stopped with Ctrl-C while its cells run in workers resumes to the same results.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { threadsPerJob, WorkerPool } from '../examples/pipeline/workers';
import { runExperiment } from '../examples/pipeline/experiment/run';
import { validateGrid } from '../examples/pipeline/experiment/grid';
import type { ExperimentResults } from '../examples/pipeline/experiment/results';
import { runCli } from './cli-run';

const dir = mkdtempSync(join(tmpdir(), 'arra-workers-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

t.test('WorkerPool: results, shared data, threads per job, errors, stop', async (t) => {
  t.equal(threadsPerJob(1, 2), undefined, 'one job: the backend default (every core)');
  t.equal(threadsPerJob(2, 2), 1, 'two jobs on two cores: one matmul thread each');
  t.equal(threadsPerJob(2, 8), 4);
  t.equal(threadsPerJob(3, 2), 1, 'never fewer than one');
  t.throws(() => new WorkerPool(join(__dirname, 'fixtures', 'echo-worker.ts'), 0), /jobs must be a positive integer, got 0/);
  const pool = new WorkerPool<{ n: number; fail?: boolean; untilStopped?: boolean }, { n: number; shared: unknown; threads: string | undefined; stopped: boolean }>(
    join(__dirname, 'fixtures', 'echo-worker.ts'), 2, { tag: 'hello' },
  );
  try {
    const out = await Promise.all([1, 2, 3, 4, 5].map((n) => pool.run({ n })));
    t.same(out.map((o) => o.n), [2, 4, 6, 8, 10], 'every job answered, each promise with its own result');
    t.ok(out.every((o) => (o.shared as { tag: string }).tag === 'hello'), 'every worker got the shared data');
    t.ok(out.every((o) => o.threads === String(threadsPerJob(2))), `each worker's backend gets ARRA_THREADS=${threadsPerJob(2)}`);
    await t.rejects(pool.run({ n: 7, fail: true }), /job 7 failed on purpose/, "a job's error reaches the caller with its message");
    t.equal((await pool.run({ n: 8 })).n, 16, 'and the worker goes on serving');
    const waiting = pool.run({ n: 9, untilStopped: true });
    setTimeout(() => pool.stop(), 50);
    const stopped = await waiting;
    t.ok(stopped.stopped, 'stop() reaches a running job (stopRequested() in the worker)');
  } finally {
    await pool.close();
  }
});

/** A report's results section (rows and the evidence), its wall times blanked. */
function reportNumbers(file: string): string {
  const md = readFileSync(file, 'utf8');
  const results = md.slice(md.indexOf('## Results'), md.indexOf('## Figures'));
  t.ok(results.length > 100, `${file} has a results section`);
  return results.replace(/\| \d+(\.\d+)? s \|/g, '| (time) |');
}

t.test('arra demo --jobs 2 = --jobs 1, bit for bit', async (t) => {
  const one = join(dir, 'demo-1');
  const two = join(dir, 'demo-2');
  const a = await runCli(['demo', '--preset', 'tiny', '--seeds', '2', '--jobs', '1', '--out', one]);
  const b = await runCli(['demo', '--preset', 'tiny', '--seeds', '2', '--jobs', '2', '--out', two]);
  t.equal(a.code, 0, `--jobs 1 ran (${a.seconds.toFixed(1)} s)`);
  t.equal(b.code, 0, `--jobs 2 ran (${b.seconds.toFixed(1)} s)`);
  t.equal(reportNumbers(join(two, 'report.md')), reportNumbers(join(one, 'report.md')), 'the same FID, KID, accuracy and losses for every model');
  for (const f of ['vq/vq.safetensors', 'encoders/classifier-convnet.safetensors', 'encoders/fid-convnet.safetensors', 'encoders/align-convnet.safetensors', 'vq/reconstructions.png']) {
    t.ok(readFileSync(join(two, f)).equals(readFileSync(join(one, f))), `${f}: trained in a worker, the same bytes`);
  }
  for (const m of ['baseline-s0', 'arra-s0', 'baseline-s1', 'arra-s1']) {
    t.ok(readFileSync(join(two, m, 'samples.png')).equals(readFileSync(join(one, m, 'samples.png'))), `${m}: the same sample grid, byte for byte`);
  }
  t.ok(existsSync(join(two, 'arra-s0', 'explain', 'report.md')), 'the worker wrote the attribution report of ARRA seed 0');
  const report = readFileSync(join(two, 'report.md'), 'utf8');
  t.match(report, /With `--jobs 2` the tokenizer and the ConvNets \(steps 1–2\) and then the models \(steps 4–5\) ran 2 at a time in worker threads with \d+ matmul threads? each: their wall times overlap/, 'the report says the stage times overlap');
  t.notMatch(readFileSync(join(one, 'report.md'), 'utf8'), /ran 2 at a time/, 'and only when they do');
  t.match(b.out, /== 4–5\. 4 models, 2 at a time/, 'the console says so too');
  for (const s of ['4. train baseline (LlamaGen), seed 1', '5. evaluate ARRA (<HYBNEXT>, block 0, λ=1), seed 1']) t.ok(b.out.includes(`== ${s}`), `stage '${s}' is reported`);
});

/** results.json without wall times and the command line. */
function withoutTimes(r: ExperimentResults): unknown {
  return JSON.parse(JSON.stringify({ ...r, command: '' }, (k, v: unknown) => (/Seconds$/.test(k) || k === 'totalSeconds' ? undefined : v)));
}

const TINY = {
  name: 'tiny', dataset: 'mnist', preset: 'tiny', steps: 4, batchSize: 4, seeds: [0, 1], evalSamples: 20,
  curve: { every: 2, samples: 10 }, checkpointEvery: 2,
  arms: [{ name: 'off', align: 'off' }, { name: 'hybnext', align: 'hybnext', lambda: 1, alignLayer: 'first' }, { name: 'rep', align: 'rep', lambda: 1, alignLayer: 'first' }],
};
const quiet = (): void => {};

t.test('arra experiment --jobs 2 = --jobs 1, and resumes after Ctrl-C', async (t) => {
  const grid = () => validateGrid(structuredClone(TINY), 'tiny.json');
  const one = await runExperiment(grid(), { outDir: join(dir, 'exp-1'), command: 'test', log: quiet, jobs: 1 });
  const lines: string[] = [];
  const two = await runExperiment(grid(), { outDir: join(dir, 'exp-2'), command: 'test', log: (l) => lines.push(l), jobs: 2 });
  t.equal(one.status, 'done');
  t.equal(two.status, 'done');
  if (one.status !== 'done' || two.status !== 'done') return;
  t.same(withoutTimes(two.results), withoutTimes(one.results), 'every cell, comparison and interval is the same');
  t.equal(two.results.cells.length, 6, 'six cells, in the order of --jobs 1 whichever finished first');
  t.equal(lines.filter((l) => /^\[experiment\] cell \d\/6 /.test(l)).length, 6, 'one progress line per cell');
  t.ok(readFileSync(join(dir, 'exp-2', 'cells', 'rep-s1', 'samples.png')).equals(readFileSync(join(dir, 'exp-1', 'cells', 'rep-s1', 'samples.png'))), 'the same samples, byte for byte');

  // Ctrl-C after the first finished cell, with the other cells running or queued in the workers …
  const out = join(dir, 'exp-stop');
  let pressed = false; // once: a second Ctrl-C quits at once, by design
  const stopped = await runExperiment(grid(), { outDir: out, command: 'test', log: quiet, jobs: 2, hooks: { afterCell: () => { if (!pressed) process.emit('SIGINT'); pressed = true; } } });
  t.equal(stopped.status, 'interrupted', 'stopped');
  t.notOk(existsSync(join(out, 'results.json')), 'no report before a whole seed is done');
  // … and the same command again finishes the grid with the same numbers.
  const resumed = await runExperiment(grid(), { outDir: out, command: 'test', log: quiet, jobs: 2 });
  t.equal(resumed.status, 'done', 'the rerun finishes');
  if (resumed.status === 'done') t.same(withoutTimes(resumed.results), withoutTimes(one.results), 'with the results of the uninterrupted run');
  await t.rejects(runExperiment(grid(), { outDir: join(dir, 'exp-hook'), command: 'test', log: quiet, jobs: 2, hooks: { onBatch: () => {} } }), /onBatch hook sees batches in this thread only/, 'a batch hook needs jobs = 1');
});

t.test('--jobs is checked like every flag', async (t) => {
  const file = join(dir, 'tiny.json');
  writeFileSync(file, JSON.stringify(TINY));
  const r = await runCli(['experiment', '--grid', file, '--out', join(dir, 'bad'), '--jobs', '0']);
  t.equal(r.code, 2, 'usage error');
  t.match(r.err, /--jobs/, 'naming the flag');
  const d = await runCli(['demo', '--preset', 'tiny', '--jobs', 'two', '--out', join(dir, 'bad-demo')]);
  t.equal(d.code, 2);
  t.match(d.err, /--jobs/);
});
