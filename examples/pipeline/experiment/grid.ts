/**
 * The grid file of `arra experiment`: which data, which stage sizes, which seeds, and the
 * list of arms (the baseline `off` and the ARRA variants) every seed trains. A grid is JSON:
 *
 *     { "name": "mnist-class", "dataset": "mnist", "condition": "class", "preset": "quick",
 *       "steps": 400, "batchSize": 32, "seeds": [0, 3, 6, 9, 12], "evalSamples": 1000,
 *       "curve": { "every": 100, "samples": 200 },
 *       "arms": [ { "name": "off", "align": "off" },
 *                 { "name": "hybnext", "align": "hybnext", "lambda": 1, "alignLayer": "first" } ] }
 *
 * The whole file is validated before any work starts: an unknown field (with the nearest
 * known one), a wrong type or range, a duplicate arm, a field that has no effect on its arm,
 * and a setting the pipeline does not support yet are each a usage error naming the field,
 * what was expected and what was found. Nothing is silently ignored.
 */
import { existsSync, readFileSync } from 'node:fs';
import { closestMatch, UsageError } from '../../../lib/cli';
import { ARRA_OBJECTIVES, ENCODER_POOLINGS, type ArraObjective, type EncoderPooling } from '../../../models/arra';
import { CONDITION_MODES, type ConditionMode } from '../../../models/prefix';
import { CONVNET_POOLINGS } from '../../../models/encoder';
import { transformerPresets, type TransformerPresetName } from '../../../models/presets';
import { DATASETS, type DatasetName } from '../datasets';

/** Sizes of the shared stages and the defaults of the AR stage, per preset. */
export const EXPERIMENT_PRESETS = {
  /** seconds per cell: what the test suite runs */
  tiny: {
    trainLimit: 96, testLimit: 40, vqSteps: 4, vqBatch: 8, codebook: 32, encoderEpochs: 1, model: 'tiny' as TransformerPresetName,
    steps: 4, batchSize: 4, lr: 3e-3, evalSamples: 20,
  },
  /** the demo's `quick` sizes */
  quick: {
    trainLimit: 6000, testLimit: 1000, vqSteps: 300, vqBatch: 32, codebook: 256, encoderEpochs: 2, model: 'mnist' as TransformerPresetName,
    steps: 400, batchSize: 32, lr: 3e-3, evalSamples: 200,
  },
  /** the demo's `full` sizes, with N = 1000 generated images per evaluation */
  full: {
    trainLimit: 20000, testLimit: 2000, vqSteps: 1000, vqBatch: 32, codebook: 256, encoderEpochs: 2, model: 'mnist' as TransformerPresetName,
    steps: 1500, batchSize: 32, lr: 3e-3, evalSamples: 1000,
  },
};
export type ExperimentPresetName = keyof typeof EXPERIMENT_PRESETS;
export type ExperimentPreset = (typeof EXPERIMENT_PRESETS)[ExperimentPresetName];

/** Conditioning modes a grid may name: those the trainer supports (models/prefix.ts, `--condition`). */
export const CONDITIONS = CONDITION_MODES;
export type Condition = ConditionMode;

/** Frozen alignment encoders an arm may name. `convnet` is trained per seed by the experiment. */
export type ArmEncoder = 'convnet' | `mobilenet@${number}`;

/** One arm, with every default filled in and the layer resolved to a block index. */
export interface Arm {
  name: string;
  align: 'off' | 'hybnext' | 'rep';
  lambda: number;
  alignLayer: number;
  objective: ArraObjective;
  projectorHidden: number;
  /** null for `off` */
  encoder: ArmEncoder | null;
  /** how the encoder's output is pooled into f_GF (null for `off`) */
  pooling: EncoderPooling | null;
}

/** The poolings each encoder offers today (examples/pipeline/encoders.ts), the first the default. */
export function poolingsOf(encoder: ArmEncoder): readonly EncoderPooling[] {
  return encoder === 'convnet' ? CONVNET_POOLINGS : ['avg', 'max', 'both']; // MobileNetV2: global pools of its last map
}

/** A validated grid. */
export interface ExperimentGrid {
  name: string;
  description: string;
  dataset: DatasetName;
  dataDir?: string;
  condition: Condition;
  preset: ExperimentPresetName;
  steps: number;
  batchSize: number;
  lr: number;
  seeds: number[];
  /** generated images per final evaluation (spread evenly over the classes) */
  evalSamples: number;
  /** FID/KID every `every` steps from `samples` images (0 = no curve) */
  curve: { every: number; samples: number };
  checkpointEvery: number;
  /** the arm every other is compared with (paired by seed) */
  baseline: string;
  arms: Arm[];
}

const GRID_FIELDS = ['name', 'description', 'dataset', 'dataDir', 'condition', 'preset', 'steps', 'batchSize', 'lr', 'seeds', 'evalSamples', 'curve', 'checkpointEvery', 'baseline', 'arms'];
const ARM_FIELDS = ['name', 'align', 'lambda', 'alignLayer', 'objective', 'projectorHidden', 'encoder', 'pooling'];
const ALIGN_ONLY = ['lambda', 'alignLayer', 'objective', 'projectorHidden', 'encoder', 'pooling'];

/** Validation context: every message starts with the file and the field's path. */
class Fields {
  constructor(readonly file: string) {}

  fail(path: string, expected: string, found: unknown): never {
    throw new UsageError(`--grid ${this.file}: ${path}: expected ${expected}, found ${JSON.stringify(found) ?? 'nothing'}`, '--grid');
  }

  unsupported(path: string, value: unknown, why: string): never {
    throw new UsageError(`--grid ${this.file}: ${path}: ${JSON.stringify(value)} is not supported yet (${why})`, '--grid');
  }

  object(path: string, v: unknown, known: readonly string[]): Record<string, unknown> {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) this.fail(path, 'an object', v);
    for (const key of Object.keys(v as object)) {
      if (!known.includes(key)) {
        const near = closestMatch(key, known);
        throw new UsageError(`--grid ${this.file}: ${path ? `${path}.` : ''}${key}: unknown field${near ? ` (did you mean '${near}'?)` : ''}; known fields: ${known.join(', ')}`, '--grid');
      }
    }
    return v as Record<string, unknown>;
  }

  string(path: string, v: unknown, pattern?: RegExp, what = 'a string'): string {
    if (typeof v !== 'string' || v.length === 0 || (pattern && !pattern.test(v))) this.fail(path, what, v);
    return v as string;
  }

  choice<T extends string>(path: string, v: unknown, choices: readonly T[]): T {
    if (typeof v !== 'string' || !choices.includes(v as T)) this.fail(path, `one of ${choices.join(', ')}`, v);
    return v as T;
  }

  int(path: string, v: unknown, min: number): number {
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) this.fail(path, `an integer ≥ ${min}`, v);
    return v as number;
  }

  number(path: string, v: unknown, min: number, exclusive = false): number {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || (exclusive && v === min)) this.fail(path, `a number ${exclusive ? '>' : '≥'} ${min}`, v);
    return v as number;
  }
}

/** Block index of an `alignLayer` value: an index, or `first` / `middle` / `last` of the preset's model. */
function resolveLayer(f: Fields, path: string, v: unknown, nLayers: number): number {
  if (v === 'first') return 0;
  if (v === 'middle') return Math.floor((nLayers - 1) / 2);
  if (v === 'last') return nLayers - 1;
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 && v < nLayers) return v;
  return f.fail(path, `a block index 0..${nLayers - 1} of the preset's ${nLayers}-block model, or first, middle, last`, v);
}

function parseEncoder(f: Fields, path: string, v: unknown): ArmEncoder {
  if (v === 'convnet') return 'convnet';
  if (typeof v === 'string') {
    const m = /^mobilenet(?:@(\d+))?$/.exec(v);
    if (m) {
      const px = m[1] ? Number(m[1]) : 64;
      if (px < 32 || px > 224) f.fail(path, 'a MobileNetV2 input size of 32..224 px', v);
      return `mobilenet@${px}`;
    }
  }
  return f.fail(path, "'convnet' (an in-project ConvNet trained per seed) or 'mobilenet[@<px>]' (pretrained)", v);
}

function parseArm(f: Fields, path: string, v: unknown, nLayers: number): Arm {
  const o = f.object(path, v, ARM_FIELDS);
  const name = f.string(`${path}.name`, o.name, /^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'a name of letters, digits, . _ - (it names the arm\'s folders)');
  const align = f.choice(`${path}.align`, o.align, ['off', 'hybnext', 'rep'] as const);
  if (align === 'off') {
    const extra = ALIGN_ONLY.find((k) => k in o);
    if (extra) f.fail(`${path}.${extra}`, `no '${extra}' on an arm with align 'off' (it would have no effect)`, o[extra]);
  }
  const encoder = align === 'off' ? null : o.encoder === undefined ? 'convnet' : parseEncoder(f, `${path}.encoder`, o.encoder);
  let pooling: EncoderPooling | null = null;
  if (encoder !== null) {
    const offered = poolingsOf(encoder);
    pooling = o.pooling === undefined ? offered[0]! : f.choice(`${path}.pooling`, o.pooling, ENCODER_POOLINGS);
    if (!offered.includes(pooling)) f.unsupported(`${path}.pooling`, pooling, `the ${encoder === 'convnet' ? 'ConvNet' : 'MobileNetV2'} encoder offers ${offered.join(', ')} today`);
  }
  return {
    name, align,
    lambda: o.lambda === undefined ? 1 : f.number(`${path}.lambda`, o.lambda, 0),
    alignLayer: o.alignLayer === undefined ? 0 : resolveLayer(f, `${path}.alignLayer`, o.alignLayer, nLayers),
    objective: o.objective === undefined ? 'cosine' : f.choice(`${path}.objective`, o.objective, ARRA_OBJECTIVES),
    projectorHidden: o.projectorHidden === undefined ? 128 : f.int(`${path}.projectorHidden`, o.projectorHidden, 1),
    encoder, pooling,
  };
}

/** Validate a parsed grid object; `file` is for messages. */
export function validateGrid(raw: unknown, file: string): ExperimentGrid {
  const f = new Fields(file);
  const o = f.object('', raw, GRID_FIELDS);
  for (const required of ['name', 'dataset', 'preset', 'seeds', 'arms']) if (!(required in o)) f.fail(required, `a '${required}' field`, undefined);
  const name = f.string('name', o.name, /^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'a name of letters, digits, . _ -');
  const dataset = f.choice('dataset', o.dataset, DATASETS);
  if (dataset === 'folder' && o.dataDir === undefined) f.fail('dataDir', "a folder of class folders (required with dataset 'folder')", undefined);
  if (dataset !== 'folder' && o.dataDir !== undefined) f.fail('dataDir', "no 'dataDir' unless dataset is 'folder'", o.dataDir);
  const dataDir = o.dataDir === undefined ? undefined : f.string('dataDir', o.dataDir);
  if (dataDir !== undefined && !existsSync(dataDir)) f.fail('dataDir', 'an existing folder', dataDir);
  const condition = o.condition === undefined ? 'class' : f.choice('condition', o.condition, CONDITIONS);
  const presetName = f.choice('preset', o.preset, Object.keys(EXPERIMENT_PRESETS) as ExperimentPresetName[]);
  const p = EXPERIMENT_PRESETS[presetName];
  const nLayers = transformerPresets[p.model].nLayers;

  const seedsRaw = o.seeds;
  if (!Array.isArray(seedsRaw) || seedsRaw.length === 0) f.fail('seeds', 'a non-empty list of seeds, e.g. [0, 3, 6, 9, 12]', seedsRaw);
  const seeds = (seedsRaw as unknown[]).map((s, i) => f.int(`seeds[${i}]`, s, 0));
  const dup = seeds.find((s, i) => seeds.indexOf(s) !== i);
  if (dup !== undefined) f.fail('seeds', 'distinct seeds', seedsRaw);

  const armsRaw = o.arms;
  if (!Array.isArray(armsRaw) || armsRaw.length < 2) f.fail('arms', 'a list of at least two arms (a baseline and what it is compared with)', armsRaw);
  const arms = (armsRaw as unknown[]).map((a, i) => parseArm(f, `arms[${i}]`, a, nLayers));
  const names = arms.map((a) => a.name);
  const twice = names.find((n, i) => names.indexOf(n) !== i);
  if (twice !== undefined) f.fail('arms', 'arms with distinct names', names);

  const offArms = arms.filter((a) => a.align === 'off').map((a) => a.name);
  let baseline: string;
  if (o.baseline !== undefined) {
    baseline = f.choice('baseline', o.baseline, names);
  } else {
    if (offArms.length !== 1) f.fail('baseline', `the name of the reference arm (needed when the grid has ${offArms.length} arms with align 'off')`, undefined);
    baseline = offArms[0]!;
  }

  const steps = o.steps === undefined ? p.steps : f.int('steps', o.steps, 1);
  const evalSamples = o.evalSamples === undefined ? p.evalSamples : f.int('evalSamples', o.evalSamples, 2);
  let curve = { every: 0, samples: 0 };
  if (o.curve !== undefined) {
    const c = f.object('curve', o.curve, ['every', 'samples']);
    curve = { every: f.int('curve.every', c.every, 1), samples: f.int('curve.samples', c.samples, 2) };
    if (curve.every > steps) f.fail('curve.every', `at most steps (${steps}) so that the curve has a point`, curve.every);
  }
  return {
    name, description: o.description === undefined ? '' : f.string('description', o.description), dataset, dataDir, condition,
    preset: presetName, steps, batchSize: o.batchSize === undefined ? p.batchSize : f.int('batchSize', o.batchSize, 1),
    lr: o.lr === undefined ? p.lr : f.number('lr', o.lr, 0, true), seeds, evalSamples, curve,
    checkpointEvery: o.checkpointEvery === undefined ? 50 : f.int('checkpointEvery', o.checkpointEvery, 0), baseline, arms,
  };
}

/** Read and validate a grid file. */
export function loadGrid(file: string): ExperimentGrid {
  if (!existsSync(file)) throw new UsageError(`--grid: no such file ${file}`, '--grid');
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new UsageError(`--grid ${file}: not valid JSON (${(err as Error).message})`, '--grid');
  }
  return validateGrid(raw, file);
}
