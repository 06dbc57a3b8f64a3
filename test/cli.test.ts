/**
 * The `arra` command line: usage errors name the flag and exit with status 2 having written
 * nothing; --help lists every flag.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { main } from '../examples/cli';
import { runCli } from './cli-run';

const dir = mkdtempSync(join(tmpdir(), 'arra-cli-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

const run = runCli; // main() with stdout, stderr and console.log captured (cli-run.ts)

const out = join(dir, 'never');
const usageCases: [string, string[], RegExp][] = [
  ['negative λ', ['train', '--vq', 'x', '--align-encoder', 'mobilenet', '--lambda', '-1', '--out', out], /--lambda: expected a number ≥ 0, got -1/],
  ['layer past the last block', ['train', '--vq', 'x', '--align-encoder', 'mobilenet', '--align-layer', '3', '--out', out], /--align-layer: the 'mnist' model has blocks 0\.\.2, got 3/],
  ['unknown dataset', ['train', '--vq', 'x', '--dataset', 'cifar', '--out', out], /--dataset: expected one of mnist, fashion, shapes, folder, got "?cifar"?/],
  ['unknown flag', ['train', '--vq', 'x', '--lamda', '1', '--out', out], /unknown flag --lamda for 'train'; did you mean --lambda\?/],
  ['missing value', ['train', '--vq', 'x', '--steps'], /--steps: missing value/],
  ['not an integer', ['train', '--vq', 'x', '--steps', '1.5'], /--steps: expected an integer/],
  ['missing required flag', ['train', '--align', 'off'], /--vq: required/],
  ['alignment without an encoder', ['train', '--vq', 'x', '--out', out], /--align-encoder: required with --align hybnext/],
  ['bad alignment mode', ['train', '--vq', 'x', '--align', 'sometimes', '--out', out], /--align: expected one of off, hybnext, rep/],
  ['unknown command', ['trian'], /unknown command 'trian'; did you mean 'train'\?/],
  ['bad encoder spec', ['features', '--encoder', 'clip'], /--encoder: expected 'convnet:<file>' or 'mobilenet\[@<px>\]', got 'clip'/],
  ['eval without classifier', ['eval', '--model', 'm', '--vq', 'v', '--fid-encoder', 'mobilenet'], /--classifier: required: a ConvNet checkpoint \(arra train-encoder\) other than the --fid-encoder network/],
];

for (const [what, argv, message] of usageCases) {
  t.test(`usage error: ${what}`, async (t) => {
    const r = await run(argv);
    t.equal(r.code, 2, 'exit status 2');
    t.match(r.err, message);
    t.notOk(existsSync(out), 'nothing written');
  });
}

t.test('an image folder: 10% held out; too few images for a batch is a usage error, not a hang', async (t) => {
  const root = join(dir, 'folder');
  const { PNG } = await import('pngjs');
  const { mkdirSync, writeFileSync } = await import('node:fs');
  for (const cls of ['cat', 'dog']) {
    mkdirSync(join(root, cls), { recursive: true });
    for (let i = 0; i < 15; i++) {
      const png = new PNG({ width: 12, height: 10 });
      png.data.fill(15 * i + (cls === 'cat' ? 0 : 7));
      writeFileSync(join(root, cls, `${i}.png`), PNG.sync.write(png));
    }
  }
  const { loadData } = await import('../examples/pipeline/datasets');
  const { train, test } = loadData({ dataset: 'folder', dataDir: root, imageSize: 8, trainLimit: 100, testLimit: 100 }, 0, join(dir, 'cache'));
  t.same([train.labels.length, test.labels.length], [26, 4], '30 images: 26 train, 4 held out (by path hash: cat/8, cat/10, dog/5, dog/7)');
  const again = loadData({ dataset: 'folder', dataDir: root, imageSize: 8, trainLimit: 100, testLimit: 100 }, 7, join(dir, 'cache'));
  t.same(Array.from(again.test.images.values()), Array.from(test.images.values()), 'the held-out split does not depend on the seed of the loading command');
  t.equal(again.split.heldOutDigest, loadData({ dataset: 'folder', dataDir: root, imageSize: 8, trainLimit: 100, testLimit: 100 }, 0, join(dir, 'cache')).split.heldOutDigest, 'nor does its digest');
  t.same(train.classNames, ['cat', 'dog']);
  const cwd = process.cwd();
  process.chdir(dir); // the command caches decoded folders under ./runs/cache
  const r = await run(['train-vq', '--dataset', 'folder', '--data-dir', root, '--image-size', '8', '--batch-size', '64', '--out', out]);
  process.chdir(cwd);
  t.equal(r.code, 2);
  t.match(r.err, /--batch-size: 26 training images cannot fill one batch of 64/);
  const noDir = await run(['train-vq', '--dataset', 'folder', '--out', out]);
  t.equal(noDir.code, 2);
  t.match(noDir.err, /--data-dir: required with --dataset folder/);
});

t.test('--help lists every flag of a command', async (t) => {
  const r = await run(['train', '--help']);
  t.equal(r.code, 0);
  for (const flag of ['--align', '--align-encoder', '--align-layer', '--lambda', '--objective', '--steps', '--resume', '--anomaly', '--dataset']) {
    t.match(r.out, flag);
  }
  const top = await run(['--help']);
  for (const c of ['train-vq', 'train-encoder', 'features', 'train', 'sample', 'eval', 'explain', 'demo']) t.match(top.out, c);
});

t.test('a missing checkpoint is a usage error naming the flag and the file (exit 2)', async (t) => {
  const r = await run(['sample', '--model', join(dir, 'nope.safetensors'), '--vq', join(dir, 'nope-vq.safetensors')]);
  t.equal(r.code, 2);
  t.match(r.err, /--model: no file at .*nope\.safetensors/);
});

t.test('the installed bin exits 2 on a usage error', async (t) => {
  const r = spawnSync(process.execPath, [join(__dirname, '..', 'bin', 'arra.js'), 'train', '--lambda', '-1'], { encoding: 'utf8' });
  t.equal(r.status, 2);
  t.match(r.stderr, /--lambda: expected a number ≥ 0, got -1/);
  t.same(readdirSync(dir).filter((f) => f === 'never'), []);
});
