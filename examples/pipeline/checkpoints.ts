/**
 * What kind of checkpoint a safetensors file is, told from its header alone, and whether
 * checkpoints fit each other (a tokenizer and the model trained on its codes) and the data.
 *
 * Every checkpoint this project writes records `kind` in its metadata (`arra-vq`,
 * `arra-transformer`, `arra-train-state`, `arra-convnet`). Files written before that field
 * existed are recognised by their tensor names. A command checks each input's kind before it
 * starts, so a transformer passed as `--vq` is a usage error naming both kinds, not
 * "imageSize undefined" after the data is loaded.
 */
import { readSafetensorsHeader, SafetensorsError, type SafetensorsHeader } from '../../lib/io';
import { requireInputFile, UsageError } from '../../lib/cli';
import { checkpointMetaProblem } from './checkpoint-meta';

export const CHECKPOINT_KINDS = {
  'arra-vq': 'a VQ tokenizer checkpoint (vq.safetensors from arra train-vq)',
  'arra-transformer': 'a transformer model (model.safetensors from arra train)',
  'arra-train-state': 'a training state (train-state.safetensors from arra train)',
  'arra-convnet': 'a ConvNet checkpoint (from arra train-encoder)',
} as const;
export type CheckpointKind = keyof typeof CHECKPOINT_KINDS;

const isKind = (k: unknown): k is CheckpointKind => typeof k === 'string' && Object.prototype.hasOwnProperty.call(CHECKPOINT_KINDS, k);

/** The kind a header declares, or (older files) the one its tensor names imply; null when neither. */
export function checkpointKind(header: SafetensorsHeader): CheckpointKind | null {
  const declared = header.metadata.kind;
  if (declared !== undefined) {
    let kind: unknown = declared;
    try {
      kind = JSON.parse(declared);
    } catch {
      // a bare string is fine too
    }
    if (isKind(kind)) return kind;
  }
  if (header.metadata.convnet !== undefined) return 'arra-convnet';
  const names = new Set(header.tensors.map((t) => t.name));
  const any = (prefix: string): boolean => [...names].some((n) => n.startsWith(prefix));
  if (names.has('codebook') && any('encoder.') && any('decoder.')) return 'arra-vq';
  if (any('model.') && any('optim.')) return 'arra-train-state';
  if (names.has('embed.weight') && names.has('head.weight') && any('blocks.')) return 'arra-transformer';
  if (names.has('conv1.weight') && names.has('conv2.weight') && names.has('fc.weight') && names.has('head.weight')) return 'arra-convnet';
  return null;
}

/**
 * Check that `target` is a checkpoint of kind `expected`, reading only its header. Throws a
 * {@link UsageError} naming `flag`, the path, the expected kind and what was found: nothing,
 * a folder, a file that is not safetensors, or a checkpoint of another kind.
 */
export function requireCheckpoint(flag: string, target: string, expected: CheckpointKind): void {
  const want = CHECKPOINT_KINDS[expected];
  requireInputFile(flag, target, want);
  let header: SafetensorsHeader;
  try {
    header = readSafetensorsHeader(target);
  } catch (err) {
    if (err instanceof SafetensorsError) throw new UsageError(`${flag}: expected ${want}, but ${target} is not a valid safetensors file (${err.problem})`, flag);
    throw err;
  }
  const found = checkpointKind(header);
  if (found !== expected) {
    const what = found ? CHECKPOINT_KINDS[found] : `a safetensors file of no known kind (tensors: ${header.tensors.slice(0, 4).map((t) => t.name).join(', ') || 'none'})`;
    throw new UsageError(`${flag}: expected ${want}, but ${target} is ${what}`, flag);
  }
  // valid JSON of the wrong shape (config = [], a size of 1e999, a vocabulary the layout disagrees with)
  const problem = checkpointMetaProblem(expected, header);
  if (problem !== null) throw new UsageError(`${flag}: ${target} is ${want}, but its metadata cannot be used: ${problem}`, flag);
}

/**
 * Wrap a weight-loading step so that a mismatch (missing, extra, mis-shaped tensors) names the
 * file and the config the checkpoint was made with.
 */
export function loadingFrom<T>(file: string, madeWith: unknown, load: () => T): T {
  try {
    return load();
  } catch (err) {
    const message = (err as Error).message;
    throw new Error(`${file}: ${message} (the checkpoint was made with ${JSON.stringify(madeWith)})`);
  }
}

/** The shape of what a tokenizer reads and writes, for {@link checkTokenizerFits}. */
interface TokenizerShape {
  config: { imageSize: number; channels: number; codebookSize: number };
  gridSize: number;
}

/**
 * A model can only be used with a tokenizer of its codebook size and token grid: checked when
 * `--model`/`--run` and `--vq` are both given, before any sampling. `madeWith` is the model's
 * config, named in the message.
 */
export function checkTokenizerFits(vqPath: string, vq: TokenizerShape, modelFlag: string, modelPath: string, model: { numCodes: number; numTokens: number; madeWith: unknown }): void {
  const tokens = vq.gridSize * vq.gridSize;
  if (vq.config.codebookSize !== model.numCodes || tokens !== model.numTokens) {
    throw new UsageError(
      `--vq: ${vqPath} has ${vq.config.codebookSize} codes and ${tokens} tokens per image (${vq.gridSize}×${vq.gridSize}), but the ${modelFlag} ` +
      `${modelPath} was trained with ${model.numCodes} codes and ${model.numTokens} tokens (made with ${JSON.stringify(model.madeWith)}); pass the tokenizer it was trained with`,
      '--vq',
    );
  }
}

/** The images of a data set must be what the tokenizer was trained on: channels and side. */
export function checkTokenizerReads(vqPath: string, vq: TokenizerShape, images: { shape: readonly number[] }, data: string): void {
  const [, c, h, w] = images.shape;
  if (c !== vq.config.channels || h !== vq.config.imageSize || w !== vq.config.imageSize) {
    throw new UsageError(
      `--vq: ${vqPath} tokenizes ${vq.config.channels}×${vq.config.imageSize}×${vq.config.imageSize} images, but the data (${data}) is ${c}×${h}×${w}; ` +
      'use the --dataset and --image-size it was trained with',
      '--vq',
    );
  }
}
