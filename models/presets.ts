/**
 * Named configurations. `tiny` keeps tests fast, `mnist` is the demo default (7×7 tokens
 * from the 28 px tokenizer, 10 classes), `bench` is the reference config the benchmark
 * measures (models/reference-config.ts, imported by bench/), so its numbers describe a model
 * people train.
 */
import { REFERENCE_TINY } from './reference-config';
import { classConditionalLayout } from './sequence';
import type { TransformerConfig } from './transformer';
import type { VQConfig } from './vq';

/** Transformer presets by name. */
export const transformerPresets = {
  /** 16 codes on a 2×2 grid, 3 classes: a few thousand parameters, for unit tests. */
  tiny: {
    vocabSize: classConditionalLayout(16, 3).vocabSize, dModel: 16, nLayers: 2, nHeads: 2, mlpHidden: 32,
    maxSeqLen: 2 + 4, rope: '2d', gridSize: 2, seed: 0,
  },
  /** MNIST demo: 256 codes on a 7×7 grid, 10 classes, D = 96, 3 blocks (384,096 parameters; test/presets.test.ts counts them). */
  mnist: {
    vocabSize: classConditionalLayout(256, 10).vocabSize, dModel: 96, nLayers: 3, nHeads: 4, mlpHidden: 256,
    maxSeqLen: 2 + 49, rope: '2d', gridSize: 7, seed: 0,
  },
  /** The benchmark's reference model (D = 128, 4 blocks, 64 positions), 1-D RoPE. */
  bench: {
    vocabSize: REFERENCE_TINY.vocabSize, dModel: REFERENCE_TINY.dModel, nLayers: REFERENCE_TINY.nLayers,
    nHeads: REFERENCE_TINY.nHeads, mlpHidden: REFERENCE_TINY.mlpHidden, maxSeqLen: REFERENCE_TINY.seqLen, rope: '1d', seed: 0,
  },
} satisfies Record<string, TransformerConfig>;

/** VQ tokenizer presets by name. */
export const vqPresets = {
  /** 8×8 grey images → 2×2 codes, for unit tests. */
  tiny: { imageSize: 8, channels: 1, downsample: 4, codebookSize: 16, codeDim: 4, hidden: [4, 8], seed: 0 },
  /** MNIST 28 px → 7×7 codes from a 256-entry codebook of dimension 8. */
  mnist: { imageSize: 28, channels: 1, downsample: 4, codebookSize: 256, codeDim: 8, hidden: [16, 32], seed: 0 },
} satisfies Record<string, VQConfig>;

export type TransformerPresetName = keyof typeof transformerPresets;
export type VQPresetName = keyof typeof vqPresets;
