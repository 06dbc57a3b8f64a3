/**
 * The reference backend: the plainest loops that compute each kernel. Slow, obvious and
 * the source of truth every other backend is tested against.
 */
import type { FloatArray } from '../tensor';
import type { AdamWArgs, Backend, BinaryKind, MatmulArgs, RmsNormArgs, RmsNormBackwardArgs, RopeArgs, SwigluArgs, SwigluBackwardArgs, UnaryKind } from './backend';

/** erf(x) by Abramowitz–Stegun 7.1.26 would be only 1e-7 accurate; this series/continued
 * fraction pair is accurate to ~1e-15, which float64 gradient checks need. */
export function erf(x: number): number {
  const ax = Math.abs(x);
  if (ax < 2.5) {
    // Maclaurin series: erf x = 2/√π Σ (-1)^n x^(2n+1) / (n! (2n+1))
    let term = ax;
    let sum = ax;
    const x2 = ax * ax;
    for (let n = 1; n < 60; n++) {
      term *= -x2 / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * sum;
  }
  if (ax > 6) return Math.sign(x);
  // Continued fraction for erfc (Lentz), converges fast for x ≥ 2.5.
  const tiny = 1e-300;
  let f = ax;
  let c = ax;
  let d = 0;
  for (let n = 1; n < 200; n++) {
    const an = n / 2;
    d = ax + an * d;
    d = d === 0 ? tiny : d;
    c = ax + an / c;
    c = c === 0 ? tiny : c;
    d = 1 / d;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / f;
  return Math.sign(x) * (1 - erfc);
}

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

export function unaryFn(kind: UnaryKind): (x: number) => number {
  switch (kind) {
    case 'neg': return (x) => -x;
    case 'exp': return Math.exp;
    case 'log': return Math.log;
    case 'sqrt': return Math.sqrt;
    case 'rsqrt': return (x) => 1 / Math.sqrt(x);
    case 'abs': return Math.abs;
    case 'tanh': return Math.tanh;
    // Written so that neither branch overflows: exp of a large positive number never happens.
    case 'sigmoid': return (x) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));
    // NaN must propagate: `x > 0 ? x : 0` would turn NaN into 0.
    case 'relu': return (x) => (x > 0 ? x : x <= 0 ? 0 : x);
    case 'silu': return (x) => (x >= 0 ? x / (1 + Math.exp(-x)) : (x * Math.exp(x)) / (1 + Math.exp(x)));
    case 'geluTanh': return (x) => 0.5 * x * (1 + Math.tanh(SQRT_2_OVER_PI * (x + 0.044715 * x * x * x)));
    case 'geluErf': return (x) => 0.5 * x * (1 + erf(x / Math.SQRT2));
    // Φ(x) + x·φ(x), φ(x) = e^(−x²/2)/√(2π)
    case 'geluErfGrad': return (x) => 0.5 * (1 + erf(x / Math.SQRT2)) + x * INV_SQRT_2PI * Math.exp(-0.5 * x * x);
  }
}

export function binaryFn(kind: BinaryKind): (a: number, b: number) => number {
  switch (kind) {
    case 'add': return (a, b) => a + b;
    case 'sub': return (a, b) => a - b;
    case 'mul': return (a, b) => a * b;
    case 'div': return (a, b) => a / b;
    case 'pow': return Math.pow;
    // Math.max/min already propagate NaN.
    case 'maximum': return Math.max;
    case 'minimum': return Math.min;
  }
}

/** AdamW's update of one parameter (see {@link AdamWArgs}), in float64 arithmetic. */
export function referenceAdamW({ theta, grad, m, v, lr, beta1: b1, beta2: b2, eps, weightDecay, correction1, correction2 }: AdamWArgs): void {
  const decay = 1 - lr * weightDecay;
  for (let j = 0; j < theta.length; j++) {
    const g = grad[j]!;
    m[j] = b1 * m[j]! + (1 - b1) * g;
    v[j] = b2 * v[j]! + (1 - b2) * g * g;
    const mHat = m[j]! / correction1;
    const vHat = v[j]! / correction2;
    theta[j] = theta[j]! * decay - (lr * mHat) / (Math.sqrt(vHat) + eps);
  }
}

/** `out[r] = m + log Σ_c exp(x[r,c] − m)`, m = max_c x[r,c]: no overflow, NaN propagates. */
export function referenceLogSumExp(x: FloatArray, out: FloatArray, rows: number, cols: number): void {
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    let m = -Infinity;
    for (let c = 0; c < cols; c++) m = Math.max(m, x[o + c]!);
    let s = 0;
    for (let c = 0; c < cols; c++) s += Math.exp(x[o + c]! - m);
    out[r] = m + Math.log(s);
  }
}

/** RMSNorm forward row by row (see {@link RmsNormArgs}). */
export function referenceRmsNorm({ x, weight: w, out, rinv, rows, cols: D, eps }: RmsNormArgs): void {
  for (let r = 0; r < rows; r++) {
    const o = r * D;
    let ms = 0;
    for (let c = 0; c < D; c++) { const v = x[o + c]!; ms += v * v; }
    const ri = 1 / Math.sqrt(ms / D + eps);
    rinv[r] = ri;
    for (let c = 0; c < D; c++) out[o + c] = x[o + c]! * ri * w[c]!;
  }
}

/** RMSNorm backward row by row (see {@link RmsNormBackwardArgs}). */
export function referenceRmsNormBackward({ x, weight: w, rinv, g, dx, dWeight: dw, rows, cols: D }: RmsNormBackwardArgs): void {
  dw.fill(0);
  for (let r = 0; r < rows; r++) {
    const o = r * D;
    const ri = rinv[r]!;
    let meanGX = 0;
    for (let c = 0; c < D; c++) {
      const xh = x[o + c]! * ri;
      meanGX += g[o + c]! * w[c]! * xh;
      dw[c] = dw[c]! + g[o + c]! * xh;
    }
    meanGX /= D;
    for (let c = 0; c < D; c++) dx[o + c] = ri * (g[o + c]! * w[c]! - x[o + c]! * ri * meanGX);
  }
}

const sigmoidFn = unaryFn('sigmoid');

/**
 * SwiGLU forward (see {@link SwigluArgs}), rounding where the op composition `silu(a).mul(b)`
 * rounds — σ(a) and SiLU(a) are stored in the dtype first — so its results are that
 * composition's to the bit.
 */
export function referenceSwiglu({ a, b, out }: SwigluArgs): void {
  const round = out instanceof Float32Array ? Math.fround : (x: number): number => x;
  for (let i = 0; i < out.length; i++) {
    const s = round(sigmoidFn(a[i]!));
    out[i] = round(a[i]! * s) * b[i]!;
  }
}

/** SwiGLU backward (see {@link SwigluBackwardArgs}), rounding where `silu(a).mul(b)`'s backward does. */
export function referenceSwigluBackward({ a, b, g, da, db }: SwigluBackwardArgs): void {
  const round = da instanceof Float32Array ? Math.fround : (x: number): number => x;
  for (let i = 0; i < da.length; i++) {
    const x = a[i]!;
    const s = round(sigmoidFn(x));
    db[i] = g[i]! * round(x * s);
    da[i] = round(g[i]! * b[i]!) * s * (1 + x * (1 - s));
  }
}

/**
 * RoPE (see {@link RopeArgs}): the loop models/rope.ts ran before it became a kernel, in
 * float64 arithmetic, rounded once on store into a float32 `out`.
 */
export function referenceRope({ x: data, offset, strides, out, cos, sin, start, sign, batch: B, seqLen: T, heads: H, headDim: d }: RopeArgs): void {
  const [sb, st, sh, si] = strides;
  const half = d / 2;
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      const row = (start + t) * half;
      for (let h = 0; h < H; h++) {
        const o = ((b * T + t) * H + h) * d;
        const q = offset + b * sb + t * st + h * sh;
        for (let i = 0; i < half; i++) {
          const c = cos[row + i]!;
          const s = sign * sin[row + i]!;
          const a = data[q + 2 * i * si]!;
          const bb = data[q + (2 * i + 1) * si]!;
          out[o + 2 * i] = a * c - bb * s;
          out[o + 2 * i + 1] = a * s + bb * c;
        }
      }
    }
  }
}

/**
 * softmax(x + mask) on backend `be` without a fused kernel: `be.binary('add')` of x and the
 * mask repeated over groups of maskRows rows, into a new array of x's dtype, then
 * `be.softmax` — the two ops the fused kernel replaces, so the results are theirs.
 */
export function referenceMaskedSoftmax(be: Backend, x: FloatArray, mask: FloatArray, out: FloatArray, rows: number, cols: number, maskRows: number): void {
  if (rows % maskRows !== 0) throw new Error(`maskedSoftmax: rows (${rows}) must be a multiple of the mask's rows (${maskRows})`);
  const sum = x instanceof Float64Array ? new Float64Array(x.length) : new Float32Array(x.length);
  be.binary('add', x, [rows / maskRows, maskRows, cols], mask, [1, maskRows, cols], sum, [rows / maskRows, maskRows, cols]);
  be.softmax(sum, out, rows, cols);
}

export const referenceBackend: Backend = {
  name: 'ref',

  matmul({ a, b, out, m, k, n, transA, transB, aOffsets, bOffsets, lda = transA ? m : k, ldb = transB ? k : n }: MatmulArgs): void {
    for (let batch = 0; batch < aOffsets.length; batch++) {
      const ao = aOffsets[batch]!;
      const bo = bOffsets[batch]!;
      const oo = batch * m * n;
      for (let i = 0; i < m; i++) {
        for (let j = 0; j < n; j++) {
          let acc = 0;
          for (let p = 0; p < k; p++) {
            const av = transA ? a[ao + p * lda + i]! : a[ao + i * lda + p]!;
            const bv = transB ? b[bo + j * ldb + p]! : b[bo + p * ldb + j]!;
            acc += av * bv;
          }
          out[oo + i * n + j] = acc;
        }
      }
    }
  },

  softmax(x: FloatArray, out: FloatArray, rows: number, cols: number): void {
    for (let r = 0; r < rows; r++) {
      const o = r * cols;
      // Subtracting the row max keeps exp() ≤ 1: softmax([1000, -1000]) is [1, 0], not NaN.
      let max = -Infinity;
      for (let c = 0; c < cols; c++) max = Math.max(max, x[o + c]!);
      let sum = 0;
      for (let c = 0; c < cols; c++) {
        const e = Math.exp(x[o + c]! - max);
        out[o + c] = e;
        sum += e;
      }
      for (let c = 0; c < cols; c++) out[o + c] = out[o + c]! / sum;
    }
  },

  softmaxBackward(y: FloatArray, dy: FloatArray, out: FloatArray, rows: number, cols: number): void {
    for (let r = 0; r < rows; r++) {
      const o = r * cols;
      let dot = 0;
      for (let c = 0; c < cols; c++) dot += dy[o + c]! * y[o + c]!;
      for (let c = 0; c < cols; c++) out[o + c] = y[o + c]! * (dy[o + c]! - dot);
    }
  },

  binary(kind, a, aShape, b, bShape, out, outShape): void {
    const f = binaryFn(kind);
    if (a.length === out.length && b.length === out.length) {
      for (let i = 0; i < out.length; i++) out[i] = f(a[i]!, b[i]!);
      return;
    }
    if (a.length === out.length && b.length === 1) {
      const bv = b[0]!;
      for (let i = 0; i < out.length; i++) out[i] = f(a[i]!, bv);
      return;
    }
    // General case: walk the output with an odometer; a broadcast axis has input stride 0.
    const rank = outShape.length;
    const sa = stridesFor(aShape);
    const sb = stridesFor(bShape);
    const idx = new Array<number>(rank).fill(0);
    let ia = 0;
    let ib = 0;
    for (let i = 0; i < out.length; i++) {
      out[i] = f(a[ia]!, b[ib]!);
      for (let ax = rank - 1; ax >= 0; ax--) {
        idx[ax]!++;
        ia += sa[ax]!;
        ib += sb[ax]!;
        if (idx[ax]! < outShape[ax]!) break;
        ia -= sa[ax]! * outShape[ax]!;
        ib -= sb[ax]! * outShape[ax]!;
        idx[ax] = 0;
      }
    }
  },

  unary(kind, x, out): void {
    const f = unaryFn(kind);
    for (let i = 0; i < x.length; i++) out[i] = f(x[i]!);
  },

  adamw: referenceAdamW,
  logSumExp: referenceLogSumExp,
  rmsNorm: referenceRmsNorm,
  rmsNormBackward: referenceRmsNormBackward,
  swiglu: referenceSwiglu,
  swigluBackward: referenceSwigluBackward,

  sumMiddle(x, out, outer, mid, inner): void {
    out.fill(0);
    for (let o = 0; o < outer; o++) {
      for (let m = 0; m < mid; m++) {
        const src = (o * mid + m) * inner;
        const dst = o * inner;
        for (let i = 0; i < inner; i++) out[dst + i] = out[dst + i]! + x[src + i]!;
      }
    }
  },
};

/** Row-major strides where a size-1 axis gets stride 0 (it is broadcast). */
function stridesFor(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = shape[i] === 1 ? 0 : acc;
    acc *= shape[i]!;
  }
  return s;
}
