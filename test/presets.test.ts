/**
 * The transformer presets: the parameter count the docs state is the one the model has, and
 * the library's presets do not depend on the benchmark.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { transformerPresets } from '../models/presets';
import { REFERENCE_TINY } from '../models/reference-config';
import { Transformer, type TransformerConfig } from '../models/transformer';

const count = (cfg: TransformerConfig): number => new Transformer(cfg).parameters().reduce((n, p) => n + p.size, 0);

t.test('the mnist preset has 384,096 parameters, as presets.ts and docs/models.md say', async (t) => {
  const n = count(transformerPresets.mnist as TransformerConfig);
  // embed 269·96 + per block (4·96² attention + 3·96·256 SwiGLU + 2·96 norms) · 3 + 96 final norm + 269·96 head
  t.equal(n, 2 * 269 * 96 + 3 * (4 * 96 * 96 + 3 * 96 * 256 + 2 * 96) + 96);
  t.equal(n, 384_096);
  t.match(readFileSync(join(__dirname, '..', 'models', 'presets.ts'), 'utf8'), /384,096 parameters/);
  t.match(readFileSync(join(__dirname, '..', 'docs', 'models.md'), 'utf8'), /384 096 parameters/);
});

t.test('the bench preset is the reference config, defined in models/ (presets.ts imports nothing from bench/)', async (t) => {
  const b = transformerPresets.bench;
  t.same([b.dModel, b.nLayers, b.nHeads, b.mlpHidden, b.vocabSize, b.maxSeqLen], [REFERENCE_TINY.dModel, REFERENCE_TINY.nLayers, REFERENCE_TINY.nHeads, REFERENCE_TINY.mlpHidden, REFERENCE_TINY.vocabSize, REFERENCE_TINY.seqLen]);
  t.notMatch(readFileSync(join(__dirname, '..', 'models', 'presets.ts'), 'utf8'), /from '\.\.\/bench/);
});
