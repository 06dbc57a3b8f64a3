/**
 * Every differentiable op, in one place. test/ops-gradcheck.test.ts walks {@link OP_NAMES}
 * and fails when an op here has no gradient-check entry.
 */
export * from './binary';
export * from './unary';
export * from './reduce';
export * from './shape';
export * from './matmul';
export * from './cast';
export * from './select';
export * from './softmax';
export * from './loss';
export * from './norm';
export * from './dropout';
export * from './conv';
export * from './pool';

/** Names of the public ops; each must have a float64 gradient check. */
export const OP_NAMES = [
  'add', 'sub', 'mul', 'div', 'pow', 'maximum', 'minimum',
  'neg', 'exp', 'log', 'sqrt', 'rsqrt', 'abs', 'tanh', 'sigmoid', 'relu', 'silu', 'gelu',
  'sum', 'mean', 'max', 'variance', 'logsumexp',
  'reshape', 'permute', 'transpose',
  'matmul', 'astype',
  'where', 'clamp', 'narrow', 'slice', 'concat', 'stack', 'expand', 'indexSelect', 'embedding', 'pad2d',
  'softmax', 'logSoftmax',
  'crossEntropy', 'mse', 'l1', 'cosineSimilarity', 'normalize',
  'layerNorm', 'rmsNorm', 'dropout',
  'conv2d', 'convTranspose2d', 'upsampleNearest', 'avgPool2d', 'maxPool2d', 'globalAvgPool',
] as const;
