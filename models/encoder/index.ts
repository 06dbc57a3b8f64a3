/**
 * Frozen feature extractors: the global feature ARRA aligns to, and the network FID measures with.
 *
 * - {@link FeatureExtractor}: the interface (always no-grad, constant weights).
 * - {@link TfjsLayersEncoder} / {@link loadMobileNetV2}: a pretrained TF.js layers model read
 *   as data, run up to its pooled features (nsfwjs's MobileNetV2 → 1280-d).
 * - {@link ConvNet} / {@link ConvNetFeatures}: a small CNN trained here (`arra train-encoder`, examples/pipeline/encoder-trainer.ts),
 *   frozen, its penultimate layer as features (alignment target and FID network for MNIST-like data).
 */
export * from './feature-extractor';
export * from './preprocess';
export { TfjsLayersEncoder, type TfjsEncoderOptions } from './tfjs-layers/model';
export { TfjsLayersGraph, type TfjsGraphOptions } from './tfjs-layers/graph';
export type { Activation, LayerOp, Padding, TypedLayer } from './tfjs-layers/layer-config';
export { SUPPORTED_LAYERS } from './tfjs-layers/layer-config';
export type { LayerNode, KerasTopology } from './tfjs-layers/topology';
export type { LiteralValue } from './tfjs-layers/literal';
export { loadMobileNetV2, nsfwjsMobileNetV2File } from './tfjs-layers/nsfwjs';
export * from './convnet';
export * from './feature-cache';
export * from './attributes';
