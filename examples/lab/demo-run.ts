/**
 * A previous `arra demo` run, read in the page from the lab server's /runs/demo/: the VQ
 * tokenizer (`vq/vq.safetensors`, written by examples/pipeline/vq-trainer.ts `saveVq`) and the
 * inference checkpoints `<baseline|arra>-s<seed>/model.safetensors` (ar-trainer.ts, kind
 * `arra-transformer`), parsed from bytes with lib/io's parseSafetensors, so no file system is
 * needed. No DOM: test/lab.test.ts loads a run the same way.
 */
import { noGrad, parseSafetensors, readJsonMetadata } from '../../lib';
import { sampleImages, Transformer, VQTokenizer, type ArraConfig, type TransformerConfig, type VocabLayout, type VQConfig } from '../../models';
import type { Shaped } from './lab-core';

/** One trained transformer of the run. */
export interface DemoModel {
  /** its folder, e.g. `arra-s0` */
  name: string;
  model: Transformer;
  layout: VocabLayout;
  classNames: string[];
  mode: ArraConfig['mode'];
  step: number;
}

/** The run's tokenizer and models. */
export interface DemoRun {
  vq: VQTokenizer;
  models: DemoModel[];
}

/** Where the demo keeps its tokenizer, relative to runs/demo. */
export const DEMO_VQ_FILE = 'vq/vq.safetensors';
/** Which files of the run are inference checkpoints (`<folder>/model.safetensors`). */
export const DEMO_MODEL_FILE = /^((?:baseline|arra)-s\d+)\/model\.safetensors$/;

/** The tokenizer from `saveVq`'s bytes. */
export function readDemoVq(bytes: Uint8Array, file = DEMO_VQ_FILE): VQTokenizer {
  const { tensors, metadata } = parseSafetensors(bytes, file);
  const kind = readJsonMetadata<string>(metadata, 'kind', file);
  if (kind !== 'arra-vq') throw new Error(`${file}: expected a VQ tokenizer (kind 'arra-vq'), found '${kind}'`);
  const vq = new VQTokenizer(readJsonMetadata<VQConfig>(metadata, 'config', file));
  vq.loadStateDict(tensors);
  return vq.eval();
}

/** A transformer from an inference checkpoint's bytes. */
export function readDemoModel(bytes: Uint8Array, name: string, file = `${name}/model.safetensors`): DemoModel {
  const { tensors, metadata } = parseSafetensors(bytes, file);
  const kind = readJsonMetadata<string>(metadata, 'kind', file);
  if (kind !== 'arra-transformer') throw new Error(`${file}: expected a transformer checkpoint (kind 'arra-transformer'), found '${kind}'`);
  const model = new Transformer(readJsonMetadata<TransformerConfig>(metadata, 'config', file));
  model.loadStateDict(tensors);
  model.eval();
  return {
    name, model, layout: readJsonMetadata<VocabLayout>(metadata, 'layout', file),
    classNames: readJsonMetadata<string[]>(metadata, 'classNames', file),
    mode: readJsonMetadata<ArraConfig>(metadata, 'arra', file).mode, step: readJsonMetadata<number>(metadata, 'step', file),
  };
}

/** Load what the run has (null without a tokenizer or without any model); `fetchBytes` reads a file of the run. */
export async function loadDemoRun(files: string[], fetchBytes: (path: string) => Promise<Uint8Array>): Promise<DemoRun | null> {
  if (!files.includes(DEMO_VQ_FILE)) return null;
  const modelFiles = files.filter((f) => DEMO_MODEL_FILE.test(f)).sort();
  if (modelFiles.length === 0) return null;
  const vq = readDemoVq(await fetchBytes(DEMO_VQ_FILE));
  const models: DemoModel[] = [];
  for (const f of modelFiles) models.push(readDemoModel(await fetchBytes(f), DEMO_MODEL_FILE.exec(f)![1]!, f));
  for (const m of models) {
    if (m.layout.numCodes !== vq.config.codebookSize) throw new Error(`${m.name}: the model reads ${m.layout.numCodes} codes, the run's tokenizer has ${vq.config.codebookSize}`);
  }
  return { vq, models };
}

/** Sample one image of class `classIndex` from a demo model and decode it with the run's tokenizer. */
export function sampleDemo(run: DemoRun, m: DemoModel, opts: { classIndex: number; cfgScale: number; temperature: number; topK: number; seed: number }): { codes: number[]; image: Shaped } {
  const codes = sampleImages(m.model, m.layout, {
    classes: [opts.classIndex], numTokens: run.vq.gridSize ** 2, temperature: opts.temperature,
    topK: opts.topK > 0 ? opts.topK : undefined, cfgScale: opts.cfgScale, seed: opts.seed,
  });
  const image = noGrad(() => run.vq.decode(codes)); // [1, C, S, S]
  return { codes: Array.from(codes), image: { shape: [...image.shape], values: Array.from(image.values()) } };
}
