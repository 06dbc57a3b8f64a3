/**
 * The autograd engine: recording ops, and replaying them backwards.
 *
 * Every op produces its output tensor and, when any input needs a gradient, attaches a
 * {@link GradFn}: the op's name, its inputs and a closure that maps the gradient of the
 * output to the gradients of the inputs (the vector–Jacobian product). `backward()` sorts
 * the recorded graph topologically and walks it in reverse, accumulating (`+=`) each input's
 * gradient. That is the whole engine — the same idea as micrograd, on tensors.
 */
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
 * Anomaly mode (off by default, it costs a scan of every value): when on, the first op whose
 * forward output or backward gradient holds NaN or ±Infinity throws, naming the op.
 */
export function setAnomalyMode(on: boolean): void {
  anomalyMode = on;
}

export function isAnomalyMode(): boolean {
  return anomalyMode;
}

function firstNonFinite(t: Tensor): number {
  const v = t.values();
  for (let i = 0; i < v.length; i++) if (!Number.isFinite(v[i]!)) return i;
  return -1;
}

function checkFinite(t: Tensor, where: string): void {
  const i = firstNonFinite(t);
  if (i >= 0) throw new Error(`anomaly: ${where} produced ${t.values()[i]} at flat index ${i} (shape [${t.shape.join(',')}])`);
}

/**
 * Attach a gradient function to `out` when recording is on and some input requires a
 * gradient. Every op ends with `return record(...)`.
 */
export function record(op: string, out: Tensor, inputs: readonly Tensor[], backward: GradFn['backward']): Tensor {
  if (anomalyMode) checkFinite(out, `forward of ${op}`);
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
 */
export function runBackward(root: Tensor, seed: Tensor): void {
  const order = topologicalOrder(root);
  const grads = new Map<Tensor, Tensor>([[root, seed]]);
  // Sums of gradients this loop allocated itself and nobody else has seen yet: a third or
  // later contribution is added into them in place instead of allocating another sum.
  // (A backward may return its upstream gradient as is, so any other buffer may be shared.)
  const ownSums = new Set<Tensor>();
  noGrad(() => {
    for (let i = order.length - 1; i >= 0; i--) {
      const node = order[i]!;
      const g = grads.get(node);
      if (g === undefined) continue;
      grads.delete(node);
      ownSums.delete(g); // handed to backward from here on: no longer ours to overwrite
      if (node.gradFn === null || node.retainsGrad) node.accumulateGrad(g, node.gradFn?.op ?? 'backward');
      if (node.gradFn === null) continue;
      const { op, inputs, backward } = node.gradFn;
      const inputGrads = backward(g);
      inputs.forEach((input, k) => {
        const gi = inputGrads[k];
        if (!input.requiresGrad || gi === null || gi === undefined) return;
        if (anomalyMode) checkFinite(gi, `backward of ${op} (input ${k})`);
        const prev = grads.get(input);
        gi.checkedGradFor(input, op);
        if (prev === undefined) grads.set(input, gi);
        else if (ownSums.has(prev)) addInto(prev, gi);
        else {
          const total = prev.plusGrad(gi);
          ownSums.add(total);
          grads.set(input, total);
        }
      });
    }
  });
}
