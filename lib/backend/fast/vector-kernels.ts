/**
 * The memory-bound float32 kernels (exp, sigmoid, SiLU, both GELUs and the exact one's derivative, SwiGLU, RMSNorm, RoPE, AdamW;
 * with the softmax family from softmax-kernels.ts, one module) generated as WebAssembly SIMD bytecode, four lanes at a time, like the matmul micro-kernel
 * (gemm-kernel.ts). The formulas are those of the reference loops (reference.ts); only exp
 * is computed differently (vector-emit.ts: the `exp` op's general exp, and a cheaper one for
 * x ≤ 0 in softmax, logsumexp and the logistic), and sums run in four lanes instead of one.
 *
 * exp, the logistic and the loop shapes every kernel shares are in vector-emit.ts; the softmax
 * family (softmax, masked softmax, logsumexp's row max and sum, the backward) in softmax-kernels.ts.
 *
 * **Tails.** Rows whose length is not a multiple of 4 finish with the same vector code on
 * one element splatted into all lanes (lane 0 is kept), so there is one formula, not two.
 *
 * **SwiGLU** (`swiglu`, `swigluBackward`: SiLU(a)·b and its two gradients in one pass each,
 * σ(a) recomputed in the backward instead of stored) follow the reference loops' order of
 * operations in float32, with the `sigmoid` kernel's σ.
 *
 * **AdamW and RMSNorm** (`adamw`, `rmsNorm`, `rmsNormBackward`) are the reference loops
 * (reference.ts) four lanes at a time, in float32 arithmetic where the reference computes in
 * float64 and rounds once on store: results agree to a few float32 ulp.
 *
 * Summation order: the row sums here (RMSNorm's Σx² and its backward's Σ) accumulate four
 * interleaved partial sums, added pairwise at the end, as the softmax family's do — a different
 * rounding from the reference's left-to-right sum (both are within a few ulp of the exact sum).
 */
import { assembleModule, F32, type FuncSpec, I32, V128 } from './wasm-emit';
import { emitExp, emitLaneSum, emitLogistic, emitRowLoop, emitUnrolled, Fn, v128Locals, whileBelow } from './vector-emit';
import { emitGeluErf, emitGeluErfGrad } from './vector-erf';
import { rowMaxSumExpKernel, softmaxBackwardKernel, softmaxKernel } from './softmax-kernels';

/** The unary kinds generated here and how each maps a v128 local x to y. */
export const VECTOR_UNARY = {
  /** y = eˣ */
  exp: (f: Fn, x: number, y: number): void => emitExp(f, x, y),
  /** σ(x) = 1/(1 + e⁻ˣ) for x ≥ 0, eˣ/(1 + eˣ) below (neither exp can overflow) */
  sigmoid: (f: Fn, x: number, y: number): void => emitLogistic(f, x, (c) => c.f32x4Const(1), (c, e) => c.localGet(e), y),
  /** SiLU(x) = x·σ(x): x/(1 + e⁻ˣ) for x ≥ 0, x·eˣ/(1 + eˣ) below */
  silu: (f: Fn, x: number, y: number): void => emitLogistic(f, x, (c) => c.localGet(x), (c, e) => c.localGet(x).localGet(e).f32x4Mul(), y),
  /**
   * tanh-GELU: ½x(1 + tanh u), u = √(2/π)(x + 0.044715x³). Since 1 + tanh u = 2σ(2u), this is
   * x·σ(2u), which has no cancellation for large negative u (the reference's 1 + tanh u does).
   */
  geluTanh: (f: Fn, x: number, y: number): void => {
    const c = f.code;
    const z = f.local(V128);
    c.localGet(x).localGet(x).f32x4Mul().localGet(x).f32x4Mul().f32x4Const(0.044715).f32x4Mul().localGet(x).f32x4Add();
    c.f32x4Const(2 * Math.sqrt(2 / Math.PI)).f32x4Mul().localSet(z);
    emitLogistic(f, z, (cc) => cc.f32x4Const(1), (cc, e) => cc.localGet(e), y);
    c.localGet(y).localGet(x).f32x4Mul().localSet(y);
  },
  /** exact GELU x·Φ(x), Φ from a float32 erfc (vector-erf.ts) */
  geluErf: (f: Fn, x: number, y: number): void => emitGeluErf(f, x, y),
  /** its derivative Φ(x) + x·φ(x) (vector-erf.ts) */
  geluErfGrad: (f: Fn, x: number, y: number): void => emitGeluErfGrad(f, x, y),
} as const;

export type VectorUnaryKind = keyof typeof VECTOR_UNARY;

/** `name(x, out, n)`: out[i] = f(x[i]) for i < n (byte addresses). */
function mapKernel(name: string, body: (f: Fn, x: number, y: number) => void): FuncSpec {
  const X = 0, OUT = 1, N = 2;
  const f = new Fn(name, [I32, I32, I32]);
  const c = f.code;
  const i = f.local(I32), vend = f.local(I32), end = f.local(I32), x = f.local(V128), y = f.local(V128);
  const xs = v128Locals(f), ys = v128Locals(f);
  c.localGet(N).i32Const(2).i32Shl().localSet(end);
  c.localGet(N).i32Const(-4).i32And().i32Const(2).i32Shl().localSet(vend);
  emitUnrolled(f, i, vend, {
    load: (off, u) => { c.localGet(X).localGet(i).i32Add().v128Load(off).localSet(xs[u]!); },
    compute: (u) => body(f, xs[u]!, ys[u]!),
    store: (off, u) => { c.localGet(OUT).localGet(i).i32Add().localGet(ys[u]!).v128Store(off); },
  });
  whileBelow(c, i, end, 4, () => {
    c.localGet(X).localGet(i).i32Add().v128Load32Splat().localSet(x);
    body(f, x, y);
    c.localGet(OUT).localGet(i).i32Add().localGet(y).f32x4ExtractLane(0).f32Store();
  });
  return f.spec();
}



/**
 * `adamw(theta, grad, m, v, n, lr, β₁, β₂, ε, decay, c₁, c₂, 1 − β₁, 1 − β₂)`, in place on theta, m and v:
 *   m ← β₁m + (1 − β₁)g,  v ← β₂v + (1 − β₂)g²,  θ ← θ·decay − lr·(m/c₁)/(√(v/c₂) + ε).
 * 1 − β is passed in, computed in float64: 1 − float32(0.999) would be off by 1e-5 relative.
 */
function adamwKernel(): FuncSpec {
  const TH = 0, G = 1, M = 2, V = 3, N = 4, LR = 5, B1 = 6, B2 = 7, EPS = 8, DECAY = 9, C1P = 10, C2P = 11, OMB1 = 12, OMB2 = 13;
  const f = new Fn('adamw', [I32, I32, I32, I32, I32, F32, F32, F32, F32, F32, F32, F32, F32, F32]);
  const c = f.code;
  const splat = (emit: () => void): number => { const l = f.local(V128); emit(); c.f32x4Splat().localSet(l); return l; };
  const vb1 = splat(() => c.localGet(B1)), v1b1 = splat(() => c.localGet(OMB1));
  const vb2 = splat(() => c.localGet(B2)), v1b2 = splat(() => c.localGet(OMB2));
  const vlr = splat(() => c.localGet(LR)), veps = splat(() => c.localGet(EPS)), vdecay = splat(() => c.localGet(DECAY));
  const vc1 = splat(() => c.localGet(C1P)), vc2 = splat(() => c.localGet(C2P));
  const i = f.local(I32), vend = f.local(I32), end = f.local(I32);
  const g = f.local(V128), m = f.local(V128), v = f.local(V128);
  c.localGet(N).i32Const(2).i32Shl().localSet(end);
  c.localGet(N).i32Const(-4).i32And().i32Const(2).i32Shl().localSet(vend);
  const body = (load: (ptr: number) => void, store: (ptr: number, val: () => void) => void): void => {
    load(G); c.localSet(g);
    load(M); c.localGet(vb1).f32x4Mul().localGet(g).localGet(v1b1).f32x4Mul().f32x4Add().localSet(m);
    load(V); c.localGet(vb2).f32x4Mul().localGet(g).localGet(g).f32x4Mul().localGet(v1b2).f32x4Mul().f32x4Add().localSet(v);
    store(M, () => c.localGet(m));
    store(V, () => c.localGet(v));
    store(TH, () => {
      load(TH); c.localGet(vdecay).f32x4Mul();
      c.localGet(vlr).localGet(m).localGet(vc1).f32x4Div().f32x4Mul();
      c.localGet(v).localGet(vc2).f32x4Div().f32x4Sqrt().localGet(veps).f32x4Add().f32x4Div().f32x4Sub();
    });
  };
  const addr = (ptr: number): void => { c.localGet(ptr).localGet(i).i32Add(); };
  whileBelow(c, i, vend, 16, () => body((p) => { addr(p); c.v128Load(); }, (p, val) => { addr(p); val(); c.v128Store(); }));
  whileBelow(c, i, end, 4, () => body((p) => { addr(p); c.v128Load32Splat(); }, (p, val) => { addr(p); val(); c.f32x4ExtractLane(0).f32Store(); }));
  return f.spec();
}

/**
 * `swiglu(a, b, out, n)`: out = SiLU(a)·b with SiLU(a) = a·σ(a), σ as the `sigmoid` kernel —
 * the order of reference.ts's `referenceSwiglu` (σ first, then a·σ, then ·b).
 */
function swigluKernel(): FuncSpec {
  const A = 0, B = 1, OUT = 2, N = 3;
  const f = new Fn('swiglu', [I32, I32, I32, I32]);
  const c = f.code;
  const i = f.local(I32), vend = f.local(I32), end = f.local(I32);
  const a = v128Locals(f), b = v128Locals(f), s = v128Locals(f);
  c.localGet(N).i32Const(2).i32Shl().localSet(end);
  c.localGet(N).i32Const(-4).i32And().i32Const(2).i32Shl().localSet(vend);
  const addr = (ptr: number): void => { c.localGet(ptr).localGet(i).i32Add(); };
  const compute = (u: number): void => VECTOR_UNARY.sigmoid(f, a[u]!, s[u]!);
  const y = (u: number): void => { c.localGet(a[u]!).localGet(s[u]!).f32x4Mul().localGet(b[u]!).f32x4Mul(); };
  emitUnrolled(f, i, vend, {
    load: (off, u) => { addr(A); c.v128Load(off).localSet(a[u]!); addr(B); c.v128Load(off).localSet(b[u]!); },
    compute,
    store: (off, u) => { addr(OUT); y(u); c.v128Store(off); },
  });
  whileBelow(c, i, end, 4, () => {
    addr(A); c.v128Load32Splat().localSet(a[0]!); addr(B); c.v128Load32Splat().localSet(b[0]!);
    compute(0);
    addr(OUT); y(0); c.f32x4ExtractLane(0).f32Store();
  });
  return f.spec();
}

/**
 * `swigluBackward(a, b, g, da, db, n)`: with σ = σ(a) recomputed, db = g·(a·σ) and
 * da = (g·b)·σ·(1 + a·(1 − σ)) — reference.ts's `referenceSwigluBackward`, four lanes at a time.
 */
function swigluBackwardKernel(): FuncSpec {
  const A = 0, B = 1, G = 2, DA = 3, DB = 4, N = 5;
  const f = new Fn('swigluBackward', [I32, I32, I32, I32, I32, I32]);
  const c = f.code;
  const i = f.local(I32), vend = f.local(I32), end = f.local(I32);
  const a = v128Locals(f), b = v128Locals(f), g = v128Locals(f), s = v128Locals(f);
  c.localGet(N).i32Const(2).i32Shl().localSet(end);
  c.localGet(N).i32Const(-4).i32And().i32Const(2).i32Shl().localSet(vend);
  const addr = (ptr: number): void => { c.localGet(ptr).localGet(i).i32Add(); };
  const load = (u: number, ld: () => void): void => {
    addr(A); ld(); c.localSet(a[u]!); addr(B); ld(); c.localSet(b[u]!); addr(G); ld(); c.localSet(g[u]!);
  };
  const compute = (u: number): void => VECTOR_UNARY.sigmoid(f, a[u]!, s[u]!);
  const db = (u: number): void => { c.localGet(g[u]!).localGet(a[u]!).localGet(s[u]!).f32x4Mul().f32x4Mul(); };
  const da = (u: number): void => {
    c.localGet(g[u]!).localGet(b[u]!).f32x4Mul().localGet(s[u]!).f32x4Mul();
    c.f32x4Const(1).localGet(a[u]!).f32x4Const(1).localGet(s[u]!).f32x4Sub().f32x4Mul().f32x4Add().f32x4Mul();
  };
  emitUnrolled(f, i, vend, {
    load: (off, u) => load(u, () => c.v128Load(off)),
    compute,
    store: (off, u) => { addr(DB); db(u); c.v128Store(off); addr(DA); da(u); c.v128Store(off); },
  });
  whileBelow(c, i, end, 4, () => {
    load(0, () => c.v128Load32Splat());
    compute(0);
    addr(DB); db(0); c.f32x4ExtractLane(0).f32Store();
    addr(DA); da(0); c.f32x4ExtractLane(0).f32Store();
  });
  return f.spec();
}

/** `rmsNorm(x, w, out, rinv, rows, cols, eps)`: r = 1/√(Σx²/cols + eps), out = x·r·w, rinv[row] = r. */
function rmsNormKernel(): FuncSpec {
  const X = 0, W = 1, OUT = 2, RINV = 3, ROWS = 4, COLS = 5, EPS = 6;
  const f = new Fn('rmsNorm', [I32, I32, I32, I32, I32, I32, F32]);
  const c = f.code;
  const rowBytes = f.local(I32), vend = f.local(I32), i = f.local(I32);
  const ms = f.local(F32), ri = f.local(F32), vacc = f.local(V128), vx = f.local(V128), vri = f.local(V128);
  emitRowLoop(c, { rows: ROWS, cols: COLS, rowBytes, vend }, { rowPointers: [X, OUT], scalarPointers: [RINV] }, () => {
    c.f32x4Const(0).localSet(vacc);
    c.i32Const(0).localSet(i);
    whileBelow(c, i, vend, 16, () => { c.localGet(X).localGet(i).i32Add().v128Load().localTee(vx).localGet(vx).f32x4Mul().localGet(vacc).f32x4Add().localSet(vacc); });
    emitLaneSum(c, vacc);
    c.localSet(ms);
    whileBelow(c, i, rowBytes, 4, () => { c.localGet(X).localGet(i).i32Add().f32Load().localTee(ri).localGet(ri).f32Mul().localGet(ms).f32Add().localSet(ms); });
    c.f32Const(1).localGet(ms).localGet(COLS).f32ConvertI32S().f32Div().localGet(EPS).f32Add().f32Sqrt().f32Div().localSet(ri);
    c.localGet(RINV).localGet(ri).f32Store();
    c.localGet(ri).f32x4Splat().localSet(vri);
    c.i32Const(0).localSet(i);
    whileBelow(c, i, vend, 16, () => {
      c.localGet(OUT).localGet(i).i32Add().localGet(X).localGet(i).i32Add().v128Load().localGet(vri).f32x4Mul();
      c.localGet(W).localGet(i).i32Add().v128Load().f32x4Mul().v128Store();
    });
    whileBelow(c, i, rowBytes, 4, () => {
      c.localGet(OUT).localGet(i).i32Add().localGet(X).localGet(i).i32Add().f32Load().localGet(ri).f32Mul();
      c.localGet(W).localGet(i).i32Add().f32Load().f32Mul().f32Store();
    });
  });
  return f.spec();
}

/**
 * `rmsNormBackward(x, w, rinv, g, dx, dw, rows, cols)`, per row with r = rinv[row], x̂ = x·r:
 *   s = Σ g·w·x̂ / cols,  dw += g·x̂ (dw is accumulated, not cleared),  dx = r·(g·w − x̂·s).
 */
function rmsNormBackwardKernel(): FuncSpec {
  const X = 0, W = 1, RINV = 2, G = 3, DX = 4, DW = 5, ROWS = 6, COLS = 7;
  const f = new Fn('rmsNormBackward', [I32, I32, I32, I32, I32, I32, I32, I32]);
  const c = f.code;
  const rowBytes = f.local(I32), vend = f.local(I32), i = f.local(I32);
  const ri = f.local(F32), s = f.local(F32), vri = f.local(V128), vs = f.local(V128), vacc = f.local(V128), gx = f.local(V128);
  const sgx = f.local(F32);
  emitRowLoop(c, { rows: ROWS, cols: COLS, rowBytes, vend }, { rowPointers: [X, G, DX], scalarPointers: [RINV] }, () => {
    c.localGet(RINV).f32Load().localTee(ri).f32x4Splat().localSet(vri);
    // gx = g·x̂; s = Σ gx·w; dw += gx
    c.f32x4Const(0).localSet(vacc);
    c.i32Const(0).localSet(i);
    whileBelow(c, i, vend, 16, () => {
      c.localGet(G).localGet(i).i32Add().v128Load().localGet(X).localGet(i).i32Add().v128Load().f32x4Mul().localGet(vri).f32x4Mul().localSet(gx);
      c.localGet(vacc).localGet(gx).localGet(W).localGet(i).i32Add().v128Load().f32x4Mul().f32x4Add().localSet(vacc);
      c.localGet(DW).localGet(i).i32Add().localGet(DW).localGet(i).i32Add().v128Load().localGet(gx).f32x4Add().v128Store();
    });
    emitLaneSum(c, vacc);
    c.localSet(s);
    whileBelow(c, i, rowBytes, 4, () => {
      c.localGet(G).localGet(i).i32Add().f32Load().localGet(X).localGet(i).i32Add().f32Load().f32Mul().localGet(ri).f32Mul().localSet(sgx);
      c.localGet(s).localGet(sgx).localGet(W).localGet(i).i32Add().f32Load().f32Mul().f32Add().localSet(s);
      c.localGet(DW).localGet(i).i32Add().localGet(DW).localGet(i).i32Add().f32Load().localGet(sgx).f32Add().f32Store();
    });
    c.localGet(s).localGet(COLS).f32ConvertI32S().f32Div().localTee(s).f32x4Splat().localSet(vs);
    // dx = r·(g·w − x·r·s)
    c.i32Const(0).localSet(i);
    whileBelow(c, i, vend, 16, () => {
      c.localGet(DX).localGet(i).i32Add();
      c.localGet(G).localGet(i).i32Add().v128Load().localGet(W).localGet(i).i32Add().v128Load().f32x4Mul();
      c.localGet(X).localGet(i).i32Add().v128Load().localGet(vri).f32x4Mul().localGet(vs).f32x4Mul().f32x4Sub();
      c.localGet(vri).f32x4Mul().v128Store();
    });
    whileBelow(c, i, rowBytes, 4, () => {
      c.localGet(DX).localGet(i).i32Add();
      c.localGet(G).localGet(i).i32Add().f32Load().localGet(W).localGet(i).i32Add().f32Load().f32Mul();
      c.localGet(X).localGet(i).i32Add().f32Load().localGet(ri).f32Mul().localGet(s).f32Mul().f32Sub();
      c.localGet(ri).f32Mul().f32Store();
    });
  });
  return f.spec();
}

/**
 * `rope(x, out, cos, sin, T, H, half, tStride, hStride, sign, iStride)`: RoPE of one batch row
 * (see Backend's RopeArgs). For t < T, h < H, the d = 2·half floats at x + t·tStride +
 * h·hStride + j·iStride (byte strides; iStride = 4 when a head's values are adjacent, else
 * e.g. the gradient of kᵀ read back through its transpose) are rotated pair by pair by
 * the f64 angles cos/sin + t·half·8 and written to out, contiguous [T, H, d]:
 *   [a, b] → [a, b]·c + [b, a]·[−s, s] = [a·c − b·s, b·c + a·s],  s = sign·sin θ
 * one pair per f64x2: promoted exactly from float32, float64 products and sum, rounded once
 * to float32 — the reference loop's arithmetic (b·(−s) = −(b·s) and a·s + b·c = b·c + a·s
 * exactly), so the results are its bits.
 */
function ropeKernel(): FuncSpec {
  const X = 0, OUT = 1, COS = 2, SIN = 3, T = 4, H = 5, HALF = 6, TS = 7, HS = 8, SIGN = 9, IS = 10;
  const f = new Fn('rope', [I32, I32, I32, I32, I32, I32, I32, I32, I32, F32, I32]);
  const c = f.code;
  const t = f.local(I32), h = f.local(I32), i = f.local(I32), pairBytes = f.local(I32), xrow = f.local(I32), cs = f.local(I32), xp = f.local(I32);
  const v = f.local(V128), sgn = f.local(V128);
  // sgn = [−sign, sign] as f64x2 (sign is ±1, so these products are exact)
  c.f64x2Const(-1, 1).localGet(SIGN).f32x4Splat().f64x2PromoteLowF32x4().f64x2Mul().localSet(sgn);
  c.localGet(HALF).i32Const(3).i32Shl().localSet(pairBytes); // half·8: bytes of one row of pairs (x) or of angles (f64)
  c.i32Const(0).localSet(t);
  whileBelow(c, t, T, 1, () => {
    c.i32Const(0).localSet(h);
    whileBelow(c, h, H, 1, () => {
      c.localGet(X).localGet(t).localGet(TS).i32Mul().i32Add().localGet(h).localGet(HS).i32Mul().i32Add().localSet(xrow);
      c.localGet(t).localGet(pairBytes).i32Mul().localSet(cs);
      c.i32Const(0).localSet(i);
      c.localGet(xrow).localSet(xp);
      whileBelow(c, i, pairBytes, 8, () => {
        // v = [a, b] in float64: one 8-byte load when the pair is adjacent (IS = 4 bytes), else two loads
        c.localGet(IS).i32Const(4).i32Sub().i32Eqz().if();
        c.localGet(xp).v128Load64Zero().f64x2PromoteLowF32x4().localSet(v);
        c.else();
        c.localGet(xp).f32Load().f64PromoteF32().f64x2Splat().localGet(xp).localGet(IS).i32Add().f32Load().f64PromoteF32().f64x2ReplaceLane(1).localSet(v);
        c.end();
        c.localGet(xp).localGet(IS).i32Const(1).i32Shl().i32Add().localSet(xp);
        c.localGet(OUT).localGet(i).i32Add();
        c.localGet(v).localGet(COS).localGet(cs).i32Add().localGet(i).i32Add().v128Load64Splat().f64x2Mul();
        c.localGet(v).localGet(v).i8x16Shuffle([8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7]);
        c.localGet(SIN).localGet(cs).i32Add().localGet(i).i32Add().v128Load64Splat().localGet(sgn).f64x2Mul().f64x2Mul();
        c.f64x2Add().f32x4DemoteF64x2Zero().v128Store64Lane(0);
      });
      c.localGet(OUT).localGet(pairBytes).i32Add().localSet(OUT);
    });
  });
  return f.spec();
}

/**
 * The module: `softmax`, `softmaxBackward`, `rowMaxSumExp`, `adamw`, `rmsNorm`, `rmsNormBackward` and one map
 * kernel per {@link VECTOR_UNARY} kind (exported under the kind's name), importing `env.memory`.
 */
export function vectorModuleBytes(memory: { initialPages: number; maxPages: number; shared: boolean }): Uint8Array {
  const maps = (Object.keys(VECTOR_UNARY) as VectorUnaryKind[]).map((k) => mapKernel(k, VECTOR_UNARY[k]));
  return assembleModule([softmaxKernel(), softmaxKernel(true), softmaxBackwardKernel(), rowMaxSumExpKernel(), adamwKernel(), rmsNormKernel(), rmsNormBackwardKernel(), swigluKernel(), swigluBackwardKernel(), ropeKernel(), ...maps], memory);
}
