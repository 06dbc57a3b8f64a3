/**
 * A pretrained TF.js layers model as a frozen {@link FeatureExtractor}.
 *
 * images [B, C, H, W] in [0, 1] → grey→RGB → bilinear resize to `inputSize` (align-corners,
 * as nsfwjs does) → the backbone ({@link TfjsLayersGraph}) → pooled features [B, dim].
 */
import * as path from 'node:path';
import { concat, fmtShape, globalAvgPool, max, type Tensor } from '../../../lib';
import { checkImages, extractInChunks, type FeatureExtractor } from '../feature-extractor';
import { greyToRgb, resizeBilinear } from '../preprocess';
import { type TfjsGraphOptions, TfjsLayersGraph } from './graph';

/** Options of {@link TfjsLayersEncoder.load}. */
export interface TfjsEncoderOptions {
  /** Square input side in pixels (default: the size the model was built for, e.g. 224). */
  inputSize?: number;
  /** Images encoded per forward pass (bounds memory; default 4). */
  batchSize?: number;
  /** Name recorded in feature caches (default `tfjs:<folder>/<file>@<inputSize>`). */
  name?: string;
  /** Fold each BatchNormalization into the conv before it (default true; same function, faster). */
  foldBatchNorm?: boolean;
  /**
   * Take features from this layer instead of the pooled features; it must give one vector
   * per image and lie before the pooled features (a head layer is refused).
   */
  featureLayer?: string;
  /**
   * Global feature from the last feature map (when the backbone ends in a global average
   * pool): `avg` (default, the model's own pool), `max` (global max over H×W), `both`
   * (avg ⊕ max, twice the dimension). Part of the default name, so caches never mix them.
   */
  pooling?: 'avg' | 'max' | 'both';
}

/** A TF.js layers model's pooled features as a frozen {@link FeatureExtractor}. */
export class TfjsLayersEncoder implements FeatureExtractor {
  private constructor(
    readonly name: string,
    readonly dim: number,
    /** The runnable backbone. */
    readonly graph: TfjsLayersGraph,
    private readonly batchSize: number,
    /** `avg` | `max` | `both` (see {@link TfjsEncoderOptions.pooling}). */
    readonly pooling: 'avg' | 'max' | 'both' = 'avg',
    /** The layer whose map is pooled when pooling is not `avg`. */
    private readonly mapLayer: string | null = null,
  ) {}

  /** Load `modelFile` (model.json or an nsfwjs model.min.js) and its shards. */
  static load(modelFile: string, opts: TfjsEncoderOptions = {}): TfjsLayersEncoder {
    const graphOpts: TfjsGraphOptions = { inputSize: opts.inputSize, upTo: opts.featureLayer, foldBatchNorm: opts.foldBatchNorm };
    const graph = TfjsLayersGraph.load(modelFile, graphOpts);
    if (graph.outputShape.length !== 2) {
      const last = graph.layers[graph.layers.length - 1]!.node.name;
      throw new Error(`${modelFile}: layer '${last}' gives ${fmtShape(graph.outputShape)} per image, not one feature vector`);
    }
    const pooling = opts.pooling ?? 'avg';
    if (!['avg', 'max', 'both'].includes(pooling)) throw new Error(`${modelFile}: pooling should be 'avg', 'max' or 'both', got '${String(pooling)}'`);
    let mapLayer: string | null = null;
    if (pooling !== 'avg') {
      // the map the backbone's own global average pool reads
      const pool = graph.layers.find((l) => l.op.kind === 'globalavgpool');
      if (!pool) throw new Error(`${modelFile}: pooling '${pooling}' needs a backbone that ends in a global average pool; this one does not`);
      mapLayer = pool.node.inputs[0]!;
    }
    const suffix = pooling === 'avg' ? '' : `-${pooling}`;
    const name = opts.name ?? `tfjs:${path.basename(path.dirname(modelFile))}/${path.basename(modelFile)}@${graph.inputSize}${suffix}`;
    const dim = graph.outputShape[1]! * (pooling === 'both' ? 2 : 1);
    return new TfjsLayersEncoder(name, dim, graph, opts.batchSize ?? 4, pooling, mapLayer);
  }

  get inputSize(): number {
    return this.graph.inputSize;
  }

  /** Encode images [B, C, H, W] in [0, 1] → [B, dim], under no-grad. */
  extract(images: Tensor): Tensor {
    checkImages(`${this.name} extract`, images, [1, 3]);
    return extractInChunks(images, this.batchSize, this.dim, (chunk) => this.pooled(this.preprocess(chunk)));
  }

  /** The configured global feature: the backbone's own (avg), or a pool of its last map. */
  private pooled(x: Tensor): Tensor {
    if (this.pooling === 'avg') return this.graph.forward(x); // [B, dim]
    const map = this.graph.forward(x, this.mapLayer!); // [B, C, h, w]
    const gmp = max(map, [2, 3]); // [B, C]   global max over the map
    return this.pooling === 'max' ? gmp : concat([globalAvgPool(map), gmp], 1); // [B, 2C]
  }

  /** Grey → RGB (when the model takes 3 channels) and resize to `inputSize`: [B, C, S, S]. */
  preprocess(images: Tensor): Tensor {
    const rgb = this.graph.inputChannels === 3 ? greyToRgb(images) : images;
    return resizeBilinear(rgb, this.inputSize);
  }

  parameters(): Tensor[] {
    return this.graph.parameters();
  }
}
