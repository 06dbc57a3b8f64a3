/**
 * Naming a frozen feature extractor on the command line:
 *
 *   convnet:<file>      an in-project ConvNet saved by `arra train-encoder`
 *   mobilenet[@<px>]    nsfwjs's MobileNetV2 (ImageNet-initialised, fine-tuned by nsfwjs as a
 *                       5-class NSFW classifier), pooled 1280-d features, at <px> input
 *                       (default 64; it was trained at 224)
 */
import { existsSync } from 'node:fs';
import { UsageError } from '../../lib/cli';
import { ConvNetFeatures, loadMobileNetV2, nsfwjsMobileNetV2File, type FeatureExtractor } from '../../models/encoder';
import { requireCheckpoint } from './checkpoints';

type EncoderSpec = { kind: 'convnet'; file: string } | { kind: 'mobilenet'; size: number };

/** Parse an encoder spec, and check it without loading anything heavy: a convnet file must be a ConvNet checkpoint. */
export function checkEncoderSpec(spec: string, flag: string): EncoderSpec {
  if (spec.startsWith('convnet:')) {
    const file = spec.slice('convnet:'.length);
    if (file === '') throw new UsageError(`${flag}: expected a file after 'convnet:', got '${spec}'`, flag);
    if (!existsSync(file)) throw new UsageError(`${flag}: no ConvNet checkpoint at ${file} (train one with 'arra train-encoder')`, flag);
    requireCheckpoint(flag, file, 'arra-convnet');
    return { kind: 'convnet', file };
  }
  const m = /^mobilenet(?:@(\d+))?$/.exec(spec);
  if (m) {
    const size = m[1] ? Number(m[1]) : 64;
    if (size < 32 || size > 224) throw new UsageError(`${flag}: MobileNetV2 input size should be 32..224 px, got ${size}`, flag);
    try {
      nsfwjsMobileNetV2File(); // the files exist (cheap: nothing is read yet)
    } catch (err) {
      throw new UsageError(`${flag}: ${(err as Error).message}`, flag);
    }
    return { kind: 'mobilenet', size };
  }
  throw new UsageError(`${flag}: expected 'convnet:<file>' or 'mobilenet[@<px>]', got '${spec}'`, flag);
}

/** Open the extractor an `--align-encoder` / `--fid-encoder` value names; `flag` is for the error message. */
export function openEncoder(spec: string, flag: string): FeatureExtractor {
  const parsed = checkEncoderSpec(spec, flag);
  return parsed.kind === 'convnet' ? ConvNetFeatures.load(parsed.file) : loadMobileNetV2({ inputSize: parsed.size, batchSize: 32 });
}
