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
import type { EncoderPooling } from '../../models/arra';
import { CONVNET_POOLINGS, ConvNetFeatures, type ConvNetPooling, loadMobileNetV2, nsfwjsMobileNetV2File, type FeatureExtractor } from '../../models/encoder';
import { requireCheckpoint } from './checkpoints';

type EncoderSpec = { kind: 'convnet'; file: string; pooling: ConvNetPooling } | { kind: 'mobilenet'; size: number; pooling?: 'avg' | 'max' | 'both' };

/**
 * Parse an encoder spec and check it without loading anything heavy: a convnet file must be a
 * ConvNet checkpoint, and `pooling` must be one the encoder offers (ConvNet: penultimate | avg |
 * both; MobileNetV2: avg | max | both); `flag` is for the error message.
 */
export function checkEncoderSpec(spec: string, flag: string, pooling?: EncoderPooling): EncoderSpec {
  if (spec.startsWith('convnet:')) {
    const file = spec.slice('convnet:'.length);
    if (file === '') throw new UsageError(`${flag}: expected a file after 'convnet:', got '${spec}'`, flag);
    if (!existsSync(file)) throw new UsageError(`${flag}: no ConvNet checkpoint at ${file} (train one with 'arra train-encoder')`, flag);
    requireCheckpoint(flag, file, 'arra-convnet');
    const p = pooling ?? 'penultimate';
    if (!(CONVNET_POOLINGS as readonly string[]).includes(p)) {
      throw new UsageError(`--align-pooling: a ConvNet offers ${CONVNET_POOLINGS.join(', ')}, got '${p}'`, '--align-pooling');
    }
    return { kind: 'convnet', file, pooling: p as ConvNetPooling };
  }
  const m = /^mobilenet(?:@(\d+))?$/.exec(spec);
  if (m) {
    if (pooling !== undefined && pooling !== 'avg' && pooling !== 'max' && pooling !== 'both') {
      throw new UsageError(`--align-pooling: MobileNetV2 offers avg, max or both (global pools of its last map), got '${pooling}'`, '--align-pooling');
    }
    const size = m[1] ? Number(m[1]) : 64;
    if (size < 32 || size > 224) throw new UsageError(`${flag}: MobileNetV2 input size should be 32..224 px, got ${size}`, flag);
    try {
      nsfwjsMobileNetV2File(); // the files exist (cheap: nothing is read yet)
    } catch (err) {
      throw new UsageError(`${flag}: ${(err as Error).message}`, flag);
    }
    return { kind: 'mobilenet', size, pooling: pooling as 'avg' | 'max' | 'both' | undefined };
  }
  throw new UsageError(`${flag}: expected 'convnet:<file>' or 'mobilenet[@<px>]', got '${spec}'`, flag);
}

/** Open the extractor an `--align-encoder` / `--fid-encoder` value names (checked by {@link checkEncoderSpec}). */
export function openEncoder(spec: string, flag: string, pooling?: EncoderPooling): FeatureExtractor {
  const parsed = checkEncoderSpec(spec, flag, pooling);
  return parsed.kind === 'convnet' ? ConvNetFeatures.load(parsed.file, parsed.pooling) : loadMobileNetV2({ inputSize: parsed.size, batchSize: 32, pooling: parsed.pooling });
}
