/**
 * Backward's array reuse (lib/grad-buffers.ts) changes no result and never shows a reused
 * array through a live tensor: seeded training steps give the same losses, gradients and
 * weights to the bit with reuse on and off (fast and ref backends), and everything kept from
 * one step — loss, logits, hiddens, parameter and retained gradients — keeps its values
 * while later steps run and recycle their arrays.
 */
import t from 'tap';
import { AdamW, crossEntropy, pooledBytes, Rng, setBackend, setBufferReuse, type Tensor } from '../lib';
import { Transformer, type TransformerConfig } from '../models/transformer';

const B = 4;
const T = 12;
const config: TransformerConfig = { vocabSize: 40, dModel: 32, nLayers: 2, nHeads: 4, mlpHidden: 64, maxSeqLen: T, rope: '1d', seed: 3 };

function batch(seed: number): { tokens: Int32Array; targets: Int32Array } {
  const rng = new Rng(seed);
  return {
    tokens: Int32Array.from({ length: B * T }, () => rng.int(config.vocabSize)),
    targets: Int32Array.from({ length: B * T }, () => rng.int(config.vocabSize)),
  };
}

/** What one step leaves behind, as tensors (to check later) and as copies of their values. */
interface Kept { tensors: Tensor[]; copies: Float32Array[] }

/**
 * `steps` AdamW steps; on odd steps two micro-batches are accumulated (the second backward
 * adds into the leaves' `.grad`), and block 0's output keeps its gradient (`retainGrad`).
 */
function train(steps: number, onStep?: (s: number, kept: Tensor[]) => void): { losses: number[]; grads: Float32Array[]; weights: Float32Array[] } {
  const model = new Transformer(config);
  const opt = new AdamW(model.parameters(), { lr: 1e-2, weightDecay: 0.1 });
  const losses: number[] = [];
  let grads: Float32Array[] = [];
  for (let s = 0; s < steps; s++) {
    opt.zeroGrad();
    const micro = s % 2 === 1 ? 2 : 1;
    const kept: Tensor[] = [];
    for (let m = 0; m < micro; m++) {
      const { tokens, targets } = batch(10 * s + m);
      const { logits, hiddens } = model.forward(tokens, [B, T]); // [B, T, V]
      hiddens[0]!.retainGrad();
      const loss = crossEntropy(logits.reshape([B * T, config.vocabSize]), targets);
      loss.backward();
      losses.push(loss.item());
      kept.push(loss, logits, ...hiddens, hiddens[0]!.grad!);
    }
    for (const p of model.parameters()) if (p.grad) kept.push(p.grad);
    grads = model.parameters().map((p) => Float32Array.from(p.grad!.values()));
    onStep?.(s, kept);
    opt.step();
  }
  return { losses, grads, weights: model.parameters().map((p) => Float32Array.from(p.values())) };
}

const sameBits = (a: Float32Array, b: Float32Array): boolean =>
  a.length === b.length && Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.byteLength), Buffer.from(b.buffer, b.byteOffset, b.byteLength)) === 0;

for (const name of ['fast', 'ref']) {
  t.test(`${name}: reuse on and off give the same bits`, async (t) => {
    setBackend(name);
    t.teardown(() => { setBufferReuse(true); setBackend('fast'); });
    setBufferReuse(false);
    const off = train(4);
    t.equal(pooledBytes(), 0, 'reuse off: nothing pooled');
    setBufferReuse(true);
    const on = train(4);
    t.ok(pooledBytes() > 0, `reuse on: ${pooledBytes()} bytes of dead backward arrays pooled`);
    t.same(on.losses.map(String), off.losses.map(String), 'losses');
    t.ok(on.grads.every((g, i) => sameBits(g, off.grads[i]!)), 'last step gradients, bit for bit');
    t.ok(on.weights.every((w, i) => sameBits(w, off.weights[i]!)), 'final weights, bit for bit');
  });
}

t.test('tensors kept from a step keep their values while later steps reuse arrays', async (t) => {
  setBackend('fast');
  t.teardown(() => setBackend('fast'));
  setBufferReuse(true);
  const kept: Kept[] = [];
  const later = new Set<ArrayBufferLike>();
  train(5, (s, tensors) => {
    if (s <= 1) kept.push({ tensors, copies: tensors.map((x) => Float32Array.from(x.values())) });
    else for (const x of tensors) later.add(x.nd.data.buffer);
  });
  for (const [k, { tensors, copies }] of kept.entries()) {
    const changed = tensors.filter((x, i) => !sameBits(Float32Array.from(x.values()), copies[i]!)).length;
    t.equal(changed, 0, `step ${k}: all ${tensors.length} kept tensors unchanged after 5 steps`);
    const shared = tensors.filter((x) => later.has(x.nd.data.buffer)).length;
    t.equal(shared, 0, `step ${k}: no kept tensor's array reappears in a later step's tensors`);
  }
});
