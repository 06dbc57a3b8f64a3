/**
 * Test fixtures for the encoder tests: a tiny Keras/TF.js layers model written to a temp
 * folder, in the two forms the loader reads — `model.json` + `.bin` shards, or nsfwjs-style
 * browserify bundles (`model.min.js` + `.min.js` shards holding base64) — with float32,
 * uint8 or uint16 weights. Its backbone exercises every supported layer, including the
 * corner cases (stride-2 "same" padding on an even input, a depth multiplier of 2, a BN
 * without γ, "same" average pooling whose border windows hold padding); a Dense head follows
 * the global pool and must never be built.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Rng } from '../lib';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** One Keras 2 functional layer entry. */
function layer(name: string, cls: string, config: { [k: string]: Json }, inputs: string[]): Json {
  return {
    name, class_name: cls, config: { name, trainable: false, ...config },
    inbound_nodes: inputs.length === 0 ? [] : [inputs.map((i) => [i, 0, 0, {}])],
  };
}

/** The tiny model's layers (input 12×12×3). */
export function tinyLayers(): Json[] {
  const cl = { data_format: 'channels_last' };
  return [
    layer('input_1', 'InputLayer', { batch_input_shape: [null, 12, 12, 3], dtype: 'float32', sparse: false }, []),
    layer('conv_a', 'Conv2D', { ...cl, filters: 4, kernel_size: [3, 3], strides: [2, 2], padding: 'same', dilation_rate: [1, 1], activation: 'linear', use_bias: true }, ['input_1']),
    layer('bn_a', 'BatchNormalization', { axis: -1, epsilon: 0.001, center: true, scale: true }, ['conv_a']),
    layer('relu_a', 'ReLU', { max_value: 6, negative_slope: 0, threshold: 0 }, ['bn_a']),
    layer('drop_a', 'Dropout', { rate: 0.5 }, ['relu_a']),
    layer('pad_b', 'ZeroPadding2D', { ...cl, padding: [[0, 1], [0, 1]] }, ['drop_a']),
    layer('dw_b', 'DepthwiseConv2D', { ...cl, kernel_size: [3, 3], strides: [2, 2], padding: 'valid', depth_multiplier: 2, dilation_rate: [1, 1], activation: 'linear', use_bias: true }, ['pad_b']),
    layer('bn_b', 'BatchNormalization', { axis: -1, epsilon: 0.01, center: true, scale: true }, ['dw_b']),
    layer('relu_b', 'ReLU', { max_value: 6, negative_slope: 0, threshold: 0 }, ['bn_b']),
    layer('proj_c', 'Conv2D', { ...cl, filters: 8, kernel_size: [1, 1], strides: [1, 1], padding: 'same', dilation_rate: [1, 1], activation: 'linear', use_bias: false }, ['relu_b']),
    layer('bn_c', 'BatchNormalization', { axis: -1, epsilon: 0.001, center: true, scale: false }, ['proj_c']),
    layer('add_c', 'Add', {}, ['relu_b', 'bn_c']),
    layer('act_c', 'Activation', { activation: 'relu6' }, ['add_c']),
    layer('dw_d', 'DepthwiseConv2D', { ...cl, kernel_size: [3, 3], strides: [1, 1], padding: 'same', depth_multiplier: 1, dilation_rate: [1, 1], activation: 'relu', use_bias: true }, ['act_c']),
    layer('pool_e', 'AveragePooling2D', { ...cl, pool_size: [2, 2], strides: [2, 2], padding: 'same' }, ['dw_d']),
    layer('gap', 'GlobalAveragePooling2D', { ...cl }, ['pool_e']),
    layer('dense_1', 'Dense', { units: 3, activation: 'softmax', use_bias: true }, ['gap']),
  ];
}

/** The tiny model's weights in Keras layout, in manifest order. */
export function tinyWeightShapes(): [string, number[]][] {
  const bn = (n: string, c: number, gamma = true): [string, number[]][] => [
    ...(gamma ? [[`${n}/gamma`, [c]] as [string, number[]]] : []),
    [`${n}/beta`, [c]], [`${n}/moving_mean`, [c]], [`${n}/moving_variance`, [c]],
  ];
  return [
    ['conv_a/kernel', [3, 3, 3, 4]], ['conv_a/bias', [4]], ...bn('bn_a', 4),
    ['dw_b/depthwise_kernel', [3, 3, 4, 2]], ['dw_b/bias', [8]], ...bn('bn_b', 8),
    ['proj_c/kernel', [1, 1, 8, 8]], ...bn('bn_c', 8, false),
    ['dw_d/depthwise_kernel', [3, 3, 8, 1]], ['dw_d/bias', [8]],
    ['dense_1/kernel', [8, 3]], ['dense_1/bias', [3]],
  ];
}

export interface TinyModelOptions {
  form?: 'json' | 'bundle';
  quantize?: 'uint8' | 'uint16' | null;
  /** Number of shards the weight bytes are split into (default 2). */
  shards?: number;
  /** Replace the layer list (for error tests). */
  layers?: Json[];
  seed?: number;
}

export interface TinyModel {
  dir: string;
  modelFile: string;
  /** What a TF.js `fromMemory` handler needs: topology, flat weight specs, all bytes. */
  topology: Json;
  weightSpecs: Json[];
  weightData: Uint8Array;
  shardFiles: string[];
}

/** A JS object literal as a minifier writes it: unquoted keys, !0/!1, `.5`. */
export function minifiedLiteral(v: Json): string {
  if (v === null) return 'null';
  if (typeof v === 'boolean') return v ? '!0' : '!1';
  if (typeof v === 'number') return String(v).replace(/^(-?)0\./, '$1.');
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(minifiedLiteral).join(',')}]`;
  return `{${Object.entries(v).map(([k, e]) => `${/^[A-Za-z_$][\w$]*$/.test(k) ? k : JSON.stringify(k)}:${minifiedLiteral(e)}`).join(',')}}`;
}

/** A browserify/UMD bundle exporting `literal`, shaped like nsfwjs's .min.js files. */
export function bundle(literal: string, global: string): string {
  return `!function(e){if("object"==typeof exports&&"undefined"!=typeof module)module.exports=e();else{("undefined"!=typeof window?window:this).${global}=e()}}(function(){return function e(a,n,i){return a}({1:[function(e,a,n){a.exports=${literal}},{}]},{},[1])(1)});`;
}

const tempDirs: string[] = [];
process.on('exit', () => { for (const d of tempDirs) fs.rmSync(d, { recursive: true, force: true }); });

/** A fresh temp folder, removed when the process exits. */
export function tempDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}

/** Write the tiny model to a fresh temp folder. */
export function writeTinyModel(opts: TinyModelOptions = {}): TinyModel {
  const { form = 'json', quantize = null, shards = 2, seed = 7 } = opts;
  const dir = tempDir('arra-tfjs-');
  const rng = new Rng(seed);
  const chunks: Uint8Array[] = [];
  const weights: Json[] = [];
  for (const [name, shape] of tinyWeightShapes()) {
    const n = shape.reduce((a, b) => a * b, 1);
    const values = Float32Array.from({ length: n }, () => {
      if (name.endsWith('moving_variance')) return 0.2 + rng.uniform();
      if (name.endsWith('gamma')) return 0.5 + rng.uniform();
      return 0.5 * rng.normal();
    });
    if (quantize === null) {
      chunks.push(new Uint8Array(values.buffer));
      weights.push({ name, shape, dtype: 'float32' });
      continue;
    }
    const levels = quantize === 'uint8' ? 255 : 65535;
    let lo = Infinity;
    let hi = -Infinity;
    for (const v of values) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
    const scale = (hi - lo) / levels || 1;
    const q = quantize === 'uint8' ? new Uint8Array(n) : new Uint16Array(n);
    for (let i = 0; i < n; i++) q[i] = Math.round((values[i]! - lo) / scale);
    chunks.push(new Uint8Array(q.buffer));
    weights.push({ name, shape, dtype: 'float32', quantization: { min: lo, scale, dtype: quantize } });
  }
  const total = chunks.reduce((a, c) => a + c.length, 0);
  const weightData = new Uint8Array(total);
  let off = 0;
  for (const c of chunks) { weightData.set(c, off); off += c.length; }
  const per = Math.ceil(total / shards);
  const paths = Array.from({ length: shards }, (_, i) => `group1-shard${i + 1}of${shards}`);
  const shardFiles: string[] = [];
  paths.forEach((p, i) => {
    const bytes = weightData.subarray(i * per, Math.min((i + 1) * per, total));
    const file = path.join(dir, form === 'json' ? `${p}.bin` : `${p}.min.js`);
    if (form === 'json') fs.writeFileSync(file, bytes);
    else fs.writeFileSync(file, bundle(JSON.stringify(Buffer.from(bytes).toString('base64')), p.replace(/-/g, '_')));
    shardFiles.push(file);
  });
  const topology: Json = {
    keras_version: '2.2.4', backend: 'tensorflow',
    model_config: { class_name: 'Model', config: { name: 'tiny', layers: opts.layers ?? tinyLayers(), input_layers: [['input_1', 0, 0]], output_layers: [['dense_1', 0, 0]] } },
  };
  const root: Json = { modelTopology: topology, weightsManifest: [{ paths, weights }] };
  const modelFile = path.join(dir, form === 'json' ? 'model.json' : 'model.min.js');
  fs.writeFileSync(modelFile, form === 'json' ? JSON.stringify(root) : bundle(minifiedLiteral(root), 'model'));
  return { dir, modelFile, topology, weightSpecs: weights, weightData, shardFiles };
}

/** Seeded images [n, c, s, s] in [0, 1]: a smooth gradient plus noise, different per image. */
export function testImages(n: number, c: number, s: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  const out = new Float32Array(n * c * s * s);
  for (let b = 0; b < n; b++) for (let k = 0; k < c; k++) for (let i = 0; i < s; i++) for (let j = 0; j < s; j++) {
    const smooth = 0.5 + 0.4 * Math.sin((i * (b + 1)) / s * 3 + k) * Math.cos((j * (k + 1)) / s * 2 + b);
    out[((b * c + k) * s + i) * s + j] = Math.min(1, Math.max(0, smooth + 0.1 * rng.normal()));
  }
  return out;
}
