/**
 * arra-ts: the framework. Import everything from here:
 * `import { tensor, matmul, Linear, AdamW } from '../lib'`.
 */
export * from './tensor';
export * from './creation';
export * from './autograd';
export { isBufferReuse, POOL_MAX_BYTES, pooledBytes, setBufferReuse } from './grad-buffers';
export * from './random';
export * from './shape';
export * from './gradcheck';
export * from './ops';
export * from './backend';
export * from './nn';
export * from './optim';
export * from './data';
export * from './io';
export * from './eval';
export * from './plot';
