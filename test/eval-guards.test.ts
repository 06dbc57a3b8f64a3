/**
 * `arra eval` on a too-small image folder: every stage runs (tokenizer, two ConvNets, a few AR
 * steps) and the evaluation prints its guards loudly instead of a bare "FID 0.00, accuracy
 * 20%": too few held-out images, N ≤ feature dimension, a classifier near chance. And the
 * split checks: a checkpoint whose recorded split differs from the one evaluated is refused.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import t from 'tap';
import { Rng } from '../lib';
import { UsageError } from '../lib/cli';
import { loadSafetensors, saveSafetensors } from '../lib/io';
import { main } from '../examples/cli';
import { runCli } from './cli-run';
import { checkSplit } from '../examples/pipeline/datasets';

const dir = mkdtempSync(join(tmpdir(), 'arra-guards-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

const run = runCli; // main() with stdout, stderr and console.log captured (cli-run.ts)

t.test('checkSplit: same split passes, a missing record warns, a different split or list is refused', async (t) => {
  const rec = { rule: 'sha256(relative path) < 0.1 of the hash range, v1', heldOutCount: 4, heldOutDigest: 'abc' };
  t.equal(checkSplit(rec, { ...rec }, 'the model m', '--model'), null);
  t.match(checkSplit(undefined, rec, 'the model m', '--model') ?? '', /records no data split/);
  t.throws(() => checkSplit({ ...rec, rule: 'seeded permutation, seed 3' }, rec, 'the model m', '--model'), UsageError);
  t.throws(() => checkSplit({ ...rec, rule: 'seeded permutation, seed 3' }, rec, 'the model m', '--model'), /may overlap its training images/);
  t.throws(() => checkSplit({ ...rec, heldOutDigest: 'def' }, rec, 'the model m', '--model'), /held-out list differs/);
});

t.test('eval on a too-small folder: the guards fire; an overlapping split is refused', async (t) => {
  const root = join(dir, 'tiny-folder');
  const rng = new Rng(1);
  for (const cls of ['cat', 'dog']) {
    mkdirSync(join(root, cls), { recursive: true });
    for (let i = 0; i < 15; i++) {
      const png = new PNG({ width: 8, height: 8 });
      for (let k = 0; k < png.data.length; k++) png.data[k] = k % 4 === 3 ? 255 : Math.floor(256 * rng.uniform()); // noise: nothing to learn
      writeFileSync(join(root, cls, `${i}.png`), PNG.sync.write(png));
    }
  }
  const data = ['--dataset', 'folder', '--data-dir', root, '--image-size', '8'];
  const cwd = process.cwd();
  process.chdir(dir); // decoded folders are cached under ./runs/cache
  t.teardown(() => process.chdir(cwd));
  const steps = [
    ['train-vq', ...data, '--steps', '2', '--batch-size', '8', '--codebook-size', '8', '--out', 'vq'],
    ['train-encoder', ...data, '--batch-size', '8', '--width', '4', '--feature-dim', '8', '--seed', '1', '--out', 'classifier.safetensors'],
    ['train-encoder', ...data, '--batch-size', '8', '--width', '4', '--feature-dim', '8', '--seed', '2', '--arch', 'maxpool', '--out', 'fid.safetensors'],
    ['train', ...data, '--vq', 'vq/vq.safetensors', '--align', 'off', '--preset', 'tiny', '--steps', '2', '--batch-size', '4', '--out', 'base'],
  ];
  for (const argv of steps) {
    const r = await run(argv);
    t.equal(r.code, 0, `${argv[0]} runs (${r.err.slice(-300)})`);
  }
  const evalArgs = [...data, '--model', 'base/model.safetensors', '--vq', 'vq/vq.safetensors', '--fid-encoder', 'convnet:fid.safetensors', '--classifier', 'classifier.safetensors', '--per-class', '3', '--kid-subsets', '3'];
  const r = await run(['eval', ...evalArgs, '--out', 'eval']);
  t.equal(r.code, 0, `eval runs (${r.err.slice(-300)})`);
  const ev = JSON.parse(readFileSync(join(dir, 'eval', 'eval.json'), 'utf8')) as { warnings: string[]; numReal: number; numGenerated: number };
  t.equal(ev.numReal, 4, 'the 4 images the path hash holds out');
  t.ok(ev.warnings.some((w) => /held-out set is too small: 4 images \(2\.0 per class\)/.test(w)), 'too-small held-out set');
  t.ok(ev.warnings.some((w) => /4 held-out real images for 8-d features: the covariance is singular/.test(w)), 'N ≤ D');
  t.ok(ev.warnings.some((w) => /is near chance on the held-out images/.test(w)), 'a classifier of noise is near chance');
  t.match(r.err, /!{78}\n!! WARNING: /, 'printed loudly on stderr');
  t.match(readFileSync(join(dir, 'eval', 'eval.md'), 'utf8'), /^# arra eval[^\n]*\n\n> \*\*WARNING\*\*/, 'eval.md opens with the warnings');

  // A checkpoint trained on another split (here: its record rewritten to the old seeded split) is refused.
  const file = loadSafetensors(join(dir, 'base', 'model.safetensors'));
  const split = JSON.parse(file.metadata.split!) as { rule: string };
  t.match(split.rule, /sha256\(relative path\)/, 'the checkpoint records the hash split');
  saveSafetensors(join(dir, 'other.safetensors'), file.tensors, { ...file.metadata, split: JSON.stringify({ ...split, rule: 'seeded permutation (seed 3)' }) });
  const refused = await run(['eval', ...evalArgs.map((a) => (a === 'base/model.safetensors' ? 'other.safetensors' : a)), '--out', 'eval-bad']);
  t.equal(refused.code, 2, 'a usage error');
  t.match(refused.err, /--model: the model other\.safetensors was trained with the split 'seeded permutation \(seed 3\)'.*may overlap its training images/);
});
