/**
 * Frozen feature extractors: the global feature ARRA aligns to, and the network FID measures with.
 *
 * - {@link FeatureExtractor}: the interface (always no-grad, constant weights).
 * - {@link TfjsLayersEncoder} / {@link loadMobileNetV2}: a pretrained TF.js layers model read
 *   as data, run up to its pooled features (nsfwjs's MobileNetV2 → 1280-d).
 */
export * from './feature-extractor';
export * from './preprocess';
export { TfjsLayersEncoder, type TfjsEncoderOptions } from './tfjs-layers/model';
export { TfjsLayersGraph, type TfjsGraphOptions } from './tfjs-layers/graph';
export { loadMobileNetV2, nsfwjsMobileNetV2File } from './tfjs-layers/nsfwjs';
