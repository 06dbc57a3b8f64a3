/**
 * Sampling image tokens from the transformer: next-token sampling with a KV cache,
 * temperature, top-k, top-p and classifier-free guidance (LlamaGen `generate.py`).
 * ARRA leaves this untouched: the projector is training-only (the paper's method, §3: the projector is dropped at inference).
 *
 *   prefix [class|null] [begin-image]  ──forward (fills the cache)──▶ logits of z_1
 *   for n = 1..N:  guided = uncond + s·(cond − uncond)      (only with cfgScale ≠ 1)
 *                  z_n ~ softmax(filter(guided / temperature))  over the K image codes
 *                  feed z_n (one position per row, cache grows by one)
 *
 * With guidance the batch is doubled: rows 0..B−1 carry the class, rows B..2B−1 the null
 * condition, and both halves receive the same sampled token each step.
 */
import { noGrad, Rng } from '../lib';
import { classPrefixes, textPrefixes, unconditionalPrefix } from './prefix';
import type { VocabLayout } from './sequence';
import { emptyCache, type Transformer } from './transformer';

/** Options of {@link sampleImages}. */
export interface SampleOptions {
  /** one class id per image to generate */
  classes: number[];
  /** N: image tokens per image (grid side squared) */
  numTokens: number;
  /** softmax temperature (default 1); ≤ 0 means greedy arg-max */
  temperature?: number;
  /** keep only the k most likely codes (default: all) */
  topK?: number;
  /** keep the smallest set of codes whose probability reaches p (default 1: all) */
  topP?: number;
  /** classifier-free guidance scale s (default 1: no guidance) */
  cfgScale?: number;
  seed: number;
  /**
   * Called before each draw with the step n (0-based) and the guided logits over the image
   * codes, [B, K] row-major, before temperature and filtering. Tests use it to compare the
   * cached computation with a full forward.
   */
  onStep?: (step: number, logits: Float32Array) => void;
}

/** Class-conditional generation: returns codes [B, N] (row-major), ready for the tokenizer's decode. */
export function sampleImages(model: Transformer, layout: VocabLayout, opts: SampleOptions): Int32Array {
  const B = opts.classes.length;
  opts.classes.forEach((c, b) => {
    if (c < 0 || c >= layout.numClasses) throw new Error(`sampleImages: class ${c} at row ${b} is outside [0, ${layout.numClasses})`);
  });
  return sampleFromPrefix(model, layout, classPrefixes(layout, opts.classes), unconditionalPrefix(layout, 2, B), [B, 2], opts);
}

/**
 * Text-conditional generation: one image per prompt (word ids in [0, textVocab), at most
 * `promptLen` each), guided against the library's unconditional prefix `[pad … null begin]`.
 * Returns codes [B, N] row-major.
 */
export function samplePrompts(
  model: Transformer, layout: VocabLayout, prompts: readonly ArrayLike<number>[], promptLen: number, opts: Omit<SampleOptions, 'classes'>,
): Int32Array {
  const B = prompts.length;
  const L = promptLen + 1;
  return sampleFromPrefix(model, layout, textPrefixes(layout, prompts, promptLen), unconditionalPrefix(layout, L, B), [B, L], opts);
}

/**
 * Unconditional generation: `count` images from the one constant prefix `[null begin]`.
 * There is no condition to contrast with, so a cfgScale other than 1 is an error.
 */
export function sampleUnconditional(model: Transformer, layout: VocabLayout, count: number, opts: Omit<SampleOptions, 'classes'>): Int32Array {
  if ((opts.cfgScale ?? 1) !== 1) throw new Error(`sampleUnconditional: classifier-free guidance needs a condition; got cfgScale ${opts.cfgScale} for an unconditional model (use 1)`);
  return sampleFromPrefix(model, layout, unconditionalPrefix(layout, 2, count), null, [count, 2], opts);
}

/**
 * Generation after any prefix (class or text), shape [B, P], whose last token is begin-image.
 * `uncondPrefix` (same shape) is used for guidance when `cfgScale ≠ 1`.
 */
export function sampleFromPrefix(
  model: Transformer, layout: VocabLayout, prefix: Int32Array, uncondPrefix: Int32Array | null, shape: [number, number],
  opts: Omit<SampleOptions, 'classes'>,
): Int32Array {
  const [B, P] = shape;
  const { numTokens: N, temperature = 1, topK, topP = 1, cfgScale = 1, seed } = opts;
  const guided = cfgScale !== 1;
  if (guided && !uncondPrefix) throw new Error('sampleFromPrefix: cfgScale ≠ 1 needs an unconditional prefix');
  const rows = guided ? 2 * B : B;
  const K = layout.numCodes;
  const V = model.config.vocabSize;
  const rng = new Rng(seed);
  const codes = new Int32Array(B * N);
  const wasTraining = model.training;
  model.eval();
  try {
    noGrad(() => {
      const cache = emptyCache(model.config.nLayers);
      const first = new Int32Array(rows * P);
      first.set(prefix);
      if (guided) first.set(uncondPrefix!, B * P);
      let { logits } = model.forward(first, [rows, P], cache);
      let T = P;
      for (let n = 0; n < N; n++) {
        const lv = logits.values(); // [rows, T, V]; the last position predicts z_{n+1}
        const step = new Float32Array(B * K);
        for (let b = 0; b < B; b++) {
          const c = (b * T + T - 1) * V + layout.codeOffset;
          const u = ((B + b) * T + T - 1) * V + layout.codeOffset;
          for (let k = 0; k < K; k++) {
            step[b * K + k] = guided ? lv[u + k]! + cfgScale * (lv[c + k]! - lv[u + k]!) : lv[c + k]!;
          }
        }
        opts.onStep?.(n, step);
        const next = new Int32Array(rows);
        for (let b = 0; b < B; b++) {
          const code = drawCode(step.subarray(b * K, (b + 1) * K), temperature, topK, topP, rng);
          codes[b * N + n] = code;
          next[b] = layout.codeOffset + code;
          if (guided) next[B + b] = layout.codeOffset + code;
        }
        if (n + 1 < N) {
          ({ logits } = model.forward(next, [rows, 1], cache));
          T = 1;
        }
      }
    });
  } finally {
    model.train(wasTraining);
  }
  return codes;
}

/**
 * One draw from logits over K codes. temperature ≤ 0: arg-max (first on ties).
 * Otherwise p ∝ exp(logit / temperature), restricted to the top-k, then to the top-p
 * nucleus (Holtzman et al. 2020), renormalised, and sampled by inverse CDF.
 */
export function drawCode(logits: ArrayLike<number>, temperature: number, topK: number | undefined, topP: number, rng: Rng): number {
  const K = logits.length;
  // −∞ masks a code; NaN or +∞ means the model diverged, and sorting them would pick at random
  for (let k = 0; k < K; k++) {
    if (Number.isNaN(logits[k]) || logits[k] === Infinity) throw new Error(`drawCode: logit of code ${k} is ${logits[k]}; the model's outputs must be finite`);
  }
  if (temperature <= 0) {
    let best = 0;
    for (let k = 1; k < K; k++) if (logits[k]! > logits[best]!) best = k;
    return best;
  }
  const order = descendingOrder(logits);
  const keep = Math.max(1, Math.min(K, topK ?? K));
  const max = logits[order[0]!]!;
  const probs = order.slice(0, keep).map((k) => Math.exp((logits[k]! - max) / temperature));
  let total = probs.reduce((s, p) => s + p, 0);
  // nucleus: the shortest head of the sorted list whose mass reaches topP
  let nucleus = probs.length;
  if (topP < 1) {
    let acc = 0;
    for (let i = 0; i < probs.length; i++) {
      acc += probs[i]! / total;
      if (acc >= topP) { nucleus = i + 1; break; }
    }
    total = probs.slice(0, nucleus).reduce((s, p) => s + p, 0);
  }
  let u = rng.uniform() * total;
  for (let i = 0; i < nucleus; i++) {
    u -= probs[i]!;
    if (u < 0) return order[i]!;
  }
  return order[nucleus - 1]!;
}

/** Sorting keys hold the code id in their low 20 bits (K ≤ 2²⁰; larger vocabularies take the comparator sort). */
const KEY_INDEX = 2 ** 20;
let scratch = new Float32Array(0); // the logits, −0 made +0 …
let scratchBits = new Uint32Array(0); // … and their bits
let keys = new Float64Array(0);

/**
 * Code ids by descending logit, ties (and −∞) by ascending id — the order of
 * `ids.sort((a, b) => logits[b] − logits[a] || a − b)`. For float32 logits (what the sampler
 * passes) each id gets one exact float64 key, (order-reversing 32-bit image of the logit)·2²⁰ + id,
 * and the typed-array sort (native, no comparator calls) orders them: the comparator sort of
 * boxed ids took 13% of a demo evaluation's CPU. The keys order exactly as the comparator does:
 * the image of the f32 bits is monotone in the value, −0 is first made +0 (the comparator calls
 * them equal), and +∞ and NaN were rejected before.
 */
function descendingOrder(logits: ArrayLike<number>): number[] {
  const K = logits.length;
  if (!(logits instanceof Float32Array) || K > KEY_INDEX) {
    return Array.from({ length: K }, (_, k) => k).sort((a, b) => logits[b]! - logits[a]! || a - b);
  }
  if (scratch.length !== K) {
    scratch = new Float32Array(K);
    scratchBits = new Uint32Array(scratch.buffer);
    keys = new Float64Array(K);
  }
  for (let k = 0; k < K; k++) scratch[k] = logits[k]! + 0; // −0 + 0 = +0
  for (let k = 0; k < K; k++) {
    const u = scratchBits[k]!;
    // ascending image: negative floats bit-flipped, positive ones with the sign bit set; reversed by ~
    const ascending = u & 0x80000000 ? ~u >>> 0 : (u | 0x80000000) >>> 0;
    keys[k] = (0xffffffff - ascending) * KEY_INDEX + k;
  }
  keys.sort();
  const order = new Array<number>(K);
  for (let i = 0; i < K; i++) order[i] = keys[i]! % KEY_INDEX;
  return order;
}
