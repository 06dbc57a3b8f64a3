/** `arra explain`: the gradient attribution report (L_AR vs λ·L_GVA per parameter and block) for a run. */
import { join } from 'node:path';
import { describeBackend, indexSelect, noGrad, Rng } from '../../lib';
import { UsageError } from '../../lib/cli';
import { existsSync } from 'node:fs';
import { conditionedSequences, loadArModel, loadTrainingRun, MODEL_FILE, TRAIN_STATE_FILE } from '../pipeline/ar-trainer';
import { encodePrompts, trainingPrompts } from '../pipeline/conditioning';
import { checkDataFlags, checkSplit, dataFiles, dataFlags, describeData, loadData } from '../pipeline/datasets';
import { printWarnings } from '../pipeline/evaluate';
import { openEncoder } from '../pipeline/encoders';
import { modelConfigFor } from '../pipeline/model-config';
import { codesOf, globalFeatures } from '../pipeline/prepare';
import { loadVq } from '../pipeline/vq-trainer';
import { checkTokenizerFits, checkTokenizerReads } from '../pipeline/checkpoints';
import { explainToFiles, toArraBatch } from '../explain';
import { parametersDigest } from '../../models/encoder';
import { command } from './command';

export const explainCommand = command({
  summary: 'gradient attribution report of an ARRA run on one batch (markdown, heat map, bar chart)',
  flags: [
    ...dataFlags,
    { name: 'run', type: 'string', required: true, help: `run folder of arra train (reads ${TRAIN_STATE_FILE}: model and projector)` },
    { name: 'vq', type: 'string', required: true, help: 'tokenizer checkpoint the model was trained with' },
    { name: 'alignEncoder', type: 'string', required: true, help: 'the encoder the run was aligned to (convnet:<file> or mobilenet[@<px>])' },
    { name: 'batchSize', type: 'int', default: 16, min: 1, max: 256, help: 'images in the explained batch (one forward and backward of them all)' },
    { name: 'seed', type: 'int', default: 7, help: 'which images (seeded draw from the held-out split)' },
    { name: 'cacheDir', type: 'string', default: join('runs', 'cache'), help: 'folder of feature caches' },
    { name: 'out', type: 'string', help: 'output folder (default: <run>/explain)' },
  ],
  check: checkDataFlags,
  files: (f) => [
    dataFiles(f),
    { flag: '--run', path: f.run, folder: `a run folder of arra train (holding ${TRAIN_STATE_FILE})` },
    { flag: '--run', path: join(f.run, TRAIN_STATE_FILE), checkpoint: 'arra-train-state' },
    { flag: '--vq', path: f.vq, checkpoint: 'arra-vq' },
    { flag: '--align-encoder', path: f.alignEncoder, encoder: true },
    { flag: '--cache-dir', path: f.cacheDir, output: 'dir' },
    { flag: '--out', path: f.out ?? join(f.run, 'explain'), output: 'dir' },
  ],
  run: (f) => {
    console.log(describeBackend());
    const { model, projector, arra, split: trainedSplit } = loadTrainingRun(join(f.run, TRAIN_STATE_FILE));
    if (!projector || arra.mode === 'off') throw new UsageError(`--run: ${f.run} is a baseline run (--align off): there is no alignment loss to explain`, '--run');
    const vq = loadVq(f.vq);
    const encoder = openEncoder(f.alignEncoder, '--align-encoder', arra.pooling); // the pooling the run's f_GF used
    if (encoder.name !== arra.encoderName) throw new UsageError(`--align-encoder: the run was aligned to '${arra.encoderName}', got '${encoder.name}'`, '--align-encoder');
    if (arra.encoderDigest && parametersDigest(encoder.parameters()) !== arra.encoderDigest) {
      throw new UsageError(`--align-encoder: '${encoder.name}' has other weights than the encoder the run was aligned to (digest ${arra.encoderDigest})`, '--align-encoder');
    }
    const { test, split } = loadData(f);
    checkTokenizerReads(f.vq, vq, test.images, describeData(f));
    const splitWarning = checkSplit(trainedSplit, split, `the run ${f.run}`, '--run');
    if (splitWarning) printWarnings([splitWarning]);
    const rng = new Rng(f.seed);
    const rows = Array.from({ length: f.batchSize }, () => rng.int(test.labels.length));
    const sub = { ...test, images: noGrad(() => indexSelect(test.images, 0, rows)), labels: Int32Array.from(rows, (r) => test.labels[r]!) };
    // The conditioning mode and layout are in the run's inference checkpoint (older runs: class).
    const saved = existsSync(join(f.run, MODEL_FILE)) ? loadArModel(join(f.run, MODEL_FILE)) : null;
    const condition = saved?.condition ?? { mode: 'class' as const };
    const layout = saved?.layout ?? modelConfigFor('mnist', vq, test.classNames.length).layout;
    checkTokenizerFits(f.vq, vq, '--run', f.run, { numCodes: layout.numCodes, numTokens: model.config.maxSeqLen - (model.config.prefixLen ?? 2), madeWith: model.config });
    const feats = globalFeatures(encoder, sub, `${describeData(f)} explain seed ${f.seed}`, f.cacheDir, console.log, split);
    const codes = codesOf(vq, sub);
    const texts = condition.mode === 'text' ? trainingPrompts(test, 0) : null; // the held-out images' own prompts
    const batch = condition.mode === 'class'
      ? toArraBatch(layout, { codes, classes: sub.labels, globalFeatures: feats }, model.config.dtype ?? 'float32')
      : {
        ...conditionedSequences(
          {
            codes, labels: sub.labels, globalFeatures: null, layout, numTokens: vq.gridSize ** 2, condition,
            prompts: texts ? encodePrompts(condition, rows.map((r) => texts[r]!), 'held-out prompts') : undefined,
          },
          Int32Array.from(rows, (_, i) => i), codes, 0, new Rng(0),
        ),
        globalFeatures: feats.astype(model.config.dtype ?? 'float32'),
      };
    const out = f.out ?? join(f.run, 'explain');
    const report = explainToFiles({ model, projector, cfg: arra, layout }, batch, out);
    console.log(`${report.groups.length} parameter groups; wrote ${join(out, 'report.md')}, alignment.svg (with colour scale), alignment.png, blocks.svg`);
  },
});
