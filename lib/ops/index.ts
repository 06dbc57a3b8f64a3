/**
 * Every differentiable op, in one place. test/ops-gradcheck.test.ts derives its registry
 * from the code — every function exported here and every name passed to `record` anywhere
 * in lib/ and models/ — and fails when one of them has no gradient-check case.
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
export * from './swiglu';
export * from './dropout';
export * from './conv';
export * from './pool';
