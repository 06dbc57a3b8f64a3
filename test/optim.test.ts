/**
 * lib/optim: each update rule against a hand-written float64 formula, gradient clipping,
 * the learning-rate schedule, and exact resume from a saved optimizer state.
 */
import t from 'tap';
import { AdamW, clipGradNorm, cosineWithWarmup, Linear, Module, noDecayParameters, Rng, SGD, Tensor, tensor } from '../lib';

const f64 = (v: number[], shape?: number[]): Tensor => tensor(v, shape ?? [v.length], { dtype: 'float64', requiresGrad: true });
const close = (a: ArrayLike<number>, b: ArrayLike<number>, tol = 1e-14): boolean =>
  a.length === b.length && Array.from(a).every((x, i) => Math.abs(x - b[i]!) <= tol * Math.max(1, Math.abs(b[i]!)));

t.test('AdamW: two steps against the formula in float64', async (t) => {
  const theta0 = [0.5, -1.5, 2];
  const grads = [[0.1, -0.2, 0.3], [-0.4, 0.05, 0.3]];
  const lr = 0.01, b1 = 0.8, b2 = 0.95, eps = 1e-6, wd = 0.1;
  const p = f64(theta0);
  const opt = new AdamW([p], { lr, betas: [b1, b2], eps, weightDecay: wd });
  // the same recurrence written out independently
  const th = [...theta0];
  const m = [0, 0, 0];
  const v = [0, 0, 0];
  for (let step = 1; step <= 2; step++) {
    const g = grads[step - 1]!;
    p.grad = f64(g);
    opt.step();
    for (let j = 0; j < 3; j++) {
      th[j] = th[j]! - lr * wd * th[j]!;
      m[j] = b1 * m[j]! + (1 - b1) * g[j]!;
      v[j] = b2 * v[j]! + (1 - b2) * g[j]! ** 2;
      th[j] = th[j]! - (lr * (m[j]! / (1 - b1 ** step))) / (Math.sqrt(v[j]! / (1 - b2 ** step)) + eps);
    }
    t.ok(close(p.values(), th), `step ${step}: ${Array.from(p.values())} vs ${th}`);
  }
  t.equal(opt.stepCount, 2);
  // Adam's hallmark: the first step moves every weight by ≈ lr whatever |g| is (m̂/√v̂ = g/|g|)
  const q = f64([0, 0]);
  q.grad = f64([1e-3, -50]);
  new AdamW([q], { lr: 0.01, weightDecay: 0 }).step();
  t.ok(close(q.values(), [-0.01, 0.01], 1e-5), `first step ${Array.from(q.values())}`);
});

t.test('AdamW: weight decay is decoupled (zero gradient shrinks w by lr·wd·w)', async (t) => {
  const w = [3, -2, 0.25];
  const p = f64(w);
  const opt = new AdamW([p], { lr: 0.1, weightDecay: 0.5 });
  p.grad = f64([0, 0, 0]);
  opt.step();
  t.ok(close(p.values(), w.map((x) => x - 0.1 * 0.5 * x)), `got ${Array.from(p.values())}`);
  // a parameter without a gradient is not touched at all
  const q = f64([1]);
  new AdamW([q], { lr: 0.1, weightDecay: 0.5 }).step();
  t.same(Array.from(q.values()), [1]);
});

t.test('AdamW parameter groups: decay on ≥ 2-D weights only (LlamaGen / nanoGPT)', async (t) => {
  const model = new Linear(3, 2, { rng: new Rng(4) }); // weight [2, 3] decays, bias [2] does not
  const params = model.parameters();
  const noDecay = noDecayParameters(params);
  t.same(noDecay, [model.bias], 'the 1-D bias is the only no-decay parameter');
  const w0 = Array.from(model.weight.values());
  const b0 = Array.from(model.bias!.values());
  const opt = new AdamW(params, { lr: 0.1, weightDecay: 0.5, noDecay });
  for (const p of params) p.grad = new Tensor(new Float32Array(p.size), p.shape); // decay alone: zero gradient
  opt.step();
  t.same(Array.from(model.bias!.values()), b0, 'a 1-D parameter is unchanged by decay alone');
  t.ok(close(model.weight.values(), w0.map((x) => Math.fround(x * (1 - 0.1 * 0.5))), 1e-6), 'the matrix shrinks by 1 − lr·λ');
  t.ok(Array.from(model.weight.values()).every((x, i) => Math.abs(x) < Math.abs(w0[i]!)), 'every weight moved towards 0');
  t.throws(() => new AdamW([model.weight], { lr: 0.1, noDecay: [model.bias!] }), /noDecay parameter 'bias' is not among the optimised parameters/);
});

t.test('SGD: momentum and weight decay against the formula', async (t) => {
  const p = f64([1, -2]);
  const opt = new SGD([p], { lr: 0.1, momentum: 0.9, weightDecay: 0.01 });
  const th = [1, -2];
  const buf = [0, 0];
  const grads = [[0.5, 0.5], [-1, 2], [0.25, 0]];
  for (const g of grads) {
    p.grad = f64(g);
    opt.step();
    for (let j = 0; j < 2; j++) {
      const d = g[j]! + 0.01 * th[j]!;
      buf[j] = 0.9 * buf[j]! + d;
      th[j] = th[j]! - 0.1 * buf[j]!;
    }
    t.ok(close(p.values(), th), `${Array.from(p.values())} vs ${th}`);
  }
  // plain SGD: θ − lr·g
  const q = f64([1, 1]);
  q.grad = f64([2, -4]);
  new SGD([q], { lr: 0.5 }).step();
  t.same(Array.from(q.values()), [0, 3]);
});

t.test('clipGradNorm scales to maxNorm and returns the norm before clipping', async (t) => {
  const a = f64([3, 0]);
  const b = f64([0, 4]);
  a.grad = f64([3, 0]);
  b.grad = f64([0, 4]); // total norm 5
  const shared = f64([1, 1]);
  const c = f64([0, 0]);
  const d = f64([0, 0]);
  c.grad = shared; // one gradient tensor held by two parameters
  d.grad = shared;
  const norm = clipGradNorm([a, b, c, d], 1);
  t.ok(Math.abs(norm - Math.sqrt(25 + 2 + 2)) < 1e-12, `pre-clip norm ${norm}`);
  const after = Math.sqrt([a, b, c, d].reduce((s, p) => s + Array.from(p.grad!.values()).reduce((x, g) => x + g * g, 0), 0));
  t.ok(Math.abs(after - 1) < 1e-5, `post-clip norm ${after}`);
  t.ok(Math.abs(c.grad!.values()[0]! - d.grad!.values()[0]!) < 1e-15 && c.grad!.values()[0]! < 0.2, 'shared gradient scaled once');
  t.same(Array.from(shared.values()), [1, 1], 'the original gradient tensor is not mutated');
  // under the limit: untouched
  const e = f64([0]);
  e.grad = f64([0.5]);
  t.equal(clipGradNorm([e, f64([1])], 1), 0.5);
  t.same(Array.from(e.grad.values()), [0.5]);
});

t.test('cosineWithWarmup: warm-up, middle, end', async (t) => {
  const lr = cosineWithWarmup({ warmup: 10, total: 110, base: 1e-3, min: 1e-4 });
  t.ok(Math.abs(lr(0) - 1e-4) < 1e-15, 'step 0 = base/warmup');
  t.ok(Math.abs(lr(4) - 5e-4) < 1e-15, 'linear');
  t.ok(Math.abs(lr(9) - 1e-3) < 1e-15, 'peak at the last warm-up step');
  t.ok(Math.abs(lr(10) - 1e-3) < 1e-15, 'cosine starts at base');
  t.ok(Math.abs(lr(60) - 5.5e-4) < 1e-15, 'half way: (base + min)/2');
  t.ok(Math.abs(lr(85) - (1e-4 + 0.45e-3 * (1 + Math.cos(0.75 * Math.PI)))) < 1e-15, 'three quarters');
  t.equal(lr(110), 1e-4);
  t.equal(lr(1000), 1e-4);
  t.throws(() => cosineWithWarmup({ warmup: 5, total: 5, base: 1 }), { message: /need 0 ≤ warmup < total, got warmup 5, total 5/ });
});

class TwoLayer extends Module {
  readonly fc1 = new Linear(3, 4, { rng: new Rng(1) });
  readonly fc2 = new Linear(4, 1, { rng: new Rng(2) });
  forward(x: Tensor): Tensor {
    return this.fc2.forward(this.fc1.forward(x).tanh());
  }
}

/** One training step on a fixed batch; returns the loss. */
function trainStep(model: TwoLayer, opt: AdamW | SGD, step: number): number {
  const rng = new Rng(100 + step);
  const x = tensor(Array.from({ length: 12 }, () => rng.normal()), [4, 3]);
  const y = tensor([1, -1, 0.5, 0], [4, 1]);
  opt.zeroGrad();
  const loss = model.forward(x).sub(y).pow(2).mean();
  loss.backward();
  opt.step();
  return loss.item();
}

for (const kind of ['AdamW', 'SGD'] as const) {
  t.test(`${kind}: state round trip resumes with bit-identical steps`, async (t) => {
    const make = (m: TwoLayer) =>
      kind === 'AdamW' ? new AdamW(m.parameters(), { lr: 0.01, weightDecay: 0.1 }) : new SGD(m.parameters(), { lr: 0.05, momentum: 0.9 });
    const a = new TwoLayer();
    const optA = make(a);
    for (let s = 0; s < 3; s++) trainStep(a, optA, s);
    const saved = optA.stateDict();
    t.same(optA.keys, ['fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias'], 'state keyed by parameter name');
    t.ok(saved.tensors.has(kind === 'AdamW' ? 'fc1.weight.expAvgSq' : 'fc1.weight.momentum'));
    t.equal(saved.step, 3);

    // resume into a fresh model + optimizer
    const b = new TwoLayer();
    b.loadStateDict(a.stateDict());
    const optB = make(b);
    optB.lr = 123; // overwritten by the saved hyper-parameters
    optB.loadStateDict(saved);
    t.equal(optB.lr, optA.lr);
    for (let s = 3; s < 6; s++) t.equal(trainStep(b, optB, s), trainStep(a, optA, s), `loss at step ${s}`);
    for (const [name, p] of a.stateDict()) t.same(Array.from(b.stateDict().get(name)!.values()), Array.from(p.values()), name);

    // without the optimizer state the next step differs (the test would catch a no-op load)
    const c = new TwoLayer();
    const optC = make(c);
    for (let s = 0; s < 3; s++) trainStep(c, optC, s);
    const d = new TwoLayer();
    d.loadStateDict(c.stateDict());
    const optD = make(d);
    trainStep(c, optC, 3);
    trainStep(d, optD, 3);
    t.not(d.fc1.weight.values()[0], c.fc1.weight.values()[0], 'fresh optimizer state gives a different step');
  });
}

t.test('optimizer loadStateDict errors name the tensor', async (t) => {
  const m = new TwoLayer();
  const opt = new AdamW(m.parameters(), { lr: 0.01 });
  const s = opt.stateDict();
  s.tensors.delete('fc2.bias.expAvg');
  s.tensors.set('fc1.weight.expAvg', tensor(new Float32Array(3), [3]));
  t.throws(() => opt.loadStateDict(s), {
    message: "AdamW.loadStateDict: missing tensor 'fc2.bias.expAvg'; shape mismatch for 'fc1.weight.expAvg': expected [4,3], got [3]",
  });
  t.throws(() => opt.loadStateDict({ ...new SGD(m.parameters(), { lr: 1 }).stateDict() }), { message: /state was saved by SGD, not AdamW/ });
  // unnamed parameters fall back to positions
  t.same(new SGD([f64([1]), f64([2])], { lr: 1 }).keys, ['0', '1']);
});
