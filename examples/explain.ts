/**
 * Explain one batch of an ARRA model: which parameters each loss pushes (markdown table + a
 * per-block bar chart) and how well each image position's hidden state predicts the global
 * feature (a PNG heat map on the token grid). The library call is models/attribution.ts.
 *
 *   npx tsx examples/explain.ts --checkpoint ckpt.safetensors --batch batch.safetensors --out runs/explain
 *   npx tsx examples/explain.ts --demo [--steps 300] [--mode hybnext|rep] [--layer 0] [--lambda 1] --out runs/explain-demo
 *
 * Files it reads (safetensors, lib/io):
 * - checkpoint: the transformer's tensors under their own names plus `projector.*`
 *   ({@link trainingStateDict}); metadata `transformer` (TransformerConfig), `arra` (ArraConfig),
 *   `layout` ({numCodes, numClasses}), `encoderDim` — all JSON.
 * - batch: `codes` I32 [B, N], `classes` I32 [B], `globalFeatures` F32/F64 [B, D_enc].
 *
 * `--demo` needs no files: it trains a small model for a few hundred steps on a synthetic
 * class-conditional task (below), saves both files into --out, and explains a held-out batch.
 * Writes: report.md, alignment.svg (labelled heat map with colour bar; mean over the batch, then
 * one grid per sequence), alignment.png (the same, unlabelled), blocks.svg.
 */
import * as path from 'node:path';
import { PNG } from 'pngjs';
import { AdamW, barChartSvg, clipGradNorm, colorAt, heatmapSvg, noDecayParameters, Rng, streamSeed, saveSvg, Tensor } from '../lib';
import { atomicWriteFile, ensureDir, jsonMetadata, probeWritable, loadSafetensors, readJsonMetadata, saveSafetensors } from '../lib/io';
import { arraConfig, arraLoss, trainingStateDict, type ArraBatch, type ArraConfig } from '../models/arra';
import { gradientAttribution, type AttributionReport } from '../models/attribution';
import { Projector } from '../models/projector';
import { buildClassSequences, classConditionalLayout, type VocabLayout } from '../models/sequence';
import { Transformer, type TransformerConfig } from '../models/transformer';

/** A model, its projector and the settings it was trained with. */
export interface ArraCheckpoint {
  model: Transformer;
  projector: Projector;
  cfg: ArraConfig;
  layout: VocabLayout;
}

/** Save model + projector + settings in the format `--checkpoint` reads. */
export function saveArraCheckpoint(file: string, ck: ArraCheckpoint): void {
  saveSafetensors(file, trainingStateDict(ck.model, ck.projector), jsonMetadata({
    transformer: ck.model.config, arra: ck.cfg, layout: { numCodes: ck.layout.numCodes, numClasses: ck.layout.numClasses },
    encoderDim: ck.projector.encoderDim,
  }));
}

/** Read what {@link saveArraCheckpoint} wrote. */
export function loadArraCheckpoint(file: string): ArraCheckpoint {
  const { tensors, metadata } = loadSafetensors(file);
  const config = readJsonMetadata<TransformerConfig>(metadata, 'transformer', file);
  const cfg = readJsonMetadata<ArraConfig>(metadata, 'arra', file);
  const { numCodes, numClasses } = readJsonMetadata<{ numCodes: number; numClasses: number }>(metadata, 'layout', file);
  const model = new Transformer(config);
  const projector = new Projector(config.dModel, readJsonMetadata<number>(metadata, 'encoderDim', file), { hidden: cfg.projectorHidden, dtype: config.dtype });
  const pick = (prefix: string | null) => new Map([...tensors].filter(([k]) => (prefix === null ? !k.startsWith('projector.') : k.startsWith(prefix))).map(([k, v]) => [prefix ? k.slice(prefix.length) : k, v]));
  model.loadStateDict(pick(null));
  projector.loadStateDict(pick('projector.'));
  return { model, projector, cfg, layout: classConditionalLayout(numCodes, numClasses) };
}

/** A batch as stored on disk: codes, classes and the precomputed global features. */
export interface StoredBatch {
  codes: Int32Array;
  classes: Int32Array;
  globalFeatures: Tensor;
}

export function saveBatch(file: string, b: StoredBatch): void {
  const B = b.classes.length;
  saveSafetensors(file, {
    codes: { dtype: 'I32', shape: [B, b.codes.length / B], data: b.codes },
    classes: { dtype: 'I32', shape: [B], data: b.classes },
    globalFeatures: b.globalFeatures,
  });
}

export function loadBatch(file: string): StoredBatch {
  const { raw, tensors } = loadSafetensors(file);
  const ints = (name: string): Int32Array => {
    const r = raw.get(name);
    if (!r || r.dtype !== 'I32') throw new Error(`${file}: expected an I32 tensor '${name}', got ${r ? r.dtype : 'none'}`);
    return r.data as Int32Array;
  };
  const globalFeatures = tensors.get('globalFeatures');
  if (!globalFeatures) throw new Error(`${file}: expected a float tensor 'globalFeatures' [B, D_enc]`);
  return { codes: ints('codes'), classes: ints('classes'), globalFeatures };
}

/** Sequences for the checkpoint's layout (no condition dropout: we explain, not train). */
export function toArraBatch(layout: VocabLayout, b: StoredBatch, dtype: Tensor['dtype']): ArraBatch {
  const seq = buildClassSequences(layout, b.codes, b.classes, { dropCondProb: 0, rng: new Rng(0) });
  return { ...seq, globalFeatures: b.globalFeatures.astype(dtype) };
}

/** Attribution report for the batch, written as report.md, alignment.png and blocks.svg in `outDir`. */
export function explainToFiles(ck: ArraCheckpoint, batch: ArraBatch, outDir: string): AttributionReport {
  const report = gradientAttribution(ck.model, ck.projector, batch, ck.cfg);
  ensureDir(outDir);
  const md = [report.toMarkdown(), ''];
  if (report.alignment) {
    const a = report.alignment;
    const shown = a.perSequence.slice(0, 8);
    const { svg, min, max } = heatmapSvg(
      [{ caption: 'batch mean', values: a.mean }, ...shown.map((values, i) => ({ caption: `sequence ${i}`, values }))],
      {
        height: a.height, width: a.width, valueLabel: 'cos(f_A,t, f_GF)', xLabel: 'token column (image grid)', yLabel: 'token row',
        title: `Alignment cos(f_A,t, f_GF) per image-token position, block ${report.alignLayer} (${a.perSequence.length} sequences)`,
      },
    );
    saveSvg(path.join(outDir, 'alignment.svg'), svg);
    atomicWriteFile(path.join(outDir, 'alignment.png'), alignmentPng(a, min, max));
    md.push(
      '![alignment per position](alignment.svg)', '',
      `Colour scale (viridis) from ${min.toFixed(4)} (dark) to ${max.toFixed(4)} (yellow): the range of the values shown, not [−1, 1], ` +
      'so that small differences between positions are visible; read the numbers, not the colours, for the size of the effect. ' +
      'alignment.png is the same map without labels (batch mean on top, then one grid per sequence).', '',
    );
  }
  md.push('![gradient norms per block](blocks.svg)', '');
  atomicWriteFile(path.join(outDir, 'report.md'), md.join('\n'));
  saveSvg(path.join(outDir, 'blocks.svg'), barChartSvg(
    report.groups.map((g) => ({ label: g.group, values: [g.normAR, g.normGVA] })),
    { seriesNames: ['‖∂L_AR/∂θ‖', '‖λ·∂L_GVA/∂θ‖'], title: `gradient norm per block (aligned block ${report.alignLayer})`, yLabel: 'gradient norm' },
  ));
  return report;
}

// ---- the alignment heat map as a bare PNG: viridis over the range [lo, hi] of alignment.svg ----

/** Row 0: the batch mean grid; then one grid per sequence (up to 8), side by side, 24 px cells. */
function alignmentPng(a: NonNullable<AttributionReport['alignment']>, lo: number, hi: number): Buffer {
  const cosColour = (c: number): [number, number, number] => (Number.isFinite(c) ? colorAt((c - lo) / (hi - lo)) : [255, 0, 255]);
  const cell = 24;
  const gap = 6;
  const grids = [a.mean, ...a.perSequence.slice(0, 8)];
  const gw = a.width * cell;
  const gh = a.height * cell;
  const png = new PNG({ width: Math.max(1, grids.length - 1) * (gw + gap) + gap, height: 2 * (gh + gap) + gap });
  png.data.fill(255);
  grids.forEach((g, i) => {
    const [x0, y0] = i === 0 ? [gap, gap] : [gap + (i - 1) * (gw + gap), 2 * gap + gh];
    for (let y = 0; y < gh; y++) {
      for (let x = 0; x < gw; x++) {
        const [r, gr, b] = cosColour(g[Math.floor(y / cell) * a.width + Math.floor(x / cell)]!);
        const o = ((y0 + y) * png.width + x0 + x) * 4;
        png.data[o] = r;
        png.data[o + 1] = gr;
        png.data[o + 2] = b;
        png.data[o + 3] = 255;
      }
    }
  });
  return PNG.sync.write(png);
}

// ---- the synthetic demo task ----

/**
 * Class-conditional 4×4 token grids: class c has a prototype grid; every image adds a random
 * "style" shift s ∈ [0, 4) to all its codes (mod K) and replaces 10% of tokens by noise. The
 * global feature is a frozen random projection of the image's code histogram — a stand-in
 * for a pretrained encoder that sees the whole image, including the style the first tokens
 * have not revealed yet.
 */
export function syntheticTask(seed = 0): { layout: VocabLayout; grid: number; encoderDim: number; draw: (B: number, rng: Rng) => StoredBatch } {
  const K = 16;
  const C = 4;
  const grid = 4;
  const N = grid * grid;
  const encoderDim = 16;
  const rng = new Rng(seed);
  const prototypes = Array.from({ length: C }, () => Int32Array.from({ length: N }, () => rng.int(K)));
  const encoder = Float64Array.from({ length: encoderDim * K }, () => rng.normal()); // frozen [D_enc, K]
  const draw = (B: number, r: Rng): StoredBatch => {
    const codes = new Int32Array(B * N);
    const classes = Int32Array.from({ length: B }, () => r.int(C));
    const feats = new Float64Array(B * encoderDim);
    for (let b = 0; b < B; b++) {
      const style = r.int(4);
      const hist = new Float64Array(K);
      for (let n = 0; n < N; n++) {
        const code = r.uniform() < 0.1 ? r.int(K) : (prototypes[classes[b]!]![n]! + style) % K;
        codes[b * N + n] = code;
        hist[code]! += 1 / N;
      }
      // centred histogram (minus the uniform 1/K): a feature of 'no information' is the zero vector
      for (let d = 0; d < encoderDim; d++) for (let k = 0; k < K; k++) feats[b * encoderDim + d]! += encoder[d * K + k]! * (hist[k]! - 1 / K);
    }
    return { codes, classes, globalFeatures: new Tensor(Float32Array.from(feats), [B, encoderDim]) };
  };
  return { layout: classConditionalLayout(K, C), grid, encoderDim, draw };
}

/** Train a small ARRA model on {@link syntheticTask}; logs every 50 steps. */
export function trainDemo(cfg: ArraConfig, steps: number, seed = 0): ArraCheckpoint & { task: ReturnType<typeof syntheticTask> } {
  const task = syntheticTask(seed);
  const config: TransformerConfig = {
    vocabSize: task.layout.vocabSize, dModel: 32, nLayers: 3, nHeads: 2, mlpHidden: 64,
    maxSeqLen: 2 + task.grid * task.grid, rope: '2d', gridSize: task.grid, seed,
  };
  const model = new Transformer(config);
  const projector = new Projector(config.dModel, task.encoderDim, { hidden: cfg.projectorHidden, rng: new Rng(streamSeed(seed, 1)) });
  const params = [...model.parameters(), ...projector.parameters()];
  const opt = new AdamW(params, { lr: 3e-3, betas: [0.9, 0.95], weightDecay: 0.05, noDecay: noDecayParameters(params) });
  const rng = new Rng(streamSeed(seed, 2));
  for (let step = 1; step <= steps; step++) {
    const stored = task.draw(32, rng);
    const seq = buildClassSequences(task.layout, stored.codes, stored.classes, { dropCondProb: 0.1, rng });
    opt.zeroGrad();
    const r = arraLoss(model, projector, { ...seq, globalFeatures: stored.globalFeatures }, cfg);
    r.loss.backward();
    clipGradNorm(params, 1);
    opt.step();
    if (step % 50 === 0 || step === 1) console.log(`step ${step}: L_AR ${r.lossAR.item().toFixed(4)}  L_GVA ${r.lossGVA.item().toFixed(4)}`);
  }
  return { model, projector, cfg, layout: task.layout, task };
}

function parseArgs(argv: string[]): Map<string, string> {
  const args = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) throw new Error(`explain: unexpected argument '${a}'`);
    const next = argv[i + 1];
    if (next === undefined || next.startsWith('--')) args.set(a.slice(2), 'true');
    else args.set(a.slice(2), (i++, next));
  }
  return args;
}

function main(): void {
  const args = parseArgs(process.argv.slice(2));
  const out = args.get('out') ?? 'runs/explain';
  ensureDir(out); // before any training: an unwritable --out fails now
  probeWritable(out);
  let ck: ArraCheckpoint;
  let stored: StoredBatch;
  if (args.has('demo')) {
    const cfg = arraConfig({
      encoderName: 'synthetic-histogram', projectorHidden: 32,
      mode: (args.get('mode') ?? 'hybnext') as ArraConfig['mode'], alignLayer: Number(args.get('layer') ?? 0), lambda: Number(args.get('lambda') ?? 1),
    });
    const t0 = Date.now();
    const trained = trainDemo(cfg, Number(args.get('steps') ?? 300));
    console.log(`trained in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    ck = trained;
    stored = trained.task.draw(16, new Rng(12345)); // held out: a generator seed training never used
    saveArraCheckpoint(path.join(out, 'checkpoint.safetensors'), ck);
    saveBatch(path.join(out, 'batch.safetensors'), stored);
  } else {
    const [c, b] = [args.get('checkpoint'), args.get('batch')];
    if (!c || !b) throw new Error('explain: give --checkpoint <file> and --batch <file>, or --demo');
    ck = loadArraCheckpoint(c);
    stored = loadBatch(b);
  }
  const report = explainToFiles(ck, toArraBatch(ck.layout, stored, ck.model.config.dtype ?? 'float32'), out);
  console.log(report.toMarkdown());
  console.log(`wrote ${path.join(out, 'report.md')}, alignment.png, blocks.svg`);
}

if (require.main === module) main();
