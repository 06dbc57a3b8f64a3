/**
 * Naming a frozen feature extractor on the command line:
 *
 *   convnet:<file>      an in-project ConvNet saved by `arra train-encoder`
 *   mobilenet[@<px>]    nsfwjs's ImageNet-initialised MobileNetV2 backbone, pooled 1280-d
 *                       features, at <px> input (default 64; it was trained at 224)
 */
import { existsSync } from 'node:fs';
import { UsageError } from '../../lib/cli';
import { ConvNetFeatures, loadMobileNetV2, type FeatureExtractor } from '../../models/encoder';

/** Open the extractor an `--align-encoder` / `--fid-encoder` value names; `flag` is for the error message. */
export function openEncoder(spec: string, flag: string): FeatureExtractor {
  if (spec.startsWith('convnet:')) {
    const file = spec.slice('convnet:'.length);
    if (!existsSync(file)) throw new UsageError(`${flag}: no ConvNet checkpoint at ${file} (train one with 'arra train-encoder')`, flag);
    return ConvNetFeatures.load(file);
  }
  const m = /^mobilenet(?:@(\d+))?$/.exec(spec);
  if (m) {
    const size = m[1] ? Number(m[1]) : 64;
    if (size < 32 || size > 224) throw new UsageError(`${flag}: MobileNetV2 input size should be 32..224 px, got ${size}`, flag);
    return loadMobileNetV2({ inputSize: size, batchSize: 32 });
  }
  throw new UsageError(`${flag}: expected 'convnet:<file>' or 'mobilenet[@<px>]', got '${spec}'`, flag);
}
