/** Evaluation: symmetric linear algebra and the Fréchet (FID) distance between feature sets. */
export * from './linalg';
export * from './fid';
