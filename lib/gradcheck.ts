/**
 * Gradient checking by central differences, in float64.
 *
 * For a function f of tensors, pick a fixed random "upstream" tensor w of f's output shape
 * and let L = Σ w ⊙ f(inputs). Backward gives ∂L/∂x analytically; the numeric estimate for
 * each element is (L(x + ε) − L(x − ε)) / 2ε, whose error is O(ε²). With ε = 1e-6 in float64
 * a correct gradient agrees to ~1e-9; a wrong one is off by O(1). Using a random w (not
 * all-ones) checks the whole vector–Jacobian product, not just its column sums.
 */
import { noGrad } from './autograd';
import { Rng } from './random';
import { Tensor } from './tensor';

export interface GradcheckOptions {
  /** finite-difference step (default 1e-6) */
  eps?: number;
  /** absolute tolerance (default 1e-7) */
  atol?: number;
  /** relative tolerance (default 1e-6) */
  rtol?: number;
  /** seed for the random upstream gradient */
  seed?: number;
  /**
   * Accept float32 inputs (default false). Only sound when `fn` is exact in float32 at the
   * chosen `eps` — e.g. a cast of dyadic values with ε = 2⁻⁸, where x ± ε is representable.
   */
  allowFloat32?: boolean;
}

/** Where analytic and numeric gradients disagree most. */
export interface GradcheckReport {
  ok: boolean;
  /** worst |analytic − numeric| / max(|analytic|, |numeric|, 1) over all checked elements */
  maxRelError: number;
  worst: { input: number; index: number; analytic: number; numeric: number; relError: number } | null;
  /** number of elements compared */
  checked: number;
}

/**
 * Compare backward against central differences for every element of every input with
 * `requiresGrad`. Inputs must be float64 (float32 has too few digits for ε = 1e-6).
 * An element passes when |a − n| ≤ atol + rtol·|n|.
 */
export function gradcheck(fn: (...inputs: Tensor[]) => Tensor, inputs: Tensor[], opts: GradcheckOptions = {}): GradcheckReport {
  const { eps = 1e-6, atol = 1e-7, rtol = 1e-6, seed = 1234, allowFloat32 = false } = opts;
  for (const [i, t] of inputs.entries()) {
    if (t.dtype !== 'float64' && !allowFloat32) throw new Error(`gradcheck: input ${i} is ${t.dtype}; gradient checks need float64 inputs`);
  }
  const out0 = fn(...inputs);
  const rng = new Rng(seed);
  const w = new Tensor(Float64Array.from({ length: out0.size }, () => rng.normal()), out0.shape);
  const loss = (): number =>
    noGrad(() => {
      const o = fn(...inputs).values();
      let s = 0;
      for (let i = 0; i < o.length; i++) s += o[i]! * w.values()[i]!;
      return s;
    });

  for (const t of inputs) t.zeroGrad();
  out0.backward(w);

  let worst: GradcheckReport['worst'] = null;
  let maxRel = 0;
  let ok = true;
  let checked = 0;
  inputs.forEach((t, ti) => {
    if (!t.requiresGrad) return;
    if (!t.isContiguous) throw new Error(`gradcheck: input ${ti} must be contiguous`);
    const data = t.nd.data;
    const analytic = t.grad?.values() ?? new Float64Array(t.size);
    for (let i = 0; i < data.length; i++) {
      const orig = data[i]!;
      data[i] = orig + eps;
      const plus = loss();
      data[i] = orig - eps;
      const minus = loss();
      data[i] = orig;
      const numeric = (plus - minus) / (2 * eps);
      const a = analytic[i]!;
      const diff = Math.abs(a - numeric);
      const rel = diff / Math.max(Math.abs(a), Math.abs(numeric), 1);
      checked++;
      const bad = !(diff <= atol + rtol * Math.abs(numeric));
      if (bad) ok = false;
      if (rel > maxRel || (bad && worst === null) || Number.isNaN(rel)) {
        maxRel = Number.isNaN(rel) ? Infinity : Math.max(maxRel, rel);
        worst = { input: ti, index: i, analytic: a, numeric, relError: rel };
      }
    }
  });
  return { ok, maxRelError: maxRel, worst, checked };
}
