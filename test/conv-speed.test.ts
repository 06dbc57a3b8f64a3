/**
 * The fast paths of conv2d / convTranspose2d (lib/ops/conv.ts): whole-batch im2col with one
 * product, the 1×1 path without im2col (also on a permuted, non-contiguous input), the
 * depthwise direct loops (3×3 interior + border, other kernel sizes, channel multiplier 2,
 * stride 2, dilation) and grouped convs — each against the 7-loop definition (forward) and
 * float64 central differences (backward), and once on the `fast` backend in float32.
 */
import t from 'tap';
import * as ops from '../lib/ops';
import { gradcheck, setBackend, Tensor } from '../lib';
import { maxRelDiff, naiveConv, rnd } from './helpers';

type P2 = [number, number];


interface ConvCase {
  what: string;
  x: number[];
  w: number[];
  bias: boolean;
  stride: P2;
  padding: P2;
  dilation: P2;
  groups: number;
}

const cases: ConvCase[] = [
  { what: '1×1 on 4×5 maps: one product per image, in place', x: [3, 4, 4, 5], w: [6, 4, 1, 1], bias: true, stride: [1, 1], padding: [0, 0], dilation: [1, 1], groups: 1 },
  { what: '1×1 on 3×3 maps: images side by side, one product', x: [3, 4, 3, 3], w: [6, 4, 1, 1], bias: true, stride: [1, 1], padding: [0, 0], dilation: [1, 1], groups: 1 },
  { what: '1×1 grouped (G = 2) on 2×3 maps, side by side', x: [2, 4, 2, 3], w: [6, 2, 1, 1], bias: false, stride: [1, 1], padding: [0, 0], dilation: [1, 1], groups: 2 },
  { what: '1×1 with stride 2 (general path)', x: [2, 3, 5, 4], w: [2, 3, 1, 1], bias: false, stride: [2, 2], padding: [0, 0], dilation: [1, 1], groups: 1 },
  { what: '1×1 grouped (G = 2) on 4×4 maps, per image', x: [2, 4, 4, 4], w: [6, 2, 1, 1], bias: true, stride: [1, 1], padding: [0, 0], dilation: [1, 1], groups: 2 },
  { what: 'im2col: 3×3 stride 2 dilation 2 padding 2, batch 2', x: [2, 3, 9, 8], w: [6, 3, 3, 3], bias: true, stride: [2, 2], padding: [2, 2], dilation: [2, 2], groups: 1 },
  { what: 'im2col: 2×3 kernel, stride [2,1], padding [0,2]', x: [2, 2, 6, 5], w: [5, 2, 2, 3], bias: false, stride: [2, 1], padding: [0, 2], dilation: [1, 1], groups: 1 },
  { what: 'im2col grouped 3×3 (G = 2, 4 → 10), padding 1', x: [2, 4, 5, 5], w: [10, 2, 3, 3], bias: true, stride: [1, 1], padding: [1, 1], dilation: [1, 1], groups: 2 },
  { what: 'direct (few outputs): 3×3 stride 2 dilation 2 padding 2, 3 → 1', x: [2, 3, 9, 8], w: [1, 3, 3, 3], bias: true, stride: [2, 2], padding: [2, 2], dilation: [2, 2], groups: 1 },
  { what: 'direct (few outputs): 2×3 kernel, stride [2,1], padding [0,2], 2 → 3', x: [2, 2, 6, 5], w: [3, 2, 2, 3], bias: false, stride: [2, 1], padding: [0, 2], dilation: [1, 1], groups: 1 },
  { what: 'direct stride 1, dilation [2,1], padding [1,2], 3 → 2 (input gradient as a flipped conv)', x: [2, 3, 7, 6], w: [2, 3, 3, 3], bias: true, stride: [1, 1], padding: [1, 2], dilation: [2, 1], groups: 1 },
  { what: 'direct stride 1, padding 3 past a 3×3 kernel (input gradient by scatter)', x: [1, 2, 4, 4], w: [2, 2, 3, 3], bias: false, stride: [1, 1], padding: [3, 3], dilation: [1, 1], groups: 1 },
  { what: 'depthwise 3×3, stride 1, no padding (all interior)', x: [2, 3, 6, 7], w: [3, 1, 3, 3], bias: true, stride: [1, 1], padding: [0, 0], dilation: [1, 1], groups: 3 },
  { what: 'depthwise 3×3, stride 2, padding 1 (border pixels)', x: [2, 3, 7, 6], w: [3, 1, 3, 3], bias: true, stride: [2, 2], padding: [1, 1], dilation: [1, 1], groups: 3 },
  { what: 'depthwise 3×3, multiplier 2, stride 2, dilation 2, padding 2', x: [2, 2, 9, 9], w: [4, 1, 3, 3], bias: false, stride: [2, 2], padding: [2, 2], dilation: [2, 2], groups: 2 },
  { what: 'depthwise 3×3 on a 2×2 image, padding 1 (border only)', x: [1, 2, 2, 2], w: [2, 1, 3, 3], bias: true, stride: [1, 1], padding: [1, 1], dilation: [1, 1], groups: 2 },
  { what: 'depthwise 5×3, multiplier 2, stride [1,2], padding [2,1] (generic taps)', x: [2, 2, 6, 7], w: [4, 1, 5, 3], bias: true, stride: [1, 2], padding: [2, 1], dilation: [1, 1], groups: 2 },
  { what: 'direct grouped 3×3 (G = 2, 4 → 4), padding 1', x: [2, 4, 5, 5], w: [4, 2, 3, 3], bias: false, stride: [1, 1], padding: [1, 1], dilation: [1, 1], groups: 2 },
];

function inputsOf(c: ConvCase, seed: number, dtype: 'float32' | 'float64' = 'float64'): Tensor[] {
  const x = rnd(c.x, seed, { dtype });
  const w = rnd(c.w, seed + 1, { dtype });
  return c.bias ? [x, w, rnd([c.w[0]!], seed + 2, { dtype })] : [x, w];
}

function convOf(c: ConvCase): (...xs: Tensor[]) => Tensor {
  return (x, w, b) => ops.conv2d(x!, w!, b, { stride: c.stride, padding: c.padding, dilation: c.dilation, groups: c.groups });
}

t.test('conv2d fast paths match the direct definition (float64)', async (t) => {
  cases.forEach((c, k) => {
    const [x, w, b] = inputsOf(c, 500 + 10 * k);
    const y = convOf(c)(x!, w!, b);
    t.ok(maxRelDiff(y.values(), naiveConv(x!, w!, b, c.stride, c.padding, c.dilation, c.groups)) < 1e-12, c.what);
  });
});

t.test('conv2d fast paths: gradients against central differences', async (t) => {
  cases.forEach((c, k) => {
    const report = gradcheck(convOf(c), inputsOf(c, 600 + 10 * k));
    t.ok(report.ok && report.maxRelError < 1e-6, `${c.what}: max relative error ${report.maxRelError.toExponential(2)}`);
  });
});

t.test('1×1 conv reads permuted and narrowed (non-contiguous) inputs correctly', async (t) => {
  const base = rnd([2, 3, 4, 5], 700); // [N, H, W, C]
  const x = ops.permute(base, [0, 3, 1, 2]); // [N, C, H, W] as a view
  t.notOk(x.isContiguous, 'the input is a strided view');
  const w = rnd([4, 5, 1, 1], 701);
  const y = ops.conv2d(x, w);
  const packed = new Tensor(x.values(), x.shape);
  t.ok(maxRelDiff(y.values(), naiveConv(packed, w, undefined, [1, 1], [0, 0], [1, 1], 1)) < 1e-12);
  const report = gradcheck((b, ww) => ops.conv2d(ops.permute(b!, [0, 3, 1, 2]), ww!), [base, w]);
  t.ok(report.ok, `gradient through the view: max relative error ${report.maxRelError.toExponential(2)}`);
  // A narrowed view: rows are contiguous but a plane is not.
  const wide = rnd([2, 5, 3, 6], 702);
  const cropped = ops.narrow(wide, 3, 1, 4); // [2, 5, 3, 4]
  const y2 = ops.conv2d(cropped, w);
  t.ok(maxRelDiff(y2.values(), naiveConv(new Tensor(cropped.values(), cropped.shape), w, undefined, [1, 1], [0, 0], [1, 1], 1)) < 1e-12, 'narrowed input');
});

t.test('convTranspose2d over a batch: gradients and a size-4 batch against four single images', async (t) => {
  const fn = (x: Tensor | undefined, w: Tensor | undefined, b: Tensor | undefined): Tensor => ops.convTranspose2d(x!, w!, b, { stride: 2, padding: 1 });
  const report = gradcheck((x, w, b) => fn(x, w, b), [rnd([3, 2, 3, 2], 710), rnd([2, 3, 4, 4], 711), rnd([3], 712)]);
  t.ok(report.ok, `max relative error ${report.maxRelError.toExponential(2)}`);
  const x = rnd([4, 2, 3, 3], 713, { grad: false });
  const w = rnd([2, 3, 4, 4], 714, { grad: false });
  const whole = fn(x, w, undefined).values();
  const per = 3 * 6 * 6;
  for (let n = 0; n < 4; n++) {
    const one = fn(ops.narrow(x, 0, n, 1), w, undefined).values();
    t.ok(maxRelDiff(whole.subarray(n * per, (n + 1) * per), one) < 1e-12, `image ${n} alone gives the same output`);
  }
});

t.test('on the fast backend (float32), forward and gradients agree with float64', async (t) => {
  const be = setBackend('fast');
  t.teardown(() => {
    be.dispose?.();
    setBackend('ref');
  });
  for (const c of cases.filter((_, k) => [0, 1, 5, 7, 8, 10, 14].includes(k))) {
    const x64 = inputsOf(c, 800);
    const x32 = x64.map((v) => new Tensor(Float32Array.from(v.values()), v.shape, true));
    const y64 = convOf(c)(...x64);
    const y32 = convOf(c)(...x32);
    t.ok(maxRelDiff(y32.values(), y64.values()) < 1e-5, `${c.what}: forward`);
    ops.sum(ops.mul(y64, y64)).backward();
    ops.sum(ops.mul(y32, y32)).backward();
    x64.forEach((v, i) => t.ok(maxRelDiff(x32[i]!.grad!.values(), v.grad!.values()) < 1e-4, `${c.what}: gradient of input ${i}`));
  }
});
