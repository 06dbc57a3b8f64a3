/**
 * A pretrained TF.js layers model, run by our framework up to its pooled features.
 *
 * Loading: read the files ({@link readModelArtifacts}), parse the topology, keep only the
 * layers the pooled features depend on ({@link backboneUpTo} — the classification head is
 * never built), check every layer's settings, infer every shape, and decode + convert only
 * the weights those layers use. Any fault is raised before an encoder object exists.
 *
 * Running: images [B, C, H, W] in [0, 1] → grey→RGB → bilinear resize to `inputSize`
 * (align-corners, as nsfwjs does) → the layers in file order → features [B, dim].
 */
import * as path from 'node:path';
import { fmtShape, type Tensor } from '../../../lib';
import { checkImages, extractInChunks, type FeatureExtractor } from '../feature-extractor';
import { greyToRgb, resizeBilinear } from '../preprocess';
import { readModelArtifacts } from './artifacts';
import { convertLayerWeights, weightNamesOf } from './convert';
import { type TypedLayer, typedLayer } from './layer-config';
import { foldBatchNorms } from './fold';
import { forwardLayer, type LayerWeights, outputShape } from './layers';
import { backboneUpTo, type KerasTopology, parseTopology } from './topology';
import { decodeWeights } from './weights';

/** Options of {@link TfjsLayersEncoder.load}. */
export interface TfjsEncoderOptions {
  /** Square input side in pixels (default: the size the model was built for, e.g. 224). */
  inputSize?: number;
  /** Images encoded per forward pass (bounds memory; default 4). */
  batchSize?: number;
  /** Fold each BatchNormalization into the conv before it (default true; same function, faster). */
  foldBatchNorm?: boolean;
  /** Name recorded in feature caches (default `tfjs:<folder>/<file>`). */
  name?: string;
  /**
   * Stop at this layer instead of the pooled features. Only layers *before* the pooled
   * features are accepted; naming a head layer is refused.
   */
  featureLayer?: string;
}

/** Output shapes of each layer for an input [1, C, size, size]. */
function inferShapes(layers: TypedLayer[], inputShape: number[], file: string): Map<string, number[]> {
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
  if (typeof h !== 'number' || typeof w !== 'number') return layers;
  const native = inferShapes(layers, [1, c ?? 3, h, w], topo.file);
  const last = layers[layers.length - 1]!;
  if (last.op.kind !== 'flatten') return layers;
  return layers.map((l) => {
    if (l.node.name !== last.node.inputs[0] || l.op.kind !== 'avgpool' || l.op.padding !== 'valid') return l;
    const inShape = native.get(l.node.inputs[0]!)!;
    const covers = inShape[2] === l.op.pool[0] && inShape[3] === l.op.pool[1];
    return covers ? { node: l.node, op: { kind: 'globalavgpool' } } : l;
  });
}

/** A TF.js layers model as a frozen {@link FeatureExtractor}. */
export class TfjsLayersEncoder implements FeatureExtractor {
  private constructor(
    readonly name: string,
    readonly dim: number,
    readonly inputSize: number,
    /** The side the pretrained model was built and trained for (224 for MobileNetV2). */
    readonly nativeInputSize: number | null,
    /** The layers that run, in order (the backbone only). */
    readonly layers: readonly TypedLayer[],
    private readonly weights: Map<string, LayerWeights>,
    private readonly inputChannels: number,
    private readonly batchSize: number,
  ) {}

  /** Load `modelFile` (model.json or an nsfwjs model.min.js) and its shards; see the file comment. */
  static load(modelFile: string, opts: TfjsEncoderOptions = {}): TfjsLayersEncoder {
    const artifacts = readModelArtifacts(modelFile);
    const topo = parseTopology(artifacts.topology, modelFile);
    const layers = poolsAsGlobal(backboneUpTo(topo, opts.featureLayer).map((n) => typedLayer(n, modelFile)), topo);
    const [nh, nw, nc] = topo.nativeInputShape;
    const native = typeof nh === 'number' && nh === nw ? nh : null;
    const inputSize = opts.inputSize ?? native;
    if (inputSize === null || !Number.isInteger(inputSize) || inputSize < 1) {
      throw new Error(`${modelFile}: the model does not state a square input size; pass inputSize`);
    }
    const channels = typeof nc === 'number' ? nc : 3;
    const shapes = inferShapes(layers, [1, channels, inputSize, inputSize], modelFile);
    const outShape = shapes.get(layers[layers.length - 1]!.node.name)!;
    if (outShape.length !== 2) {
      throw new Error(`${modelFile}: layer '${layers[layers.length - 1]!.node.name}' gives ${fmtShape(outShape)}, not one feature vector per image`);
    }
    // Decode only the weights the backbone uses; the head's bytes are never decoded.
    const wanted = new Set(layers.flatMap(({ node, op }) => weightNamesOf(op).map((w) => `${node.name}/${w}`)));
    const decoded = decodeWeights(artifacts, (name) => wanted.has(name));
    const weights = new Map<string, LayerWeights>();
    for (const { node, op } of layers) {
      const where = `${modelFile}: layer '${node.name}' (${node.className})`;
      const inShape = op.kind === 'input' ? [1, channels, inputSize, inputSize] : shapes.get(node.inputs[0]!)!;
      const get = (w: string) => {
        const d = decoded.get(`${node.name}/${w}`);
        if (d === undefined) throw new Error(`${where}: weight '${node.name}/${w}' is not in the weight manifest`);
        return d;
      };
      weights.set(node.name, convertLayerWeights(op, inShape, get, where));
    }
    const built = opts.foldBatchNorm === false ? layers : foldBatchNorms(layers, weights);
    const name = opts.name ?? `tfjs:${path.basename(path.dirname(modelFile))}/${path.basename(modelFile)}`;
    return new TfjsLayersEncoder(name, outShape[1]!, inputSize, native, built, weights, channels, opts.batchSize ?? 4);
  }

  /** Encode images [B, C, H, W] in [0, 1] → [B, dim], under no-grad. */
  extract(images: Tensor): Tensor {
    checkImages(`${this.name} extract`, images, [1, 3]);
    return extractInChunks(images, this.batchSize, this.dim, (chunk) => this.forward(this.preprocess(chunk)));
  }

  /** Grey → RGB (when the model takes 3 channels) and resize to `inputSize`. */
  preprocess(images: Tensor): Tensor {
    const rgb = this.inputChannels === 3 ? greyToRgb(images) : images;
    return resizeBilinear(rgb, this.inputSize); // [B, C, S, S]
  }

  /** The layers in order on an already preprocessed batch [B, C, S, S] → [B, dim]. */
  forward(x: Tensor): Tensor {
    const outputs = new Map<string, Tensor>();
    const consumers = new Map<string, number>();
    for (const { node } of this.layers) for (const i of node.inputs) consumers.set(i, (consumers.get(i) ?? 0) + 1);
    let last = x;
    for (const { node, op } of this.layers) {
      const ins = op.kind === 'input' ? [x] : node.inputs.map((n) => outputs.get(n)!);
      last = forwardLayer(op, ins, this.weights.get(node.name)!, node.name);
      outputs.set(node.name, last);
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
