/**
 * A pretrained TF.js layers model as a runnable graph, built only up to a chosen layer
 * (by default the pooled features).
 *
 * Building: read the files (`readModelArtifacts`), parse the topology, keep only the
 * layers the target depends on (`backboneUpTo` — the classification head is never
 * built), check every layer's settings, infer every shape, decode + convert only the
 * weights those layers use, and fold BatchNorms into their convs. Any fault is raised
 * before a graph object exists, so nothing half-loaded is ever returned.
 */
import { type Tensor } from '../../../lib';
import { readModelArtifacts } from './artifacts';
import { convertLayerWeights, weightNamesOf } from './convert';
import { foldBatchNorms } from './fold';
import { type TypedLayer, typedLayer } from './layer-config';
import { forwardLayer, type LayerWeights, outputShape } from './layers';
import { backboneUpTo, type KerasTopology, parseTopology } from './topology';
import { decodeWeights } from './weights';

/** Options of {@link TfjsLayersGraph.load}. */
export interface TfjsGraphOptions {
  /** Square input side in pixels (default: the size the model was built for, e.g. 224). */
  inputSize?: number;
  /** Build up to this layer (default: the pooled features). Layers after the pooled features are refused. */
  upTo?: string;
  /** Fold each BatchNormalization into the conv before it (default true; same function, faster). */
  foldBatchNorm?: boolean;
}

/** Output shapes of each layer for an input [1, C, size, size]. */
function inferShapes(layers: readonly TypedLayer[], inputShape: number[], file: string): Map<string, number[]> {
  const shapes = new Map<string, number[]>();
  for (const { node, op } of layers) {
    const ins = op.kind === 'input' ? [inputShape] : node.inputs.map((n) => shapes.get(n)!);
    try {
      shapes.set(node.name, outputShape(op, ins, node.name));
    } catch (e) {
      throw new Error(`${file}: at input size ${inputShape[2]}×${inputShape[3]}: ${(e as Error).message}`);
    }
  }
  return shapes;
}

/**
 * Older Keras MobileNetV2 (nsfwjs) pools with AveragePooling2D(7×7) + Flatten: at the 224 px
 * it was built for, that *is* a global average. We keep that meaning at other input sizes by
 * turning such a pool (one that covers its whole input map at the native size) into a global
 * average pool; at the native size both give identical numbers.
 */
function poolsAsGlobal(layers: TypedLayer[], topo: KerasTopology): TypedLayer[] {
  const [h, w, c] = topo.nativeInputShape;
  const last = layers[layers.length - 1]!;
  if (typeof h !== 'number' || typeof w !== 'number' || last.op.kind !== 'flatten') return layers;
  const native = inferShapes(layers, [1, c ?? 3, h, w], topo.file);
  return layers.map((l) => {
    if (l.node.name !== last.node.inputs[0] || l.op.kind !== 'avgpool' || l.op.padding !== 'valid') return l;
    const inShape = native.get(l.node.inputs[0]!)!;
    const covers = inShape[2] === l.op.pool[0] && inShape[3] === l.op.pool[1];
    return covers ? { node: l.node, op: { kind: 'globalavgpool' } } : l;
  });
}

/** The backbone of a TF.js layers model, converted to our layout and ready to run. */
export class TfjsLayersGraph {
  private constructor(
    /** The model file it was read from. */
    readonly file: string,
    /** The layers that run, in order. */
    readonly layers: readonly TypedLayer[],
    private readonly weights: Map<string, LayerWeights>,
    /** Output shape of the last layer for one image, e.g. [1, 1280]. */
    readonly outputShape: number[],
    readonly inputSize: number,
    /** The side the pretrained model was built and trained for (224 for MobileNetV2), if stated. */
    readonly nativeInputSize: number | null,
    /** Channels the model takes (3 for RGB). */
    readonly inputChannels: number,
  ) {}

  /** Read and build; see the file comment. */
  static load(modelFile: string, opts: TfjsGraphOptions = {}): TfjsLayersGraph {
    const artifacts = readModelArtifacts(modelFile);
    const topo = parseTopology(artifacts.topology, modelFile);
    const layers = poolsAsGlobal(backboneUpTo(topo, opts.upTo).map((n) => typedLayer(n, modelFile)), topo);
    const [nh, nw, nc] = topo.nativeInputShape;
    const native = typeof nh === 'number' && nh === nw ? nh : null;
    const inputSize = opts.inputSize ?? native;
    if (inputSize === null || !Number.isInteger(inputSize) || inputSize < 1) {
      throw new Error(`${modelFile}: the model does not state a square input size; pass inputSize`);
    }
    const channels = typeof nc === 'number' ? nc : 3;
    const inputShape = [1, channels, inputSize, inputSize];
    const shapes = inferShapes(layers, inputShape, modelFile);
    // Decode only the weights the backbone uses; the head's bytes are never decoded.
    const wanted = new Set(layers.flatMap(({ node, op }) => weightNamesOf(op).map((w) => `${node.name}/${w}`)));
    const decoded = decodeWeights(artifacts, (name) => wanted.has(name));
    const weights = new Map<string, LayerWeights>();
    for (const { node, op } of layers) {
      const where = `${modelFile}: layer '${node.name}' (${node.className})`;
      const get = (w: string) => {
        const d = decoded.get(`${node.name}/${w}`);
        if (d === undefined) throw new Error(`${where}: weight '${node.name}/${w}' is not in the weight manifest`);
        return d;
      };
      const inShape = op.kind === 'input' ? inputShape : shapes.get(node.inputs[0]!)!;
      weights.set(node.name, convertLayerWeights(op, inShape, get, where));
    }
    const built = opts.foldBatchNorm === false ? layers : foldBatchNorms(layers, weights);
    const out = shapes.get(layers[layers.length - 1]!.node.name)!;
    return new TfjsLayersGraph(modelFile, built, weights, out, inputSize, native, channels);
  }

  /**
   * Run the layers in order on a preprocessed batch [B, C, S, S]; returns the last layer's
   * output, or that of layer `stopAt` (e.g. the feature map before the global pool).
   */
  forward(x: Tensor, stopAt?: string): Tensor {
    if (stopAt !== undefined && !this.layers.some((l) => l.node.name === stopAt)) throw new Error(`${this.file}: no layer '${stopAt}' in the built backbone`);
    const outputs = new Map<string, Tensor>();
    const consumers = new Map<string, number>();
    for (const { node } of this.layers) for (const i of node.inputs) consumers.set(i, (consumers.get(i) ?? 0) + 1);
    let last = x;
    for (const { node, op } of this.layers) {
      const ins = op.kind === 'input' ? [x] : node.inputs.map((n) => outputs.get(n)!);
      last = forwardLayer(op, ins, this.weights.get(node.name)!, node.name);
      outputs.set(node.name, last);
      if (node.name === stopAt) return last;
      // Free activations nobody needs any more (MobileNetV2 maps are tens of MB at 224 px).
      for (const i of node.inputs) {
        const left = consumers.get(i)! - 1;
        consumers.set(i, left);
        if (left === 0) outputs.delete(i);
      }
    }
    return last;
  }

  /** The converted weights (all constants, requiresGrad false). */
  parameters(): Tensor[] {
    return [...this.weights.values()].flatMap((w) => [w.kernel, w.bias, w.scale, w.shift].filter((t): t is Tensor => t !== undefined));
  }
}
