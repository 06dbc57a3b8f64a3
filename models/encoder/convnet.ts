/**
 * A small in-project ConvNet: trained as a classifier with our own framework, then frozen and
 * used through its penultimate layer as a {@link FeatureExtractor}.
 *
 * Two jobs (see docs/data.md, "The frozen encoder"):
 * - a fast alignment target for ARRA's global feature on digit/clothing data, where
 *   MobileNetV2 at 224 px would cost seconds per image;
 * - the FID network for that data ("LeNet-features FID", as MNIST-scale generation papers
 *   use): FID compares feature statistics, so it needs a network that has learned what
 *   separates the classes.
 *
 * Architecture (an all-convolutional LeNet: stride-2 convolutions instead of pooling):
 *
 *     x [B, C, S, S]
 *     conv1 3×3 stride 2 pad 1 → ReLU       [B, w1, S/2, S/2]
 *     conv2 3×3 stride 2 pad 1 → ReLU       [B, w2, S/4, S/4]
 *     flatten → fc Linear → ReLU            [B, featureDim]   ← the features
 *     head Linear                           [B, numClasses]   (logits, training only)
 *
 * `arch: 'maxpool'` is a second architecture for a network that must not be a sibling of the
 * first (the FID network next to a ConvNet alignment encoder, docs/experiments.md): stride-1
 * convolutions each followed by 2×2 max pooling (LeNet's pattern) instead of strided
 * convolutions, so every output pixel sees all four input positions and keeps the largest:
 *
 *     conv1 3×3 stride 1 pad 1 → ReLU → max-pool 2   [B, w1, S/2, S/2]
 *     conv2 3×3 stride 1 pad 1 → ReLU → max-pool 2   [B, w2, S/4, S/4]
 *     flatten → fc → ReLU → head, as above
 */
import { createHash } from 'node:crypto';
import { concat, Conv2d, fmtShape, globalAvgPool, jsonMetadata, Linear, loadSafetensors, maxPool2d, Module, readJsonMetadata, type Rng, relu, reshape, saveSafetensors, type Tensor } from '../../lib';
import { checkImages, extractInChunks, type FeatureExtractor } from './feature-extractor';
import { greyToRgb, resizeBilinear } from './preprocess';

/** Sizes of a {@link ConvNet}. */
export interface ConvNetConfig {
  /** 1 (grey) or 3 (RGB). */
  inChannels: number;
  /** Square input side; a multiple of 4. */
  imageSize: number;
  /** Channels of the two convolutions. */
  widths: [number, number];
  /** Length of the feature vector (the penultimate layer). */
  featureDim: number;
  numClasses: number;
  /** `strided` (default): stride-2 convolutions; `maxpool`: stride-1 convolutions + 2×2 max pooling. */
  arch?: ConvNetArch;
}

/** The two ConvNet architectures (see the file comment). */
export const CONVNET_ARCHS = ['strided', 'maxpool'] as const;
export type ConvNetArch = (typeof CONVNET_ARCHS)[number];

/** The default: 28×28 grey digits, 16/32 channels, 64-d features, 10 classes. */
export const DEFAULT_CONVNET: ConvNetConfig = { inChannels: 1, imageSize: 28, widths: [16, 32], featureDim: 64, numClasses: 10 };

export class ConvNet extends Module {
  readonly conv1: Conv2d;
  readonly conv2: Conv2d;
  readonly fc: Linear;
  readonly head: Linear;

  constructor(readonly config: ConvNetConfig, rng?: Rng) {
    super();
    const { inChannels, imageSize, widths, featureDim, numClasses } = config;
    if (imageSize % 4 !== 0) throw new Error(`ConvNet: imageSize must be a multiple of 4, got ${imageSize}`);
    const arch = config.arch ?? 'strided';
    if (!(CONVNET_ARCHS as readonly string[]).includes(arch)) throw new Error(`ConvNet: arch should be one of ${CONVNET_ARCHS.join(', ')}, got '${String(arch)}'`);
    const stride = arch === 'strided' ? 2 : 1;
    this.conv1 = new Conv2d(inChannels, widths[0], 3, { stride, padding: 1, rng });
    this.conv2 = new Conv2d(widths[0], widths[1], 3, { stride, padding: 1, rng });
    this.fc = new Linear(widths[1] * (imageSize / 4) ** 2, featureDim, { rng });
    this.head = new Linear(featureDim, numClasses, { rng });
  }

  /** Penultimate-layer features: x [B, C, S, S] → [B, featureDim]. */
  features(x: Tensor): Tensor {
    const { inChannels, imageSize } = this.config;
    if (x.rank !== 4 || x.shape[1] !== inChannels || x.shape[2] !== imageSize || x.shape[3] !== imageSize) {
      throw new Error(`ConvNet: expected images [B, ${inChannels}, ${imageSize}, ${imageSize}], got ${fmtShape(x.shape)}`);
    }
    const h2 = this.convMap(x); // [B, w2, S/4, S/4]
    const flat = reshape(h2, [x.shape[0]!, -1]); // [B, w2·S²/16]
    return relu(this.fc.forward(flat)); // [B, featureDim]
  }

  /** The last convolutional feature map: x [B, C, S, S] → [B, w2, S/4, S/4]. */
  convMap(x: Tensor): Tensor {
    if ((this.config.arch ?? 'strided') === 'strided') {
      const h1 = relu(this.conv1.forward(x)); // [B, w1, S/2, S/2]
      return relu(this.conv2.forward(h1)); // [B, w2, S/4, S/4]
    }
    const h1 = maxPool2d(relu(this.conv1.forward(x)), 2); // [B, w1, S, S] → [B, w1, S/2, S/2]
    return maxPool2d(relu(this.conv2.forward(h1)), 2); // [B, w2, S/2, S/2] → [B, w2, S/4, S/4]
  }

  /** Class logits [B, numClasses]. */
  forward(x: Tensor): Tensor {
    return this.head.forward(this.features(x));
  }
}

/** What a saved ConvNet records besides its weights. */
export interface ConvNetMeta {
  config: ConvNetConfig;
  /** The dataset it was trained on (e.g. `mnist`, `fashion-mnist`). */
  dataset: string;
  /** Test accuracy measured after training (0–1). */
  testAccuracy?: number;
  /** Anything else worth keeping (steps, seed, time). */
  training?: Record<string, unknown>;
}

/** Save weights + metadata as safetensors (atomic write). */
export function saveConvNet(file: string, net: ConvNet, meta: ConvNetMeta): void {
  saveSafetensors(file, net.stateDict(), jsonMetadata({ kind: 'arra-convnet', convnet: meta }));
}

/** Load a ConvNet saved by {@link saveConvNet}. */
export function loadConvNet(file: string): { net: ConvNet; meta: ConvNetMeta; digest: string } {
  const st = loadSafetensors(file);
  if (st.metadata.kind !== undefined && st.metadata.kind !== JSON.stringify('arra-convnet')) {
    throw new Error(`${file}: expected a ConvNet checkpoint (from arra train-encoder), found a checkpoint of kind ${st.metadata.kind}`);
  }
  const meta = readJsonMetadata<ConvNetMeta>(st.metadata, 'convnet', file);
  const net = new ConvNet(meta.config);
  try {
    net.loadStateDict(st.tensors);
  } catch (err) {
    throw new Error(`${file}: ${(err as Error).message} (the checkpoint was made with ${JSON.stringify(meta.config)})`);
  }
  return { net, meta, digest: weightsDigest(net) };
}

/** A short hash of the weights: it goes into the extractor's name, so caches notice a retrained net. */
export function weightsDigest(net: Module): string {
  const h = createHash('sha256');
  for (const [name, t] of net.stateDict()) {
    h.update(name);
    const v = t.values();
    h.update(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
  }
  return h.digest('hex').slice(0, 12);
}

/**
 * Which vector of a ConvNet is the global feature (ARRA's `pool(E(I))`, §3.2):
 * `penultimate` — the fc layer's output (default); `avg` — the global average of the last
 * convolutional map [B, w2]; `both` — the two concatenated [B, featureDim + w2].
 */
export const CONVNET_POOLINGS = ['penultimate', 'avg', 'both'] as const;
export type ConvNetPooling = (typeof CONVNET_POOLINGS)[number];

/** A trained {@link ConvNet}, frozen, as a {@link FeatureExtractor} of its penultimate layer (or pooled map). */
export class ConvNetFeatures implements FeatureExtractor {
  readonly name: string;
  readonly dim: number;
  readonly inputSize: number;

  /** Freezes `net` (eval mode, parameters requiresGrad false) — it is not to be trained further. */
  constructor(readonly net: ConvNet, dataset: string, private readonly batchSize = 256, readonly pooling: ConvNetPooling = 'penultimate') {
    if (!(CONVNET_POOLINGS as readonly string[]).includes(pooling)) throw new Error(`ConvNetFeatures: pooling should be one of ${CONVNET_POOLINGS.join(', ')}, got '${String(pooling)}'`);
    net.eval().freeze();
    // The pooling is part of the name, so feature caches of different poolings never mix.
    this.name = `convnet-${dataset}-${weightsDigest(net)}${pooling === 'penultimate' ? '' : `-${pooling}`}`;
    const w2 = net.config.widths[1];
    this.dim = pooling === 'penultimate' ? net.config.featureDim : pooling === 'avg' ? w2 : net.config.featureDim + w2;
    this.inputSize = net.config.imageSize;
  }

  /** Load a saved ConvNet as a frozen extractor. */
  static load(file: string, pooling: ConvNetPooling = 'penultimate'): ConvNetFeatures {
    const { net, meta } = loadConvNet(file);
    return new ConvNetFeatures(net, meta.dataset, 256, pooling);
  }

  /** images [B, C, H, W] in [0, 1] → [B, dim], under no-grad (RGB → grey by channel mean when the net is grey). */
  extract(images: Tensor): Tensor {
    checkImages(`${this.name} extract`, images, [1, 3]);
    return extractInChunks(images, this.batchSize, this.dim, (chunk) => this.pooled(this.preprocess(chunk)));
  }

  /** The configured global feature of preprocessed images: [B, dim]. */
  private pooled(x: Tensor): Tensor {
    if (this.pooling === 'penultimate') return this.net.features(x); // [B, featureDim]
    const avg = globalAvgPool(this.net.convMap(x)); // [B, w2, S/4, S/4] → [B, w2]
    return this.pooling === 'avg' ? avg : concat([this.net.features(x), avg], 1); // [B, featureDim + w2]
  }

  /** Match the net's channels and size: [B, C, H, W] → [B, inChannels, S, S]. */
  preprocess(images: Tensor): Tensor {
    const c = images.shape[1]!;
    const want = this.net.config.inChannels;
    let x = images;
    if (want === 3 && c === 1) x = greyToRgb(images);
    else if (want === 1 && c === 3) x = images.mean(1, true); // [B, 1, H, W]
    return resizeBilinear(x, this.inputSize);
  }

  parameters(): Tensor[] {
    return this.net.parameters();
  }
}

/** The fraction of `labels` the net's arg-max logits get right, evaluated in batches under no-grad. */
export function accuracy(net: ConvNet, images: Tensor, labels: Int32Array, batchSize = 500): number {
  net.eval();
  const k = net.config.numClasses;
  const logits = extractInChunks(images, batchSize, k, (chunk) => net.forward(chunk)).values();
  let right = 0;
  for (let i = 0; i < labels.length; i++) {
    let best = 0;
    for (let j = 1; j < k; j++) if (logits[i * k + j]! > logits[i * k + best]!) best = j;
    if (best === labels[i]) right++;
  }
  return right / labels.length;
}
