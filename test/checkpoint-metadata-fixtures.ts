/**
 * Well-formed checkpoint metadata of each kind, for tests that write a header-only stand-in of
 * a checkpoint (commands check the header — kind and metadata — before they start).
 */
const transformer = { vocabSize: 21, dModel: 16, nLayers: 1, nHeads: 2, mlpHidden: 32, maxSeqLen: 18, rope: '2d', gridSize: 4 };

/** Metadata values (not yet JSON-encoded: pass through jsonMetadata) that pass examples/pipeline/checkpoint-meta.ts. */
export function validMetadata(kind: 'arra-vq' | 'arra-transformer' | 'arra-train-state' | 'arra-convnet'): Record<string, unknown> {
  switch (kind) {
    case 'arra-vq':
      return { kind, config: { imageSize: 16, channels: 3, downsample: 4, codebookSize: 16, codeDim: 8, hidden: [16, 32] } };
    case 'arra-transformer':
      return {
        kind, config: transformer, classNames: ['seven', 'three'], arra: { mode: 'off' }, step: 1, condition: { mode: 'class' },
        layout: { numCodes: 16, numClasses: 2, codeOffset: 0, classOffset: 16, nullClass: 18, beginImage: 19, pad: 20, vocabSize: 21 },
      };
    case 'arra-train-state':
      return { kind, model: transformer, arra: { mode: 'off' }, step: 1, optimizer: { kind: 'AdamW', step: 1, hyper: { lr: 1e-3 } }, rng: { state: 1, spareNormal: null } };
    case 'arra-convnet':
      return { kind, convnet: { config: { inChannels: 3, imageSize: 16, widths: [16, 32], featureDim: 64, numClasses: 2, arch: 'strided' }, dataset: 'shapes' } };
  }
}
