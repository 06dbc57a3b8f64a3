/**
 * A held-out split that is a fixed property of the dataset, not of whichever command loads it.
 *
 * A seeded shuffle (`splitDataset(ds, 0.1, seed)`) gives a different split for every seed: a
 * model trained with `--seed 3` and evaluated by a command that loads with seed 0 is then
 * scored partly on its own training images. Here an item is held out when the SHA-256 of its
 * stable key (an image file's path relative to the dataset root) falls below `fraction` of the
 * hash range: the same file is held out by every command, whatever the seed, whatever else is
 * in the folder (adding or removing files never moves another file across the split).
 *
 * {@link SplitRecord} is what checkpoints and caches record: the rule and a digest of the
 * held-out key list, so an evaluation can check that it scores on the held-out set the model
 * never trained on (examples/pipeline/datasets.ts, `checkSplit`).
 */
import { createHash } from 'node:crypto';

/** Version of the hashing rule below; part of every {@link SplitRecord.rule}. */
export const HASH_SPLIT_VERSION = 1;

/** What a checkpoint or cache records about the split its data came from. */
export interface SplitRecord {
  /** How items were assigned, e.g. `sha256(relative path) < 0.1, v1` or `official MNIST train/test files`. */
  rule: string;
  /** Number of items in the whole held-out split (before any --test-limit); 0 for a generated set with no bound. */
  heldOutCount: number;
  /** SHA-256 (first 16 hex digits) of the held-out keys, one per line, in load order. */
  heldOutDigest: string;
}

/** True when the item with this key belongs to the held-out share `fraction` (0..1) of the hash range. */
export function isHeldOut(key: string, fraction: number): boolean {
  if (!(fraction >= 0 && fraction <= 1)) throw new Error(`isHeldOut: fraction must be in [0, 1], got ${fraction}`);
  const h = createHash('sha256').update(key).digest();
  return h.readUInt32BE(0) / 2 ** 32 < fraction;
}

/** The rule string of a hash split with this held-out fraction. */
export function hashSplitRule(fraction: number): string {
  return `sha256(relative path) < ${fraction} of the hash range, v${HASH_SPLIT_VERSION}`;
}

/** Digest of a list of keys (one per line). */
export function keyListDigest(keys: readonly string[]): string {
  return createHash('sha256').update(keys.join('\n')).digest('hex').slice(0, 16);
}

/** A second, independent hash of a key in [0, 1): the fixed order items are listed in. */
function orderHash(key: string): number {
  return createHash('sha256').update(key).digest().readUInt32BE(4) / 2 ** 32;
}

/**
 * Indices of the train and held-out items among `keys`, by {@link isHeldOut}, with the split's
 * record. Each side is listed in a fixed pseudo-random order (by a second hash of the key), so
 * that taking its first n items — a `--train-limit` — draws from every class rather than the
 * first classes of a folder listed class by class; the order, too, is the same for every seed.
 */
export function hashSplit(keys: readonly string[], fraction: number): { train: number[]; test: number[]; record: SplitRecord } {
  const train: number[] = [];
  const test: number[] = [];
  keys.forEach((k, i) => (isHeldOut(k, fraction) ? test : train).push(i));
  const order = keys.map(orderHash);
  for (const side of [train, test]) side.sort((a, b) => order[a]! - order[b]! || a - b);
  const heldOut = test.map((i) => keys[i]!);
  return { train, test, record: { rule: hashSplitRule(fraction), heldOutCount: heldOut.length, heldOutDigest: keyListDigest(heldOut) } };
}
