/**
 * What the ARRA objective must guarantee (issue 6), each asserted on the tiny float64 setup:
 * λ = 0 is the baseline exactly; `off` never touches the projector; L_GVA reaches only blocks
 * 0..i (and the projector); the frozen encoder and the tokenizer get nothing; which positions
 * align; the mse/cosine relation; config errors; the inference state dict.
 */
import t from 'tap';
import { Linear, noGrad, Rng, Tensor } from '../lib';
import { alignedPositions, arraLoss, globalVisualAlignment, inferenceStateDict, trainingStateDict } from '../models/arra';
import { buildTextSequences, imageTokenLoss, textConditionalLayout } from '../models/sequence';
import { Transformer } from '../models/transformer';
import { normal, TINY, tinyConfig, tinySetup } from './arra-fixture';

/** Copies of every parameter's gradient (null when it got none). */
function grads(params: Tensor[]): (number[] | null)[] {
  return params.map((p) => (p.grad ? Array.from(p.grad.values()) : null));
}
const nonZero = (g: number[] | null): boolean => g !== null && g.some((x) => x !== 0);

/** Every leaf tensor with requiresGrad reachable from `root` through recorded ops. */
function graphLeaves(root: Tensor): Set<Tensor> {
  const leaves = new Set<Tensor>();
  const seen = new Set<Tensor>();
  const stack = [root];
  while (stack.length > 0) {
    const node = stack.pop()!;
    if (seen.has(node)) continue;
    seen.add(node);
    if (node.gradFn === null) {
      if (node.requiresGrad) leaves.add(node);
    } else stack.push(...node.gradFn.inputs);
  }
  return leaves;
}

const N = TINY.grid * TINY.grid;

t.test('λ = 0 gives exactly the baseline loss and gradients', async (t) => {
  for (const mode of ['hybnext', 'rep'] as const) {
    const s = tinySetup();
    const params = s.model.parameters();
    const baseline = imageTokenLoss(s.model.forward(s.batch.tokens, s.batch.shape).logits, s.batch.targets);
    baseline.backward();
    const gBase = grads(params);
    s.model.zeroGrad();
    const r = arraLoss(s.model, s.projector, s.batch, tinyConfig({ mode, lambda: 0, alignLayer: 0 }));
    t.ok(r.lossGVA.item() > 0, `${mode}: L_GVA itself is not 0 (${r.lossGVA.item().toFixed(4)})`);
    r.loss.backward();
    t.equal(r.loss.item(), baseline.item(), `${mode}: loss bit-identical to the baseline`);
    t.same(grads(params), gBase, `${mode}: every transformer gradient bit-identical to the baseline's`);
  }
});

t.test('mode off: baseline loss, projector outside the graph, no gradient to it', async (t) => {
  const s = tinySetup();
  const r = arraLoss(s.model, s.projector, s.batch, tinyConfig({ mode: 'off' }));
  const baseline = imageTokenLoss(s.model.forward(s.batch.tokens, s.batch.shape).logits, s.batch.targets);
  t.equal(r.loss.item(), baseline.item(), 'loss equals L_AR');
  t.equal(r.lossGVA.item(), 0, 'L_GVA reported as 0');
  t.equal(r.alignedPositions, 0, 'nothing aligned');
  const leaves = graphLeaves(r.loss);
  t.ok(s.projector.parameters().every((p) => !leaves.has(p)), 'no projector parameter is in the loss graph');
  t.equal(leaves.size, s.model.parameters().length, 'the graph reaches exactly the transformer parameters');
  r.loss.backward();
  t.ok(s.projector.parameters().every((p) => p.grad === null), 'projector .grad stays null');
  const offNoProjector = arraLoss(s.model, null, s.batch, tinyConfig({ mode: 'off' }));
  t.equal(offNoProjector.loss.item(), r.loss.item(), 'off works without any projector');
});

t.test('L_GVA reaches the embedding, blocks 0..i and the projector, never blocks after i or the head', async (t) => {
  const nLayers = 3;
  for (const mode of ['hybnext', 'rep'] as const) {
    for (let alignLayer = 0; alignLayer < nLayers; alignLayer++) {
      const s = tinySetup({ nLayers });
      const r = arraLoss(s.model, s.projector, s.batch, tinyConfig({ mode, alignLayer }));
      r.lossGVA.backward();
      const named = s.model.namedParameters();
      const reached = named.filter(([, p]) => nonZero(p.grad ? Array.from(p.grad.values()) : null)).map(([n]) => n);
      const blockOf = (n: string): number => Number(/^blocks\.(\d+)\./.exec(n)?.[1] ?? NaN);
      const after = named.filter(([n]) => blockOf(n) > alignLayer || n.startsWith('head') || n.startsWith('norm'));
      t.ok(after.every(([, p]) => !nonZero(p.grad ? Array.from(p.grad.values()) : null)), `${mode}, i = ${alignLayer}: blocks > i, final norm and head get no L_GVA gradient`);
      for (let b = 0; b <= alignLayer; b++) t.ok(reached.some((n) => n.startsWith(`blocks.${b}.`)), `${mode}, i = ${alignLayer}: block ${b} is reached`);
      t.ok(reached.includes('embed.weight'), `${mode}, i = ${alignLayer}: the embedding is reached`);
      t.ok(s.projector.parameters().every((p) => nonZero(Array.from(p.grad!.values()))), `${mode}, i = ${alignLayer}: every projector tensor is reached`);
    }
  }
});

t.test('the frozen encoder and the tokenizer receive no gradient at all', async (t) => {
  const s = tinySetup();
  const rng = new Rng(9);
  const pixels = normal([TINY.B, 12], 10); // stand-in images, flattened
  // Stand-ins with trainable-looking weights: if anything leaked, they would get a .grad.
  const encoder = new Linear(12, TINY.encoderDim, { rng, dtype: 'float64' });
  const codebook = normal([TINY.numCodes, 3], 11).requireGrad();
  t.ok(encoder.weight.requiresGrad && codebook.requiresGrad, 'stand-ins would accept a gradient');
  // The pipeline computes f_GF under no-grad; the second variant forgets to, and arraLoss must still cut it (sg(f_GF)).
  for (const [what, features] of [
    ['features computed under noGrad', noGrad(() => encoder.forward(pixels))],
    ['features that still carry a graph', encoder.forward(pixels)],
  ] as const) {
    // Tokenizer: nearest codebook row per patch → integer codes (the only thing the transformer sees).
    const patches = normal([TINY.B * N, 3], 12).values();
    const cb = codebook.values();
    const codes = Int32Array.from({ length: TINY.B * N }, (_, i) => {
      let best = 0;
      let bestD = Infinity;
      for (let k = 0; k < TINY.numCodes; k++) {
        let d = 0;
        for (let j = 0; j < 3; j++) d += (patches[i * 3 + j]! - cb[k * 3 + j]!) ** 2;
        if (d < bestD) [best, bestD] = [k, d];
      }
      return best;
    });
    const batch = { ...s.batch, globalFeatures: features };
    batch.tokens = s.batch.tokens.slice();
    for (let b = 0; b < TINY.B; b++) batch.tokens.set(codes.subarray(b * N, (b + 1) * N), b * s.batch.shape[1] + 2);
    const r = arraLoss(s.model, s.projector, batch, tinyConfig({ mode: 'hybnext' }));
    const leaves = graphLeaves(r.loss);
    const allowed = new Set([...s.model.parameters(), ...s.projector.parameters()]);
    t.ok([...leaves].every((l) => allowed.has(l)), `${what}: the loss graph reaches only transformer and projector parameters`);
    r.loss.backward();
    t.ok(encoder.parameters().every((p) => p.grad === null), `${what}: encoder gets no gradient`);
    t.equal(codebook.grad, null, `${what}: tokenizer codebook gets no gradient`);
  }
});

t.test('which positions align: hybnext = every image prediction, rep = exactly one per sequence', async (t) => {
  const s = tinySetup();
  const [B, T] = s.batch.shape;
  const imagePredictions = s.batch.imageMask.reduce((n, m) => n + m, 0);
  t.equal(imagePredictions, B * N, 'the batch has B·N image-token predictions');
  const hyb = arraLoss(s.model, s.projector, s.batch, tinyConfig({ mode: 'hybnext' }));
  t.equal(hyb.alignedPositions, imagePredictions, 'hybnext aligns every image-token prediction');
  t.same(Array.from(hyb.positions), Array.from({ length: B * T }, (_, i) => i).filter((i) => s.batch.imageMask[i] === 1), 'hybnext positions = the imageMask positions');
  t.equal(hyb.perPositionCos.length, B * N, 'one cosine per aligned position');
  const rep = arraLoss(s.model, s.projector, s.batch, tinyConfig({ mode: 'rep' }));
  t.equal(rep.alignedPositions, B, 'rep aligns exactly one position per sequence');
  t.same(Array.from(rep.positions), Array.from({ length: B }, (_, b) => b * T + 1), 'rep aligns the begin-image position (its output predicts z_1)');
  t.ok(Array.from(rep.positions).every((p) => s.batch.tokens[p] === s.layout.beginImage), 'that position holds the begin-image token');
});

t.test('prompt and padding positions never align, and get no L_GVA gradient', async (t) => {
  const layout = textConditionalLayout(TINY.numCodes, 6);
  const rng = new Rng(3);
  const codes = Int32Array.from({ length: 2 * N }, () => rng.int(TINY.numCodes));
  const seq = buildTextSequences(layout, codes, [Int32Array.of(1), Int32Array.of(2, 3, 4)], { promptLen: 4, dropCondProb: 0, rng });
  const [B, T] = seq.shape;
  for (const mode of ['hybnext', 'rep'] as const) {
    const positions = alignedPositions(seq.imageMask, seq.shape, mode);
    const promptOrPad = Array.from(positions).filter((p) => {
      const tok = seq.tokens[p]!;
      return tok === layout.pad || (tok >= layout.textOffset! && tok < layout.textOffset! + 6);
    });
    t.same(promptOrPad, [], `${mode}: no aligned position holds a prompt word or padding`);
    t.ok(Array.from(positions).every((p) => seq.targets[p]! >= 0 && seq.targets[p]! < TINY.numCodes), `${mode}: every aligned position's target is an image code`);
  }
  // Gradient view: only the aligned rows of h^(i) receive ∂L_GVA/∂h.
  const s = tinySetup();
  const hidden = normal([B, T, TINY.dModel], 13).requireGrad();
  const positions = alignedPositions(seq.imageMask, seq.shape, 'hybnext');
  globalVisualAlignment(hidden, s.projector, s.batch.globalFeatures, positions, 'cosine').loss.backward();
  const g = hidden.grad!.values();
  const rowHasGrad = Array.from({ length: B * T }, (_, r) => g.subarray(r * TINY.dModel, (r + 1) * TINY.dModel).some((x) => x !== 0));
  t.same(rowHasGrad, Array.from(seq.imageMask, (m) => m === 1), 'a row of h^(i) has gradient exactly where imageMask is 1');
});

t.test('L_GVA values: 1 − mean cos, checked by hand; mse on unit vectors = 2·(1 − mean cos)', async (t) => {
  const s = tinySetup();
  const cfg = tinyConfig({ mode: 'hybnext', alignLayer: 1 });
  const r = arraLoss(s.model, s.projector, s.batch, cfg);
  const [B, T] = s.batch.shape;
  const hidden = noGrad(() => s.model.forward(s.batch.tokens, s.batch.shape).hiddens[1]!).values();
  const f = s.batch.globalFeatures.values();
  const byHand = Array.from(r.positions, (p) => {
    const h = new Tensor(Float64Array.from(hidden.subarray(p * TINY.dModel, (p + 1) * TINY.dModel)), [1, TINY.dModel]);
    const a = noGrad(() => s.projector.forward(h)).values(); // f_A,t for this one position
    const b = f.subarray(Math.floor(p / T) * TINY.encoderDim, (Math.floor(p / T) + 1) * TINY.encoderDim);
    let ab = 0, aa = 0, bb = 0;
    for (let k = 0; k < a.length; k++) [ab, aa, bb] = [ab + a[k]! * b[k]!, aa + a[k]! ** 2, bb + b[k]! ** 2];
    return ab / Math.sqrt(aa * bb);
  });
  t.equal(byHand.length, B * N);
  t.ok(byHand.every((c, k) => Math.abs(c - r.perPositionCos[k]!) < 1e-6), 'perPositionCos matches a hand-written cosine');
  const expected = 1 - byHand.reduce((a, b) => a + b, 0) / byHand.length;
  t.ok(Math.abs(r.lossGVA.item() - expected) < 1e-12, `L_GVA ${r.lossGVA.item()} = 1 − mean cos ${expected}`);
  const normalized = arraLoss(s.model, s.projector, s.batch, { ...cfg, objective: 'mse-normalized' });
  t.ok(Math.abs(normalized.lossGVA.item() - 2 * r.lossGVA.item()) < 1e-12, 'mse-normalized objective = 2·cosine objective (unit vectors)');
  // mse on raw features: (1/(P·D_enc)) Σ_t Σ_k (f_A,t,k − f_GF,k)², written out by hand
  let sq = 0;
  r.positions.forEach((p) => {
    const h = new Tensor(Float64Array.from(hidden.subarray(p * TINY.dModel, (p + 1) * TINY.dModel)), [1, TINY.dModel]);
    const a = noGrad(() => s.projector.forward(h)).values();
    const row = Math.floor(p / T) * TINY.encoderDim;
    for (let k = 0; k < TINY.encoderDim; k++) sq += (a[k]! - f[row + k]!) ** 2;
  });
  const raw = arraLoss(s.model, s.projector, s.batch, { ...cfg, objective: 'mse' });
  const expectedRaw = sq / (r.positions.length * TINY.encoderDim);
  t.ok(Math.abs(raw.lossGVA.item() - expectedRaw) < 1e-12, `mse objective ${raw.lossGVA.item()} = mean squared error on raw features ${expectedRaw}`);
  t.ok(Math.abs(raw.lossGVA.item() - 2 * r.lossGVA.item()) > 1e-3, 'mse is no longer a multiple of the cosine objective');
  // scaling the target scales the raw mse but leaves the normalised one unchanged
  const scaled = { ...s.batch, globalFeatures: s.batch.globalFeatures.mul(3) };
  t.ok(Math.abs(arraLoss(s.model, s.projector, scaled, { ...cfg, objective: 'mse-normalized' }).lossGVA.item() - normalized.lossGVA.item()) < 1e-12, 'mse-normalized ignores the target scale');
  t.ok(Math.abs(arraLoss(s.model, s.projector, scaled, { ...cfg, objective: 'mse' }).lossGVA.item() - raw.lossGVA.item()) > 1e-3, 'mse sees the target scale');
  t.ok(Math.abs(r.loss.item() - (r.lossAR.item() + cfg.lambda * r.lossGVA.item())) < 1e-12, 'L_ARRA = L_AR + λ·L_GVA');
});

t.test('bad settings are refused with the setting named', async (t) => {
  const s = tinySetup();
  t.throws(() => arraLoss(s.model, s.projector, s.batch, tinyConfig({ alignLayer: 2 })), /alignLayer: expected a block index in 0\.\.1, got 2/);
  t.throws(() => arraLoss(s.model, s.projector, s.batch, tinyConfig({ alignLayer: -1 })), /alignLayer/);
  t.throws(() => arraLoss(s.model, s.projector, s.batch, tinyConfig({ lambda: -0.5 })), /lambda: expected a finite number ≥ 0, got -0.5/);
  t.throws(() => arraLoss(s.model, null, s.batch, tinyConfig({ mode: 'rep' })), /mode 'rep' needs a projector/);
  t.throws(() => arraLoss(s.model, s.projector, { ...s.batch, globalFeatures: normal([TINY.B, 5], 1) }, tinyConfig()), /globalFeatures should be \[B, D_enc\] = \[2, 4\], got \[2, 5\]/);
  t.throws(() => alignedPositions(new Uint8Array(3), [2, 6], 'hybnext'), /imageMask has 3 entries, expected B·T = 2·6 = 12/);
});

t.test('an inference checkpoint holds the transformer only and reproduces it', async (t) => {
  const s = tinySetup();
  const state = inferenceStateDict(s.model);
  t.ok([...state.keys()].every((k) => !k.startsWith('projector')), 'no projector tensor in the inference state');
  t.same([...state.keys()], [...s.model.stateDict().keys()], 'exactly the transformer state');
  const fresh = new Transformer({ ...s.model.config, seed: 99 });
  fresh.loadStateDict(state); // strict: would throw on a missing or extra tensor
  const a = noGrad(() => s.model.forward(s.batch.tokens, s.batch.shape).logits.values());
  const b = noGrad(() => fresh.forward(s.batch.tokens, s.batch.shape).logits.values());
  t.same(Array.from(b), Array.from(a), 'a model loaded from it gives identical logits');
  const training = trainingStateDict(s.model, s.projector);
  t.same([...training.keys()].filter((k) => k.startsWith('projector.')), ['projector.fc1.weight', 'projector.fc1.bias', 'projector.fc2.weight', 'projector.fc2.bias'], 'the training state adds the projector');
});
