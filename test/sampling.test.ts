/**
 * Sampling: the KV-cached decoder sees the same logits as a full forward over the same
 * prefix at every step (with and without classifier-free guidance), and the draw rules
 * (greedy, top-k, top-p, temperature, seeding) do what they say.
 */
import t from 'tap';
import { noGrad, Rng } from '../lib';
import { transformerPresets } from '../models/presets';
import { drawCode, sampleImages } from '../models/sampling';
import { classConditionalLayout } from '../models/sequence';
import { Transformer } from '../models/transformer';

const layout = classConditionalLayout(16, 3);

function randomisedModel(seed: number): Transformer {
  const model = new Transformer({ ...transformerPresets.tiny, seed });
  const rng = new Rng(seed + 100);
  const w = model.head.weight.nd.data;
  for (let i = 0; i < w.length; i++) w[i] = rng.normal();
  return model;
}

/** Guided logits over the codes at the last position of a full forward over [prefix, codes so far]. */
function fullForwardLogits(model: Transformer, classes: number[], codes: Int32Array, N: number, step: number, cfg: number): Float32Array {
  const B = classes.length;
  const T = 2 + step;
  const rows = (cls: (c: number) => number): Int32Array => {
    const tok = new Int32Array(B * T);
    classes.forEach((c, b) => {
      tok[b * T] = cls(c);
      tok[b * T + 1] = layout.beginImage;
      for (let n = 0; n < step; n++) tok[b * T + 2 + n] = layout.codeOffset + codes[b * N + n]!;
    });
    return tok;
  };
  const V = layout.vocabSize;
  const K = layout.numCodes;
  const cond = noGrad(() => model.forward(rows((c) => layout.classOffset + c), [B, T]).logits.values());
  const uncond = noGrad(() => model.forward(rows(() => layout.nullClass), [B, T]).logits.values());
  const out = new Float32Array(B * K);
  for (let b = 0; b < B; b++) {
    for (let k = 0; k < K; k++) {
      const i = (b * T + T - 1) * V + layout.codeOffset + k;
      out[b * K + k] = cfg === 1 ? cond[i]! : uncond[i]! + cfg * (cond[i]! - uncond[i]!);
    }
  }
  return out;
}

for (const cfg of [1, 2]) {
  t.test(`KV-cache logits equal full-forward logits at every step (cfgScale ${cfg}, 1e-5)`, async (t) => {
    const model = randomisedModel(3);
    const classes = [0, 2, 1];
    const N = 4;
    const seen: Float32Array[] = [];
    const codes = sampleImages(model, layout, { classes, numTokens: N, temperature: 1, cfgScale: cfg, seed: 5, onStep: (_s, l) => seen.push(l.slice()) });
    t.equal(seen.length, N, 'one callback per token');
    for (let step = 0; step < N; step++) {
      const full = fullForwardLogits(model, classes, codes, N, step, cfg);
      let worst = 0;
      for (let i = 0; i < full.length; i++) worst = Math.max(worst, Math.abs(full[i]! - seen[step]![i]!));
      t.ok(worst < 1e-5, `step ${step}: max |cached − full| = ${worst.toExponential(2)}`);
    }
  });
}

t.test('sampling is seeded: same seed → same codes, other seed → (here) different codes', async (t) => {
  const model = randomisedModel(4);
  const opts = { classes: [0, 1, 2, 0], numTokens: 4, temperature: 1.5, seed: 11 };
  const a = sampleImages(model, layout, opts);
  const b = sampleImages(model, layout, opts);
  const c = sampleImages(model, layout, { ...opts, seed: 12 });
  t.same(Array.from(a), Array.from(b));
  t.not(Array.from(a).join(), Array.from(c).join());
  t.ok(a.every((v) => v >= 0 && v < layout.numCodes), 'codes are in [0, K)');
});

t.test('drawCode: greedy, top-k 1 and a tiny top-p all pick the arg-max', async (t) => {
  const logits = [0.1, 2.0, -1, 1.9, 0.5];
  const rng = new Rng(1);
  t.equal(drawCode(logits, 0, undefined, 1, rng), 1);
  for (let i = 0; i < 20; i++) {
    t.equal(drawCode(logits, 1, 1, 1, rng), 1, 'top-k 1');
    t.equal(drawCode(logits, 1, undefined, 0.01, rng), 1, 'top-p 0.01');
  }
});

t.test('drawCode: top-k 2 only returns the two best; frequencies follow softmax(logits / temperature)', async (t) => {
  const logits = [0, Math.log(3), -5, Math.log(1)];
  const rng = new Rng(2);
  const counts = [0, 0, 0, 0];
  const draws = 20000;
  for (let i = 0; i < draws; i++) counts[drawCode(logits, 1, 2, 1, rng)]!++;
  t.equal(counts[2], 0, 'code 2 is outside the top 2');
  t.equal(counts[3], 0, 'code 3 ties code 0 but loses the tie (lower index wins)');
  // p(1) = 3 / (3 + 1) = 0.75 among the top two; 20000 draws: σ ≈ 0.003
  t.ok(Math.abs(counts[1]! / draws - 0.75) < 0.015, `p(code 1) ≈ 0.75, got ${counts[1]! / draws}`);
  // temperature 2 flattens: p(1) = √3 / (√3 + 1) ≈ 0.634
  const hot = [0, 0, 0, 0];
  for (let i = 0; i < draws; i++) hot[drawCode(logits, 2, 2, 1, rng)]!++;
  t.ok(Math.abs(hot[1]! / draws - Math.sqrt(3) / (Math.sqrt(3) + 1)) < 0.015, `T = 2: p(code 1) ≈ 0.634, got ${hot[1]! / draws}`);
});
