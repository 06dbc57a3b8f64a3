/**
 * The slice of the `WebAssembly` JS API the fast backend uses, typed locally: the project's
 * TypeScript settings (lib ES2022, node types) do not declare the `WebAssembly` global.
 */

/** A linear memory; `buffer` is a SharedArrayBuffer when created with `shared: true`. */
export interface WasmMemory {
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
  /** Grow by `pages` × 64 KiB; the old `buffer` object is replaced. */
  grow(pages: number): number;
}

/** A compiled module: cheap to instantiate again, and can be sent to worker threads. */
export interface WasmModule {
  readonly compiled: never;
}

interface WasmApi {
  Memory: new (descriptor: { initial: number; maximum: number; shared: boolean }) => WasmMemory;
  Module: new (bytes: Uint8Array) => WasmModule;
  /** Whether this engine accepts the bytes as a module (e.g. with relaxed SIMD instructions). */
  validate(bytes: Uint8Array): boolean;
  Instance: new (module: WasmModule, imports: { env: { memory: WasmMemory } }) => { exports: Record<string, unknown> };
}

/** `globalThis.WebAssembly`, typed. */
export const wasm: WasmApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
