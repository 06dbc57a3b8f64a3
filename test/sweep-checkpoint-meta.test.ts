/**
 * Checkpoint metadata that is valid JSON of the wrong shape is refused from the header, naming
 * the key, before anything is built: `config` = `[]`, sizes of 1e999 (+∞ in JSON), a text
 * model whose vocabulary disagrees with its layout (it would sample with shifted word ids),
 * repeated or missing class names, an unknown conditioning mode.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { main } from '../examples/cli';
import { checkpointMetaProblem } from '../examples/pipeline/checkpoint-meta';
import { Tensor } from '../lib';
import { saveSafetensors, type SafetensorsHeader } from '../lib/io';

const VOCAB = ['<pad>', '<unk>', 'a', 'red', 'circle'];
const textModel = (): Record<string, unknown> => ({
  kind: 'arra-transformer',
  config: { vocabSize: 24, dModel: 16, nLayers: 1, nHeads: 2, mlpHidden: 32, maxSeqLen: 20, rope: '2d', gridSize: 4, prefixLen: 4 },
  layout: { numCodes: 16, numClasses: 0, codeOffset: 0, classOffset: 16, textOffset: 16, textVocab: 5, nullClass: 21, beginImage: 22, pad: 23, vocabSize: 24 },
  classNames: [], arra: { mode: 'off' }, step: 3, condition: { mode: 'text', promptLen: 3, vocab: VOCAB },
});
const classModel = (): Record<string, unknown> => ({
  ...textModel(), config: { vocabSize: 21, dModel: 16, nLayers: 1, nHeads: 2, mlpHidden: 32, maxSeqLen: 18, rope: '2d', gridSize: 4 },
  layout: { numCodes: 16, numClasses: 2, codeOffset: 0, classOffset: 16, nullClass: 18, beginImage: 19, pad: 20, vocabSize: 21 },
  classNames: ['seven', 'three'], condition: { mode: 'class' },
});
const tensors = (V: number): SafetensorsHeader['tensors'] => [
  { name: 'embed.weight', dtype: 'F32', shape: [V, 16] }, { name: 'blocks.0.mlp.w1.weight', dtype: 'F32', shape: [32, 16] },
];
/** Metadata values as the writer stores them: each JSON-encoded (a raw string is used as it is). */
const header = (md: Record<string, unknown>, V = 24): SafetensorsHeader => ({
  metadata: Object.fromEntries(Object.entries(md).map(([k, v]) => [k, typeof v === 'string' && k.startsWith('raw:') ? v : JSON.stringify(v)]).map(([k, v]) => [k!.replace(/^raw:/, ''), v!])),
  tensors: tensors(V),
});

t.test('well-formed text and class models pass', async (t) => {
  t.equal(checkpointMetaProblem('arra-transformer', header(textModel())), null);
  t.equal(checkpointMetaProblem('arra-transformer', header(classModel(), 21)), null);
  const old = classModel();
  delete old.condition; // written before conditioning modes: class-conditional
  t.equal(checkpointMetaProblem('arra-transformer', header(old, 21)), null);
  t.equal(checkpointMetaProblem('arra-transformer', header({ ...classModel(), classNames: [] }, 21)), null, 'unnamed classes (a library call without names)');
});

t.test('each wrong shape is named', async (t) => {
  const cases: [string, Record<string, unknown>, RegExp, number?][] = [
    ['config = []', { ...textModel(), config: [] }, /config: expected an object, found \[\]/],
    ['config = {}', { ...textModel(), config: {} }, /config\.vocabSize: expected an integer ≥ 1, found nothing/],
    ['dModel 1e999', { ...textModel(), 'raw:config': JSON.stringify(textModel().config).replace('"dModel":16', '"dModel":1e999') }, /config\.dModel: expected an integer ≥ 1, found Infinity/],
    ['layout null', { ...textModel(), layout: null }, /layout: expected an object, found null/],
    ['vocab a string', { ...textModel(), condition: { mode: 'text', promptLen: 3, vocab: 'abc' } }, /condition\.vocab: expected a list of non-empty strings, found "abc"/],
    ['vocab shorter than the layout', { ...textModel(), condition: { mode: 'text', promptLen: 3, vocab: VOCAB.slice(0, 4) } }, /condition\.vocab has 4 words, but layout\.textVocab is 5/],
    ['vocab without <pad>', { ...textModel(), condition: { mode: 'text', promptLen: 3, vocab: ['a', 'b', 'c', 'd', 'e'] } }, /must start with <pad>, <unk>/],
    ['promptLen off the config', { ...textModel(), condition: { mode: 'text', promptLen: 7, vocab: VOCAB } }, /condition\.promptLen 7 needs config\.prefixLen 8, found 4/],
    ['unknown mode', { ...textModel(), condition: { mode: 'bogus' } }, /condition\.mode: expected one of class, text, none, found "bogus"/],
    ['missing condition on a text layout', (() => { const m = textModel(); delete m.condition; return m; })(), /condition\.mode is 'class' but layout\.numClasses is 0/],
    ['repeated class names', { ...classModel(), classNames: ['seven', 'seven'] }, /'seven' appears twice/, 21],
    ['too few class names', { ...classModel(), classNames: ['seven'] }, /classNames holds 1 names for layout\.numClasses 2/, 21],
    ['class mode without class tokens', { ...classModel(), layout: { ...(classModel().layout as object), numClasses: 0 } }, /condition\.mode is 'class' but layout\.numClasses is 0/, 21],
    ['layout and config disagree', { ...classModel(), layout: { ...(classModel().layout as object), vocabSize: 40 } }, /layout\.vocabSize 40 differs from config\.vocabSize 21/, 21],
    ['config larger than the tensors', textModel(), /config says embed\.weight is \[24, 16\], but the tensor is \[99, 16\]/, 99],
  ];
  for (const [name, md, message, V] of cases) t.match(checkpointMetaProblem('arra-transformer', header(md, V ?? 24)), message, name);
});

t.test('VQ, ConvNet and train-state metadata', async (t) => {
  const vqTensors: SafetensorsHeader['tensors'] = [{ name: 'codebook', dtype: 'F32', shape: [16, 8] }, { name: 'encoder.convIn.weight', dtype: 'F32', shape: [16, 3, 3, 3] }];
  const vq = { config: { imageSize: 16, channels: 3, downsample: 4, codebookSize: 16, codeDim: 8, hidden: [16, 32] } };
  const h = (md: Record<string, unknown>, ts = vqTensors): SafetensorsHeader => ({ ...header(md), tensors: ts });
  t.equal(checkpointMetaProblem('arra-vq', h(vq)), null);
  t.match(checkpointMetaProblem('arra-vq', h({ config: { ...vq.config, imageSize: '16' } })), /config\.imageSize: expected an integer ≥ 1, found "16"/);
  t.match(checkpointMetaProblem('arra-vq', h({ config: { ...vq.config, codebookSize: 4096 } })), /codebook is \[4096, 8\], but the tensor is \[16, 8\]/);
  t.match(checkpointMetaProblem('arra-vq', h({ config: { ...vq.config, hidden: 'ab' } })), /config\.hidden: expected a non-empty list/);
  const conv = { convnet: { config: { inChannels: 3, imageSize: 16, widths: [16, 32], featureDim: 64, numClasses: 24, arch: 'strided' } } };
  const convTensors: SafetensorsHeader['tensors'] = [{ name: 'conv1.weight', dtype: 'F32', shape: [16, 3, 3, 3] }, { name: 'head.weight', dtype: 'F32', shape: [24, 64] }];
  t.equal(checkpointMetaProblem('arra-convnet', h(conv, convTensors)), null);
  t.match(checkpointMetaProblem('arra-convnet', h({ convnet: {} }, convTensors)), /convnet\.config: expected an object, found nothing/);
  t.match(checkpointMetaProblem('arra-convnet', h({ convnet: { config: { ...conv.convnet.config, widths: [99, 32] } } }, convTensors)), /conv1 maps 3 → 99 channels/);
  const state = { model: classModel().config, arra: { mode: 'off' }, step: 2, optimizer: { kind: 'AdamW', step: 2, hyper: { lr: 1e-3 } }, rng: { state: 5, spareNormal: null } };
  const stateTensors: SafetensorsHeader['tensors'] = [{ name: 'model.embed.weight', dtype: 'F32', shape: [21, 16] }];
  t.equal(checkpointMetaProblem('arra-train-state', h(state, stateTensors)), null);
  t.match(checkpointMetaProblem('arra-train-state', h({ ...state, 'raw:optimizer': '{"kind":"AdamW","step":2,"hyper":{"lr":1e999}}' }, stateTensors)), /optimizer\.hyper\.lr: expected a finite number, found Infinity/);
  t.match(checkpointMetaProblem('arra-train-state', h({ ...state, rng: { state: -1, spareNormal: null } }, stateTensors)), /rng\.state: expected an integer ≥ 0, found -1/);
  t.match(checkpointMetaProblem('arra-train-state', h({ ...state, 'raw:arra': '{"mode":"hybnext","projectorHidden":1e999}' }, stateTensors)), /arra\.projectorHidden: expected an integer ≥ 1, found Infinity/);
});

t.test('arra sample: a model with a vocabulary its layout disagrees with is a usage error before anything is written', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'arra-sweep-meta-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const bad = { ...textModel(), condition: { mode: 'text', promptLen: 3, vocab: VOCAB.slice(0, 4) } };
  const model = join(dir, 'model.safetensors');
  saveSafetensors(model, new Map([['embed.weight', new Tensor(new Float32Array(24 * 16), [24, 16])]]), Object.fromEntries(Object.entries(bad).map(([k, v]) => [k, JSON.stringify(v)])));
  let err = '';
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((s: string) => { err += s; return true; }) as typeof process.stderr.write;
  let code: number;
  try {
    code = await main(['sample', '--model', model, '--vq', model, '--prompts', 'a red circle', '--out', join(dir, 'out', 'x.png')]);
  } finally {
    process.stderr.write = write;
  }
  t.equal(code, 2, 'a usage error');
  t.match(err, /--model: .*model\.safetensors is a transformer model .* but its metadata cannot be used: condition\.vocab has 4 words, but layout\.textVocab is 5/);
  t.same(readdirSync(dir), ['model.safetensors'], 'the --out folder was not created');
});
