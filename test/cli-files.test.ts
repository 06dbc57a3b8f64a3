/**
 * Input and output paths are checked before any work: an output under /proc (where Node 20's
 * recursive mkdir never returns) or under a file is a usage error naming the flag, fast; a
 * missing input, a folder where a checkpoint belongs, or a checkpoint of another kind is a
 * usage error naming the flag, the path, the kind expected and the kind found.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validMetadata } from './checkpoint-metadata-fixtures';
import t from 'tap';
import { main } from '../examples/cli';
import { runCli } from './cli-run';
import { tensor } from '../lib';
import { jsonMetadata, readSafetensorsHeader, saveSafetensors } from '../lib/io';
import { checkpointKind } from '../examples/pipeline/checkpoints';
import { saveVq, loadVq } from '../examples/pipeline/vq-trainer';
import { VQTokenizer } from '../models/vq';

const dir = mkdtempSync(join(tmpdir(), 'arra-files-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

const run = runCli; // main() with stdout, stderr and console.log captured (cli-run.ts)

/** A one-tensor safetensors file declaring `kind` and well-formed metadata (commands read only the header before starting). */
function fakeCheckpoint(name: string, kind: Parameters<typeof validMetadata>[0]): string {
  const file = join(dir, name);
  saveSafetensors(file, { w: tensor([1, 2], [2]) }, jsonMetadata(validMetadata(kind)));
  return file;
}
const vq = fakeCheckpoint('vq.safetensors', 'arra-vq');
const model = fakeCheckpoint('model.safetensors', 'arra-transformer');
const convnet = fakeCheckpoint('convnet.safetensors', 'arra-convnet');
const runDir = join(dir, 'run');
mkdirSync(runDir);
saveSafetensors(join(runDir, 'train-state.safetensors'), { w: tensor([1], [1]) }, jsonMetadata(validMetadata('arra-train-state')));
const notSafetensors = join(dir, 'notes.txt');
writeFileSync(notSafetensors, 'hello, this is not a checkpoint');
const aFile = join(dir, 'plain-file');
writeFileSync(aFile, 'x');

const proc = '/proc/arra-no-such/out';
const outputCases: [string, string[], string][] = [
  ['train-vq', ['train-vq', '--out', proc], '--out'],
  ['train-encoder', ['train-encoder', '--out', `${proc}/c.safetensors`], '--out'],
  ['features', ['features', '--encoder', `convnet:${convnet}`, '--cache-dir', proc], '--cache-dir'],
  ['train', ['train', '--vq', vq, '--align', 'off', '--out', proc], '--out'],
  ['train --cache-dir', ['train', '--vq', vq, '--align-encoder', `convnet:${convnet}`, '--out', join(dir, 'train-ok'), '--cache-dir', proc], '--cache-dir'],
  ['sample', ['sample', '--model', model, '--vq', vq, '--out', `${proc}/s.png`], '--out'],
  ['eval', ['eval', '--model', model, '--vq', vq, '--fid-encoder', `convnet:${convnet}`, '--classifier', convnet, '--out', proc], '--out'],
  ['explain', ['explain', '--run', runDir, '--vq', vq, '--align-encoder', `convnet:${convnet}`, '--out', proc], '--out'],
  ['demo', ['demo', '--preset', 'tiny', '--out', proc], '--out'],
];
for (const [what, argv, flag] of outputCases) {
  t.test(`${what}: an output under /proc is a usage error at once, not a hang`, async (t) => {
    const r = await run(argv);
    t.equal(r.code, 2, 'exit status 2');
    t.match(r.err, new RegExp(`${flag}: cannot write output to /proc/arra-no-such`));
    t.ok(r.seconds < 5, `answered in ${r.seconds.toFixed(2)} s, before loading any data`);
  });
}

t.test('an output folder under a file names the file in the way', async (t) => {
  const r = await run(['train-vq', '--out', join(aFile, 'sub')]);
  t.equal(r.code, 2);
  t.match(r.err, /--out: cannot write output to .*plain-file\/sub: .*plain-file exists and is not a folder/);
  const f = await run(['sample', '--model', model, '--vq', vq, '--out', dir]);
  t.equal(f.code, 2);
  t.match(f.err, /--out: expected a file to write, but .* is a folder/);
});

const inputCases: [string, string[], RegExp][] = [
  ['missing --vq', ['train', '--vq', join(dir, 'nope.safetensors'), '--align', 'off'], /--vq: no file at .*nope\.safetensors \(expected a VQ tokenizer checkpoint/],
  ['--vq is a folder', ['train', '--vq', dir, '--align', 'off'], /--vq: expected a VQ tokenizer checkpoint .*, but .* is a folder/],
  ['a transformer as --vq', ['sample', '--model', model, '--vq', model], /--vq: expected a VQ tokenizer checkpoint .*, but .*model\.safetensors is a transformer model/],
  ['a VQ as --model', ['sample', '--model', vq, '--vq', vq], /--model: expected a transformer model .*, but .*vq\.safetensors is a VQ tokenizer checkpoint/],
  ['not safetensors', ['sample', '--model', notSafetensors, '--vq', vq], /--model: expected a transformer model .*, but .*notes\.txt is not a valid safetensors file \(header length \d+ exceeds/],
  ['missing --classifier', ['eval', '--model', model, '--vq', vq, '--fid-encoder', 'mobilenet', '--classifier', join(dir, 'no-cls')], /--classifier: no file at .*no-cls \(expected a ConvNet checkpoint/],
  ['a VQ as --classifier', ['eval', '--model', model, '--vq', vq, '--fid-encoder', 'mobilenet', '--classifier', vq], /--classifier: expected a ConvNet checkpoint .*, but .* is a VQ tokenizer/],
  ['missing --run', ['explain', '--run', join(dir, 'no-run'), '--vq', vq, '--align-encoder', 'mobilenet'], /--run: expected a run folder of arra train .*, but .*no-run is nothing/],
  ['--run without a train state', ['explain', '--run', dir, '--vq', vq, '--align-encoder', 'mobilenet'], /--run: no file at .*train-state\.safetensors/],
  ['a VQ as --align-encoder convnet:', ['train', '--vq', vq, '--align-encoder', `convnet:${vq}`], /--align-encoder: expected a ConvNet checkpoint .*, but .*vq\.safetensors is a VQ tokenizer/],
  ['--align-encoder convnet: without a file', ['train', '--vq', vq, '--align-encoder', 'convnet:'], /--align-encoder: expected a file after 'convnet:'/],
  ['--resume with nothing to resume', ['train', '--vq', vq, '--align', 'off', '--resume', '--out', join(dir, 'fresh')], /--resume: no file at .*fresh\/train-state\.safetensors/],
  ['--out is the --vq input', ['sample', '--model', model, '--vq', vq, '--out', vq], /--out: .*vq\.safetensors is also the --vq input; writing it would destroy it/],
  ['--data-dir is a file', ['train-vq', '--dataset', 'folder', '--data-dir', aFile], /--data-dir: expected a folder of class folders of images, but .*plain-file is a file of 1 bytes/],
];
for (const [what, argv, message] of inputCases) {
  t.test(`input: ${what}`, async (t) => {
    const out = join(dir, `never-${what.replace(/\W+/g, '-')}`);
    const r = await run([...argv, ...(argv.includes('--out') ? [] : ['--out', argv[0] === 'sample' ? join(out, 's.png') : out])]);
    t.equal(r.code, 2, 'exit status 2');
    t.match(r.err, message);
    t.notOk(existsSync(out), 'no output created');
  });
}

t.test('checkpoints without a kind are recognised by their tensor names', async (t) => {
  const v = new VQTokenizer({ imageSize: 8, channels: 1, downsample: 4, codebookSize: 4, codeDim: 2, hidden: [2, 2], reviveEvery: 0, seed: 0 });
  const file = join(dir, 'old-vq.safetensors');
  saveSafetensors(file, v.stateDict(), jsonMetadata({ config: v.config })); // as written before `kind` existed
  t.equal(checkpointKind(readSafetensorsHeader(file)), 'arra-vq');
  t.equal(loadVq(file).gridSize, 2, 'and it loads');
  const odd = join(dir, 'odd.safetensors');
  saveSafetensors(odd, { foo: tensor([1], [1]) });
  t.equal(checkpointKind(readSafetensorsHeader(odd)), null);
});

t.test('a mis-shaped checkpoint names the file and the config it was made with', async (t) => {
  const v = new VQTokenizer({ imageSize: 8, channels: 1, downsample: 4, codebookSize: 4, codeDim: 2, hidden: [2, 2], reviveEvery: 0, seed: 0 });
  const file = join(dir, 'bad-vq.safetensors');
  saveVq(file, v);
  const state = v.stateDict();
  // (a codebook of another size than the config's is refused from the header already: test/sweep-checkpoint-meta.test.ts)
  state.set('decoder.convOut.weight', tensor(new Float32Array(12), [1, 2, 3, 2])); // the config's conv is 3×3
  state.delete('decoder.convOut.bias');
  saveSafetensors(file, state, jsonMetadata({ kind: 'arra-vq', config: v.config }));
  t.throws(() => loadVq(file), /bad-vq\.safetensors: .*missing tensor 'decoder\.convOut\.bias'.*shape mismatch for 'decoder\.convOut\.weight': expected \[1,2,3,3\], got \[1,2,3,2\].*made with \{"imageSize":8/);
});

const unusedCases: [string, string[], RegExp][] = [
  ['alignment flags with --align off', ['train', '--vq', vq, '--align', 'off', '--lambda', '2', '--align-layer', '1'], /--align-layer, --lambda: have no effect with --align off \(the baseline has no alignment loss\)/],
  ['--cache-dir with --align off', ['train', '--vq', vq, '--align', 'off', '--cache-dir', join(dir, 'c')], /--cache-dir: has no effect with --align off/],
  ['--data-dir without --dataset folder', ['train-vq', '--data-dir', dir], /--data-dir: has no effect with --dataset mnist/],
  ['--classes without --dataset folder', ['train-encoder', '--dataset', 'shapes', '--classes', '3'], /--classes: has no effect with --dataset shapes/],
  ['--image-size with MNIST', ['explain', '--run', runDir, '--vq', vq, '--align-encoder', 'mobilenet', '--image-size', '32'], /--image-size: mnist images are 28 px, got 32/],
  ['--top-k with greedy decoding', ['sample', '--model', model, '--vq', vq, '--temperature', '0', '--top-k', '5'], /--top-k: has no effect with --temperature 0/],
  ['--top-k with greedy decoding (eval)', ['eval', '--model', model, '--vq', vq, '--fid-encoder', `convnet:${convnet}`, '--temperature', '0', '--top-k', '5'], /--top-k: has no effect with --temperature 0/],
  ['--seed with MNIST features', ['features', '--encoder', 'mobilenet', '--seed', '3'], /--seed: has no effect with --dataset mnist/],
  ['demo: --data-dir without folder', ['demo', '--preset', 'tiny', '--data-dir', dir], /--data-dir: has no effect with --dataset mnist/],
  ['demo: folder without --data-dir', ['demo', '--preset', 'tiny', '--dataset', 'folder'], /--data-dir: required with --dataset folder/],
  ['demo: a bad alignment encoder', ['demo', '--preset', 'tiny', '--align-encoder', 'mobilenet@16'], /--align-encoder: MobileNetV2 input size should be 32\.\.224 px, got 16/],
  ['demo: a missing convnet', ['demo', '--preset', 'tiny', '--align-encoder', `convnet:${join(dir, 'none')}`], /--align-encoder: no ConvNet checkpoint at/],
];
for (const [what, argv, message] of unusedCases) {
  t.test(`flags that do nothing, or clash: ${what}`, async (t) => {
    const out = join(dir, `unused-${what.replace(/\W+/g, '-')}`);
    const r = await run([...argv, ...(argv[0] === 'features' ? ['--cache-dir', out] : ['--out', argv[0] === 'sample' ? join(out, 's.png') : out])]);
    t.equal(r.code, 2, 'exit status 2');
    t.match(r.err, message);
    t.ok(r.seconds < 5, `before any work (${r.seconds.toFixed(2)} s)`);
    t.notOk(existsSync(out), 'no output created');
  });
}

t.test('defaults never count as given: --align off alone passes the flag checks', async (t) => {
  const r = await run(['train', '--vq', vq, '--align', 'off', '--out', proc]);
  t.equal(r.code, 2);
  t.match(r.err, /--out: cannot write output/, 'it got as far as the outputs');
});

t.test('demo: an image folder too small for the preset is refused before the first stage trains', async (t) => {
  const { PNG } = await import('pngjs');
  const root = join(dir, 'small-folder');
  for (const cls of ['a', 'b']) {
    mkdirSync(join(root, cls), { recursive: true });
    for (let i = 0; i < 4; i++) {
      const png = new PNG({ width: 8, height: 8 });
      png.data.fill(30 * i);
      writeFileSync(join(root, cls, `${i}.png`), PNG.sync.write(png));
    }
  }
  const cwd = process.cwd();
  process.chdir(dir); // decoded folders are cached under ./runs/cache
  const out = join(dir, 'demo-small');
  const r = await run(['demo', '--dataset', 'folder', '--data-dir', root, '--out', out]);
  process.chdir(cwd);
  t.equal(r.code, 2);
  t.match(r.err, /--dataset folder: 7 training images cannot fill the 'quick' preset's batches of up to 64 images/);
  t.notOk(existsSync(join(out, 'vq')), 'no stage ran');
});
