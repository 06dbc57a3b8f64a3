/**
 * End-to-end learning: Module + ops + autograd + optimizer together must actually learn.
 * Seeds are fixed, so the figures are deterministic; thresholds come from a measured run
 * and leave room (measured values are in the comments).
 */
import t from 'tap';
import { AdamW, crossEntropy, Embedding, Linear, Module, Rng, Tensor, tanh, tensor } from '../lib';

/** 2 → 8 → 2 with tanh: the smallest network that can separate XOR. */
class XorNet extends Module {
  readonly fc1 = new Linear(2, 8, { rng: new Rng(1) });
  readonly fc2 = new Linear(8, 2, { rng: new Rng(2) });
  forward(x: Tensor): Tensor {
    return this.fc2.forward(tanh(this.fc1.forward(x))); // [4, 2] logits
  }
}

t.test('a 2-layer MLP learns XOR', async (t) => {
  const model = new XorNet();
  const opt = new AdamW(model.parameters(), { lr: 0.05, weightDecay: 0 });
  const x = tensor([[0, 0], [0, 1], [1, 0], [1, 1]]);
  const labels = [0, 1, 1, 0];
  let loss = Infinity;
  for (let step = 0; step < 100; step++) {
    opt.zeroGrad();
    const l = crossEntropy(model.forward(x), labels);
    l.backward();
    opt.step();
    loss = l.item();
  }
  // measured: 0.00124 after 100 steps (0.714 at step 0)
  t.ok(loss < 0.01, `loss after 100 steps: ${loss}`);
  const logits = model.eval().forward(x).toArray() as number[][];
  const predicted = logits.map(([a, b]) => (b! > a! ? 1 : 0));
  const accuracy = predicted.filter((p, i) => p === labels[i]).length / labels.length;
  t.equal(accuracy, 1, `predictions ${predicted}`);
});

/** Next character from the current one: Embedding → Linear → tanh → Linear. */
class CharModel extends Module {
  readonly embed: Embedding;
  readonly hidden: Linear;
  readonly out: Linear;
  constructor(vocab: number) {
    super();
    this.embed = new Embedding(vocab, 16, { rng: new Rng(3) });
    this.hidden = new Linear(16, 32, { rng: new Rng(4) });
    this.out = new Linear(32, vocab, { rng: new Rng(5) });
  }
  forward(ids: number[]): Tensor {
    const e = this.embed.forward(ids); // [N, 16]
    return this.out.forward(tanh(this.hidden.forward(e))); // [N, vocab]
  }
}

t.test('a tiny character model learns the bigram statistics of a text', async (t) => {
  const text = 'the cat sat on the mat. the dog sat on the log. ';
  const chars = [...new Set(text)].sort();
  const ids = [...text].map((c) => chars.indexOf(c));
  const inputs = ids.slice(0, -1);
  const targets = ids.slice(1);

  // The best any model that sees one character can do: the entropy of next-char given char.
  const pairs = new Map<string, number>();
  const firsts = new Map<number, number>();
  inputs.forEach((a, i) => {
    pairs.set(`${a},${targets[i]}`, (pairs.get(`${a},${targets[i]}`) ?? 0) + 1);
    firsts.set(a, (firsts.get(a) ?? 0) + 1);
  });
  let floor = 0;
  for (const [key, n] of pairs) floor -= (n / inputs.length) * Math.log(n / firsts.get(Number(key.split(',')[0]))!);
  t.ok(Math.abs(floor - 0.6864) < 1e-3, `bigram entropy floor ${floor} nats (uniform: ln ${chars.length} = ${Math.log(chars.length)})`);

  const model = new CharModel(chars.length);
  const opt = new AdamW(model.parameters(), { lr: 0.03, weightDecay: 0 });
  const losses: number[] = [];
  for (let step = 0; step < 60; step++) {
    opt.zeroGrad();
    const loss = crossEntropy(model.forward(inputs), targets);
    loss.backward();
    opt.step();
    losses.push(loss.item());
  }
  // measured: 2.632 at step 0 (≈ ln 14 = 2.639), 0.6866 at step 59
  t.ok(Math.abs(losses[0]! - Math.log(chars.length)) < 0.2, `initial loss ${losses[0]} near uniform`);
  t.ok(losses[59]! < 0.75, `loss after 60 steps: ${losses[59]}`);
  t.ok(losses[59]! > floor - 1e-3, 'cannot beat the bigram floor');
});
