/**
 * A second reliability pass over the command line (issue 10, new cases): each bad value is a
 * usage error (exit 2) naming the flag, found before any work — no internal TypeError or
 * RangeError, no minutes of generation before an allocation fails.
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { main } from '../examples/cli';

const dir = mkdtempSync(join(tmpdir(), 'arra-sweep-cli-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

async function run(argv: string[]): Promise<{ code: number; err: string; seconds: number }> {
  let err = '';
  const e = process.stderr.write.bind(process.stderr);
  const o = process.stdout.write.bind(process.stdout);
  const log = console.log;
  process.stderr.write = ((s: string) => { err += s; return true; }) as typeof process.stderr.write;
  process.stdout.write = (() => true) as typeof process.stdout.write;
  console.log = () => undefined;
  const start = Date.now();
  try {
    return { code: await main(argv), err, seconds: (Date.now() - start) / 1000 };
  } finally {
    process.stderr.write = e;
    process.stdout.write = o;
    console.log = log;
  }
}

const data = ['--dataset', 'shapes', '--image-size', '16', '--train-limit', '24', '--test-limit', '8'];
const vq = join(dir, 'vq', 'vq.safetensors');
const textModel = join(dir, 'text', 'model.safetensors');
const classModel = join(dir, 'class', 'model.safetensors');
const fid = join(dir, 'fid.safetensors');
const judge = join(dir, 'judge.safetensors');

t.before(async () => {
  const a = await run(['train-vq', ...data, '--steps', '1', '--batch-size', '8', '--codebook-size', '8', '--out', join(dir, 'vq')]);
  if (a.code !== 0) throw new Error(`train-vq failed: ${a.err}`);
  for (const [mode, out] of [['text', 'text'], ['class', 'class']]) {
    const b = await run(['train', ...data, '--vq', vq, '--align', 'off', '--condition', mode!, '--preset', 'tiny', '--steps', '1', '--batch-size', '4', '--out', join(dir, out!)]);
    if (b.code !== 0) throw new Error(`train ${mode} failed: ${b.err}`);
  }
  for (const [seed, out] of [['0', fid], ['5', judge]]) {
    const c = await run(['train-encoder', ...data, '--batch-size', '8', '--seed', seed!, '--out', out!]);
    if (c.code !== 0) throw new Error(`train-encoder failed: ${c.err}`);
  }
});

const evalText = (...more: string[]): string[] => ['eval', ...data, '--model', textModel, '--vq', vq, '--fid-encoder', `convnet:${fid}`, '--classifier', judge, '--per-class', '2', ...more, '--out', join(dir, 'o', 'eval')];

const cases: [string, () => string[], RegExp][] = [
  ['text model, no prompts at all', () => ['sample', '--model', textModel, '--vq', vq, '--prompts', ' ; ;', '--out', join(dir, 'o', 'a.png')], /--prompts: expected at least one prompt \(prompts are separated by ';'\), got " ; ;"/],
  ['text model, an empty --prompts', () => ['sample', '--model', textModel, '--vq', vq, '--prompts', '', '--out', join(dir, 'o', 'b.png')], /--prompts: expected at least one prompt/],
  ['text model, only punctuation', () => ['sample', '--model', textModel, '--vq', vq, '--prompts', '!!!', '--out', join(dir, 'o', 'c.png')], /--prompts: the prompt '!!!' has no words/],
  ['text model, a very long prompt is quoted shortened', () => ['sample', '--model', textModel, '--vq', vq, '--prompts', 'red '.repeat(2000), '--out', join(dir, 'o', 'd.png')], /--prompts: the prompt 'red red [a-z ]{60,70}…' has 2000 words, the model's prompt slot holds \d+$/m],
  ['class model, an empty class name', () => ['sample', '--model', classModel, '--vq', vq, '--prompts', 'red circle,,blue square', '--out', join(dir, 'o', 'e.png')], /--prompts: expected comma-separated class names, got an empty name in "red circle,,blue square"/],
  ['--cfg-scale past float32 overflow', () => ['sample', '--model', classModel, '--vq', vq, '--cfg-scale', '1e300', '--out', join(dir, 'o', 'f.png')], /--cfg-scale: expected a number in \[0, 100\], got 1e300/],
  ['--width that cannot be allocated', () => ['train-encoder', ...data, '--width', '100000', '--out', join(dir, 'o', 'enc.safetensors')], /--width: expected an integer in \[1, 512\], got 100000/],
  ['--codebook-size past the vocabulary a model can hold', () => ['train-vq', ...data, '--codebook-size', '1000000', '--out', join(dir, 'o', 'vq')], /--codebook-size: expected an integer in \[2, 65536\], got 1000000/],
  ['shapes below the generator\'s smallest side', () => ['train-vq', '--dataset', 'shapes', '--image-size', '8', '--out', join(dir, 'o', 'vq')], /--image-size: the shapes set is drawn at 12 px or more, got 8/],
  ['a generated set that cannot fit in memory', () => ['train-vq', '--dataset', 'shapes', '--image-size', '12', '--train-limit', '5000000', '--out', join(dir, 'o', 'vq')], /--train-limit: 5000000 generated 12-px shapes images would take 8\.0 GiB; at most 1242756 fit in 2 GiB/],
  ['train: a batch larger than the data', () => ['train', ...data, '--vq', vq, '--align', 'off', '--preset', 'tiny', '--steps', '1', '--batch-size', '1000', '--out', join(dir, 'o', 'train')], /--batch-size: 24 training images cannot fill one batch of 1000/],
  ['--align-pooling with --align off', () => ['train', ...data, '--vq', vq, '--align', 'off', '--align-pooling', 'avg', '--out', join(dir, 'o', 'train')], /--align-pooling: has no effect with --align off/],
  ['train-encoder at a side the ConvNet cannot halve twice', () => ['train-encoder', '--dataset', 'shapes', '--image-size', '13', '--out', join(dir, 'o', 'e.safetensors')], /--image-size: the ConvNet halves the image twice, so its side must be a multiple of 4, got 13 \(12 or 16 would do\)/],
  ['explain: one batch of a hundred thousand', () => ['explain', '--run', dir, '--vq', vq, '--align-encoder', `convnet:${fid}`, '--batch-size', '100000'], /--batch-size: expected an integer in \[1, 256\], got 100000/],
  ['eval: a VQ as --attribute-classifier', () => evalText('--attribute-classifier', vq), /--attribute-classifier: expected a ConvNet checkpoint .* but .*vq\.safetensors is a VQ tokenizer checkpoint/],
  ['eval: a class ConvNet as --attribute-classifier', () => evalText('--attribute-classifier', fid), /--attribute-classifier: .*fid\.safetensors: not an attribute classifier/],
  ['eval: --attribute-classifier for a class model', () => ['eval', ...data, '--model', classModel, '--vq', vq, '--fid-encoder', `convnet:${fid}`, '--classifier', judge, '--attribute-classifier', fid, '--out', join(dir, 'o', 'eval')], /--attribute-classifier: has no effect for a class-conditional model/],
  ['eval (text): a KID subset larger than the sets, before generating', () => evalText('--kid-subset-size', '100000', '--attribute-classifier', join(dir, 'o', 'attr.safetensors')), /--kid-subset-size: subsets are drawn without replacement from 48 generated and 8 held-out images; got 100000/],
  ['an empty --out folder (it would be the current folder)', () => ['train-vq', ...data, '--out', ''], /--out: expected a path, got ""/],
  ['an empty --out file (a rename to \'\' after training)', () => ['train-encoder', ...data, '--out', ' '], /--out: expected a path, got " "/],
  ['an empty --cache-dir', () => ['features', ...data, '--encoder', `convnet:${fid}`, '--cache-dir', ''], /--cache-dir: expected a path, got ""/],
  ['sample --out that is not a .png', () => ['sample', '--model', classModel, '--vq', vq, '--out', join(dir, 'o', 'grid.jpg')], /--out: the grid is written as PNG, so the file must end in \.png, got ".*grid\.jpg"/],
];

for (const [name, argv, message] of cases) {
  t.test(name, async (t) => {
    const r = await run(argv());
    t.equal(r.code, 2, `exit 2 (${r.err.trim()})`);
    t.match(r.err, message);
    t.ok(r.seconds < 10, `answered in ${r.seconds.toFixed(1)} s`);
    t.notOk(existsSync(join(dir, 'o')), 'no output folder is left behind');
  });
}

t.test('train --resume of a run already at --steps is refused, and its files are left as they were', async (t) => {
  const runDir = join(dir, 'resumed');
  cpSync(join(dir, 'class'), runDir, { recursive: true });
  const before = readFileSync(join(runDir, 'metrics.jsonl'), 'utf8');
  const mtime = statSync(join(runDir, 'model.safetensors')).mtimeMs;
  const r = await run(['train', ...data, '--vq', vq, '--align', 'off', '--preset', 'tiny', '--steps', '1', '--batch-size', '4', '--resume', '--out', runDir]);
  t.equal(r.code, 2, r.err);
  t.match(r.err, /--steps: .*train-state\.safetensors is already at step 1, so --steps 1 leaves nothing to train; pass a larger --steps/);
  t.equal(readFileSync(join(runDir, 'metrics.jsonl'), 'utf8'), before, 'metrics.jsonl untouched');
  t.equal(statSync(join(runDir, 'model.safetensors')).mtimeMs, mtime, 'model.safetensors not rewritten');
});

t.test('train: a folder where the run writes a file is named before any work', async (t) => {
  const runDir = join(dir, 'blocked');
  mkdirSync(join(runDir, 'metrics.jsonl'), { recursive: true });
  const r = await run(['train', ...data, '--vq', vq, '--align', 'off', '--preset', 'tiny', '--steps', '2', '--batch-size', '4', '--out', runDir]);
  t.equal(r.code, 2, r.err);
  t.match(r.err, /--out: expected a file to write, but .*blocked\/metrics\.jsonl is a folder/);
  t.notOk(existsSync(join(runDir, 'model.safetensors')), 'nothing trained');
});
