/**
 * LayerNorm and RMSNorm over the last axis, with optional per-feature weight (γ) and bias (β).
 * Forward and backward are written out as row loops, as in llm.c's layernorm_forward /
 * layernorm_backward: a composition of mean/variance/div ops would give the same gradient
 * but keep five [.., D] intermediates alive per call.
 */
import { record } from '../autograd';
import { backend } from '../backend';
import { referenceRmsNorm, referenceRmsNormBackward } from '../backend/reference';
import { fmtShape } from '../shape';
import { allocate, Tensor } from '../tensor';

function checkAffine(op: string, x: Tensor, p: Tensor | undefined, what: string): void {
  if (p === undefined) return;
  const d = x.shape[x.rank - 1];
  if (p.rank !== 1 || p.shape[0] !== d) throw new Error(`${op}: ${what} must be [${d}] to match the last axis of x ${fmtShape(x.shape)}, got ${fmtShape(p.shape)}`);
  if (p.dtype !== x.dtype) throw new Error(`${op}: dtype mismatch, x is ${x.dtype}, ${what} is ${p.dtype}`);
}

/**
 * LayerNorm (Ba et al. 2016) over the last axis D:
 *   μ = mean(x), σ² = mean((x − μ)²), x̂ = (x − μ)·rstd, rstd = 1/√(σ² + eps),  y = x̂·γ + β.
 * Backward, per row, with ĝ = g·γ (llm.c's derivation):
 *   dx = rstd · (ĝ − mean(ĝ) − x̂ · mean(ĝ·x̂))      (term 1: direct; term 2: through μ; term 3: through σ)
 *   dγ = Σ_rows g·x̂,   dβ = Σ_rows g.
 */
export function layerNorm(x: Tensor, weight?: Tensor, bias?: Tensor, eps = 1e-5): Tensor {
  if (x.rank < 1) throw new Error('layerNorm: x must have at least one axis, got a scalar');
  checkAffine('layerNorm', x, weight, 'weight');
  checkAffine('layerNorm', x, bias, 'bias');
  const D = x.shape[x.rank - 1]!;
  const rows = D === 0 ? 0 : x.size / D;
  const xv = x.values();
  const w = weight?.values();
  const b = bias?.values();
  const xhat = new Float64Array(xv.length);
  const rstd = new Float64Array(rows);
  const y = allocate(x.dtype, xv.length);
  for (let r = 0; r < rows; r++) {
    const o = r * D;
    let mu = 0;
    for (let c = 0; c < D; c++) mu += xv[o + c]!;
    mu /= D;
    let v = 0;
    for (let c = 0; c < D; c++) v += (xv[o + c]! - mu) ** 2;
    rstd[r] = 1 / Math.sqrt(v / D + eps);
    for (let c = 0; c < D; c++) {
      const h = (xv[o + c]! - mu) * rstd[r]!;
      xhat[o + c] = h;
      y[o + c] = h * (w ? w[c]! : 1) + (b ? b[c]! : 0);
    }
  }
  const inputs = [x, ...(weight ? [weight] : []), ...(bias ? [bias] : [])];
  return record('layerNorm', new Tensor(y, x.shape), inputs, (g) => {
    const gv = g.values();
    const dx = allocate(g.dtype, xv.length);
    const dw = allocate(g.dtype, D);
    const db = allocate(g.dtype, D);
    for (let r = 0; r < rows; r++) {
      const o = r * D;
      let meanG = 0;
      let meanGX = 0;
      for (let c = 0; c < D; c++) {
        const gh = gv[o + c]! * (w ? w[c]! : 1);
        meanG += gh;
        meanGX += gh * xhat[o + c]!;
        dw[c] = dw[c]! + gv[o + c]! * xhat[o + c]!;
        db[c] = db[c]! + gv[o + c]!;
      }
      meanG /= D;
      meanGX /= D;
      for (let c = 0; c < D; c++) {
        const gh = gv[o + c]! * (w ? w[c]! : 1);
        dx[o + c] = rstd[r]! * (gh - meanG - xhat[o + c]! * meanGX);
      }
    }
    return [new Tensor(dx, x.shape), ...(weight ? [new Tensor(dw, [D])] : []), ...(bias ? [new Tensor(db, [D])] : [])];
  });
}

/**
 * RMSNorm (Zhang & Sennrich 2019) over the last axis D: no centring, no bias.
 *   r = 1/√(mean(x²) + eps),  x̂ = x·r,  y = x̂·γ.
 * Backward with ĝ = g·γ:  dx = r · (ĝ − x̂ · mean(ĝ·x̂)),   dγ = Σ_rows g·x̂.
 */
export function rmsNorm(x: Tensor, weight?: Tensor, eps = 1e-6): Tensor {
  if (x.rank < 1) throw new Error('rmsNorm: x must have at least one axis, got a scalar');
  checkAffine('rmsNorm', x, weight, 'weight');
  const D = x.shape[x.rank - 1]!;
  const rows = D === 0 ? 0 : x.size / D;
  const xv = x.values();
  // γ = 1 without a weight: one kernel for both cases (it runs twice per block on every step)
  const w = weight ? weight.values() : allocate(x.dtype, D).fill(1);
  // The loops are backend kernels (reference.ts: referenceRmsNorm / referenceRmsNormBackward).
  const be = backend();
  const rinv = new Float64Array(rows); // float64, as before the kernel existed: ref results stay bit-identical
  const y = allocate(x.dtype, xv.length);
  (be.rmsNorm ?? referenceRmsNorm)({ x: xv, weight: w, out: y, rinv, rows, cols: D, eps });
  return record('rmsNorm', new Tensor(y, x.shape), weight ? [x, weight] : [x], (g) => {
    const dx = allocate(g.dtype, xv.length);
    const dw = allocate(g.dtype, D);
    (backend().rmsNormBackward ?? referenceRmsNormBackward)({ x: xv, weight: w, rinv, g: g.values(), dx, dWeight: dw, rows, cols: D });
    return weight ? [new Tensor(dx, x.shape), new Tensor(dw, [D])] : [new Tensor(dx, x.shape)];
  });
}
