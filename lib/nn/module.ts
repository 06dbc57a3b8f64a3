/**
 * Module: the base class of every layer and model.
 *
 * A module is a plain object whose properties hold its parts. Nothing has to be
 * registered by hand: {@link Module.namedParameters} walks the instance's own properties in
 * declaration order (the order of `Object.keys`) and picks up
 *
 * - a `Module` → its parameters, prefixed `name.`;
 * - an array of `Module`s (or of parameter tensors) → prefixed `name.0.`, `name.1.`, …;
 * - a leaf `Tensor` with `requiresGrad` → a parameter called `name`.
 *
 * So `this.blocks[0].attn.wq.weight` is the parameter `blocks.0.attn.wq.weight`, the same
 * dotted names PyTorch's `named_parameters()` gives. Tensors that belong in a checkpoint but
 * are not trained (a causal mask, running statistics) are registered with
 * {@link Module.buffer}: they are in {@link Module.stateDict} but not in `parameters()`.
 *
 * Tensors with `requiresGrad = false` that were not registered are ignored (scratch values,
 * constants), as are intermediate results (tensors with a `gradFn`) kept on a property.
 * {@link Module.freeze} turns training off for parameters without dropping them from
 * `namedParameters()` or the state dict: a frozen encoder still loads its weights.
 */
import { fmtShape, sameShape } from '../shape';
import { Tensor } from '../tensor';

/** Every tensor that has once been found as a parameter: freezing one keeps it a parameter. */
const knownParameters = new WeakSet<Tensor>();

function isParameter(value: unknown): value is Tensor {
  return value instanceof Tensor && value.gradFn === null && (value.requiresGrad || knownParameters.has(value));
}

/** Options of {@link Module.loadStateDict}. */
export interface LoadStateDictOptions {
  /**
   * When true (default) every tensor of the module must be in the map and every entry of the
   * map must belong to the module. When false, both kinds of mismatch are skipped; shapes
   * are still checked for the names both sides have.
   */
  strict?: boolean;
}

export abstract class Module {
  /** Training mode (dropout active). Set for the whole tree by {@link Module.train} / {@link Module.eval}. */
  training = true;
  /** This module's own buffers, by local name, in registration order. */
  private readonly buffers = new Map<string, Tensor>();

  /**
   * The module's computation. Subclasses declare their own signature
   * (`forward(x: Tensor): Tensor`, `forward(ids: number[]): Tensor`, …).
   */
  abstract forward(...inputs: never[]): unknown;

  /**
   * The `[name, value]` pairs that parameter discovery walks: by default the instance's own
   * properties in declaration order. `Sequential` overrides it to name its layers
   * `0`, `1`, … as PyTorch does.
   */
  protected children(): [string, unknown][] {
    return Object.entries(this);
  }

  /**
   * Register a tensor that is saved and loaded with the module but not trained
   * (it is in {@link Module.stateDict}, not in {@link Module.parameters}). Returns `t`, so a
   * field can be declared as `readonly mask = this.buffer('mask', causalMask(16))`.
   */
  buffer(name: string, t: Tensor): Tensor {
    if (this.buffers.has(name)) throw new Error(`buffer: '${name}' is already registered on ${this.constructor.name}`);
    this.buffers.set(name, t);
    return t;
  }

  /** Same as {@link Module.buffer} (the PyTorch name). */
  registerBuffer(name: string, t: Tensor): Tensor {
    return this.buffer(name, t);
  }

  /**
   * Every submodule with its dotted path, this module first as `''`. Each module appears
   * once, under the first path that reaches it.
   */
  namedModules(): [string, Module][] {
    const out: [string, Module][] = [];
    const seen = new Set<Module>();
    const visit = (m: Module, prefix: string): void => {
      if (seen.has(m)) return;
      seen.add(m);
      out.push([prefix.replace(/\.$/, ''), m]);
      for (const [key, value] of m.children()) {
        if (value instanceof Module) visit(value, `${prefix}${key}.`);
        else if (Array.isArray(value)) {
          value.forEach((item, i) => {
            if (item instanceof Module) visit(item, `${prefix}${key}.${i}.`);
          });
        }
      }
    };
    visit(this, '');
    return out;
  }

  /**
   * Parameters with their dotted names, in declaration order, each tensor once (a tensor
   * shared by two modules — tied weights — keeps the first name). Sets each parameter's
   * `.name` to that dotted name, so errors and `toString()` can say which weight it is.
   */
  namedParameters(): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    const seen = new Set<Tensor>();
    const take = (name: string, t: Tensor): void => {
      if (seen.has(t)) return;
      seen.add(t);
      knownParameters.add(t);
      t.name = name;
      out.push([name, t]);
    };
    for (const [path, m] of this.namedModules()) {
      const prefix = path === '' ? '' : `${path}.`;
      for (const [key, value] of m.children()) {
        if (isParameter(value)) take(prefix + key, value);
        else if (Array.isArray(value)) {
          value.forEach((item, i) => {
            if (isParameter(item)) take(`${prefix}${key}.${i}`, item);
          });
        }
      }
    }
    return out;
  }

  /** The parameters alone (what an optimizer takes), in the order of {@link Module.namedParameters}. */
  parameters(): Tensor[] {
    return this.namedParameters().map(([, t]) => t);
  }

  /** Registered buffers of this module and its submodules, with dotted names. */
  namedBuffers(): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [path, m] of this.namedModules()) {
      const prefix = path === '' ? '' : `${path}.`;
      for (const [key, t] of m.buffers) out.push([prefix + key, t]);
    }
    return out;
  }

  /** Total number of parameter elements. */
  numParameters(): number {
    return this.parameters().reduce((n, p) => n + p.size, 0);
  }

  /** Set training mode on this module and every submodule. Returns this. */
  train(on = true): this {
    for (const [, m] of this.namedModules()) m.training = on;
    return this;
  }

  /** Evaluation mode (`train(false)`): dropout becomes the identity. Returns this. */
  eval(): this {
    return this.train(false);
  }

  /**
   * Stop training every parameter (`requiresGrad = false`); they stay in `namedParameters()`
   * and the state dict, and optimizers skip them because they get no gradient. Returns this.
   */
  freeze(): this {
    for (const p of this.parameters()) p.requiresGrad = false;
    return this;
  }

  /** Undo {@link Module.freeze}. Returns this. */
  unfreeze(): this {
    for (const p of this.parameters()) p.requiresGrad = true;
    return this;
  }

  /** Clear every parameter's `.grad` (call before each backward, or use the optimizer's). */
  zeroGrad(): void {
    for (const p of this.parameters()) p.zeroGrad();
  }

  /**
   * Parameters then buffers, by dotted name. The map holds the module's own tensors (no
   * copies): save it right away, or copy what you keep.
   */
  stateDict(): Map<string, Tensor> {
    return new Map([...this.namedParameters(), ...this.namedBuffers()]);
  }

  /**
   * Copy values from `state` into this module's parameters and buffers, in place (an
   * optimizer holding these tensors keeps working). Everything is checked before anything is
   * copied: names both ways (unless `strict: false`) and shapes. All problems are reported
   * in one error, e.g. `loadStateDict: missing tensor 'fc2.bias'; shape mismatch for
   * 'fc1.weight': expected [4,2], got [3,2]`. Values are converted to each tensor's dtype.
   */
  loadStateDict(state: ReadonlyMap<string, Tensor>, opts: LoadStateDictOptions = {}): void {
    const strict = opts.strict ?? true;
    const own = this.stateDict();
    const problems: string[] = [];
    for (const name of own.keys()) {
      if (!state.has(name) && strict) problems.push(`missing tensor '${name}'`);
    }
    for (const name of state.keys()) {
      if (!own.has(name) && strict) problems.push(`unexpected tensor '${name}'`);
    }
    for (const [name, target] of own) {
      const source = state.get(name);
      if (source !== undefined && !sameShape(source.shape, target.shape)) {
        problems.push(`shape mismatch for '${name}': expected ${fmtShape(target.shape)}, got ${fmtShape(source.shape)}`);
      }
    }
    if (problems.length > 0) throw new Error(`loadStateDict: ${problems.join('; ')}`);
    for (const [name, target] of own) {
      const source = state.get(name);
      if (source !== undefined) writeInto(target, source, name);
    }
  }
}

/** Overwrite `target`'s storage with `source`'s values (same shape; dtype converted). */
function writeInto(target: Tensor, source: Tensor, name: string): void {
  if (!target.isContiguous) throw new Error(`loadStateDict: '${name}' is a strided view; only contiguous tensors can be loaded in place`);
  target.nd.data.set(source.values());
}
