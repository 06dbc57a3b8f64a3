/**
 * The softmax family of the SIMD vector kernels (vector-kernels.ts assembles them into its
 * module): `softmax`, `maskedSoftmax` (the causal mask added on the way in), `rowMaxSumExp`
 * (the two halves of logsumexp) and `softmaxBackward`.
 *
 * Per row, as the reference loops (reference.ts): m = max_c x (NaN propagates),
 * e = exp(x − m) with the cheaper exp for x ≤ 0 (vector-emit.ts), s = Σ e, y = e/s;
 * backward dx = y·(dy − Σ dy·y). The row sums accumulate in four lanes, added pairwise at the
 * end — a different rounding from the reference's left-to-right sum (both within a few ulp).
 */
import { F32, type FuncSpec, I32, V128 } from './wasm-emit';
import { emitExpNonPositive, emitLaneSum, emitRowLoop, emitUnrolled, Fn, v128Locals, whileBelow } from './vector-emit';

/**
 * One row's m = max_c x and s = Σ_c exp(x − m) into the f32 locals `m` and `sum` (vector body,
 * then the ragged tail); with `out` (a pointer parameter) exp(x − m) is also stored there.
 * Shared by softmax and rowMaxSumExp, which differ only in what they do with m and s.
 */
function emitRowMaxExpSum(
  f: Fn, X: number, out: number | null, r: { rowBytes: number; vend: number; i: number; m: number; sum: number; vmax: number; vnan: number; vm: number; vx: number; ve: number; vsum: number },
): void {
  const c = f.code;
  const { rowBytes, vend, i, m, sum, vmax, vnan, vm, vx, ve, vsum } = r;
  // m = max over the row. The vector part uses the pseudo-max (one x64 maxps; f32x4.max's NaN
  // and ±0 rules cost V8 a chain of ≈ 7 instructions per step, which made this pass ≈ 40% of
  // the softmax) and tracks NaN apart: vnan ORs in x ≠ x, and a NaN anywhere makes m NaN, as
  // max does. ±0 may come out either way, which changes nothing: x − (+0) and x − (−0) have the same exp.
  c.f32x4Const(-Infinity).localSet(vmax);
  c.f32x4Const(0).localSet(vnan);
  c.i32Const(0).localSet(i);
  const vxs = v128Locals(f), ves = v128Locals(f);
  emitUnrolled(f, i, vend, {
    load: (off, u) => { c.localGet(X).localGet(i).i32Add().v128Load(off).localSet(vxs[u]!); },
    compute: (u) => {
      c.localGet(vxs[u]!).localGet(vmax).f32x4Pmax().localSet(vmax);
      c.localGet(vnan).localGet(vxs[u]!).localGet(vxs[u]!).f32x4Ne().v128Or().localSet(vnan);
    },
    store: () => {},
  });
  c.localGet(vmax).f32x4ExtractLane(0).localGet(vmax).f32x4ExtractLane(1).f32Max();
  c.localGet(vmax).f32x4ExtractLane(2).localGet(vmax).f32x4ExtractLane(3).f32Max().f32Max().localSet(m);
  c.localGet(vnan).v128AnyTrue().if().f32Const(NaN).localSet(m).end();
  whileBelow(c, i, rowBytes, 4, () => { c.localGet(m).localGet(X).localGet(i).i32Add().f32Load().f32Max().localSet(m); });
  c.localGet(m).f32x4Splat().localSet(vm);
  // exp(x − m) (stored to out when given), Σ
  c.f32x4Const(0).localSet(vsum);
  c.i32Const(0).localSet(i);
  emitUnrolled(f, i, vend, {
    load: (off, u) => { c.localGet(X).localGet(i).i32Add().v128Load(off).localGet(vm).f32x4Sub().localSet(vxs[u]!); },
    compute: (u) => emitExpNonPositive(f, vxs[u]!, ves[u]!),
    store: (off, u) => {
      if (out !== null) c.localGet(out).localGet(i).i32Add().localGet(ves[u]!).v128Store(off);
      c.localGet(vsum).localGet(ves[u]!).f32x4Add().localSet(vsum);
    },
  });
  emitLaneSum(c, vsum);
  c.localSet(sum);
  whileBelow(c, i, rowBytes, 4, () => {
    c.localGet(X).localGet(i).i32Add().v128Load32Splat().localGet(vm).f32x4Sub().localSet(vx);
    emitExpNonPositive(f, vx, ve);
    if (out !== null) c.localGet(out).localGet(i).i32Add().localGet(ve).f32x4ExtractLane(0).f32Store();
    c.localGet(sum).localGet(ve).f32x4ExtractLane(0).f32Add().localSet(sum);
  });
}

/**
 * `softmax(x, out, rows, cols)`, row by row as the reference: m = max_c x (NaN propagates),
 * e = exp(x − m) written to out while Σe accumulates, then out ·= 1/Σe.
 * `maskedSoftmax(x, out, rows, cols, mask, maskEnd, mp)` first adds a mask row to each row of
 * x in place (float32 adds, the `add` op's arithmetic): row by row from the row at `mp`,
 * wrapping from `maskEnd` back to `mask` — the causal mask repeated over batch and heads.
 */
export function softmaxKernel(masked = false): FuncSpec {
  const X = 0, OUT = 1, ROWS = 2, COLS = 3, MASK = 4, MASKEND = 5, MP = 6;
  const f = new Fn(masked ? 'maskedSoftmax' : 'softmax', masked ? [I32, I32, I32, I32, I32, I32, I32] : [I32, I32, I32, I32]);
  const c = f.code;
  const rowBytes = f.local(I32), vend = f.local(I32), i = f.local(I32);
  const m = f.local(F32), sum = f.local(F32), inv = f.local(F32);
  const vmax = f.local(V128), vm = f.local(V128), vx = f.local(V128), ve = f.local(V128), vsum = f.local(V128), vinv = f.local(V128);
  emitRowLoop(c, { rows: ROWS, cols: COLS, rowBytes, vend }, { rowPointers: [X, OUT] }, () => {
    if (masked) {
      // x ← x + mask row, in place (x is the engine's copy), rounded to float32 as the add op's output was
      c.i32Const(0).localSet(i);
      whileBelow(c, i, vend, 16, () => {
        c.localGet(X).localGet(i).i32Add().localGet(X).localGet(i).i32Add().v128Load().localGet(MP).localGet(i).i32Add().v128Load().f32x4Add().v128Store();
      });
      whileBelow(c, i, rowBytes, 4, () => {
        c.localGet(X).localGet(i).i32Add().localGet(X).localGet(i).i32Add().f32Load().localGet(MP).localGet(i).i32Add().f32Load().f32Add().f32Store();
      });
      // next mask row, back to the first after the last
      c.localGet(MP).localGet(rowBytes).i32Add().localSet(MP);
      c.localGet(MP).localGet(MASKEND).i32GeU().if().localGet(MASK).localSet(MP).end();
    }
    emitRowMaxExpSum(f, X, OUT, { rowBytes, vend, i, m, sum, vmax, vnan: f.local(V128), vm, vx, ve, vsum });
    // out ·= 1/Σ
    c.f32Const(1).localGet(sum).f32Div().localTee(inv).f32x4Splat().localSet(vinv);
    c.i32Const(0).localSet(i);
    const ys = v128Locals(f);
    emitUnrolled(f, i, vend, {
      load: (off, u) => { c.localGet(OUT).localGet(i).i32Add().v128Load(off).localSet(ys[u]!); },
      compute: (u) => { c.localGet(ys[u]!).localGet(vinv).f32x4Mul().localSet(ys[u]!); },
      store: (off, u) => { c.localGet(OUT).localGet(i).i32Add().localGet(ys[u]!).v128Store(off); },
    });
    whileBelow(c, i, rowBytes, 4, () => {
      c.localGet(OUT).localGet(i).i32Add().localGet(OUT).localGet(i).i32Add().f32Load().localGet(inv).f32Mul().f32Store();
    });
  });
  return f.spec();
}

/**
 * `rowMaxSumExp(x, maxOut, sumOut, rows, cols)`: per row m = max_c x and s = Σ_c exp(x − m),
 * the two halves of logsumexp = m + log s (the log is taken in float64 by the caller: wasm
 * has no log instruction, and it is one per row).
 */
export function rowMaxSumExpKernel(): FuncSpec {
  const X = 0, MAX = 1, SUM = 2, ROWS = 3, COLS = 4;
  const f = new Fn('rowMaxSumExp', [I32, I32, I32, I32, I32]);
  const c = f.code;
  const rowBytes = f.local(I32), vend = f.local(I32), i = f.local(I32);
  const m = f.local(F32), sum = f.local(F32);
  const vmax = f.local(V128), vm = f.local(V128), vx = f.local(V128), ve = f.local(V128), vsum = f.local(V128);
  emitRowLoop(c, { rows: ROWS, cols: COLS, rowBytes, vend }, { rowPointers: [X], scalarPointers: [MAX, SUM] }, () => {
    emitRowMaxExpSum(f, X, null, { rowBytes, vend, i, m, sum, vmax, vnan: f.local(V128), vm, vx, ve, vsum });
    c.localGet(MAX).localGet(m).f32Store();
    c.localGet(SUM).localGet(sum).f32Store();
  });
  return f.spec();
}

/** `softmaxBackward(y, dy, out, rows, cols)`: per row d = Σ dy·y, then out = y·(dy − d). */
export function softmaxBackwardKernel(): FuncSpec {
  const Y = 0, DY = 1, OUT = 2, ROWS = 3, COLS = 4;
  const f = new Fn('softmaxBackward', [I32, I32, I32, I32, I32]);
  const c = f.code;
  const rowBytes = f.local(I32), vend = f.local(I32), i = f.local(I32);
  const dot = f.local(F32), vacc = f.local(V128), vdot = f.local(V128);
  emitRowLoop(c, { rows: ROWS, cols: COLS, rowBytes, vend }, { rowPointers: [Y, DY, OUT] }, () => {
    c.f32x4Const(0).localSet(vacc);
    c.i32Const(0).localSet(i);
    whileBelow(c, i, vend, 16, () => {
      c.localGet(vacc).localGet(DY).localGet(i).i32Add().v128Load().localGet(Y).localGet(i).i32Add().v128Load().f32x4Mul().f32x4Add().localSet(vacc);
    });
    emitLaneSum(c, vacc);
    c.localSet(dot);
    whileBelow(c, i, rowBytes, 4, () => {
      c.localGet(dot).localGet(DY).localGet(i).i32Add().f32Load().localGet(Y).localGet(i).i32Add().f32Load().f32Mul().f32Add().localSet(dot);
    });
    c.localGet(dot).f32x4Splat().localSet(vdot);
    c.i32Const(0).localSet(i);
    whileBelow(c, i, vend, 16, () => {
      c.localGet(OUT).localGet(i).i32Add();
      c.localGet(Y).localGet(i).i32Add().v128Load();
      c.localGet(DY).localGet(i).i32Add().v128Load().localGet(vdot).f32x4Sub().f32x4Mul().v128Store();
    });
    whileBelow(c, i, rowBytes, 4, () => {
      c.localGet(OUT).localGet(i).i32Add();
      c.localGet(Y).localGet(i).i32Add().f32Load();
      c.localGet(DY).localGet(i).i32Add().f32Load().localGet(dot).f32Sub().f32Mul().f32Store();
    });
  });
  return f.spec();
}
