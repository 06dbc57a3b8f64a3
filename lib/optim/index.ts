/**
 * Optimizers and training-loop helpers: SGD, AdamW, gradient clipping, a learning-rate
 * schedule, and resumable optimizer state.
 */
export * from './optimizer';
export * from './sgd';
export * from './adamw';
export * from './clip';
export * from './finite';
export * from './schedule';
