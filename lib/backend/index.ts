/**
 * Choosing the backend that ops run on.
 *
 * `setBackend('ref' | 'fast' | 'gpujs')` switches at run time; the environment variable
 * `ARRA_BACKEND` picks one at start-up. Without either, the default is the backend that
 * bench/ measured fastest on a CPU-only host (see bench/RESULTS.md).
 */
import type { Backend } from './backend';
import { referenceBackend } from './reference';

export type { Backend, BinaryKind, MatmulArgs, UnaryKind } from './backend';
export { referenceBackend } from './reference';

const registry = new Map<string, () => Backend>([['ref', () => referenceBackend]]);
let current: Backend | null = null;

/** Make a backend selectable by name. The factory runs on first use (lazy: gpu.js is heavy). */
export function registerBackend(name: string, factory: () => Backend): void {
  registry.set(name, factory);
}

/** Names that `setBackend` accepts. */
export function backendNames(): string[] {
  return [...registry.keys()];
}

/** Switch the backend every op uses from now on. */
export function setBackend(name: string): Backend {
  const factory = registry.get(name);
  if (!factory) throw new Error(`setBackend: unknown backend '${name}', expected one of ${backendNames().join(', ')}`);
  if (current && current.name !== name) current.dispose?.();
  current = factory();
  return current;
}

/** The default backend's name: `ARRA_BACKEND` when set, else the measured-fastest one. */
export function defaultBackendName(): string {
  return process.env.ARRA_BACKEND ?? 'ref';
}

/** The backend ops run on (chosen on first use). */
export function backend(): Backend {
  return current ?? setBackend(defaultBackendName());
}
