/**
 * Bad model files: each must fail with an error that names the file and the fault, before
 * any encoder exists (load throws; nothing partial is returned).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import t from 'tap';
import { TfjsLayersEncoder } from '../models/encoder';
import { bundle, tinyLayers, writeTinyModel } from './encoder-fixtures';

/** Load must throw an error matching every pattern; returns the message. */
function loadFails(t: tap.Test, file: string, patterns: RegExp[]): string {
  let result: TfjsLayersEncoder | undefined;
  let message = '';
  try {
    result = TfjsLayersEncoder.load(file);
  } catch (e) {
    message = (e as Error).message;
  }
  t.equal(result, undefined, 'no encoder was returned');
  for (const p of patterns) t.match(message, p);
  return message;
}

const esc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

t.test('a weight shard shorter than its manifest', async (t) => {
  const m = writeTinyModel({ shards: 2 });
  const last = m.shardFiles[1]!;
  const bytes = fs.readFileSync(last);
  fs.writeFileSync(last, bytes.subarray(0, bytes.length - 10));
  loadFails(t, m.modelFile, [new RegExp(esc(last)), /shorter than its manifest/, /needs \d+ bytes, its shards hold \d+/, /weight '[^']+' .* is cut off/]);
});

t.test('a base64 shard (nsfwjs bundle) shorter than its manifest', async (t) => {
  const m = writeTinyModel({ form: 'bundle', shards: 1 });
  const file = m.shardFiles[0]!;
  const b64 = Buffer.from(m.weightData.subarray(0, 100)).toString('base64');
  fs.writeFileSync(file, bundle(JSON.stringify(b64), 'group1_shard1of1'));
  loadFails(t, m.modelFile, [new RegExp(esc(file)), /shorter than its manifest/, /its shards hold 100/]);
});

t.test('a shard longer than its manifest (files that do not belong together)', async (t) => {
  const m = writeTinyModel({ shards: 1 });
  fs.appendFileSync(m.shardFiles[0]!, Buffer.alloc(8));
  loadFails(t, m.modelFile, [new RegExp(esc(m.shardFiles[0]!)), /longer than its manifest/]);
});

t.test('a manifest naming a missing shard', async (t) => {
  const m = writeTinyModel({ shards: 2 });
  fs.rmSync(m.shardFiles[1]!);
  loadFails(t, m.modelFile, [new RegExp(esc(m.modelFile)), /names shard 'group1-shard2of2', but no such file exists/, /group1-shard2of2\.bin/]);
});

t.test('a shard whose string is not base64', async (t) => {
  const m = writeTinyModel({ form: 'bundle', shards: 1 });
  fs.writeFileSync(m.shardFiles[0]!, bundle('"AAAA*AAA"', 'group1_shard1of1'));
  loadFails(t, m.modelFile, [new RegExp(esc(m.shardFiles[0]!)), /not valid base64 \(character "\*" at position 4\)/]);
});

t.test('a topology with an unsupported layer', async (t) => {
  const layers = tinyLayers() as { name: string; class_name: string }[];
  const relu = layers.find((l) => l.name === 'relu_b')!;
  relu.class_name = 'LeakyReLU';
  const m = writeTinyModel({ layers: layers as never });
  loadFails(t, m.modelFile, [new RegExp(esc(m.modelFile)), /layer 'relu_b' \(LeakyReLU\): unsupported layer type; supported: InputLayer, Conv2D/]);
});

t.test('an unsupported setting of a supported layer', async (t) => {
  const layers = tinyLayers() as { name: string; config: Record<string, unknown> }[];
  layers.find((l) => l.name === 'conv_a')!.config['data_format'] = 'channels_first';
  const m = writeTinyModel({ layers: layers as never });
  loadFails(t, m.modelFile, [new RegExp(esc(m.modelFile)), /layer 'conv_a' \(Conv2D\): data_format 'channels_first' is not supported/]);
});

t.test('garbage JSON', async (t) => {
  const m = writeTinyModel();
  fs.writeFileSync(m.modelFile, '{"modelTopology": {"model_config": [1, 2,, 3]}}');
  loadFails(t, m.modelFile, [new RegExp(esc(m.modelFile)), /expected a value, found ',/, /at character 41/]);
  fs.writeFileSync(m.modelFile, 'PK\u0003\u0004 not json at all');
  loadFails(t, m.modelFile, [new RegExp(esc(m.modelFile)), /expected a value/]);
});

t.test('a JS bundle without a model literal (code, not data)', async (t) => {
  const m = writeTinyModel({ form: 'bundle' });
  fs.writeFileSync(m.modelFile, 'module.exports=require("child_process").execSync("echo hi")');
  loadFails(t, m.modelFile, [new RegExp(esc(m.modelFile)), /no model literal .* found/]);
});

t.test('a weight the manifest does not list, and a weight of the wrong shape', async (t) => {
  const m = writeTinyModel({ shards: 1 });
  const root = JSON.parse(fs.readFileSync(m.modelFile, 'utf8'));
  const weights = root.weightsManifest[0].weights as { name: string; shape: number[] }[];
  weights.find((w) => w.name === 'dw_d/bias')!.name = 'dw_d/bias_renamed';
  fs.writeFileSync(m.modelFile, JSON.stringify(root));
  loadFails(t, m.modelFile, [new RegExp(esc(m.modelFile)), /layer 'dw_d' \(DepthwiseConv2D\): weight 'dw_d\/bias' is not in the weight manifest/]);

  const m2 = writeTinyModel({ shards: 1 });
  const root2 = JSON.parse(fs.readFileSync(m2.modelFile, 'utf8'));
  const w2 = root2.weightsManifest[0].weights as { name: string; shape: number[] }[];
  // Swap two shapes with the same element count: byte totals still match, the layout does not.
  w2.find((w) => w.name === 'proj_c/kernel')!.shape = [8, 8, 1, 1];
  fs.writeFileSync(m2.modelFile, JSON.stringify(root2));
  loadFails(t, m2.modelFile, [/layer 'proj_c' \(Conv2D\): weight 'proj_c\/kernel' has shape \[8,8,1,1\], the layer needs \[1,1,8,8\]/]);
});

t.test('a missing model file and a malformed manifest', async (t) => {
  const m = writeTinyModel();
  loadFails(t, path.join(m.dir, 'nope.json'), [/nope\.json: model file not found/]);
  const root = JSON.parse(fs.readFileSync(m.modelFile, 'utf8'));
  root.weightsManifest[0].weights[0].quantization = { dtype: 'int4', min: 0, scale: 1 };
  fs.writeFileSync(m.modelFile, JSON.stringify(root));
  loadFails(t, m.modelFile, [new RegExp(esc(m.modelFile)), /weightsManifest\[0\]\.weights\[0\] \('conv_a\/kernel'\): quantization dtype "int4" is not supported/]);
  root.weightsManifest[0].paths = ['../../etc/passwd'];
  fs.writeFileSync(m.modelFile, JSON.stringify(root));
  loadFails(t, m.modelFile, [/shard name '\.\.\/\.\.\/etc\/passwd' leaves the model folder/]);
});

t.test('a quantisation scale or min that is not finite (1e999 reads as Infinity)', async (t) => {
  for (const key of ['scale', 'min']) {
    const m = writeTinyModel({ quantize: 'uint8' });
    const json = JSON.parse(fs.readFileSync(m.modelFile, 'utf8')) as { weightsManifest: { weights: { name: string; quantization: Record<string, number> }[] }[] };
    const w = json.weightsManifest[0]!.weights[1]!;
    // JSON.stringify cannot write Infinity: splice the literal in, as a hand-edited or hostile file would
    fs.writeFileSync(m.modelFile, JSON.stringify(json).replace(`"${key}":${w.quantization[key]}`, `"${key}":1e999`));
    loadFails(t, m.modelFile, [new RegExp(esc(m.modelFile)), new RegExp(`weightsManifest\\[0\\]\\.weights\\[1\\] \\('${esc(w.name)}'\\): quantization ${key} must be a finite number, got Infinity`)]);
  }
});

t.test('a float32 weight holding NaN names the file and the weight', async (t) => {
  const m = writeTinyModel({ shards: 1 });
  const bytes = fs.readFileSync(m.shardFiles[0]!);
  new DataView(bytes.buffer, bytes.byteOffset).setFloat32(8, NaN, true); // the first weight's third value
  fs.writeFileSync(m.shardFiles[0]!, bytes);
  const json = JSON.parse(fs.readFileSync(m.modelFile, 'utf8')) as { weightsManifest: { weights: { name: string }[] }[] };
  const first = json.weightsManifest[0]!.weights[0]!.name;
  loadFails(t, m.modelFile, [new RegExp(esc(m.modelFile)), new RegExp(`weight '${esc(first)}' .* holds NaN at flat index 2; weights must be finite`)]);
});
