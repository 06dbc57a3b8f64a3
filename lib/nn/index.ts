/**
 * Neural-network layers: the {@link Module} base class (parameter discovery, state dicts,
 * train/eval) and the standard layers built on it.
 */
export * from './module';
export * from './init';
export * from './linear';
export * from './embedding';
export * from './norm';
export * from './dropout';
export * from './sequential';
export * from './conv';
export * from './activations';
