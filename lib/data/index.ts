/**
 * Data: loaders that all return an {@link ImageDataset} (`[N, C, S, S]` float32 in [0, 1],
 * labels, class names, optional prompts), batching and splitting, an on-disk cache,
 * prompt templates and a word-level tokenizer. See docs/data.md.
 */
export * from './dataset';
export * from './resize';
export * from './decode';
export * from './idx';
export * from './mnist';
export * from './class-list';
export * from './image-folder';
export * from './cache';
export * from './shapes';
export * from './prompts';
export * from './tokenizer';
export * from './progress';
export * from './split';
export * from './edit-distance';
