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

/** Names of the public ops; each must have a float64 gradient check. */
export const OP_NAMES = [
  'add', 'sub', 'mul', 'div', 'pow', 'maximum', 'minimum',
  'neg', 'exp', 'log', 'sqrt', 'rsqrt', 'abs', 'tanh', 'sigmoid', 'relu', 'silu', 'gelu',
  'sum', 'mean', 'max', 'variance', 'logsumexp',
  'reshape', 'permute', 'transpose',
  'matmul', 'astype',
] as const;
