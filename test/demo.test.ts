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
  const row = '\\| 0 \\| \\d+\\.\\d\\d \\| -?\\d\\.\\d{4} ± \\d\\.\\d{4} \\| \\d+\\.\\d ± \\d+\\.\\d% \\| \\d+\\.\\d{3} \\|';
  t.match(report, new RegExp(`\\| baseline \\(LlamaGen\\) ${row} — \\|`), 'baseline row with FID, KID ± std, accuracy ± se, loss');
  t.match(report, new RegExp(`\\| ARRA \\(&lt;HYBNEXT&gt;, block 0, λ=1\\) ${row} \\d+\\.\\d{3} \\|`), 'ARRA row with L_GVA; <HYBNEXT> escaped for Markdown');
  t.notMatch(report, /<HYBNEXT>/, 'no raw <HYBNEXT> anywhere in the report');
  t.match(report, /training seed \(one training seed: a data point, not a result\)/, 'a single-seed table says so');
  t.match(report, /### How strong is the evidence\?\n\n\*\*One seed: a data point, not a result\.\*\* ARRA − baseline on seed 0: FID [+-]\d+\.\d\d, KID [+-]\d+\.\d{4}/, 'and says how weak one seed is');
  t.match(report, /FID, KID and prompt accuracy are measured with \*different\* networks/);
  t.match(report, /\| FID\/KID features \| in-project ConvNet classifier, max-pooling/, 'the FID network is named and described');
  t.match(report, /Reproduce with `npx arra demo --preset tiny --out \S+`/, 'the reproduce line carries the flags given');

  // The report's rows: | label | seed | FID | KID ± std | accuracy ± se | final L_AR | final L_GVA | …
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
    const row = rowOf(run.startsWith('arra') ? 'ARRA (&lt;HYBNEXT&gt;, block 0, λ=1)' : 'baseline (LlamaGen)');
    t.equal(row[5], last.lossAR.toFixed(3), `${run}: the report's final L_AR is the last logged one (${last.lossAR})`);
    t.equal(row[6], run.startsWith('arra') ? last.lossGVA.toFixed(3) : '—', `${run}: and its final L_GVA`);
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
  const enc = (name: string): string => join(dir, 'encoders', `${name}-convnet.safetensors`);
  const refused = await quiet(['eval', '--model', model, '--vq', vq, '--fid-encoder', `convnet:${enc('align')}`, '--classifier', enc('classifier'), '--test-limit', '20', '--out', join(dir, 'eval-bad')]);
  t.equal(refused.code, 2, 'eval refuses to grade with the alignment encoder (a usage error)');
  t.match(refused.err, /is the encoder this model was aligned to \(same weights, digest [0-9a-f]{16}\); choose a different --fid-encoder/);
  // The same weights under another name are still the alignment encoder: a copy saved as another dataset.
  const { loadConvNet, saveConvNet } = await import('../models/encoder');
  const copy = loadConvNet(enc('align'));
  saveConvNet(join(dir, 'renamed.safetensors'), copy.net, { ...copy.meta, dataset: 'renamed' });
  const renamed = await quiet(['eval', '--model', model, '--vq', vq, '--fid-encoder', `convnet:${join(dir, 'renamed.safetensors')}`, '--classifier', enc('classifier'), '--test-limit', '20', '--out', join(dir, 'eval-bad')]);
  t.equal(renamed.code, 2, 'a renamed copy of the alignment encoder is refused by its weights');
  t.match(renamed.err, /convnet-renamed-[0-9a-f]+' is the encoder this model was aligned to/);
  const sameNet = await quiet(['eval', '--model', model, '--vq', vq, '--fid-encoder', `convnet:${enc('classifier')}`, '--classifier', enc('classifier'), '--test-limit', '20', '--out', join(dir, 'eval-bad')]);
  t.equal(sameNet.code, 2, 'the classifier may not be the FID network');
  t.match(sameNet.err, /--classifier: the FID\/KID network '[^']+' and the accuracy classifier '[^']+' are one network/);
  const evaluated = await quiet(['eval', '--model', model, '--vq', vq, '--fid-encoder', `convnet:${enc('fid')}`, '--classifier', enc('classifier'), '--per-class', '2', '--test-limit', '20', '--out', join(dir, 'eval')]);
  t.equal(evaluated.code, 0, `eval runs (${evaluated.err.slice(-200)})`);
  const ev = JSON.parse(readFileSync(join(dir, 'eval', 'eval.json'), 'utf8')) as {
    fid: number; kid: number; kidStd: number; numGenerated: number; numReal: number; promptAccuracy: number; align: string; warnings: string[]; featureDim: number;
  };
  t.ok(Number.isFinite(ev.kid) && ev.kidStd >= 0, `KID ${ev.kid} ± ${ev.kidStd}`);
  // 20 samples, 20 held-out images, 64-d features: the guards must say so, loudly
  t.ok(ev.warnings.some((w) => /20 generated images for 64-d features: the covariance is singular/.test(w)), 'N ≤ D warning');
  t.ok(ev.warnings.some((w) => /held-out set is too small: 20 images/.test(w)), 'small held-out set warning');
  t.match(evaluated.err, /!! WARNING: /, 'printed on stderr');
  const evalMd = readFileSync(join(dir, 'eval', 'eval.md'), 'utf8');
  t.match(evalMd, /> \*\*WARNING\*\*/, 'eval.md leads with the warnings');
  t.match(evalMd, /\| KID ↓ \| -?\d\.\d{5} \| ± \d\.\d{5} \(std over \d+ subsets of \d+\)/, 'KID with its uncertainty');
  t.match(evalMd, /Reproduce with `npx arra eval --test-limit 20 --model \S+ --vq \S+ --fid-encoder convnet:\S+ --classifier \S+ --per-class 2 --out \S+`/, 'the reproduce line carries every non-default flag');
  t.equal(ev.numGenerated, 20, '2 samples × 10 classes');
  t.equal(ev.numReal, 20);
  t.ok(Number.isFinite(ev.fid) && ev.fid > 0, `FID ${ev.fid}: 4 training steps do not reproduce the data`);
  t.ok(Number.isInteger(Math.round(ev.promptAccuracy * 20 * 1e9) / 1e9), `accuracy ${ev.promptAccuracy} is a count out of 20`);
  t.equal(ev.align, 'hybnext');
  const explained = await quiet(['explain', '--run', join(dir, 'arra-s0'), '--vq', vq, '--align-encoder', `convnet:${enc('align')}`, '--batch-size', '4', '--test-limit', '20', '--out', join(dir, 'explain')]);
  t.equal(explained.code, 0, `explain runs on the run's own encoder (${explained.err.slice(-200)})`);
  t.match(readFileSync(join(dir, 'explain', 'alignment.svg'), 'utf8'), /<g class="colorbar">/, 'with its labelled heat map');
  const wrongEncoder = await quiet(['explain', '--run', join(dir, 'arra-s0'), '--vq', vq, '--align-encoder', `convnet:${join(dir, 'renamed.safetensors')}`, '--test-limit', '20', '--out', join(dir, 'explain-bad')]);
  t.equal(wrongEncoder.code, 2, 'explain refuses an encoder the run was not aligned to');
  // the same command again: the same numbers (sampling and scoring are seeded)
  const again = await quiet(['eval', '--model', model, '--vq', vq, '--fid-encoder', `convnet:${enc('fid')}`, '--classifier', enc('classifier'), '--per-class', '2', '--test-limit', '20', '--out', join(dir, 'eval2')]);
  t.equal(again.code, 0);
  const ev2 = JSON.parse(readFileSync(join(dir, 'eval2', 'eval.json'), 'utf8')) as typeof ev;
  t.same([ev2.fid, ev2.kid, ev2.promptAccuracy], [ev.fid, ev.kid, ev.promptAccuracy], 'eval is reproducible');
  const sampled = await quiet(['sample', '--model', model, '--vq', vq, '--prompts', 'seven,three', '--per-prompt', '2', '--out', join(dir, 's.png')]);
  t.equal(sampled.code, 0);
  const grid = PNG.sync.read(readFileSync(join(dir, 's.png')));
  t.ok(grid.height > grid.width / 2, 'two rows (one per prompt), two columns');
  const unknown = await quiet(['sample', '--model', model, '--vq', vq, '--prompts', 'eleven']);
  t.equal(unknown.code, 2);
  t.match(unknown.err, /--prompts: unknown class 'eleven'; the model knows zero, one/);

  for (const svg of ['loss.svg', 'fid.svg']) t.match(readFileSync(join(dir, svg), 'utf8'), /^<\?xml[^>]*>\s*<svg[\s\S]*<\/svg>\s*$/);
});
