/**
 * The autoregressive transformer: exact causality, rotary positions, float64 gradient
 * checks of its parts and of a whole 1-layer model, and a memorisation run that samples
 * its training grids back.
 * Gradient tolerance: |analytic − numeric| ≤ 1e-7 + 1e-6·|numeric| per element (ε = 1e-6).
 */
import t from 'tap';
import { AdamW, gradcheck, Rng, Tensor } from '../lib';
import { CausalSelfAttention } from '../models/attention';
import { SwiGLU } from '../models/mlp';
import { transformerPresets } from '../models/presets';
import { applyRope, ropeTable } from '../models/rope';
import { sampleImages } from '../models/sampling';
import { buildClassSequences, classConditionalLayout, imageTokenLoss } from '../models/sequence';
import { Transformer, type TransformerConfig } from '../models/transformer';
import { rnd } from './helpers';

/** The head starts at zero (all logits 0): give it random weights so logits depend on the input. */
function randomHead(model: Transformer, seed: number): void {
  const rng = new Rng(seed);
  const w = model.head.weight.nd.data;
  for (let i = 0; i < w.length; i++) w[i] = 0.5 * rng.normal();
}

function randomTokens(n: number, vocab: number, seed: number): Int32Array {
  const rng = new Rng(seed);
  return Int32Array.from({ length: n }, () => rng.int(vocab));
}

const tiny: TransformerConfig = transformerPresets.tiny;

t.test('the output head starts at zero: the first loss is exactly ln V', async (t) => {
  const model = new Transformer(tiny);
  const layout = classConditionalLayout(16, 3);
  const batch = buildClassSequences(layout, randomTokens(2 * 4, 16, 1), Int32Array.from([0, 2]), { dropCondProb: 0, rng: new Rng(0) });
  const { logits, hiddens } = model.forward(batch.tokens, batch.shape);
  t.same(logits.shape, [2, 6, tiny.vocabSize]);
  t.equal(hiddens.length, tiny.nLayers);
  t.same(hiddens[1]!.shape, [2, 6, tiny.dModel]);
  t.ok(Math.abs(imageTokenLoss(logits, batch.targets).item() - Math.log(tiny.vocabSize)) < 1e-6, 'loss = ln V');
});

for (const rope of ['1d', '2d'] as const) {
  t.test(`causality (${rope} RoPE): changing tokens after t leaves logits and hiddens at ≤ t bit-identical`, async (t) => {
    const config: TransformerConfig = { ...tiny, rope, maxSeqLen: 6 };
    const model = new Transformer(config);
    randomHead(model, 7);
    const B = 2;
    const T = 6;
    const base = randomTokens(B * T, config.vocabSize, 3);
    const ref = model.forward(base, [B, T]);
    for (let cut = 0; cut < T - 1; cut++) {
      const changed = base.slice();
      for (let b = 0; b < B; b++) for (let s = cut + 1; s < T; s++) changed[b * T + s] = (base[b * T + s]! + 1 + s) % config.vocabSize;
      const out = model.forward(changed, [B, T]);
      const pick = (x: Tensor, D: number): number[] => {
        const v = x.values();
        const r: number[] = [];
        for (let b = 0; b < B; b++) for (let s = 0; s <= cut; s++) for (let d = 0; d < D; d++) r.push(v[(b * T + s) * D + d]!);
        return r;
      };
      t.same(pick(out.logits, config.vocabSize), pick(ref.logits, config.vocabSize), `logits at positions ≤ ${cut}`);
      t.same(pick(out.hiddens[0]!, config.dModel), pick(ref.hiddens[0]!, config.dModel), `block 0 output at positions ≤ ${cut}`);
      // and the change is visible after the cut (the test could fail)
      const after = out.logits.values()[(cut + 1) * config.vocabSize]! !== ref.logits.values()[(cut + 1) * config.vocabSize]!;
      t.ok(after, `logits at position ${cut + 1} do change`);
    }
  });
}

t.test('RoPE: q·k depends only on the position difference (1-D); rotation keeps norms', async (t) => {
  const table = ropeTable({ kind: '1d', headDim: 8, maxSeqLen: 12 });
  const q = rnd([1, 1, 1, 8], 1, { grad: false });
  const k = rnd([1, 1, 1, 8], 2, { grad: false });
  const dot = (p: number, s: number): number => {
    const a = applyRope(q, table, p).values();
    const b = applyRope(k, table, s).values();
    let acc = 0;
    for (let i = 0; i < a.length; i++) acc += a[i]! * b[i]!;
    return acc;
  };
  t.ok(Math.abs(dot(5, 2) - dot(9, 6)) < 1e-12, 'same offset 3 → same score');
  t.ok(Math.abs(dot(5, 2) - dot(5, 4)) > 1e-3, 'different offset → different score');
  const norm = (v: ArrayLike<number>): number => Math.hypot(...Array.from(v));
  t.ok(Math.abs(norm(applyRope(q, table, 7).values()) - norm(q.values())) < 1e-12, 'a rotation keeps the norm');
});

t.test('2-D RoPE: image tokens rotate by (row, col); the prefix lies on the diagonal before the grid', async (t) => {
  const g = 3;
  const table = ropeTable({ kind: '2d', headDim: 8, maxSeqLen: 2 + g * g, gridSize: g, prefixLen: 2 });
  const half = 4;
  // pair 0 rotates by row·1, pair 2 (first column pair) by col·1 (frequency base^0 = 1)
  const angle = (pos: number, pair: number): number => Math.atan2(table.sin[pos * half + pair]!, table.cos[pos * half + pair]!);
  // image token k = 5 → (row 1, col 2), at sequence position 2 + 5
  t.ok(Math.abs(angle(7, 0) - 1) < 1e-12, 'row angle 1');
  t.ok(Math.abs(angle(7, 2) - 2) < 1e-12, 'col angle 2');
  t.ok(Math.abs(angle(0, 0) + 2) < 1e-12 && Math.abs(angle(0, 2) + 2) < 1e-12, 'condition at (−2, −2)');
  t.ok(Math.abs(angle(1, 0) + 1) < 1e-12, 'begin-image at (−1, −1)');
});

t.test('gradcheck RoPE 1-D and 2-D (x [2, 5, 2, 8], start offset 1)', async (t) => {
  for (const kind of ['1d', '2d'] as const) {
    const table = ropeTable({ kind, headDim: 8, maxSeqLen: 6, gridSize: 2 });
    const r = gradcheck((x) => applyRope(x, table, 1), [rnd([2, 5, 2, 8], 11)]);
    t.ok(r.ok && r.maxRelError < 1e-6, `${kind}: worst ${JSON.stringify(r.worst)}`);
  }
});

t.test('gradcheck one attention block (input and all four weights)', async (t) => {
  const attn = new CausalSelfAttention(8, 2, { rng: new Rng(3), dtype: 'float64' });
  const table = ropeTable({ kind: '1d', headDim: 4, maxSeqLen: 5 });
  const x = rnd([2, 5, 8], 12);
  const r = gradcheck(() => attn.forward(x, table), [x, ...attn.parameters()]);
  t.ok(r.checked > 4 * 64, 'weights were checked');
  t.ok(r.ok && r.maxRelError < 1e-6, `worst ${JSON.stringify(r.worst)}`);
});

t.test('gradcheck one SwiGLU block', async (t) => {
  const mlp = new SwiGLU(6, 10, { rng: new Rng(4), dtype: 'float64' });
  const x = rnd([3, 6], 13);
  const r = gradcheck(() => mlp.forward(x), [x, ...mlp.parameters()]);
  t.ok(r.ok && r.maxRelError < 1e-6, `worst ${JSON.stringify(r.worst)}`);
});

t.test('gradcheck a whole 1-layer transformer (tiny, float64, 2-D RoPE): logits and the block output', async (t) => {
  const model = new Transformer({ ...tiny, dModel: 8, mlpHidden: 12, nLayers: 1, dtype: 'float64', seed: 5 });
  randomHead(model, 9);
  const tokens = randomTokens(2 * 6, tiny.vocabSize, 21);
  const params = model.parameters();
  const logits = gradcheck(() => model.forward(tokens, [2, 6]).logits, params);
  t.equal(logits.checked, model.numParameters(), 'every parameter element compared');
  t.ok(logits.ok && logits.maxRelError < 1e-6, `logits: worst ${JSON.stringify(logits.worst)}`);
  const hidden = gradcheck(() => model.forward(tokens, [2, 6]).hiddens[0]!, params);
  t.ok(hidden.ok && hidden.maxRelError < 1e-6, `hiddens[0]: worst ${JSON.stringify(hidden.worst)}`);
});

t.test('learning: memorises one 2×2 grid per class (loss < 0.05) and samples them back at temperature 0', async (t) => {
  const layout = classConditionalLayout(16, 3);
  const model = new Transformer({ ...tiny, seed: 1 });
  const grids = Int32Array.from([3, 1, 4, 1, 5, 9, 2, 6, 15, 0, 7, 7]); // [3 classes, 4 codes]
  const classes = Int32Array.from([0, 1, 2]);
  const opt = new AdamW(model.parameters(), { lr: 3e-2, betas: [0.9, 0.95], weightDecay: 0 });
  const rng = new Rng(0);
  let loss = Infinity;
  for (let step = 0; step < 300 && loss > 0.02; step++) {
    const batch = buildClassSequences(layout, grids, classes, { dropCondProb: 0, rng });
    const l = imageTokenLoss(model.forward(batch.tokens, batch.shape).logits, batch.targets);
    opt.zeroGrad();
    l.backward();
    opt.step();
    loss = l.item();
  }
  t.ok(loss < 0.05, `final loss ${loss.toFixed(4)} < 0.05`);
  const sampled = sampleImages(model, layout, { classes: [0, 1, 2], numTokens: 4, temperature: 0, seed: 0 });
  t.same(Array.from(sampled), Array.from(grids), 'greedy samples equal the training grids');
});

t.test("init: LlamaGen's N(0, 0.02²) Linear weights by default, PyTorch's uniform as an option", async (t) => {
  const base = { vocabSize: 40, dModel: 32, nLayers: 2, nHeads: 4, mlpHidden: 64, maxSeqLen: 8, rope: '1d' as const, seed: 3 };
  const std = (v: ArrayLike<number>): number => Math.sqrt(Array.from(v).reduce((a, x) => a + x * x, 0) / v.length);
  const llama = new Transformer(base);
  const w = llama.blocks[0]!.mlp.w1.weight.values(); // [64, 32]: 2048 draws
  t.ok(Math.abs(std(w) - 0.02) < 0.002, `std of a Linear weight ${std(w).toFixed(4)} ≈ 0.02`);
  const torchLike = new Transformer({ ...base, init: 'pytorch' });
  const u = torchLike.blocks[0]!.mlp.w1.weight.values();
  const bound = 1 / Math.sqrt(32);
  t.ok(Array.from(u).every((x) => Math.abs(x) <= bound) && std(u) > 0.1, `pytorch init: |w| ≤ 1/√in = ${bound.toFixed(3)}, std ${std(u).toFixed(3)}`);
  t.ok(llama.head.weight.values().every((x) => x === 0), 'the output head still starts at 0');
  t.throws(() => new Transformer({ ...base, init: 'xavier' as 'pytorch' }), /init should be 'llamagen' or 'pytorch', got 'xavier'/);
});
