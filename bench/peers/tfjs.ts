/**
 * The tfjs peers: the same matmul and softmax through @tensorflow/tfjs-backend-cpu (plain JS)
 * and @tensorflow/tfjs-backend-wasm (XNNPACK, 128-bit SIMD). The wasm binaries are loaded
 * from node_modules (no network); tfjs-wasm's threaded build needs cross-origin isolation
 * in browsers and is not used by Node, so it runs on one thread.
 */
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-cpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';

export type TfjsBackendName = 'cpu' | 'wasm';
export { tf };

let wasmPathSet = false;

/** Switch tfjs to `name` (awaits the wasm binary's instantiation). */
export async function useTfjs(name: TfjsBackendName): Promise<void> {
  if (name === 'wasm' && !wasmPathSet) {
    setWasmPaths(path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm')), path.sep));
    wasmPathSet = true;
  }
  await tf.setBackend(name);
  await tf.ready();
}

/** A closure that multiplies [m, k]·[k, n] once and waits for the result. */
export function tfjsMatmul(m: number, k: number, n: number): () => void {
  const a = tf.randomNormal([m, k]);
  const b = tf.randomNormal([k, n]);
  return () => {
    const c = tf.matMul(a, b);
    c.dataSync();
    c.dispose();
  };
}

/** A closure for a row softmax of [rows, cols]. */
export function tfjsSoftmax(rows: number, cols: number): () => void {
  const x = tf.randomNormal([rows, cols]);
  return () => {
    const y = tf.softmax(x);
    y.dataSync();
    y.dispose();
  };
}

/**
 * Free tfjs's variables between measurements (the few input tensors are kept: a few MB).
 * Not `tf.engine().reset()`: that also unregisters the initialised backends.
 */
export function tfjsReset(): void {
  tf.disposeVariables();
}
