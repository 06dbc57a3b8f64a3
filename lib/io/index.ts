/** Files: atomic writes and the safetensors checkpoint format. */
export * from './atomic';
export * from './dirs';
export * from './safetensors';
