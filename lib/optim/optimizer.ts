/**
 * What every optimizer shares: the parameter list, the step counter, `zeroGrad`, and a
 * state dict of per-parameter tensors keyed by parameter name, so a run can stop and resume
 * with bit-identical updates.
 *
 * Optimizers update parameters in place (writing into each parameter's storage), so the
 * tensors a model holds stay the same objects. They never modify gradients.
 *
 * `step()` refuses a gradient holding NaN or ±Infinity (nothing is changed), and throws if an
 * update turned a parameter non-finite (a learning rate so large that θ overflows): a loop
 * that forgot to check its loss still cannot go on training, or saving, poisoned weights.
 */
import { fmtShape, sameShape } from '../shape';
import { allocate, type FloatArray, Tensor } from '../tensor';

/** An optimizer's resumable state: see {@link Optimizer.stateDict}. */
export interface OptimizerState {
  /** Which optimizer wrote it (`'SGD'`, `'AdamW'`); checked on load. */
  kind: string;
  /** Number of `step()` calls so far. */
  step: number;
  /** Scalar hyper-parameters at save time (the learning rate may have been set by a schedule). */
  hyper: Record<string, number>;
  /** Per-parameter tensors named `<parameter key>.<slot>`, e.g. `fc1.weight.expAvg` (copies). */
  tensors: Map<string, Tensor>;
}

export abstract class Optimizer {
  /** The parameters being optimised, in the order given. */
  readonly params: Tensor[];
  /**
   * The name each parameter's state is saved under: its `.name` (set by
   * `Module.namedParameters`) when all parameters have distinct names, otherwise its position
   * (`'0'`, `'1'`, …).
   */
  readonly keys: string[];
  /** Learning rate; a schedule may set it before each step. */
  lr: number;
  /** Number of completed `step()` calls. */
  stepCount = 0;

  constructor(params: Iterable<Tensor>, lr: number) {
    this.params = [...params];
    if (this.params.length === 0) throw new Error(`${this.constructor.name}: got an empty parameter list`);
    if (!(lr >= 0)) throw new Error(`${this.constructor.name}: lr should be a number ≥ 0, got ${lr}`);
    this.lr = lr;
    const names = this.params.map((p) => p.name);
    const distinct = names.every((n) => n !== undefined) && new Set(names).size === names.length;
    this.keys = distinct ? (names as string[]) : this.params.map((_, i) => String(i));
    this.params.forEach((p, i) => {
      if (!p.isContiguous) throw new Error(`${this.constructor.name}: parameter '${this.keys[i]}' is a strided view; parameters must own contiguous storage`);
    });
  }

  /**
   * Apply one update to every parameter that has a gradient. Throws, naming the parameter,
   * when a gradient is not finite (before anything changes) or when the update made a
   * parameter non-finite.
   */
  step(): void {
    const step = this.stepCount + 1;
    const name = this.constructor.name;
    this.params.forEach((p, i) => {
      if (p.grad === null) return;
      const j = firstNonFinite(p.grad.values());
      if (j >= 0) throw new Error(`${name}.step ${step}: the gradient of '${this.keys[i]}' holds ${p.grad.values()[j]} at flat index ${j}; nothing was updated`);
    });
    this.update();
    this.params.forEach((p, i) => {
      const j = firstNonFinite(p.nd.data);
      if (j >= 0) throw new Error(`${name}.step ${step}: the update made '${this.keys[i]}' ${p.nd.data[j]} at flat index ${j} (is lr = ${this.lr} too large?)`);
    });
  }

  /** The update rule itself (SGD, AdamW): called by {@link Optimizer.step} once the gradients are known to be finite. */
  protected abstract update(): void;

  /** Clear every parameter's gradient. */
  zeroGrad(): void {
    for (const p of this.params) p.zeroGrad();
  }

  /** The per-parameter state slots this optimizer keeps (`['momentum']`, `['expAvg', 'expAvgSq']`). */
  protected abstract slots(): string[];
  /** The storage of slot `slot` for parameter i. */
  protected abstract slot(slot: string, i: number): FloatArray;
  /** The scalar hyper-parameters to save and restore. */
  protected abstract hyper(): Record<string, number>;
  protected abstract setHyper(h: Record<string, number>): void;

  /** A copy of everything needed to resume: step count, hyper-parameters, per-parameter slots. */
  stateDict(): OptimizerState {
    const tensors = new Map<string, Tensor>();
    this.params.forEach((p, i) => {
      for (const s of this.slots()) tensors.set(`${this.keys[i]}.${s}`, new Tensor(this.slot(s, i).slice(), p.shape));
    });
    return { kind: this.constructor.name, step: this.stepCount, hyper: { ...this.hyper() }, tensors };
  }

  /**
   * Restore a {@link OptimizerState}. Checks the kind, that every expected tensor is there and
   * nothing else, and shapes, before changing anything; errors name the tensor.
   */
  loadStateDict(state: OptimizerState): void {
    const kind = this.constructor.name;
    if (state.kind !== kind) throw new Error(`${kind}.loadStateDict: state was saved by ${state.kind}, not ${kind}`);
    const problems: string[] = [];
    const expected = new Map<string, number>();
    this.params.forEach((_, i) => {
      for (const s of this.slots()) expected.set(`${this.keys[i]}.${s}`, i);
    });
    for (const name of expected.keys()) if (!state.tensors.has(name)) problems.push(`missing tensor '${name}'`);
    for (const name of state.tensors.keys()) if (!expected.has(name)) problems.push(`unexpected tensor '${name}'`);
    for (const [name, i] of expected) {
      const t = state.tensors.get(name);
      const want = this.params[i]!.shape;
      if (t !== undefined && !sameShape(t.shape, want)) problems.push(`shape mismatch for '${name}': expected ${fmtShape(want)}, got ${fmtShape(t.shape)}`);
    }
    if (problems.length > 0) throw new Error(`${kind}.loadStateDict: ${problems.join('; ')}`);
    for (const [name, i] of expected) {
      this.slot(name.slice(this.keys[i]!.length + 1), i).set(state.tensors.get(name)!.values());
    }
    this.stepCount = state.step;
    this.setHyper(state.hyper);
  }
}

/** Index of the first NaN or ±Infinity in `v`, or -1. */
export function firstNonFinite(v: ArrayLike<number>): number {
  for (let i = 0; i < v.length; i++) if (!Number.isFinite(v[i]!)) return i;
  return -1;
}

/** Zero-filled state buffers, one per parameter, in its dtype. */
export function zeroSlots(params: readonly Tensor[]): FloatArray[] {
  return params.map((p) => allocate(p.dtype, p.size));
}
