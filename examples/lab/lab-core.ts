/**
 * Everything the lab page computes, without the page: the tiny models, one ARRA step taken
 * apart and sampling (the side-by-side training runs are in lab-train.ts). No DOM and no Node
 * API, so the page (main.ts) and the Node test (test/lab.test.ts) run exactly this code and can compare numbers.
 *
 * The setting (all from models/presets.ts `tiny`): 8 px digits 0/1/2 → a VQ with 16 codes on a
 * 2×2 grid → sequences `[class] [begin-image] z_1 … z_4` → a 2-block transformer (D = 16).
 * f_GF comes from a frozen ConvNet whose weights are seeded random (random features: the lab
 * has no time to train an encoder, and L_GVA only needs *a* fixed target per image). The
 * tokenizer starts as a seeded, untrained VQ (labelled so on the page) and can be trained
 * in the page in a few seconds.
 *
 * The same code runs the other two conditioning modes (models/prefix.ts): `text` on captioned
 * shapes made in the page (lab-shapes.ts; 12 px RGB for the encoder, 8 px for a 3-channel tiny
 * VQ, prompt slot P = the longest caption, prefix `[pad … w_1 … w_m] [begin-image]`) and `none`
 * on the digits with the one constant prefix `[null] [begin-image]`. Each mode has its own
 * vocabulary, hence its own freshly initialised transformer, trained in the page.
 */
import {
  AdamW, cosineSimilarity, describeBackend, editDistance, indexSelect, nearestWords, TextTokenizer, tokenizeWords, noGrad, reshape, Rng, type Tensor,
} from '../../lib';
import {
  alignedPositions, arraConfig, arraLoss, buildClassSequences, buildTextSequences, buildUnconditionalSequences, classConditionalLayout,
  ConvNet, gradientAttribution, prefixLength, Projector, sampleImages, samplePrompts, sampleUnconditional, textConditionalLayout,
  Transformer, transformerPresets, unconditionalLayout, VQTokenizer, vqPresets,
  type ArraBatch, type ArraConfig, type ConditionMode, type GroupAttribution, type SequenceBatch, type VocabLayout,
} from '../../models';
import { LAB_CLASSES, type LabData } from './lab-data';

/** The switches the step view and the ARRA run use (models/arra.ts ArraConfig). */
export interface StepSettings {
  mode: ArraConfig['mode'];
  lambda: number;
  alignLayer: number;
  objective: ArraConfig['objective'];
}

export const DEFAULT_SETTINGS: StepSettings = { mode: 'hybnext', lambda: 1, alignLayer: 0, objective: 'cosine' };

/** Width of the frozen encoder's feature f_GF. */
export const ENCODER_DIM = 32;
/** Sequences in the step view's batch. */
export const STEP_BATCH = 4;
/** Sequences per training step. */
export const TRAIN_BATCH = 16;

/** A tensor's values and shape, as plain JSON (what crosses from the page to a test). */
export interface Shaped {
  shape: number[];
  values: number[];
}

/** One row of the "block by block" table. */
export interface ShapeRow {
  name: string;
  shape: number[];
  note: string;
}

/** Everything the step panels show. */
export interface StepReport {
  settings: StepSettings;
  backend: string;
  tokenizer: string;
  batch: {
    indices: number[];
    classes: number[];
    shape: [number, number];
    tokens: number[];
    targets: number[];
    imageMask: number[];
    /** positions before the first image token (2 for class and none, P + 1 for text) */
    prefixLen: number;
    /** text mode: each row's caption (the prompt its word tokens spell) */
    prompts?: string[];
    /** which flat positions the mode aligns (trains with L_GVA) */
    aligned: number[];
    grid: number;
    /** [B, C, S, S] the images the tokens came from */
    images: Shaped;
  };
  shapes: ShapeRow[];
  /** block `alignLayer`'s output at every image-predicting position, [B·N, D] */
  hidden: Shaped;
  /** A_phi of those rows, [B·N, D_enc] */
  projected: Shaped;
  /** cos(f_A,t, f_GF) at every image-predicting position, [B, N] (grid h×w = N) */
  cos: Shaped;
  lossAR: number;
  lossGVA: number;
  lossTotal: number;
  /** per group: ‖∂L_AR/∂θ‖, ‖λ·∂L_GVA/∂θ‖, cos (models/attribution.ts) */
  groups: GroupAttribution[];
  /** ∂L_ARRA/∂θ of two named parameters (the whole tensor) */
  gradients: { name: string; shape: number[]; values: number[] }[];
  stepMs: number;
}

/** What to sample: the class (class mode), the free-text prompt (text mode) or nothing (none). */
export interface SampleRequest {
  classIndex?: number;
  prompt?: string;
  cfgScale: number;
  temperature: number;
  topK: number;
  seed: number;
}

/** A prompt the text model cannot read: the word, and the known words nearest to it (lib/data edit distance). */
export class PromptError extends Error {
  constructor(message: string, readonly word: string | null, readonly nearest: string[]) {
    super(message);
    this.name = 'PromptError';
  }
}

/** The models and data every panel shares. */
export class Lab {
  readonly layout: VocabLayout;
  /** positions before the first image token (models/prefix.ts prefixLength) */
  readonly prefixLen: number;
  /** text mode: the word tokenizer built from the captions, and each image's prompt as word ids */
  readonly text: { tokenizer: TextTokenizer; promptLen: number; prompts: Int32Array[] } | null = null;
  readonly vq: VQTokenizer;
  readonly encoder: ConvNet;
  /** f_GF for every image, [n, ENCODER_DIM] (constant) */
  readonly features: Tensor;
  /** VQ codes of every image, [n, N] */
  codes: Int32Array;
  tokenizer = 'seeded random VQ (untrained): codes are a fixed random partition of the images, not a learned one';
  readonly numTokens: number;

  constructor(readonly data: LabData, readonly seed = 0, readonly condition: ConditionMode = 'class') {
    const K = vqPresets.tiny.codebookSize;
    const numClasses = data.classNames?.length ?? LAB_CLASSES.length;
    if (condition === 'text') {
      if (!data.prompts) throw new Error('Lab: text conditioning needs data with captions (lab-shapes.ts shapesLabData), got data without prompts');
      const words = data.prompts.map(promptWords);
      const tokenizer = TextTokenizer.fromCorpus(words.map((w) => w.join(' ')));
      const promptLen = Math.max(1, ...words.map((w) => w.length));
      this.text = { tokenizer, promptLen, prompts: words.map((w) => Int32Array.from(w, (x) => tokenizer.idOf(x))) };
      this.layout = textConditionalLayout(K, tokenizer.size);
      this.prefixLen = prefixLength({ mode: 'text', promptLen });
    } else {
      this.layout = condition === 'none' ? unconditionalLayout(K) : classConditionalLayout(K, numClasses);
      this.prefixLen = prefixLength({ mode: condition });
    }
    const [, C, side] = data.images28.shape as [number, number, number];
    this.vq = new VQTokenizer({ ...vqPresets.tiny, channels: data.imagesSmall.shape[1]!, seed });
    this.numTokens = this.vq.gridSize ** 2;
    this.encoder = new ConvNet({ inChannels: C, imageSize: side, widths: [8, 16], featureDim: ENCODER_DIM, numClasses }, new Rng(seed + 7));
    this.encoder.eval().freeze();
    this.features = noGrad(() => this.encoder.features(data.images28)); // [n, D_enc]
    this.codes = this.vq.encode(data.imagesSmall); // [n·N]
  }

  get size(): number {
    return this.data.classes.length;
  }

  /** A fresh tiny transformer and projector; the same seed gives the same weights. */
  freshModel(seed = this.seed): { model: Transformer; projector: Projector } {
    const tiny = transformerPresets.tiny;
    const model = new Transformer(this.condition === 'class' ? { ...tiny, seed } : {
      ...tiny, seed, vocabSize: this.layout.vocabSize, maxSeqLen: this.prefixLen + this.numTokens, prefixLen: this.prefixLen,
    });
    const projector = new Projector(model.config.dModel, ENCODER_DIM, { hidden: 32, rng: new Rng(seed + 0x5eed) });
    return { model, projector };
  }

  /** The ARRA batch of images `indices` (no condition dropping: the step view is deterministic). */
  batch(indices: number[], dropCondProb = 0, rng = new Rng(0)): ArraBatch {
    const N = this.numTokens;
    const codes = new Int32Array(indices.length * N);
    indices.forEach((i, b) => codes.set(this.codes.subarray(i * N, (i + 1) * N), b * N));
    let seq: SequenceBatch;
    if (this.text) seq = buildTextSequences(this.layout, codes, indices.map((i) => this.text!.prompts[i]!), { promptLen: this.text.promptLen, dropCondProb, rng });
    else if (this.condition === 'none') seq = buildUnconditionalSequences(this.layout, codes, indices.length);
    else seq = buildClassSequences(this.layout, codes, Int32Array.from(indices, (i) => this.data.classes[i]!), { dropCondProb, rng });
    return { ...seq, globalFeatures: indexSelect(this.features, 0, indices) };
  }

  /** What token `id` is, for the batch view: `z5`, `class 1`, a prompt word, `null`, `begin`, `pad`. */
  tokenName(id: number): string {
    const L = this.layout;
    if (id < L.numCodes) return `z${id}`;
    if (this.text && id >= L.textOffset! && id < L.textOffset! + L.textVocab!) return `"${this.text.tokenizer.vocab[id - L.textOffset!]}"`;
    if (id >= L.classOffset && id < L.classOffset + L.numClasses) return `class ${this.data.classNames?.[id - L.classOffset] ?? LAB_CLASSES[id - L.classOffset]}`;
    return id === L.nullClass ? 'null' : id === L.beginImage ? 'begin' : 'pad';
  }

  /** The prefix in words, for the shapes table. */
  prefixNote(): string {
    if (this.text) return `[pad … pad w_1 … w_m] [begin-image] z_1 … z_N (prompt slot P = ${this.text.promptLen} words)`;
    return this.condition === 'none' ? '[null] [begin-image] z_1 … z_N (one constant prefix)' : '[class] [begin-image] z_1 … z_N';
  }

  /**
   * Free text → word ids for the text model. Case and punctuation are ignored (as
   * examples/pipeline/conditioning.ts encodePrompts does); an unknown word or a prompt longer
   * than the slot is a {@link PromptError} naming the known words nearest to it.
   */
  encodePrompt(prompt: string): Int32Array {
    if (!this.text) throw new PromptError(`encodePrompt: this lab's model is ${this.condition}-conditional, not text-conditional`, null, []);
    const { tokenizer, promptLen } = this.text;
    const words = promptWords(prompt);
    if (words.length === 0) throw new PromptError(`the prompt '${prompt}' has no words`, null, []);
    const known = tokenizer.vocab.slice(2); // without <pad>, <unk>
    for (const w of words) {
      if (tokenizer.idOf(w) === tokenizer.unkId || w === TextTokenizer.PAD || w === TextTokenizer.UNK) {
        const near = nearestWords(w, known, 3);
        const d = near.length ? editDistance(w, near[0]!) : 0;
        throw new PromptError(`unknown word '${w}' in '${prompt}'; nearest known words: ${near.join(', ')} (edit distance ${d}); the model knows ${known.length} words`, w, near);
      }
    }
    if (words.length > promptLen) throw new PromptError(`the prompt '${prompt}' has ${words.length} words, the model's prompt slot holds ${promptLen}`, null, []);
    return Int32Array.from(words, (w) => tokenizer.idOf(w));
  }

  /** `count` distinct image indices drawn with `rng`. */
  pick(count: number, rng: Rng): number[] {
    const all = Array.from({ length: this.size }, (_, i) => i);
    return rng.shuffle(all).slice(0, count);
  }

  /** Train the tokenizer in place for `steps` AdamW steps on the 8 px images; returns the recon losses. */
  trainTokenizer(steps: number, onStep?: (step: number, recon: number) => void): number[] {
    const opt = new AdamW(this.vq.parameters(), { lr: 3e-3, weightDecay: 0 });
    const rng = new Rng(this.seed + 3);
    const S = this.vq.config.imageSize;
    const C = this.vq.config.channels;
    const losses: number[] = [];
    this.vq.train();
    for (let s = 0; s < steps; s++) {
      const idx = this.pick(32, rng);
      const images = reshape(indexSelect(this.data.imagesSmall, 0, idx), [idx.length, C, S, S]);
      opt.zeroGrad();
      const l = this.vq.loss(images);
      l.loss.backward();
      opt.step();
      losses.push(l.recon.item());
      onStep?.(s, losses[s]!);
    }
    this.vq.eval();
    this.codes = this.vq.encode(this.data.imagesSmall);
    this.tokenizer = `VQ trained in the page for ${steps} steps (last recon MSE ${losses[steps - 1]?.toFixed(4)})`;
    return losses;
  }

  /** Decode codes [B·N] to images [B, 1, S, S] as plain values. */
  decode(codes: Int32Array): Shaped {
    const img = noGrad(() => this.vq.decode(codes));
    return { shape: [...img.shape], values: Array.from(img.values()) };
  }

  /**
   * One ARRA step taken apart (models/arra.ts arraLoss, models/attribution.ts
   * gradientAttribution): the batch, every block's output shape, the aligned block's hidden
   * state, the projector's output, cos per position, both losses and the backward.
   * Leaves the model's gradients cleared; changes no weight.
   */
  step(model: Transformer, projector: Projector, settings: StepSettings, indices: number[]): StepReport {
    const t0 = now();
    const cfg = arraConfig({ ...settings, encoderName: 'lab-convnet-random', projectorHidden: 32 });
    const batch = this.batch(indices);
    const [B, T] = batch.shape;
    const N = this.numTokens;
    const attribution = gradientAttribution(model, settings.mode === 'off' ? null : projector, batch, cfg);

    // ∂L_ARRA/∂θ (the gradient the optimiser would apply), for two tensors the test compares
    const named = new Map(model.namedParameters());
    model.zeroGrad();
    const losses = arraLoss(model, settings.mode === 'off' ? null : projector, batch, cfg);
    losses.loss.backward();
    const gradients = ['head.weight', 'blocks.0.attn.wq.weight'].map((name) => {
      const p = named.get(name)!;
      return { name, shape: [...p.shape], values: Array.from(p.grad?.values() ?? new Float32Array(p.size)) };
    });
    model.zeroGrad();
    projector.zeroGrad();

    // the forward again, for the pictures (no graph): shapes, h^(i), A_phi(h^(i)), cos
    const view = noGrad(() => {
      const { logits, hiddens } = model.forward(batch.tokens, batch.shape);
      const positions = alignedPositions(batch.imageMask, batch.shape, 'hybnext'); // every image-predicting position
      const D = model.config.dModel;
      const h = indexSelect(reshape(hiddens[settings.alignLayer]!, [B * T, D]), 0, positions); // [B·N, D]
      const fA = projector.forward(h); // [B·N, D_enc]
      const fGF = indexSelect(batch.globalFeatures, 0, positions.map((p) => Math.floor(p / T))); // [B·N, D_enc]
      const cos = cosineSimilarity(fA, fGF, -1); // [B·N]
      const shapes: ShapeRow[] = [
        { name: 'tokens', shape: [B, T], note: this.prefixNote() },
        { name: 'embed', shape: [B, T, D], note: 'token embedding h⁰' },
        ...hiddens.map((x, i) => ({ name: `blocks.${i}`, shape: [...x.shape], note: i === settings.alignLayer ? `h^(${i}): aligned block` : 'attention + SwiGLU, residual' })),
        { name: 'head', shape: [...logits.shape], note: 'RMSNorm · W_head: next-token logits over V' },
        { name: 'h at <HYBNEXT>', shape: [...h.shape], note: `rows of blocks.${settings.alignLayer} at the B·N image-predicting positions` },
        { name: 'projector.fc1', shape: [h.shape[0]!, projector.fc1.weight.shape[0]!], note: 'Linear + GELU' },
        { name: 'projector.fc2', shape: [...fA.shape], note: 'f_A,t = A_phi(h_t)' },
        { name: 'f_GF', shape: [...fGF.shape], note: 'frozen encoder feature of each position\'s image' },
      ];
      return { shapes, h: shaped(h), fA: shaped(fA), cos: { shape: [B, N], values: Array.from(cos.values()) } };
    });
    const S = this.vq.config.imageSize;
    const C = this.vq.config.channels;
    const images = indexSelect(this.data.imagesSmall, 0, indices);
    return {
      settings: { ...settings },
      backend: describeBackend(),
      tokenizer: this.tokenizer,
      batch: {
        indices: [...indices],
        classes: indices.map((i) => this.data.classes[i]!),
        shape: [B, T],
        tokens: Array.from(batch.tokens),
        targets: Array.from(batch.targets),
        imageMask: Array.from(batch.imageMask),
        prefixLen: this.prefixLen,
        ...(this.data.prompts && this.text ? { prompts: indices.map((i) => this.data.prompts![i]!) } : {}),
        aligned: settings.mode === 'off' ? [] : Array.from(alignedPositions(batch.imageMask, batch.shape, settings.mode)),
        grid: this.vq.gridSize,
        images: { shape: [B, C, S, S], values: Array.from(images.values()) },
      },
      shapes: view.shapes,
      hidden: view.h,
      projected: view.fA,
      cos: view.cos,
      lossAR: attribution.lossAR,
      lossGVA: attribution.lossGVA,
      lossTotal: losses.loss.item(),
      groups: attribution.groups,
      gradients,
      stepMs: now() - t0,
    };
  }

  /**
   * Sampling in this lab's mode (models/sampling.ts): class → sampleImages, text → samplePrompts
   * (guided against the library's `[pad … null begin]`), none → sampleUnconditional (no
   * guidance: cfgScale must be 1). Returns the codes [N] and the decoded image [1, C, S, S];
   * a bad prompt throws {@link PromptError} before anything is sampled.
   */
  sample(model: Transformer, opts: SampleRequest): { codes: number[]; image: Shaped } {
    const common = { numTokens: this.numTokens, temperature: opts.temperature, topK: opts.topK > 0 ? opts.topK : undefined, cfgScale: opts.cfgScale, seed: opts.seed };
    let codes: Int32Array;
    if (this.text) codes = samplePrompts(model, this.layout, [this.encodePrompt(opts.prompt ?? '')], this.text.promptLen, common);
    else if (this.condition === 'none') codes = sampleUnconditional(model, this.layout, 1, common);
    else codes = sampleImages(model, this.layout, { ...common, classes: [opts.classIndex ?? 0] });
    return { codes: Array.from(codes), image: this.decode(codes) };
  }
}

/** The words of a prompt: lower-cased, punctuation dropped (as examples/pipeline/conditioning.ts promptWords). */
export function promptWords(text: string): string[] {
  return tokenizeWords(text).filter((w) => /[\p{L}\p{N}]/u.test(w));
}

function shaped(t: Tensor): Shaped {
  return { shape: [...t.shape], values: Array.from(t.values()) };
}

function now(): number {
  return globalThis.performance?.now() ?? Date.now();
}
