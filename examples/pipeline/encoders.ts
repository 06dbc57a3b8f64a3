/**
 * Naming a frozen feature extractor on the command line:
 *
 *   convnet:<file>      an in-project ConvNet saved by `arra train-encoder`
 *   mobilenet[@<px>]    nsfwjs's ImageNet-initialised MobileNetV2 backbone, pooled 1280-d
 *                       features, at <px> input (default 64; it was trained at 224)
 */
import { existsSync } from 'node:fs';
import { UsageError } from '../../lib/cli';
import type { EncoderPooling } from '../../models/arra';
import { CONVNET_POOLINGS, ConvNetFeatures, type ConvNetPooling, loadMobileNetV2, type FeatureExtractor } from '../../models/encoder';

/**
 * Open the extractor an `--align-encoder` / `--fid-encoder` value names; `flag` is for the
 * error message. `pooling` picks the global feature where the encoder offers a choice
 * (ConvNet: penultimate | avg | both; MobileNetV2: avg | max | both); an unsupported choice is a usage error.
 */
export function openEncoder(spec: string, flag: string, pooling?: EncoderPooling): FeatureExtractor {
  if (spec.startsWith('convnet:')) {
    const file = spec.slice('convnet:'.length);
    if (!existsSync(file)) throw new UsageError(`${flag}: no ConvNet checkpoint at ${file} (train one with 'arra train-encoder')`, flag);
    const p = pooling ?? 'penultimate';
    if (!(CONVNET_POOLINGS as readonly string[]).includes(p)) {
      throw new UsageError(`--align-pooling: a ConvNet offers ${CONVNET_POOLINGS.join(', ')}, got '${p}'`, '--align-pooling');
    }
    return ConvNetFeatures.load(file, p as ConvNetPooling);
  }
  const m = /^mobilenet(?:@(\d+))?$/.exec(spec);
  if (m) {
    if (pooling !== undefined && pooling !== 'avg' && pooling !== 'max' && pooling !== 'both') {
      throw new UsageError(`--align-pooling: MobileNetV2 offers avg, max or both (global pools of its last map), got '${pooling}'`, '--align-pooling');
    }
    const size = m[1] ? Number(m[1]) : 64;
    if (size < 32 || size > 224) throw new UsageError(`${flag}: MobileNetV2 input size should be 32..224 px, got ${size}`, flag);
    return loadMobileNetV2({ inputSize: size, batchSize: 32, pooling: pooling as 'avg' | 'max' | 'both' | undefined });
  }
  throw new UsageError(`${flag}: expected 'convnet:<file>' or 'mobilenet[@<px>]', got '${spec}'`, flag);
}
