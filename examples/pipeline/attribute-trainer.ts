/**
 * Training the attribute classifier (models/encoder/attributes.ts) on freshly generated
 * captioned shapes — the generator's own labels, never the images an AR model trained on —
 * and measuring it on a held-out generated set, so a caption-accuracy figure comes with the
 * judge's own accuracy beside it.
 */
import { existsSync } from 'node:fs';
import { AdamW, captionedShapes, cosineWithWarmup, indexSelect, noGrad, Rng, streamSeed } from '../../lib';
import { readSafetensorsHeader } from '../../lib/io';
import {
  attributeLoss, attributeNet, captionScores, cellCrops, cellTargets, type CaptionScores, type ConvNet, loadConvNet, predictCells, saveConvNet,
} from '../../models/encoder';

export interface AttributeTrainOptions {
  /** image side of the shapes the classifier will judge */
  imageSize: number;
  /** generated training images (each gives nine cell crops) */
  images?: number;
  /** held-out generated images */
  heldOut?: number;
  epochs?: number;
  batchSize?: number;
  lr?: number;
  seed?: number;
}

/** Generator seeds far from the ones `--dataset shapes` uses (0.., and seed + 1 000 003). */
const TRAIN_SEED = 7_000_001;
const HELD_OUT_SEED = 7_500_003;

/** Train on generated shapes; returns the net and its caption scores on held-out ground-truth scenes. */
export function trainAttributeClassifier(opts: AttributeTrainOptions): { net: ConvNet; heldOut: CaptionScores; seconds: number } {
  const t0 = performance.now();
  const { imageSize, images = 1500, heldOut = 200, epochs = 10, batchSize = 16, lr = 5e-3, seed = 0 } = opts;
  const train = captionedShapes(images, { size: imageSize, seed: TRAIN_SEED + seed });
  const crops = noGrad(() => cellCrops(train.images)); // [n·9, 3, 12, 12]
  const targets = cellTargets(train.scenes);
  const net = attributeNet(new Rng(seed));
  const steps = epochs * Math.floor(images / batchSize);
  const optimizer = new AdamW(net.parameters(), { lr, weightDecay: 1e-4 });
  const schedule = cosineWithWarmup({ warmup: Math.min(20, Math.floor(steps / 10)), total: steps, base: lr, min: lr / 20 });
  const rng = new Rng(streamSeed(seed, 1));
  net.train();
  for (let step = 0; step < steps; step++) {
    // A batch of images, i.e. all nine cells of each: empty cells stay in their natural share.
    const imgs = Array.from({ length: batchSize }, () => rng.int(images));
    const rows = imgs.flatMap((i) => Array.from({ length: 9 }, (_, c) => i * 9 + c));
    const pick = (a: Int32Array): Int32Array => Int32Array.from(rows, (r) => a[r]!);
    optimizer.lr = schedule(step);
    const loss = attributeLoss(net, noGrad(() => indexSelect(crops, 0, rows)), { kind: pick(targets.kind), colour: pick(targets.colour), size: pick(targets.size) });
    optimizer.zeroGrad();
    loss.backward();
    optimizer.step();
  }
  net.eval();
  const test = captionedShapes(heldOut, { size: imageSize, seed: HELD_OUT_SEED + seed });
  return { net, heldOut: captionScores(predictCells(net, test.images), test.scenes), seconds: (performance.now() - t0) / 1000 };
}

/**
 * What keeps the ConvNet checkpoint at `file` from judging `imageSize`-px captions, read from its
 * header (so `arra eval` can say so before it generates anything), or null when it can.
 */
export function attributeClassifierProblem(file: string, imageSize: number): string | null {
  let training: { heldOut?: unknown; imageSize?: unknown } | undefined;
  try {
    training = (JSON.parse(readSafetensorsHeader(file).metadata.convnet ?? '{}') as { training?: typeof training }).training;
  } catch (err) {
    return `cannot read its metadata (${(err as Error).message})`;
  }
  if (!training?.heldOut) return 'not an attribute classifier (no held-out caption scores in its metadata; a class ConvNet from arra train-encoder cannot judge captions)';
  if (training.imageSize !== imageSize) return `the attribute classifier judges ${String(training.imageSize)} px shapes, the model draws ${imageSize} px`;
  return null;
}

/** Load the attribute classifier at `file`, or train one and save it there (logged). */
export function attributeClassifierAt(file: string, imageSize: number, log = console.log): { net: ConvNet; heldOut: CaptionScores } {
  if (existsSync(file)) {
    const problem = attributeClassifierProblem(file, imageSize);
    if (problem !== null) throw new Error(`${file}: ${problem}`);
    const { net, meta } = loadConvNet(file);
    const held = meta.training!.heldOut as CaptionScores;
    log(`attribute classifier ${file}: held-out all-attributes-correct ${(100 * held.allCorrect).toFixed(1)}%`);
    return { net, heldOut: held };
  }
  log(`training the attribute classifier for ${imageSize} px shapes (cached at ${file})…`);
  const r = trainAttributeClassifier({ imageSize });
  saveConvNet(file, r.net, { config: r.net.config, dataset: 'shapes-attributes', testAccuracy: r.heldOut.allCorrect, training: { imageSize, heldOut: r.heldOut, seconds: Math.round(r.seconds) } });
  log(`   held-out: shape ${(100 * r.heldOut.shape).toFixed(1)}%, colour ${(100 * r.heldOut.colour).toFixed(1)}%, size ${(100 * r.heldOut.size).toFixed(1)}%, position ${(100 * r.heldOut.position).toFixed(1)}%, layout ${(100 * r.heldOut.layout).toFixed(1)}%, all ${(100 * r.heldOut.allCorrect).toFixed(1)}% (${r.seconds.toFixed(0)} s)`);
  return { net: r.net, heldOut: r.heldOut };
}
