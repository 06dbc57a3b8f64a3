/**
 * Train the VQ image tokenizer (models/vq.ts) and look at what it keeps.
 *
 *   npx tsx examples/train-vq.ts [--dataset mnist|fashion|shapes] [--steps 400] [--batch 32]
 *     [--lr 2e-3] [--codebook 256] [--code-dim 8] [--hidden 16,32] [--train 10000] [--test 1000]
 *     [--seed 0] [--out runs/vq] [--save runs/vq/vq.safetensors]
 *
 * Prints the loss terms, codebook perplexity and usage as it trains; at the end the
 * reconstruction MSE and codebook usage on a held-out split, and writes
 * `<out>/reconstructions.png` (top row originals, bottom row reconstructions) and, with
 * --save, a safetensors checkpoint (config in the metadata) for the transformer stage.
 * What the default settings reach on MNIST, and how long they take: docs/models.md.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PNG } from 'pngjs';
import {
  AdamW, batches, captionedShapes, cosineWithWarmup, type ImageDataset, loadFashionMnist, loadMnist, noGrad, Rng, type Tensor,
} from '../lib';
import { jsonMetadata, saveSafetensors } from '../lib/io';
import { VQTokenizer } from '../models/vq';

/** `--name value` flags with defaults. */
function flags(argv: string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) throw new Error(`train-vq: unexpected argument '${a}' (flags are --name value)`);
    out.set(a.slice(2), argv[++i] ?? '');
  }
  return out;
}

function loadData(name: string, split: 'train' | 'test', limit: number, seed: number): ImageDataset {
  if (name === 'mnist') return loadMnist({ split, limit });
  if (name === 'fashion') return loadFashionMnist({ split, limit });
  if (name === 'shapes') return captionedShapes(limit, { size: 32, seed: split === 'train' ? seed : seed + 1 });
  throw new Error(`train-vq: unknown --dataset '${name}', expected mnist, fashion or shapes`);
}

/** Mean squared error per pixel and code usage over a whole dataset, in eval mode. */
function evaluate(vq: VQTokenizer, ds: ImageDataset): { mse: number; usage: number; perplexity: number } {
  vq.eval();
  const K = vq.config.codebookSize;
  const counts = new Float64Array(K);
  let se = 0;
  let pixels = 0;
  let codes = 0;
  noGrad(() => {
    for (const batch of batches(ds, 100)) {
      const indices = vq.encode(batch.images);
      const rec = vq.decode(indices).values();
      const orig = batch.images.values();
      for (let i = 0; i < orig.length; i++) se += (rec[i]! - orig[i]!) ** 2;
      pixels += orig.length;
      for (const k of indices) counts[k] = counts[k]! + 1;
      codes += indices.length;
    }
  });
  vq.train();
  let entropy = 0;
  let used = 0;
  for (const c of counts) {
    if (c === 0) continue;
    used++;
    entropy -= (c / codes) * Math.log(c / codes);
  }
  return { mse: se / pixels, usage: used / K, perplexity: Math.exp(entropy) };
}

/** A PNG grid: originals on the top row, reconstructions below (grey or RGB, values in [0, 1]). */
function writeComparison(file: string, originals: Tensor, recons: Tensor): void {
  const [n, C, S] = originals.shape as [number, number, number];
  const pad = 2;
  const width = n * (S + pad) + pad;
  const height = 2 * (S + pad) + pad;
  const png = new PNG({ width, height });
  png.data.fill(255);
  [originals.values(), recons.values()].forEach((v, row) => {
    for (let i = 0; i < n; i++) {
      for (let y = 0; y < S; y++) {
        for (let x = 0; x < S; x++) {
          const px = ((pad + row * (S + pad) + y) * width + pad + i * (S + pad) + x) * 4;
          for (let c = 0; c < 3; c++) {
            const value = v[((i * C + (C === 1 ? 0 : c)) * S + y) * S + x]!;
            png.data[px + c] = Math.round(255 * Math.min(1, Math.max(0, value)));
          }
          png.data[px + 3] = 255;
        }
      }
    }
  });
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, PNG.sync.write(png));
}

function main(): void {
  const f = flags(process.argv.slice(2));
  const num = (name: string, def: number): number => Number(f.get(name) ?? def);
  const dataset = f.get('dataset') ?? 'mnist';
  const steps = num('steps', 400);
  const batchSize = num('batch', 32);
  const lr = num('lr', 2e-3);
  const seed = num('seed', 0);
  const outDir = f.get('out') ?? 'runs/vq';

  const train = loadData(dataset, 'train', num('train', 10000), seed);
  const test = loadData(dataset, 'test', num('test', 1000), seed);
  const [, C, S] = train.images.shape as [number, number, number];
  const vq = new VQTokenizer({
    imageSize: S, channels: C, downsample: num('downsample', 4), codebookSize: num('codebook', 256), codeDim: num('code-dim', 8),
    hidden: (f.get('hidden') ?? '16,32').split(',').map(Number), reviveEvery: num('revive-every', 50), seed,
  });
  console.log(`VQ tokenizer: ${S}×${S}×${C} → ${vq.gridSize}×${vq.gridSize} codes from ${vq.config.codebookSize}, ${vq.numParameters()} parameters`);
  console.log(`data: ${dataset}, ${train.labels.length} train / ${test.labels.length} held-out images; ${steps} steps of ${batchSize}`);

  const opt = new AdamW(vq.parameters(), { lr, betas: [0.9, 0.95], weightDecay: 0 });
  const schedule = cosineWithWarmup({ warmup: Math.min(50, steps / 10), total: steps, base: lr, min: lr / 10 });
  const rng = new Rng(seed);
  const started = Date.now();
  let step = 0;
  while (step < steps) {
    for (const batch of batches(train, batchSize, rng, { dropLast: true })) {
      if (step >= steps) break;
      opt.lr = schedule(step);
      const r = vq.loss(batch.images);
      opt.zeroGrad();
      r.loss.backward();
      opt.step();
      step++;
      if (step % 50 === 0 || step === 1 || r.revived > 0) {
        const secs = ((Date.now() - started) / 1000).toFixed(0);
        console.log(
          `step ${step}  loss ${r.loss.item().toFixed(4)}  recon ${r.recon.item().toFixed(4)}  codebook ${r.codebook.item().toExponential(2)}` +
            `  perplexity ${r.perplexity.toFixed(1)}  usage ${(100 * r.usage).toFixed(0)}%${r.revived ? `  revived ${r.revived}` : ''}  ${secs}s`,
        );
      }
    }
  }
  const trainSeconds = (Date.now() - started) / 1000;
  const held = evaluate(vq, test);
  console.log(`held-out: reconstruction MSE ${held.mse.toFixed(4)} per pixel, codebook usage ${(100 * held.usage).toFixed(1)}% (${Math.round(held.usage * vq.config.codebookSize)} codes), perplexity ${held.perplexity.toFixed(1)}`);
  console.log(`training took ${trainSeconds.toFixed(0)} s`);

  const show = Math.min(16, test.labels.length);
  const first = batches(test, show).next().value!;
  const png = path.join(outDir, 'reconstructions.png');
  writeComparison(png, first.images, vq.reconstruct(first.images));
  console.log(`wrote ${png}`);
  const save = f.get('save');
  if (save) {
    saveSafetensors(save, vq.stateDict(), jsonMetadata({ config: vq.config, heldOutMse: held.mse, usage: held.usage }));
    console.log(`saved ${save}`);
  }
}

main();
