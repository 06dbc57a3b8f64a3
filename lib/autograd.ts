/**
 * The autograd engine: recording ops, and replaying them backwards.
 *
 * Every op produces its output tensor and, when any input needs a gradient, attaches a
 * {@link GradFn}: the op's name, its inputs and a closure that maps the gradient of the
 * output to the gradients of the inputs (the vector–Jacobian product). `backward()` sorts
 * the recorded graph topologically and walks it in reverse, accumulating (`+=`) each input's
 * gradient. That is the whole engine — the same idea as micrograd, on tensors.
 */
import { activeBackward, BackwardBuffers, isBufferReuse } from './grad-buffers';
import type { Tensor } from './tensor';

/** What an op leaves behind on its output so that backward can run. */
export interface GradFn {
  /** The op's name, used in error messages and by anomaly mode. */
  readonly op: string;
  /** The op's tensor inputs, in the order `backward` returns their gradients. */
  readonly inputs: readonly Tensor[];
  /**
   * Given ∂L/∂out (same shape as the output), return ∂L/∂input for each input, already
   * reduced to that input's shape; `null` for an input that needs no gradient.
   */
  readonly backward: (gradOut: Tensor) => (Tensor | null)[];
}

let gradEnabled = true;
let anomalyMode = false;

/** Whether ops currently record a graph. */
export function isGradEnabled(): boolean {
  return gradEnabled;
}

/**
 * Run `fn` without recording a graph (like `torch.no_grad()`): outputs have
 * `requiresGrad = false`, nothing is kept alive for backward. Nests and restores on throw.
 */
export function noGrad<T>(fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}

/**
 * Anomaly mode (off by default, it costs a scan of every value): when on, the first op that
 * *creates* a non-finite value throws an {@link AnomalyError} naming the op. "Creates" means
 * (see {@link createdNonFinite}):
 *
 * - its output holds NaN although none of its inputs does, or
 * - its output holds ±Infinity although every input was finite.
 *
 * So values that are non-finite on purpose flow through quietly: the causal mask's −∞ added
 * to the attention scores (an input already holds −∞), the softmax over those rows (its
 * output is finite). A backward is judged the same way, with the upstream gradient and the
 * op's forward values as its inputs. One more source is reported: a NaN in a tensor that no
 * recorded op made (data or a parameter) when an op first reads it — NaN is never intended
 * there, while ±∞ in such a tensor (a mask) can be.
 */
export function setAnomalyMode(on: boolean): void {
  anomalyMode = on;
  producedInAnomalyMode = new WeakSet();
}

export function isAnomalyMode(): boolean {
  return anomalyMode;
}

/** Tensors that a recorded op produced while anomaly mode was on (their values were checked). */
let producedInAnomalyMode = new WeakSet<Tensor>();

/** The first op that created a NaN or ±Infinity (see {@link setAnomalyMode}). */
export class AnomalyError extends Error {
  constructor(
    /** the op's name, `'forward of log'` or `'backward of sqrt (input 0)'` */
    readonly where: string,
    /** what was found, e.g. `produced NaN at flat index 1 (shape [2]) from inputs without NaN` */
    readonly detail: string,
  ) {
    super(`anomaly: ${where} ${detail}`);
    this.name = 'AnomalyError';
  }
}

/** What a scan of one tensor found: the first NaN and the first ±Infinity (-1 when none). */
interface NonFiniteScan {
  nan: number;
  inf: number;
}

function scan(t: Tensor): NonFiniteScan {
  const v = t.values();
  let nan = -1;
  let inf = -1;
  for (let i = 0; i < v.length; i++) {
    const x = v[i]!;
    if (x - x === 0) continue; // finite (NaN − NaN and ∞ − ∞ are NaN)
    if (x !== x) { if (nan < 0) nan = i; } else if (inf < 0) inf = i;
    if (nan >= 0 && inf >= 0) break;
  }
  return { nan, inf };
}

/**
 * The rule of anomaly mode: does `out` hold a non-finite value that its `inputs` could not
 * have handed down? Returns a description of the first such value, or null.
 * NaN is created when no input holds NaN; ±Infinity is created when every input is finite.
 */
export function createdNonFinite(out: Tensor, inputs: readonly Tensor[]): string | null {
  const o = scan(out);
  if (o.nan < 0 && o.inf < 0) return null;
  const ins = inputs.map(scan);
  const inputNaN = ins.some((s) => s.nan >= 0);
  const inputNonFinite = inputNaN || ins.some((s) => s.inf >= 0);
  const shape = `(shape [${out.shape.join(',')}])`;
  if (o.nan >= 0 && !inputNaN) return `produced NaN at flat index ${o.nan} ${shape} from inputs without NaN`;
  if (o.inf >= 0 && !inputNonFinite) return `produced ${out.values()[o.inf]} at flat index ${o.inf} ${shape} from finite inputs`;
  return null;
}

/** Forward check: the output must not create a non-finite value; external inputs must not hold NaN. */
function checkForward(op: string, out: Tensor, inputs: readonly Tensor[]): void {
  inputs.forEach((input, k) => {
    if (producedInAnomalyMode.has(input)) return;
    const { nan } = scan(input);
    if (nan >= 0) {
      throw new AnomalyError(`forward of ${op}`, `reads NaN at flat index ${nan} of input ${k} (shape [${input.shape.join(',')}]), a tensor no recorded op produced (data or a parameter)`);
    }
  });
  const created = createdNonFinite(out, inputs);
  if (created !== null) throw new AnomalyError(`forward of ${op}`, created);
  producedInAnomalyMode.add(out);
}

/** Collects op names while {@link opsRecordedBy} runs; null otherwise. */
let recordedNames: Set<string> | null = null;

/**
 * The names of the ops `record`ed while `fn` runs (with or without gradients). The
 * gradient-check suite uses it to make sure each case exercises the op it is named after.
 */
export function opsRecordedBy(fn: () => unknown): Set<string> {
  const outer = recordedNames;
  const names = new Set<string>();
  recordedNames = names;
  try {
    fn();
  } finally {
    recordedNames = outer;
    if (outer) for (const n of names) outer.add(n);
  }
  return names;
}

/**
 * Attach a gradient function to `out` when recording is on and some input requires a
 * gradient. Every op ends with `return record(...)`.
 */
export function record(op: string, out: Tensor, inputs: readonly Tensor[], backward: GradFn['backward']): Tensor {
  if (anomalyMode) checkForward(op, out, inputs);
  recordedNames?.add(op);
  if (gradEnabled && inputs.some((t) => t.requiresGrad)) {
    out.requiresGrad = true;
    out.gradFn = { op, inputs, backward };
  }
  return out;
}

/** Nodes reachable from `root` through recorded ops, inputs before outputs. */
function topologicalOrder(root: Tensor): Tensor[] {
  const order: Tensor[] = [];
  const seen = new Set<Tensor>();
  // Iterative depth-first search: deep graphs (long sequences) would overflow recursion.
  const stack: [Tensor, boolean][] = [[root, false]];
  while (stack.length > 0) {
    const [node, expanded] = stack.pop()!;
    if (expanded) {
      order.push(node);
      continue;
    }
    if (seen.has(node)) continue;
    seen.add(node);
    stack.push([node, true]);
    for (const input of node.gradFn?.inputs ?? []) if (input.requiresGrad && !seen.has(input)) stack.push([input, false]);
  }
  return order;
}

/** `acc += g` elementwise; `acc` is a contiguous gradient sum owned by {@link runBackward}. */
function addInto(acc: Tensor, g: Tensor): void {
  const a = acc.nd.data;
  const b = g.values();
  for (let i = 0; i < a.length; i++) a[i] = a[i]! + b[i]!;
}

/**
 * Reverse-mode accumulation from `root`, seeded with `seed` (= ∂L/∂root).
 * Leaves (tensors without a gradFn, e.g. parameters) keep their `.grad`; intermediate
 * gradients are dropped once used unless the tensor asked for `retainGrad()`.
 * With buffer reuse on (grad-buffers.ts), the arrays this pass allocates are tracked: each
 * pending gradient is `hold`, each stored `.grad` `escape`s, and after every node the arrays
 * nothing can see any more go back to a pool that the next backward allocates from.
 */
export function runBackward(root: Tensor, seed: Tensor): void {
  const order = topologicalOrder(root);
  const grads = new Map<Tensor, Tensor>([[root, seed]]);
  // Sums of gradients this loop allocated itself and nobody else has seen yet: a third or
  // later contribution is added into them in place instead of allocating another sum.
  // (A backward may return its upstream gradient as is, so any other buffer may be shared.)
  const ownSums = new Set<Tensor>();
  const outer = activeBackward.current;
  const ledger = isBufferReuse() ? new BackwardBuffers() : null;
  activeBackward.current = ledger;
  try {
    noGrad(() => {
      for (let i = order.length - 1; i >= 0; i--) {
        const node = order[i]!;
        const g = grads.get(node);
        if (g === undefined) continue;
        grads.delete(node);
        ownSums.delete(g); // handed to backward from here on: no longer ours to overwrite
        if (node.gradFn === null || node.retainsGrad) {
          node.accumulateGrad(g, node.gradFn?.op ?? 'backward');
          ledger?.escape(node.grad!);
        }
        if (node.gradFn !== null) {
          const { op, inputs, backward } = node.gradFn;
          const inputGrads = backward(g);
          inputs.forEach((input, k) => {
            const gi = inputGrads[k];
            if (!input.requiresGrad || gi === null || gi === undefined) return;
            if (anomalyMode) {
              // a backward sees the upstream gradient and the forward values: only what none of them holds is new
              const created = createdNonFinite(gi, [g, node, ...inputs]);
              if (created !== null) throw new AnomalyError(`backward of ${op} (input ${k})`, created);
            }
            const prev = grads.get(input);
            gi.checkedGradFor(input, op);
            if (prev === undefined) {
              grads.set(input, gi);
              ledger?.hold(gi);
            } else if (ownSums.has(prev)) addInto(prev, gi);
            else {
              const total = prev.plusGrad(gi);
              ownSums.add(total);
              grads.set(input, total);
              ledger?.drop(prev);
              ledger?.hold(total);
            }
          });
        }
        ledger?.drop(g);
        ledger?.sweep();
      }
    });
  } finally {
    activeBackward.current = outer;
  }
}
