/**
 * The memory-bound kernels side by side, interleaved: every round times each implementation
 * once on the same inputs, so a change of load on the shared machine hits all of them alike;
 * best and median over the rounds.
 *
 *   npx tsx bench/kernels.ts [rounds=15] [--json]
 *
 * Implementations: `arra fast` (the backend as shipped: WebAssembly SIMD for softmax and the
 * exp family, vector-kernels.ts), `arra TS loops` (the plain TypeScript loops of
 * elementwise.ts that the fast backend used before, same formulas, scalar `fastExp`), and
 * tfjs-wasm (XNNPACK, one thread in Node). GB/s counts each float read or written once
 * (softmax 8 bytes per element, its backward 12, a unary map 8).
 */
import { createFastBackend } from '../lib';
import { fastSoftmax, fastSoftmaxBackward, fastUnary } from '../lib/backend/fast/elementwise';
import { tf, useTfjs } from './peers/tfjs';
import { REFERENCE_TINY } from '../models/reference-config';

export interface KernelRow { kernel: string; shape: string; impl: string; bestMs: number; medianMs: number; gbPerSec: number; gbPerSecMedian: number; rounds: number }

interface Case { kernel: string; shape: string; bytes: number; impls: [string, () => void][] }

const round2 = (x: number): number => Math.round(x * 100) / 100;

/** Run the comparison; rows in case order, then implementation order. */
export async function runKernelBench(rounds: number): Promise<KernelRow[]> {
  await useTfjs('wasm');
  const be = createFastBackend({ threads: 1 });
  const { batch, nHeads, seqLen, vocabSize, mlpHidden } = REFERENCE_TINY;
  const rand = (n: number, s: number): Float32Array => Float32Array.from({ length: n }, () => s * (Math.random() - 0.5));
  const cases: Case[] = [];
  for (const [r, c] of [[batch * nHeads * seqLen, seqLen], [batch * seqLen, vocabSize]] as [number, number][]) {
    const x = rand(r * c, 6);
    const y = new Float32Array(r * c);
    be.softmax(x, y, r, c);
    const dy = rand(r * c, 2);
    const out = new Float32Array(r * c);
    const tx = tf.tensor2d(x, [r, c]);
    cases.push({
      kernel: 'softmax', shape: `${r}×${c}`, bytes: 8 * r * c, impls: [
        ['arra fast', () => be.softmax(x, out, r, c)],
        ['arra TS loops', () => fastSoftmax(x, out, r, c)],
        ['tfjs-wasm', () => { const t = tf.softmax(tx); t.dataSync(); t.dispose(); }],
      ],
    });
    cases.push({
      kernel: 'softmaxBackward', shape: `${r}×${c}`, bytes: 12 * r * c, impls: [
        ['arra fast', () => be.softmaxBackward(y, dy, out, r, c)],
        ['arra TS loops', () => fastSoftmaxBackward(y, dy, out, r, c)],
      ],
    });
  }
  const n = batch * seqLen * mlpHidden; // the SwiGLU hidden activations
  const x = rand(n, 8);
  const out = new Float32Array(n);
  const tx = tf.tensor1d(x);
  const tfUnary = { exp: tf.exp, sigmoid: tf.sigmoid, silu: (t: tf.Tensor) => tf.mul(t, tf.sigmoid(t)) } as const;
  for (const kind of ['exp', 'sigmoid', 'silu'] as const) {
    cases.push({
      kernel: kind, shape: `${n}`, bytes: 8 * n, impls: [
        ['arra fast', () => be.unary(kind, x, out)],
        ['arra TS loops', () => { fastUnary(kind, x, out); }],
        [kind === 'silu' ? 'tfjs-wasm (x·sigmoid x)' : 'tfjs-wasm', () => { const t = tf.tidy(() => tfUnary[kind](tx)); t.dataSync(); t.dispose(); }],
      ],
    });
  }
  const rows: KernelRow[] = [];
  for (const c of cases) {
    const times = c.impls.map((): number[] => []);
    for (const [, fn] of c.impls) fn(); // warm-up
    for (let k = 0; k < rounds; k++) {
      c.impls.forEach(([, fn], i) => {
        const t0 = process.hrtime.bigint();
        fn();
        times[i]!.push(Number(process.hrtime.bigint() - t0) / 1e9);
      });
    }
    c.impls.forEach(([impl], i) => {
      const s = times[i]!.sort((a, b) => a - b);
      const best = s[0]!, median = s[Math.floor(s.length / 2)]!;
      rows.push({ kernel: c.kernel, shape: c.shape, impl, bestMs: round2(best * 1e3), medianMs: round2(median * 1e3), gbPerSec: round2(c.bytes / best / 1e9), gbPerSecMedian: round2(c.bytes / median / 1e9), rounds });
    });
  }
  be.dispose?.();
  return rows;
}

if (require.main === module) {
  const args = process.argv.slice(2);
  const rounds = Number(args.find((a) => !a.startsWith('--')) ?? 15);
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`kernels: rounds must be a positive integer, got '${args[0]}'`);
  runKernelBench(rounds).then((rows) => {
    if (args.includes('--json')) { console.log(JSON.stringify(rows)); return; }
    console.log('| kernel | shape | impl | best ms | median ms | GB/s best | GB/s median |\n|---|---|---|---|---|---|---|');
    for (const r of rows) console.log(`| ${r.kernel} | ${r.shape} | ${r.impl} | ${r.bestMs} | ${r.medianMs} | ${r.gbPerSec} | ${r.gbPerSecMedian} |`);
  }, (e: unknown) => { console.error(e); process.exit(1); });
}
