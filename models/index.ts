/**
 * ARRA's networks: the VQ tokenizer, the autoregressive transformer and its sampler, the
 * frozen feature extractors, and the ARRA objective with its training-only projector.
 */
export * from './vq';
export * from './rope';
export * from './attention';
export * from './kv-buffer';
export * from './mlp';
export * from './transformer';
export * from './sequence';
export * from './prefix';
export * from './sampling';
export * from './presets';
export * from './projector';
export * from './arra';
export * from './attribution';
export * from './encoder';
