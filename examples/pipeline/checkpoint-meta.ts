/**
 * The metadata of a checkpoint, checked against what its loader will read — from the header
 * alone, before anything is built or allocated.
 *
 * A safetensors header can be valid JSON of the wrong shape: `config` = `[]`, a size of
 * `1e999` (JSON's way of writing +∞), a text model whose `condition.vocab` is a string or has
 * fewer words than its layout has text ids, class names that repeat or do not match the class
 * tokens. Read as they are, these fail far away ("Cannot read properties of null", "Invalid
 * typed array length: Infinity") or — worse — sample silently with the wrong words. Every rule
 * here names the key, what was expected and what was found; the sizes are also compared with
 * the tensors' shapes, so a config cannot ask for more memory than the file holds.
 */
import type { SafetensorsHeader } from '../../lib/io';
import { CONDITION_MODES } from '../../models/prefix';
import type { CheckpointKind } from './checkpoints';

type Json = unknown;
const isObject = (v: Json): v is Record<string, Json> => typeof v === 'object' && v !== null && !Array.isArray(v);
const show = (v: Json): string => {
  if (v === undefined) return 'nothing';
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v); // JSON.stringify would say null
  return JSON.stringify(v)?.slice(0, 120) ?? String(v);
};

/** A failed rule: thrown inside this module, turned into one message by {@link checkpointMetaProblem}. */
class MetaProblem extends Error {}
const fail = (message: string): never => {
  throw new MetaProblem(message);
};

/** Parse metadata[key] as JSON (undefined when absent and `optional`). */
function json(metadata: Record<string, string>, key: string, optional = false): Json {
  const raw = metadata[key];
  if (raw === undefined) return optional ? undefined : fail(`'${key}' is missing`);
  try {
    return JSON.parse(raw) as Json;
  } catch {
    return fail(`'${key}' is not valid JSON (${show(raw)})`);
  }
}

function object(v: Json, where: string): Record<string, Json> {
  return isObject(v) ? v : fail(`${where}: expected an object, found ${show(v)}`);
}

/** An integer ≥ min (1 by default): sizes, counts, ids. 1e999 parses to ∞ and fails here. */
function int(o: Record<string, Json>, key: string, where: string, min = 1): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) fail(`${where}.${key}: expected an integer ≥ ${min}, found ${show(v)}`);
  return v as number;
}

function optionalInt(o: Record<string, Json>, key: string, where: string, min = 1): number | undefined {
  return o[key] === undefined ? undefined : int(o, key, where, min);
}

function intList(o: Record<string, Json>, key: string, where: string): number[] {
  const v = o[key];
  if (!Array.isArray(v) || v.length === 0 || !v.every((x) => typeof x === 'number' && Number.isSafeInteger(x) && x >= 1)) {
    fail(`${where}.${key}: expected a non-empty list of integers ≥ 1, found ${show(v)}`);
  }
  return v as number[];
}

/** A list of distinct, non-empty strings (class names, vocabulary words). */
function names(v: Json, where: string, allowEmpty: boolean): string[] {
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string' && x.length > 0)) fail(`${where}: expected a list of non-empty strings, found ${show(v)}`);
  const list = v as string[];
  if (!allowEmpty && list.length === 0) fail(`${where}: expected at least one name, found []`);
  const seen = new Set<string>();
  for (const n of list) {
    if (seen.has(n)) fail(`${where}: '${n}' appears twice (each must be distinct)`);
    seen.add(n);
  }
  return list;
}

function oneOf(v: Json, choices: readonly string[], where: string): string {
  if (typeof v !== 'string' || !choices.includes(v)) fail(`${where}: expected one of ${choices.join(', ')}, found ${show(v)}`);
  return v as string;
}

/** The tensor `name` must have exactly `shape` (when the file has that tensor). */
function tensorShape(header: SafetensorsHeader, name: string, shape: number[], madeOf: string): void {
  const t = header.tensors.find((x) => x.name === name);
  if (t && (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i]))) {
    fail(`${madeOf} says ${name} is [${shape.join(', ')}], but the tensor is [${t.shape.join(', ')}]`);
  }
}

/** A transformer config (`config` of a model, `model` of a train state) and its tensors under `prefix`. */
function transformerConfig(v: Json, where: string, header: SafetensorsHeader, prefix: string): Record<string, Json> {
  const c = object(v, where);
  const vocab = int(c, 'vocabSize', where);
  const d = int(c, 'dModel', where);
  const layers = int(c, 'nLayers', where);
  const heads = int(c, 'nHeads', where);
  const hidden = int(c, 'mlpHidden', where);
  int(c, 'maxSeqLen', where);
  optionalInt(c, 'gridSize', where);
  optionalInt(c, 'prefixLen', where, 2);
  oneOf(c.rope, ['1d', '2d'], `${where}.rope`);
  if (d % heads !== 0) fail(`${where}: dModel ${d} is not divisible by nHeads ${heads}`);
  tensorShape(header, `${prefix}embed.weight`, [vocab, d], where);
  tensorShape(header, `${prefix}blocks.0.mlp.w1.weight`, [hidden, d], where);
  const blocks = new Set(header.tensors.map((t) => new RegExp(`^${prefix.replace('.', '\\.')}blocks\\.(\\d+)\\.`).exec(t.name)?.[1]).filter((x) => x !== undefined));
  if (blocks.size > 0 && blocks.size !== layers) fail(`${where} says nLayers ${layers}, but the file holds ${blocks.size} blocks`);
  return c;
}

function arraSettings(v: Json): void {
  const a = object(v, 'arra');
  oneOf(a.mode, ['off', 'hybnext', 'rep'], 'arra.mode');
  optionalInt(a, 'projectorHidden', 'arra'); // sizes the projector explain rebuilds
  optionalInt(a, 'alignLayer', 'arra', 0);
}

/** A model checkpoint: layout, class names and conditioning agree with each other and the config. */
function transformerModel(md: Record<string, string>, header: SafetensorsHeader): void {
  const config = transformerConfig(json(md, 'config'), 'config', header, '');
  const layout = object(json(md, 'layout'), 'layout');
  int(layout, 'numCodes', 'layout');
  const numClasses = int(layout, 'numClasses', 'layout', 0);
  for (const k of ['codeOffset', 'classOffset', 'nullClass', 'beginImage', 'pad']) int(layout, k, 'layout', 0);
  const vocabSize = int(layout, 'vocabSize', 'layout');
  if (vocabSize !== config.vocabSize) fail(`layout.vocabSize ${vocabSize} differs from config.vocabSize ${show(config.vocabSize)}`);
  const classNames = names(json(md, 'classNames'), 'classNames', true);
  arraSettings(json(md, 'arra'));
  int({ step: json(md, 'step') }, 'step', 'metadata', 0);
  const condition = json(md, 'condition', true);
  const cond = condition === undefined ? { mode: 'class' } : object(condition, 'condition'); // older files: class-conditional
  const mode = oneOf(cond.mode, CONDITION_MODES, 'condition.mode');
  if (mode === 'class') {
    if (numClasses < 1) fail(`condition.mode is 'class' but layout.numClasses is ${numClasses}`);
    // [] = unnamed classes (a library caller gave no names; loadArModel names them by id)
    if (classNames.length !== numClasses && classNames.length !== 0) fail(`classNames holds ${classNames.length} names for layout.numClasses ${numClasses} class tokens`);
  } else if (mode === 'text') {
    const promptLen = int(cond, 'promptLen', 'condition');
    const vocab = names(cond.vocab, 'condition.vocab', false);
    if (vocab[0] !== '<pad>' || vocab[1] !== '<unk>') fail(`condition.vocab must start with <pad>, <unk>, found ${show(vocab.slice(0, 2))}`);
    const textVocab = int(layout, 'textVocab', 'layout');
    if (vocab.length !== textVocab) fail(`condition.vocab has ${vocab.length} words, but layout.textVocab is ${textVocab} (the word ids would be shifted)`);
    if ((config.prefixLen ?? 2) !== promptLen + 1) fail(`condition.promptLen ${promptLen} needs config.prefixLen ${promptLen + 1}, found ${show(config.prefixLen)}`);
  } else if (numClasses !== 0) {
    fail(`condition.mode is 'none' but layout.numClasses is ${numClasses}`);
  }
}

function trainState(md: Record<string, string>, header: SafetensorsHeader): void {
  transformerConfig(json(md, 'model'), 'model', header, 'model.');
  arraSettings(json(md, 'arra'));
  int({ step: json(md, 'step') }, 'step', 'metadata', 0);
  const opt = object(json(md, 'optimizer'), 'optimizer');
  if (typeof opt.kind !== 'string') fail(`optimizer.kind: expected a string, found ${show(opt.kind)}`);
  int(opt, 'step', 'optimizer', 0);
  const hyper = object(opt.hyper, 'optimizer.hyper');
  for (const [k, x] of Object.entries(hyper)) if (typeof x !== 'number' || !Number.isFinite(x)) fail(`optimizer.hyper.${k}: expected a finite number, found ${show(x)}`);
  const rng = object(json(md, 'rng'), 'rng');
  int(rng, 'state', 'rng', 0);
  if (rng.spareNormal !== null && (typeof rng.spareNormal !== 'number' || !Number.isFinite(rng.spareNormal))) fail(`rng.spareNormal: expected null or a finite number, found ${show(rng.spareNormal)}`);
}

function vq(md: Record<string, string>, header: SafetensorsHeader): void {
  const c = object(json(md, 'config'), 'config');
  const size = int(c, 'imageSize', 'config');
  const channels = int(c, 'channels', 'config');
  const down = int(c, 'downsample', 'config');
  const K = int(c, 'codebookSize', 'config', 2);
  const dim = int(c, 'codeDim', 'config');
  const hidden = intList(c, 'hidden', 'config');
  if (size % down !== 0) fail(`config: imageSize ${size} is not divisible by downsample ${down}`);
  tensorShape(header, 'codebook', [K, dim], 'config');
  tensorShape(header, 'encoder.convIn.weight', [hidden[0]!, channels, 3, 3], 'config');
}

function convnet(md: Record<string, string>, header: SafetensorsHeader): void {
  const meta = object(json(md, 'convnet'), 'convnet');
  const c = object(meta.config, 'convnet.config');
  const inChannels = int(c, 'inChannels', 'convnet.config');
  int(c, 'imageSize', 'convnet.config');
  const widths = intList(c, 'widths', 'convnet.config');
  const featureDim = int(c, 'featureDim', 'convnet.config');
  const numClasses = int(c, 'numClasses', 'convnet.config');
  if (c.arch !== undefined) oneOf(c.arch, ['strided', 'maxpool'], 'convnet.config.arch');
  tensorShape(header, 'head.weight', [numClasses, featureDim], 'convnet.config');
  const conv1 = header.tensors.find((t) => t.name === 'conv1.weight');
  if (conv1 && (conv1.shape[0] !== widths[0] || conv1.shape[1] !== inChannels)) {
    fail(`convnet.config says conv1 maps ${inChannels} → ${widths[0]} channels, but conv1.weight is [${conv1.shape.join(', ')}]`);
  }
}

const RULES: Record<CheckpointKind, (md: Record<string, string>, header: SafetensorsHeader) => void> = {
  'arra-vq': vq, 'arra-transformer': transformerModel, 'arra-train-state': trainState, 'arra-convnet': convnet,
};

/**
 * What is wrong with the metadata of a checkpoint of `kind`, in words (`layout.vocabSize 45
 * differs from config.vocabSize 43`), or null when its loader can read it.
 */
export function checkpointMetaProblem(kind: CheckpointKind, header: SafetensorsHeader): string | null {
  try {
    RULES[kind](header.metadata, header);
    return null;
  } catch (err) {
    if (err instanceof MetaProblem) return err.message;
    throw err;
  }
}

/** Throw (naming the file) when {@link checkpointMetaProblem} finds something: what the loaders call. */
export function assertCheckpointMeta(kind: CheckpointKind, header: SafetensorsHeader, file: string): void {
  const problem = checkpointMetaProblem(kind, header);
  if (problem !== null) throw new Error(`${file}: its metadata cannot be used: ${problem}`);
}
