/**
 * The reference tiny transformer, defined once, here in models/: it is the `bench` preset
 * (models/presets.ts), and the benchmark (bench/) imports it from here, so the benchmark's
 * numbers describe a model people train — and the library never depends on bench/.
 * Sizes: d = 128, 4 layers, 4 heads (head dim 32), sequence 64, batch 32 → 2048 tokens/step.
 */
export const REFERENCE_TINY = {
  /** vocabulary: 512 image codes + 10 classes + a few specials, rounded up */
  vocabSize: 528,
  dModel: 128,
  nLayers: 4,
  nHeads: 4,
  /** SwiGLU hidden size (LlamaGen uses ≈ 8/3·d rounded; 4·d here for simple shapes) */
  mlpHidden: 512,
  seqLen: 64,
  batch: 32,
} as const;
