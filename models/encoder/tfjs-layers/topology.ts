/**
 * The Keras topology of a TF.js layers model: which layers exist, in what order, fed by which.
 *
 * `modelTopology` is Keras's `model.to_json()`: `{ model_config: { class_name: 'Model' |
 * 'Functional' | 'Sequential', config: { layers: [...], input_layers, output_layers } } }`
 * (some files put `{class_name, config}` directly at the top). Each functional layer lists
 * its inputs in `inbound_nodes` — Keras 2 writes `[[["conv1", 0, 0, {}]]]`, Keras 3
 * `[{args: [{config: {keras_history: ["conv1", 0, 0]}}]}]`; sequential layers feed the next.
 *
 * This file also decides where the *pooled features* are: the first GlobalAveragePooling2D,
 * or a Flatten that directly follows an AveragePooling2D (the older Keras MobileNetV2, as in
 * nsfwjs, pools with a 7×7 AveragePooling2D then flattens). Nothing after that point is ever
 * built — see `backboneUpTo`.
 */
import { isObject, kindOf } from './artifacts';
import type { LiteralValue } from './literal';

type Obj = { [key: string]: LiteralValue };

/** One layer of the graph, as written in the topology. */
export interface LayerNode {
  name: string;
  className: string;
  config: { [key: string]: LiteralValue };
  /** Names of the layers whose outputs feed this one. */
  inputs: string[];
}

/** The parsed graph. */
export interface KerasTopology {
  /** The file it came from (for error messages). */
  file: string;
  /** Layers in the order the file lists them (Keras writes them topologically sorted). */
  layers: LayerNode[];
  /** The input layer's name. */
  inputName: string;
  /** The input shape the model was built for, [H, W, C] (null entries unknown). */
  nativeInputShape: (number | null)[];
}

/** Parse `modelTopology` into a {@link KerasTopology}; errors name the file and the layer. */
export function parseTopology(raw: Obj, file: string): KerasTopology {
  const modelConfig = isObject(raw['model_config']) ? raw['model_config'] : raw;
  const className = modelConfig['class_name'];
  const config = modelConfig['config'];
  if (typeof className !== 'string') throw new Error(`${file}: modelTopology has no model 'class_name' (expected Model, Functional or Sequential)`);
  const layersRaw = Array.isArray(config) ? config : isObject(config) ? config['layers'] : undefined;
  if (!Array.isArray(layersRaw) || layersRaw.length === 0) throw new Error(`${file}: modelTopology has no 'layers' list`);
  const sequential = className === 'Sequential';
  if (!sequential && className !== 'Model' && className !== 'Functional') {
    throw new Error(`${file}: model class '${className}' is not supported (expected Model, Functional or Sequential)`);
  }
  const layers: LayerNode[] = [];
  const seen = new Set<string>();
  layersRaw.forEach((entry, i) => {
    if (!isObject(entry)) throw new Error(`${file}: layers[${i}] should be an object, got ${kindOf(entry)}`);
    const cfg = isObject(entry['config']) ? entry['config'] : {};
    const name = typeof entry['name'] === 'string' ? entry['name'] : cfg['name'];
    const cls = entry['class_name'];
    if (typeof name !== 'string' || typeof cls !== 'string') throw new Error(`${file}: layers[${i}] has no name or class_name`);
    if (seen.has(name)) throw new Error(`${file}: layer name '${name}' appears twice`);
    let inputs: string[];
    if (sequential) {
      inputs = layers.length > 0 ? [layers[layers.length - 1]!.name] : [];
      if (layers.length === 0 && cls !== 'InputLayer') {
        // A Sequential model whose first layer carries the input shape: make the input explicit.
        const shape = cfg['batch_input_shape'] ?? cfg['batch_shape'];
        layers.push({ name: `${name}_input`, className: 'InputLayer', config: { batch_input_shape: shape ?? null }, inputs: [] });
        seen.add(`${name}_input`);
        inputs = [`${name}_input`];
      }
    } else {
      inputs = inboundNames(entry['inbound_nodes'], name, file);
    }
    for (const inp of inputs) {
      if (!seen.has(inp)) throw new Error(`${file}: layer '${name}' takes input from '${inp}', which is not defined before it`);
    }
    layers.push({ name, className: cls, config: cfg, inputs });
    seen.add(name);
  });
  const inputs = layers.filter((l) => l.className === 'InputLayer');
  if (inputs.length !== 1) throw new Error(`${file}: expected exactly one InputLayer, found ${inputs.length}`);
  const input = inputs[0]!;
  const shape = input.config['batch_input_shape'] ?? input.config['batch_shape'];
  const nativeInputShape = Array.isArray(shape) && shape.length === 4 ? (shape.slice(1) as (number | null)[]) : [null, null, null];
  return { file, layers, inputName: input.name, nativeInputShape };
}

/** Input layer names from Keras 2 or Keras 3 `inbound_nodes`. */
function inboundNames(raw: LiteralValue | undefined, layer: string, file: string): string[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) throw new Error(`${file}: layer '${layer}': inbound_nodes should be a list`);
  if (raw.length === 0) return [];
  if (raw.length > 1) throw new Error(`${file}: layer '${layer}' is called ${raw.length} times (shared layers are not supported)`);
  const node = raw[0]!;
  const names: string[] = [];
  if (Array.isArray(node)) {
    // Keras 2: [["name", nodeIndex, tensorIndex, kwargs], ...]
    for (const ref of node) {
      if (!Array.isArray(ref) || typeof ref[0] !== 'string') throw new Error(`${file}: layer '${layer}': malformed inbound node ${JSON.stringify(ref)}`);
      names.push(ref[0]);
    }
    return names;
  }
  // Keras 3: {args: [...], kwargs: {...}} with keras_history somewhere inside each argument.
  const visit = (v: LiteralValue): void => {
    if (Array.isArray(v)) { v.forEach(visit); return; }
    if (!isObject(v)) return;
    const hist = isObject(v['config']) ? v['config']['keras_history'] : undefined;
    if (Array.isArray(hist) && typeof hist[0] === 'string') { names.push(hist[0]); return; }
    Object.values(v).forEach(visit);
  };
  if (isObject(node)) visit(node['args'] ?? null);
  if (names.length === 0) throw new Error(`${file}: layer '${layer}': could not read its inputs from inbound_nodes`);
  return names;
}

/**
 * The layer whose output is the pooled feature vector: the first GlobalAveragePooling2D, or
 * the first Flatten fed directly by an AveragePooling2D.
 */
export function pooledFeatureLayer(topo: KerasTopology): string {
  const byName = new Map(topo.layers.map((l) => [l.name, l]));
  for (const l of topo.layers) {
    if (l.className === 'GlobalAveragePooling2D') return l.name;
    if (l.className === 'Flatten' && l.inputs.length === 1 && byName.get(l.inputs[0]!)?.className === 'AveragePooling2D') return l.name;
  }
  throw new Error(`${topo.file}: no pooled-feature layer found (expected a GlobalAveragePooling2D, or a Flatten right after an AveragePooling2D)`);
}

/** The names of `target` and everything it depends on. */
function ancestorsOf(topo: KerasTopology, target: string): Set<string> {
  const byName = new Map(topo.layers.map((l) => [l.name, l]));
  const out = new Set<string>();
  const stack = [target];
  while (stack.length > 0) {
    const n = stack.pop()!;
    if (out.has(n)) continue;
    out.add(n);
    stack.push(...(byName.get(n)?.inputs ?? []));
  }
  return out;
}

/**
 * The layers needed to compute `upTo` (default: the pooled features), in file order.
 * Refuses any `upTo` that lies after the pooled features: the classification head of a
 * pretrained model is never built, run or exposed.
 */
export function backboneUpTo(topo: KerasTopology, upTo?: string): LayerNode[] {
  const pooled = pooledFeatureLayer(topo);
  const target = upTo ?? pooled;
  if (!topo.layers.some((l) => l.name === target)) throw new Error(`${topo.file}: there is no layer named '${target}'`);
  const needed = ancestorsOf(topo, target);
  if (target !== pooled && needed.has(pooled)) {
    const cls = topo.layers.find((l) => l.name === target)!.className;
    throw new Error(`${topo.file}: refusing to build layer '${target}' (${cls}): it lies after the pooled features '${pooled}'; the classification head is never built`);
  }
  return topo.layers.filter((l) => needed.has(l.name));
}
