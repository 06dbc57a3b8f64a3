/**
 * The demo pipeline end to end at `--preset tiny` (a few steps of every stage): the report,
 * the checkpoints and the images exist and parse, and the numbers in the report are real.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import t from 'tap';
import { loadSafetensors } from '../lib/io';
import { loadArModel, loadTrainingRun, TRAIN_STATE_FILE } from '../examples/pipeline/ar-trainer';
import { loadVq } from '../examples/pipeline/vq-trainer';
import { main } from '../examples/cli';

const dir = mkdtempSync(join(tmpdir(), 'arra-demo-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

t.test('arra demo --preset tiny', async (t) => {
  const log = console.log;
  console.log = () => {};
  let code: number;
  try {
    code = await main(['demo', '--preset', 'tiny', '--out', dir]);
  } finally {
    console.log = log;
  }
  t.equal(code, 0, 'exit status 0');

  const report = readFileSync(join(dir, 'report.md'), 'utf8');
  t.match(report, /\| baseline \(LlamaGen\) \| 0 \| \d+\.\d\d \| \d+\.\d% \| \d+\.\d{3} \| — \|/, 'baseline row with FID, accuracy, loss');
  t.match(report, /\| ARRA \(<HYBNEXT>, block 0, λ=1\) \| 0 \| \d+\.\d\d \| \d+\.\d% \| \d+\.\d{3} \| \d+\.\d{3} \|/, 'ARRA row with L_GVA');
  t.match(report, /FID and prompt accuracy are measured with a \*different\* network/);

  // The report's rows: | label | seed | FID | accuracy% | final L_AR | final L_GVA | …
  const rowOf = (label: string): string[] => {
    const line = report.split('\n').find((l) => l.startsWith(`| ${label} |`));
    return line ? line.split('|').slice(1, -1).map((c) => c.trim()) : [];
  };
  const firstLossAR: number[] = [];
  for (const run of ['baseline-s0', 'arra-s0']) {
    const { model, arra, step, classNames } = loadArModel(join(dir, run, 'model.safetensors'));
    t.equal(step, 4, `${run}: 4 steps`);
    t.equal(classNames.length, 10);
    t.equal(arra.mode, run.startsWith('arra') ? 'hybnext' : 'off');
    t.equal(model.config.maxSeqLen, 2 + 49, `${run}: class, begin-image and 7×7 codes`);
    const lines = readFileSync(join(dir, run, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { step: number; loss: number; lossAR: number; lossGVA: number });
    t.same(lines.map((l) => l.step), [1, 2, 3, 4], `${run}: one metrics line per step`);
    const last = lines.at(-1)!;
    const row = rowOf(run.startsWith('arra') ? 'ARRA (<HYBNEXT>, block 0, λ=1)' : 'baseline (LlamaGen)');
    t.equal(row[4], last.lossAR.toFixed(3), `${run}: the report's final L_AR is the last logged one (${last.lossAR})`);
    t.equal(row[5], run.startsWith('arra') ? last.lossGVA.toFixed(3) : '—', `${run}: and its final L_GVA`);
    // the first steps start near ln(V) (uniform logits) and go down
    const lnV = Math.log(model.config.vocabSize);
    t.ok(Math.abs(lines[0]!.lossAR - lnV) < 0.1 * lnV, `${run}: first L_AR ${lines[0]!.lossAR} ≈ ln V = ${lnV.toFixed(3)}`);
    firstLossAR.push(lines[0]!.lossAR);
    t.ok(last.lossAR < lines[0]!.lossAR, `${run}: L_AR went down in 4 steps (${lines[0]!.lossAR} → ${last.lossAR})`);
    const png = PNG.sync.read(readFileSync(join(dir, run, 'samples.png')));
    t.ok(png.width > 0 && png.height > 0, `${run}: samples.png decodes`);
  }
  // same seed: same initial weights and first batch; ARRA changes only what is added to the loss
  t.equal(firstLossAR[0], firstLossAR[1], 'baseline and ARRA start from the same L_AR');
  const arraRun = loadTrainingRun(join(dir, 'arra-s0', TRAIN_STATE_FILE));
  t.ok(arraRun.projector, 'the ARRA train state keeps its projector');
  t.equal(loadTrainingRun(join(dir, 'baseline-s0', TRAIN_STATE_FILE)).projector, null, 'the baseline never had one');
  t.equal(loadVq(join(dir, 'vq', 'vq.safetensors')).gridSize, 7);
  t.ok(loadSafetensors(join(dir, 'encoders', 'fid-convnet.safetensors')).tensors.size > 0);
  t.match(readFileSync(join(dir, 'arra-s0', 'explain', 'report.md'), 'utf8'), /\| blocks\.0 \| \d+ \| \d+\.\d+ \| \d+\.\d+ \|/, 'attribution report for the ARRA run');
  // The stages as separate commands, on the demo's outputs.
  const quiet = async (argv: string[]): Promise<{ code: number; err: string }> => {
    let err = '';
    const w = process.stderr.write.bind(process.stderr);
    const logFn = console.log;
    process.stderr.write = ((c: string) => { err += c; return true; }) as typeof process.stderr.write;
    console.log = () => {};
    try {
      return { code: await main(argv), err };
    } finally {
      process.stderr.write = w;
      console.log = logFn;
    }
  };
  const model = join(dir, 'arra-s0', 'model.safetensors');
  const vq = join(dir, 'vq', 'vq.safetensors');
  const refused = await quiet(['eval', '--model', model, '--vq', vq, '--fid-encoder', `convnet:${join(dir, 'encoders', 'align-convnet.safetensors')}`, '--test-limit', '20', '--out', join(dir, 'eval-bad')]);
  t.equal(refused.code, 1, 'eval refuses to grade with the alignment encoder');
  t.match(refused.err, /is the encoder this model was aligned to; choose a different --fid-encoder/);
  const evaluated = await quiet(['eval', '--model', model, '--vq', vq, '--fid-encoder', `convnet:${join(dir, 'encoders', 'fid-convnet.safetensors')}`, '--per-class', '2', '--test-limit', '20', '--out', join(dir, 'eval')]);
  t.equal(evaluated.code, 0, `eval runs (${evaluated.err.slice(-200)})`);
  const ev = JSON.parse(readFileSync(join(dir, 'eval', 'eval.json'), 'utf8')) as { fid: number; numGenerated: number; numReal: number; promptAccuracy: number; align: string };
  t.equal(ev.numGenerated, 20, '2 samples × 10 classes');
  t.equal(ev.numReal, 20);
  t.ok(Number.isFinite(ev.fid) && ev.fid > 0, `FID ${ev.fid}: 4 training steps do not reproduce the data`);
  t.ok(Number.isInteger(Math.round(ev.promptAccuracy * 20 * 1e9) / 1e9), `accuracy ${ev.promptAccuracy} is a count out of 20`);
  t.equal(ev.align, 'hybnext');
  // the same command again: the same numbers (sampling and scoring are seeded)
  const again = await quiet(['eval', '--model', model, '--vq', vq, '--fid-encoder', `convnet:${join(dir, 'encoders', 'fid-convnet.safetensors')}`, '--per-class', '2', '--test-limit', '20', '--out', join(dir, 'eval2')]);
  t.equal(again.code, 0);
  const ev2 = JSON.parse(readFileSync(join(dir, 'eval2', 'eval.json'), 'utf8')) as typeof ev;
  t.same([ev2.fid, ev2.promptAccuracy], [ev.fid, ev.promptAccuracy], 'eval is reproducible');
  const sampled = await quiet(['sample', '--model', model, '--vq', vq, '--prompts', 'seven,three', '--per-prompt', '2', '--out', join(dir, 's.png')]);
  t.equal(sampled.code, 0);
  const grid = PNG.sync.read(readFileSync(join(dir, 's.png')));
  t.ok(grid.height > grid.width / 2, 'two rows (one per prompt), two columns');
  const unknown = await quiet(['sample', '--model', model, '--vq', vq, '--prompts', 'eleven']);
  t.equal(unknown.code, 2);
  t.match(unknown.err, /--prompts: unknown class 'eleven'; the model knows zero, one/);

  for (const svg of ['loss.svg', 'fid.svg']) t.match(readFileSync(join(dir, svg), 'utf8'), /^<\?xml[^>]*>\s*<svg[\s\S]*<\/svg>\s*$/);
});
