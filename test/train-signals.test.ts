/**
 * Runs stop cleanly: Ctrl-C (SIGINT) or SIGTERM saves a checkpoint and exits 0; a NaN loss stops the run
 * naming the step (and, in anomaly mode, the op).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { Rng, setBackend, tensor } from '../lib';
import { arraConfig } from '../models/arra';
import { transformerPresets } from '../models/presets';
import { classConditionalLayout } from '../models/sequence';
import { loadTrainingRun, trainAr, TRAIN_STATE_FILE, type ArTrainOptions } from '../examples/pipeline/ar-trainer';
import { runTraining } from '../examples/pipeline/run-training';

const dir = mkdtempSync(join(tmpdir(), 'arra-signals-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

for (const [signal, said] of [['SIGINT', 'Ctrl-C'], ['SIGTERM', 'SIGTERM']] as const) {
  t.test(`${signal} saves a checkpoint and exits cleanly`, async (t) => {
    const out = join(dir, signal.toLowerCase());
    // the test waits for the child's progress line, so the child must print one (test/setup/quiet.mjs silences them)
    const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, 'fixtures', 'train-child.ts'), out], {
      stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ARRA_PROGRESS: 'plain' },
    });
    let stdout = '';
    let stderr = '';
    let sent = false;
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      // The progress display writes to stderr once training runs: interrupt then.
      if (!sent && /\[child\]/.test(stderr)) {
        sent = true;
        child.kill(signal);
      }
    });
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    t.equal(code, 0, `exit status 0 (stderr: ${stderr.slice(-300)})`);
    t.match(stderr, new RegExp(`${said}: saving a checkpoint after this step`));
    t.match(stdout, /finished interrupted=true step=\d+/);
    const step = Number(/step=(\d+)/.exec(stdout)![1]);
    t.ok(step > 0 && step < 100000, `stopped early, at step ${step}`);
    t.ok(existsSync(join(out, TRAIN_STATE_FILE)), 'train state written');
    t.equal(loadTrainingRun(join(out, TRAIN_STATE_FILE)).step, step, 'the checkpoint is at the step it stopped');
  });
}

t.test('a NaN loss stops the run naming the step; anomaly mode names the op', async (t) => {
  setBackend('ref');
  const N = 4;
  const rng = new Rng(5);
  const features = Float32Array.from({ length: N * 5 }, () => rng.normal());
  features[0] = NaN; // one corrupt global feature
  const data = {
    codes: Int32Array.from({ length: N * 4 }, () => rng.int(16)), labels: Int32Array.from({ length: N }, () => rng.int(3)),
    globalFeatures: tensor(features, [N, 5]), layout: classConditionalLayout(16, 3), numTokens: 4,
  };
  const opts: ArTrainOptions = {
    model: transformerPresets.tiny as ArTrainOptions['model'], arra: arraConfig({ encoderName: 't', projectorHidden: 4 }),
    steps: 50, batchSize: 4, lr: 1e-3, seed: 2, outDir: join(dir, 'nan'),
  };
  await t.rejects(trainAr(data, opts), /train: the loss is NaN at step \d+; the update was not applied.*\(run with --anomaly/);
  await t.rejects(runTraining(data, { ...opts, outDir: join(dir, 'nan2'), label: 'nan', anomaly: true }), /anomaly: forward of indexSelect reads NaN at flat index 0 of input 0 .*a tensor no recorded op produced.* — train, step 1/);
});
