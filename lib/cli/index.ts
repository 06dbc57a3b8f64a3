/** Command-line plumbing: flag parsing, progress display, JSONL metrics. */
export * from './args';
export * from './progress';
export * from './metrics';
