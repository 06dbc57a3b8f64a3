/**
 * Every `--downsample` that `arra train-vq --help` offers works end to end: the tokenizer
 * trains with log2(downsample) stride-2 stages and its grid is image side / downsample; the
 * coarsest one also trains and samples an AR model. Anything else is a usage error.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { main } from '../examples/cli';
import { runCli } from './cli-run';
import { loadVq, VQ_DOWNSAMPLES } from '../examples/pipeline/vq-trainer';
import { setBackend } from '../lib';

setBackend('ref');
const dir = mkdtempSync(join(tmpdir(), 'arra-downsample-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

const quiet = runCli; // main() with stdout, stderr and console.log captured (cli-run.ts)

const data = ['--dataset', 'shapes', '--image-size', '32', '--train-limit', '16', '--test-limit', '8'];

t.test('the offered values are 2, 4 and 8', async (t) => {
  t.same(VQ_DOWNSAMPLES, [2, 4, 8]);
});

for (const d of VQ_DOWNSAMPLES) {
  t.test(`train-vq --downsample ${d}: a ${32 / d}×${32 / d} token grid`, async (t) => {
    const out = join(dir, `vq${d}`);
    const r = await quiet(['train-vq', ...data, '--steps', '2', '--batch-size', '4', '--codebook-size', '8', '--downsample', String(d), '--out', out]);
    t.equal(r.code, 0, r.err.slice(-400));
    const vq = loadVq(join(out, 'vq.safetensors'));
    t.equal(vq.gridSize, 32 / d);
    t.equal(vq.encoder.down.length, Math.log2(d), 'log2(downsample) stride-2 stages');
    t.ok(existsSync(join(out, 'reconstructions.png')));
  });
}

t.test('the coarsest grid trains and samples an AR model', async (t) => {
  const vq = join(dir, 'vq8', 'vq.safetensors');
  const run = join(dir, 'ar8');
  const r = await quiet(['train', ...data, '--vq', vq, '--align', 'off', '--preset', 'tiny', '--steps', '2', '--batch-size', '4', '--out', run]);
  t.equal(r.code, 0, r.err.slice(-400));
  const s = await quiet(['sample', '--model', join(run, 'model.safetensors'), '--vq', vq, '--per-prompt', '1', '--out', join(dir, 's8.png')]);
  t.equal(s.code, 0, s.err.slice(-400));
  t.ok(existsSync(join(dir, 's8.png')));
});

t.test('--resume with another preset is refused before tokenizing, naming the file and its config', async (t) => {
  const vq = join(dir, 'vq8', 'vq.safetensors');
  const run = join(dir, 'ar8');
  const r = await quiet(['train', ...data, '--vq', vq, '--align', 'off', '--preset', 'mnist', '--steps', '4', '--batch-size', '4', '--resume', '--out', run]);
  t.equal(r.code, 2, r.err.slice(-300));
  t.match(r.err, /--resume: .*ar8\/train-state\.safetensors was made with model \{.*"dModel":16.*differs in dModel: checkpoint 16, now 96/);
  t.match(r.out, /^backend /, 'stdout is captured');
  t.notMatch(r.out, /encoding \d+ images/, 'refused before the tokenizer ran');
});

t.test('a tokenizer that does not fit the model or the data is a usage error naming both', async (t) => {
  const s = await quiet(['sample', '--model', join(dir, 'ar8', 'model.safetensors'), '--vq', join(dir, 'vq4', 'vq.safetensors'), '--out', join(dir, 'bad.png')]);
  t.equal(s.code, 2);
  t.match(s.err, /--vq: .*vq4\/vq\.safetensors has 8 codes and 64 tokens per image \(8×8\), but the --model .*ar8\/model\.safetensors was trained with 8 codes and 16 tokens \(made with \{/);
  t.notOk(existsSync(join(dir, 'bad.png')));
  const r = await quiet(['train', '--vq', join(dir, 'vq4', 'vq.safetensors'), '--align', 'off', '--train-limit', '8', '--test-limit', '4', '--out', join(dir, 'ar-bad')]);
  t.equal(r.code, 2);
  t.match(r.err, /--vq: .* tokenizes 3×32×32 images, but the data \(mnist@28px .*\) is 1×28×28/);
});

t.test('other values are usage errors before any work', async (t) => {
  const r16 = await quiet(['train-vq', ...data, '--downsample', '16', '--out', join(dir, 'never')]);
  t.equal(r16.code, 2);
  t.match(r16.err, /--downsample: expected one of 2, 4, 8, got 16/);
  const r8 = await quiet(['train-vq', '--downsample', '8', '--out', join(dir, 'never')]);
  t.equal(r8.code, 2);
  t.match(r8.err, /--downsample: 8 does not divide the 28-px image side \(2 or 4 would\)/);
  t.notOk(existsSync(join(dir, 'never')));
});
