/** Evaluation: symmetric linear algebra, the Fréchet (FID) distance and the kernel (KID) distance between feature sets. */
export * from './linalg';
export * from './fid';
export * from './kid';
