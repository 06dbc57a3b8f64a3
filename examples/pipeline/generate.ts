/**
 * Sampling in any conditioning mode, in chunks, decoded to images: what `arra sample`,
 * `arra eval` and the demo call. Each mode's prefix comes from models/prefix.ts (through the
 * samplers in models/sampling.ts); nothing here assembles tokens by hand.
 */
import { noGrad, type Tensor } from '../../lib';
import { sampleImages, samplePrompts, sampleUnconditional } from '../../models/sampling';
import type { VocabLayout } from '../../models/sequence';
import type { Transformer } from '../../models/transformer';
import type { VQTokenizer } from '../../models/vq';
import type { SamplingSettings } from './evaluate';

/** What to draw: one image per class id, per prompt (word ids), or `count` unconditional images. */
export type GenerationRequest =
  | { mode: 'class'; classes: number[] }
  | { mode: 'text'; prompts: Int32Array[]; promptLen: number }
  | { mode: 'none'; count: number };

/** Number of images a request asks for. */
export function requestSize(r: GenerationRequest): number {
  return r.mode === 'class' ? r.classes.length : r.mode === 'text' ? r.prompts.length : r.count;
}

/** Generate the request's images in order, `chunk` at a time (chunk i sampled with seed s.seed + i): [B, C, S, S] per chunk. */
export function generateImages(model: Transformer, layout: VocabLayout, vq: VQTokenizer, r: GenerationRequest, s: SamplingSettings, chunk = 50): Tensor[] {
  const numTokens = vq.gridSize * vq.gridSize;
  const out: Tensor[] = [];
  const total = requestSize(r);
  for (let i = 0; i < total; i += chunk) {
    const n = Math.min(chunk, total - i);
    const opts = { numTokens, temperature: s.temperature, topK: s.topK, cfgScale: s.cfgScale, seed: s.seed + i };
    const codes = r.mode === 'class'
      ? sampleImages(model, layout, { ...opts, classes: r.classes.slice(i, i + n) })
      : r.mode === 'text'
        ? samplePrompts(model, layout, r.prompts.slice(i, i + n), r.promptLen, opts)
        : sampleUnconditional(model, layout, n, { ...opts, cfgScale: 1 });
    out.push(noGrad(() => vq.decode(codes)).detach());
  }
  return out;
}
