/**
 * Reading a TF.js layers model from disk: the model file (topology + weight manifest) and the
 * binary weight shards it names — as data only.
 *
 * A TF.js layers model is `model.json` = `{ modelTopology, weightsManifest }` plus shard
 * files `group1-shard1of2.bin`, …. nsfwjs ships the same content as browserify bundles
 * (`model.min.js`, `group1-shard1of1.min.js` holding a base64 string); both forms are read
 * here, the bundles through `extractExportedLiteral` (parsed, never executed).
 *
 * Every check happens before anything is returned: a shard that is missing, not base64,
 * shorter or longer than its manifest says — each is an error naming the file and the fault.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { extractExportedLiteral, type LiteralValue, parseLiteral } from './literal';

/** How one weight is stored: `q·scale + min` for uint8/uint16, an IEEE half for float16. */
export interface WeightQuantization {
  dtype: 'uint8' | 'uint16' | 'float16';
  min: number;
  scale: number;
}

/** One entry of a weight manifest. */
export interface WeightSpec {
  /** `<layer name>/<weight name>`, e.g. `Conv1/kernel`. */
  name: string;
  shape: number[];
  /** The dtype after dequantisation. */
  dtype: 'float32' | 'int32';
  quantization?: WeightQuantization;
}

/** A weight group: its weights are stored back to back across the group's shards, in order. */
export interface WeightGroup {
  paths: string[];
  weights: WeightSpec[];
}

/** A shard after reading: the raw bytes and where they came from. */
export interface Shard {
  /** The name as the manifest writes it. */
  manifestPath: string;
  /** The file actually read. */
  file: string;
  bytes: Uint8Array;
}

/** Everything a TF.js layers model consists of, checked for consistency. */
export interface ModelArtifacts {
  /** The model file that was read (model.json or model.min.js). */
  modelFile: string;
  /** The Keras topology (`modelTopology`), still untyped; see `topology.ts`. */
  topology: { [key: string]: LiteralValue };
  /** The weight manifest. */
  manifest: WeightGroup[];
  /** Per group, the concatenation of its shards' bytes (exactly the group's byte size). */
  groupBytes: Uint8Array[];
  /** The shard files, per group. */
  shards: Shard[][];
}

/** Bytes per stored element of a weight. */
export function storedBytesPerElement(spec: WeightSpec): number {
  if (spec.quantization) return spec.quantization.dtype === 'uint8' ? 1 : 2;
  return 4;
}

/** Stored size of one weight in bytes. */
export function storedByteLength(spec: WeightSpec): number {
  return spec.shape.reduce((a, b) => a * b, 1) * storedBytesPerElement(spec);
}

const SHARD_SUFFIXES = ['', '.bin', '.min.js', '.js'];

/**
 * Read a TF.js layers model: `modelFile` is `model.json` or an nsfwjs-style `model.min.js`;
 * shards are looked up next to it under the manifest's names, trying the suffixes
 * `''`, `.bin`, `.min.js`, `.js`.
 */
export function readModelArtifacts(modelFile: string): ModelArtifacts {
  if (!fs.existsSync(modelFile)) throw new Error(`${modelFile}: model file not found`);
  const text = fs.readFileSync(modelFile, 'utf8');
  const isModel = (v: LiteralValue): boolean => isObject(v) && 'modelTopology' in v;
  let root: LiteralValue;
  if (modelFile.endsWith('.js')) {
    root = extractExportedLiteral(text, modelFile, isModel, 'model literal ({modelTopology, weightsManifest})');
  } else {
    root = parseLiteral(text, modelFile);
  }
  if (!isObject(root) || !isObject(root['modelTopology'])) {
    throw new Error(`${modelFile}: expected an object with a 'modelTopology' object, got ${kindOf(root)}`);
  }
  const manifest = parseManifest(root['weightsManifest'], modelFile);
  const dir = path.dirname(modelFile);
  const shards = manifest.map((group, g) => group.paths.map((p) => readShard(dir, p, g, modelFile)));
  const groupBytes = manifest.map((group, g) => joinGroup(group, shards[g]!, g, modelFile));
  return { modelFile, topology: root['modelTopology'], manifest, groupBytes, shards };
}

/** Validate the manifest's structure, naming the file and the offending entry. */
export function parseManifest(raw: LiteralValue | undefined, file: string): WeightGroup[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) throw new Error(`${file}: 'weightsManifest' should be an array of groups, got ${kindOf(raw)}`);
  return raw.map((group, g) => {
    const where = `${file}: weightsManifest[${g}]`;
    if (!isObject(group)) throw new Error(`${where} should be an object {paths, weights}, got ${kindOf(group)}`);
    const paths = group['paths'];
    const weights = group['weights'];
    if (!Array.isArray(paths) || !paths.every((p) => typeof p === 'string' && p.length > 0)) {
      throw new Error(`${where}.paths should be a list of shard names`);
    }
    for (const p of paths as string[]) {
      if (p.includes('..') || path.isAbsolute(p)) throw new Error(`${where}.paths: shard name '${p}' leaves the model folder`);
    }
    if (!Array.isArray(weights)) throw new Error(`${where}.weights should be an array, got ${kindOf(weights)}`);
    return { paths: paths as string[], weights: weights.map((w, i) => parseWeightSpec(w, `${where}.weights[${i}]`)) };
  });
}

function parseWeightSpec(raw: LiteralValue, where: string): WeightSpec {
  if (!isObject(raw)) throw new Error(`${where} should be an object, got ${kindOf(raw)}`);
  const { name, shape, dtype, quantization } = raw;
  if (typeof name !== 'string') throw new Error(`${where}.name should be a string`);
  if (!Array.isArray(shape) || !shape.every((d) => typeof d === 'number' && Number.isInteger(d) && d >= 0)) {
    throw new Error(`${where} ('${name}'): shape should be a list of non-negative integers, got ${JSON.stringify(shape)}`);
  }
  if (dtype !== 'float32' && dtype !== 'int32') {
    throw new Error(`${where} ('${name}'): dtype ${JSON.stringify(dtype)} is not supported (expected float32 or int32)`);
  }
  const spec: WeightSpec = { name, shape: shape as number[], dtype };
  if (quantization !== undefined && quantization !== null) {
    if (!isObject(quantization)) throw new Error(`${where} ('${name}'): quantization should be an object`);
    const q = quantization;
    if (q['dtype'] !== 'uint8' && q['dtype'] !== 'uint16' && q['dtype'] !== 'float16') {
      throw new Error(`${where} ('${name}'): quantization dtype ${JSON.stringify(q['dtype'])} is not supported (expected uint8, uint16 or float16)`);
    }
    if (q['dtype'] !== 'float16' && (typeof q['min'] !== 'number' || typeof q['scale'] !== 'number')) {
      throw new Error(`${where} ('${name}'): ${q['dtype']} quantization needs numeric 'min' and 'scale'`);
    }
    for (const key of ['min', 'scale'] as const) {
      // 1e999 in JSON reads as Infinity; every weight would dequantise to ±∞ or NaN
      if (q[key] !== undefined && !Number.isFinite(q[key])) throw new Error(`${where} ('${name}'): quantization ${key} must be a finite number, got ${String(q[key])}`);
    }
    spec.quantization = { dtype: q['dtype'], min: (q['min'] as number | undefined) ?? 0, scale: (q['scale'] as number | undefined) ?? 1 };
  }
  return spec;
}

/** Find and read one shard; `.js` shards hold a base64 string literal, others raw bytes. */
function readShard(dir: string, manifestPath: string, group: number, modelFile: string): Shard {
  const tried = SHARD_SUFFIXES.map((s) => path.join(dir, manifestPath + s));
  const file = tried.find((f) => fs.existsSync(f) && fs.statSync(f).isFile());
  if (file === undefined) {
    throw new Error(`${modelFile}: the weight manifest (group ${group + 1}) names shard '${manifestPath}', but no such file exists (tried ${tried.join(', ')})`);
  }
  if (!file.endsWith('.js')) return { manifestPath, file, bytes: new Uint8Array(fs.readFileSync(file)) };
  const text = fs.readFileSync(file, 'utf8');
  const b64 = extractExportedLiteral(text, file, (v) => typeof v === 'string', 'base64 string literal') as string;
  if (b64.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(b64)) {
    const bad = b64.search(/[^A-Za-z0-9+/=]/);
    const why = bad >= 0 ? `character ${JSON.stringify(b64[bad])} at position ${bad}` : `length ${b64.length} is not a multiple of 4`;
    throw new Error(`${file}: the shard's string is not valid base64 (${why})`);
  }
  return { manifestPath, file, bytes: new Uint8Array(Buffer.from(b64, 'base64')) };
}

/** Concatenate a group's shards and check the total against the manifest's byte count. */
function joinGroup(group: WeightGroup, shards: Shard[], g: number, modelFile: string): Uint8Array {
  const need = group.weights.reduce((n, w) => n + storedByteLength(w), 0);
  const have = shards.reduce((n, s) => n + s.bytes.length, 0);
  const files = shards.map((s) => `${s.file} (${s.bytes.length} bytes)`).join(', ');
  if (have < need) {
    // The first weight that does not fit, to say what is missing.
    let offset = 0;
    let cut = group.weights[0]!;
    for (const w of group.weights) {
      if (offset + storedByteLength(w) > have) { cut = w; break; }
      offset += storedByteLength(w);
    }
    const last = shards[shards.length - 1]!;
    throw new Error(
      `${last.file}: weight shard is shorter than its manifest in ${modelFile} — group ${g + 1} needs ${need} bytes, ` +
        `its shards hold ${have} [${files}]; weight '${cut.name}' ${JSON.stringify(cut.shape)} starting at byte ${offset} is cut off`,
    );
  }
  if (have > need) {
    throw new Error(`${shards[shards.length - 1]!.file}: weight shard is longer than its manifest in ${modelFile} — group ${g + 1} needs ${need} bytes, its shards hold ${have} [${files}]; model file and shards do not belong together`);
  }
  const out = new Uint8Array(need);
  let offset = 0;
  for (const s of shards) { out.set(s.bytes, offset); offset += s.bytes.length; }
  return out;
}

/** A plain object (not an array, not null). */
export function isObject(v: LiteralValue | undefined): v is { [key: string]: LiteralValue } {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `object`, `array`, `string "…"`, … for error messages. */
export function kindOf(v: LiteralValue | undefined): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.slice(0, 40))}`;
  return typeof v === 'object' ? 'an object' : `${typeof v} ${String(v)}`;
}
