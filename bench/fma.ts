/**
 * The matmul micro-kernel with and without the fused multiply-add (lib/backend/fast/fma.ts),
 * on the training step's product shapes, interleaved: every round times the plain and the
 * fused engine once on the same inputs, so a change of load hits both alike; best and median
 * GFLOP/s over the rounds, and the ratio of the bests.
 *
 *   npx tsx bench/fma.ts [threads=1] [rounds=7]
 *
 * Shapes: 512³, and the `mnist` preset's (1632 tokens, D = 96, SwiGLU hidden 256) and the
 * bench config's (2048 tokens, D = 128, hidden 512) largest products, as the backend sees
 * them (tA / tB = that operand transposed): forward, and the two products of their backward.
 */
import { relaxedMadd } from '../lib/backend/fast/fma';
import { GemmEngine } from '../lib/backend/fast/gemm';

const threads = Number(process.argv[2] ?? 1);
const rounds = Number(process.argv[3] ?? 7);
if (!Number.isInteger(threads) || threads < 1 || !Number.isInteger(rounds) || rounds < 1) throw new Error(`bench/fma: threads and rounds must be positive integers, got '${process.argv[2] ?? ''}' '${process.argv[3] ?? ''}'`);
const host = relaxedMadd();
if (host !== 'fused') {
  console.log(`f32x4.relaxed_madd on this host: ${host} — the fast backend keeps the plain kernel here, nothing to compare`);
  process.exit(0);
}
const engines: [string, GemmEngine][] = [['plain', new GemmEngine(threads, false)], ['fused', new GemmEngine(threads, true)]];

async function main(): Promise<void> {
for (const [, e] of engines) await e.whenReady();
const shapes: [number, number, number, boolean, boolean][] = [
  [512, 512, 512, false, false],
  [1632, 96, 256, false, true], [1632, 256, 96, false, false], [256, 1632, 96, true, false],
  [1632, 96, 96, false, true], [96, 1632, 96, true, false],
  [2048, 128, 512, false, true], [2048, 512, 128, false, false], [512, 2048, 128, true, false],
];
console.log(`threads ${threads}, ${rounds} rounds; GFLOP/s best / median`);
console.log('| m×k×n | plain | fused | fused / plain (best) |\n|---|---|---|---|');
for (const [m, k, n, transA, transB] of shapes) {
  const a = Float32Array.from({ length: m * k }, () => Math.random() - 0.5);
  const b = Float32Array.from({ length: k * n }, () => Math.random() - 0.5);
  const out = new Float32Array(m * n);
  const args = { a, b, out, m, k, n, transA, transB, aOffsets: [0], bOffsets: [0] };
  const reps = Math.max(1, Math.round(1e8 / (m * n * k)));
  const gflops = new Map<string, number[]>(engines.map(([name]) => [name, []]));
  for (const [, e] of engines) e.matmul(args); // warm up
  for (let r = 0; r < rounds; r++) {
    for (const [name, e] of engines) {
      const t0 = performance.now();
      for (let i = 0; i < reps; i++) e.matmul(args);
      gflops.get(name)!.push((2 * m * n * k * reps) / ((performance.now() - t0) * 1e6));
    }
  }
  const stat = (name: string): [number, number] => {
    const v = [...gflops.get(name)!].sort((x, y) => y - x);
    return [v[0]!, v[Math.floor(v.length / 2)]!];
  };
  const [pb, pm] = stat('plain'), [fb, fm] = stat('fused');
  console.log(`| ${m}×${k}×${n}${transA ? ' tA' : ''}${transB ? ' tB' : ''} | ${pb.toFixed(1)} / ${pm.toFixed(1)} | ${fb.toFixed(1)} / ${fm.toFixed(1)} | ${(fb / pb).toFixed(2)}× |`);
}
for (const [, e] of engines) e.dispose();
}
void main();
