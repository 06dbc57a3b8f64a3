/**
 * lib/nn: parameter discovery and naming, state dicts (round trip and every error), train/eval
 * propagation, and the forward of each layer against a hand computation.
 */
import t from 'tap';
import { Conv2d, Dropout, Embedding, GELU, LayerNorm, Linear, Module, ReLU, RMSNorm, Rng, Sequential, Tensor, tensor, zeros } from '../lib';

/** A small transformer-shaped tree: nested modules, a module array, a buffer, a scratch tensor. */
class Attention extends Module {
  readonly wq = new Linear(4, 4, { rng: new Rng(1), bias: false });
  readonly wk = new Linear(4, 4, { rng: new Rng(2), bias: false });
  forward(x: Tensor): Tensor {
    return this.wq.forward(x).add(this.wk.forward(x));
  }
}
class Block extends Module {
  readonly norm = new LayerNorm(4);
  readonly attn = new Attention();
  readonly drop = new Dropout(0.5);
  forward(x: Tensor): Tensor {
    return this.drop.forward(this.attn.forward(this.norm.forward(x)));
  }
}
class Tiny extends Module {
  readonly embed = new Embedding(10, 4, { rng: new Rng(3) });
  readonly blocks = [new Block(), new Block()];
  readonly scratch = zeros([4]); // requiresGrad false, not registered: ignored
  readonly mask = this.buffer('mask', tensor([1, 0, 1]));
  readonly head = new Linear(4, 10, { rng: new Rng(4) });
  forward(x: Tensor): Tensor {
    let h = x;
    for (const b of this.blocks) h = b.forward(h);
    return this.head.forward(h);
  }
}

const tinyNames = [
  'embed.weight',
  'blocks.0.norm.weight', 'blocks.0.norm.bias', 'blocks.0.attn.wq.weight', 'blocks.0.attn.wk.weight',
  'blocks.1.norm.weight', 'blocks.1.norm.bias', 'blocks.1.attn.wq.weight', 'blocks.1.attn.wk.weight',
  'head.weight', 'head.bias',
];

t.test('namedParameters: dotted names in declaration order, .name set', async (t) => {
  const m = new Tiny();
  const named = m.namedParameters();
  t.same(named.map(([n]) => n), tinyNames);
  for (const [n, p] of named) t.equal(p.name, n, `${n} carries its name`);
  t.equal(m.parameters().length, tinyNames.length);
  t.same(m.namedParameters().find(([n]) => n === 'blocks.1.attn.wq.weight')![1].shape, [4, 4]);
  t.equal(m.numParameters(), 40 + 2 * (4 + 4 + 16 + 16) + 40 + 10);
  t.same(m.namedBuffers().map(([n]) => n), ['mask']);
});

t.test('namedParameters: tied weights appear once; Sequential names layers 0, 1, …', async (t) => {
  class Tied extends Module {
    readonly a = new Linear(3, 3, { rng: new Rng(5) });
    readonly b = new Linear(3, 3, { rng: new Rng(6) });
    constructor() {
      super();
      (this.b as { weight: Tensor }).weight = this.a.weight;
    }
    forward(x: Tensor): Tensor {
      return this.b.forward(this.a.forward(x));
    }
  }
  t.same(new Tied().namedParameters().map(([n]) => n), ['a.weight', 'a.bias', 'b.bias']);
  const seq = new Sequential(new Linear(2, 3), new ReLU(), new Linear(3, 1));
  t.same(seq.namedParameters().map(([n]) => n), ['0.weight', '0.bias', '2.weight', '2.bias']);
});

t.test('freeze keeps parameters named and in the state dict', async (t) => {
  const m = new Tiny();
  m.blocks[0]!.freeze();
  t.same(m.namedParameters().map(([n]) => n), tinyNames);
  t.equal(m.blocks[0]!.attn.wq.weight.requiresGrad, false);
  t.equal(m.blocks[1]!.attn.wq.weight.requiresGrad, true);
  m.blocks[0]!.unfreeze();
  t.equal(m.blocks[0]!.attn.wq.weight.requiresGrad, true);
});

t.test('stateDict round trip copies values into the same tensors', async (t) => {
  const src = new Tiny();
  const dst = new Tiny();
  // make dst differ everywhere, then load
  for (const p of dst.parameters()) p.nd.data.fill(7);
  const before = dst.head.weight;
  dst.loadStateDict(src.stateDict());
  t.equal(dst.head.weight, before, 'same tensor object after loading');
  t.same([...dst.stateDict().keys()], [...tinyNames, 'mask']);
  for (const [name, p] of src.stateDict()) {
    t.same(Array.from(dst.stateDict().get(name)!.values()), Array.from(p.values()), name);
  }
});

t.test('loadStateDict errors name the tensor', async (t) => {
  const fresh = (): Map<string, Tensor> => {
    const mlp = new Sequential(new Linear(2, 4), new ReLU(), new Linear(4, 1));
    return mlp.stateDict();
  };
  class Mlp extends Module {
    readonly fc1 = new Linear(2, 4);
    readonly fc2 = new Linear(4, 1);
    forward(x: Tensor): Tensor {
      return this.fc2.forward(this.fc1.forward(x).relu());
    }
  }
  const m = new Mlp();
  const good = (): Map<string, Tensor> => new Map(new Mlp().stateDict());

  const missing = good();
  missing.delete('fc2.bias');
  t.throws(() => m.loadStateDict(missing), { message: /^loadStateDict: missing tensor 'fc2\.bias'$/ });

  const extra = good();
  extra.set('extra.w', zeros([1]));
  t.throws(() => m.loadStateDict(extra), { message: /^loadStateDict: unexpected tensor 'extra\.w'$/ });

  const wrong = good();
  wrong.set('fc1.weight', zeros([3, 2]));
  t.throws(() => m.loadStateDict(wrong), { message: /^loadStateDict: shape mismatch for 'fc1\.weight': expected \[4,2\], got \[3,2\]$/ });

  // nothing is copied when any check fails
  const w = Array.from(m.fc1.bias!.values());
  const both = good();
  both.get('fc1.bias')!.nd.data.fill(9);
  both.delete('fc2.bias');
  t.throws(() => m.loadStateDict(both), { message: /missing tensor 'fc2\.bias'/ });
  t.same(Array.from(m.fc1.bias!.values()), w, 'fc1.bias untouched after a failed load');

  // strict: false skips missing and unexpected, still checks shapes
  const partial = good();
  partial.delete('fc2.bias');
  partial.set('extra.w', zeros([1]));
  m.loadStateDict(partial, { strict: false });
  t.same(Array.from(m.fc1.bias!.values()), Array.from(partial.get('fc1.bias')!.values()));
  t.throws(() => m.loadStateDict(wrong, { strict: false }), { message: /shape mismatch for 'fc1\.weight'/ });
  t.throws(() => m.loadStateDict(fresh()), { message: /missing tensor 'fc1\.weight'.*unexpected tensor '0\.weight'/ });
});

t.test('train() / eval() propagate to every submodule', async (t) => {
  const m = new Tiny();
  t.ok(m.namedModules().every(([, s]) => s.training), 'training by default');
  t.equal(m.eval(), m, 'eval returns the module');
  const modes = m.namedModules().map(([n, s]) => [n, s.training] as const);
  t.ok(modes.every(([, on]) => !on), 'all off after eval');
  t.ok(modes.some(([n]) => n === 'blocks.1.drop'), 'reaches modules inside arrays');
  m.train();
  t.ok(m.blocks[1]!.drop.training && m.blocks[0]!.attn.wk.training, 'all on after train()');
});

t.test('Linear forward against a hand computation; leading axes kept', async (t) => {
  const lin = new Linear(2, 3, { dtype: 'float64' });
  lin.weight.nd.data.set([1, 2, 3, 4, 5, 6]); // W [3,2] = [[1,2],[3,4],[5,6]]
  lin.bias!.nd.data.set([0.5, -1, 2]);
  const x = tensor([[1, -1], [2, 0.5]], undefined, { dtype: 'float64' });
  // y = x·Wᵀ + b: row 0 = [1−2, 3−4, 5−6] + b = [-0.5, -2, 1]; row 1 = [2+1, 6+2, 10+3] + b = [3.5, 7, 15]
  t.same(lin.forward(x).toArray(), [[-0.5, -2, 1], [3.5, 7, 15]]);
  const x3 = tensor([1, -1, 2, 0.5], [2, 1, 2], { dtype: 'float64' });
  const y3 = lin.forward(x3);
  t.same(y3.shape, [2, 1, 3]);
  t.same(y3.toArray(), [[[-0.5, -2, 1]], [[3.5, 7, 15]]]);
  t.throws(() => lin.forward(tensor([1, 2, 3])), { message: /Linear: input's last axis should be 2, got shape \[3\]/ });
  // gradient reaches both parameters: ∂Σy/∂b = number of rows, ∂Σy/∂W[o,i] = Σ_rows x[:, i]
  lin.forward(x).sum().backward();
  t.same(Array.from(lin.bias!.grad!.values()), [2, 2, 2]);
  t.same(lin.weight.grad!.toArray(), [[3, -0.5], [3, -0.5], [3, -0.5]]);
});

t.test('Linear init is U(-1/sqrt(in), 1/sqrt(in)) and seeded', async (t) => {
  const a = new Linear(64, 32, { rng: new Rng(11) });
  const b = new Linear(64, 32, { rng: new Rng(11) });
  t.same(Array.from(a.weight.values()), Array.from(b.weight.values()), 'same seed, same weights');
  const w = a.weight.values();
  const bound = 1 / 8;
  t.ok(w.every((v) => Math.abs(v) <= bound), 'inside the bound');
  t.ok(Math.max(...w) > 0.9 * bound && Math.min(...w) < -0.9 * bound, 'fills the range');
  t.equal(new Linear(3, 2, { bias: false }).bias, null);
});

t.test('Sequential chains forwards', async (t) => {
  const l1 = new Linear(2, 2, { dtype: 'float64' });
  l1.weight.nd.data.set([1, 0, 0, -1]);
  l1.bias!.nd.data.set([0, 0]);
  const seq = new Sequential(l1, new ReLU());
  t.same(seq.forward(tensor([[3, 4]], undefined, { dtype: 'float64' })).toArray(), [[3, 0]]);
  const g = new GELU();
  t.ok(Math.abs(g.forward(tensor([1], undefined, { dtype: 'float64' })).item() - 0.8413447460685429) < 1e-9, 'GELU(1) = Φ(1)');
});

t.test('buffer names must be unique', async (t) => {
  class B extends Module {
    forward(): void {}
  }
  const b = new B();
  b.buffer('x', zeros([1]));
  t.throws(() => b.buffer('x', zeros([1])), { message: /buffer: 'x' is already registered on B/ });
});

t.test('layers that forward to lib/ops (embedding, norms, dropout)', async (t) => {
  const emb = new Embedding(5, 3, { rng: new Rng(9), dtype: 'float64' });
  const rows = emb.weight.toArray() as number[][];
  const out = emb.forward([4, 0, 4, 2], [2, 2]);
  t.same(out.shape, [2, 2, 3]);
  t.same(out.toArray(), [[rows[4], rows[0]], [rows[4], rows[2]]]);
  const std = new Embedding(200, 50, { rng: new Rng(9), std: 0.02 }).weight.values();
  const sd = Math.sqrt(Array.from(std).reduce((s, v) => s + v * v, 0) / std.length);
  t.ok(Math.abs(sd - 0.02) < 0.001, `Embedding std option: measured ${sd}`);

  const x = tensor([[1, 2, 3, 6]], undefined, { dtype: 'float64' });
  // mean 3, population variance (4+1+0+9)/4 = 3.5
  const ln = new LayerNorm(4, { dtype: 'float64' }).forward(x).values();
  const expected = [1, 2, 3, 6].map((v) => (v - 3) / Math.sqrt(3.5 + 1e-5));
  t.ok(Array.from(ln).every((v, i) => Math.abs(v - expected[i]!) < 1e-12), 'LayerNorm by hand');
  // rms = sqrt((1+4+9+36)/4) = sqrt(12.5)
  const rn = new RMSNorm(4, 1e-6, { dtype: 'float64' }).forward(x).values();
  t.ok(Array.from(rn).every((v, i) => Math.abs(v - [1, 2, 3, 6][i]! / Math.sqrt(12.5 + 1e-6)) < 1e-12), 'RMSNorm by hand');

  const drop = new Dropout(0.5, new Rng(1));
  const ones = tensor(new Float64Array(1000).fill(1), [1000]);
  const kept = Array.from(drop.forward(ones).values());
  t.ok(kept.every((v) => v === 0 || v === 2), 'training: zero or scaled by 1/(1−p)');
  t.ok(kept.filter((v) => v === 0).length > 400 && kept.filter((v) => v === 0).length < 600, 'about half dropped');
  drop.eval();
  t.same(Array.from(drop.forward(ones).values()), Array.from(ones.values()), 'eval: identity');
});

t.test('Conv2d: weight layout, init bound, forward by hand', async (t) => {
  const conv = new Conv2d(2, 4, 3, { groups: 2, rng: new Rng(7) });
  t.same(conv.namedParameters().map(([n, p]) => [n, p.shape]), [['weight', [4, 1, 3, 3]], ['bias', [4]]]);
  const bound = 1 / Math.sqrt(1 * 3 * 3); // fanIn = in/groups · kh · kw
  t.ok(Array.from(conv.weight.values()).every((v) => Math.abs(v) <= bound));
  t.throws(() => new Conv2d(3, 4, 3, { groups: 2 }), { message: /in 3 and out 4 channels must both be divisible by groups 2/ });

  const c = new Conv2d(1, 1, 2, { stride: 1, padding: 0, dtype: 'float64' });
  c.weight.nd.data.set([1, 0, 0, -1]); // out = x[i,j] − x[i+1,j+1]
  c.bias!.nd.data.set([10]);
  const x = tensor([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 1, 3, 3], { dtype: 'float64' });
  t.same(c.forward(x).toArray(), [[[[1 - 5 + 10, 2 - 6 + 10], [4 - 8 + 10, 5 - 9 + 10]]]]);
});
