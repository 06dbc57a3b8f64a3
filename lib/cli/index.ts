/** Command-line plumbing: flag parsing, progress display, JSONL metrics, checks of input and output paths. */
export * from './args';
export * from './progress';
export * from './metrics';
export * from './files';
