/**
 * The benchmark: `npm run bench` (= `tsx bench/run.ts`).
 *
 * Sections (default all): `--only=matmul,softmax,train`. `--quick` uses fewer sizes and
 * repetitions; `--train-all` adds the (minutes-long) ref and gpujs training steps. Writes bench/results/latest.json:
 *   {"machine": {...}, "matmul": [{impl, n, m, k, shape, gflops, gflopsMedian, bestMs, medianMs, reps}],
 *    "softmax": [{impl, rows, cols, bestMs, medianMs, gbPerSec}],
 *    "trainStep": [{impl, config, tokensPerSec, msPerStep, medianMsPerStep, steps}]}
 * and prints the same as markdown tables. Figures are best-of-N with the median next to it:
 * the machine is shared with other jobs, so medians are noisy.
 * Peers: tfjs-wasm and tfjs-cpu in-process, numpy sgemm through python3, and PyTorch through
 * /usr/bin/python3 (bench/peers/torch.ts: rows `torch mm (2 threads)`, `torch softmax (2 threads)`
 * and a `trainStep` row `torch <version> CPU (2 threads)` followed by ours again; skipped with a
 * note when `import torch` fails). bench/report.ts regenerates bench/RESULTS.md's summary.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { type Backend, createFastBackend, createGpujsBackend, referenceBackend } from '../lib';
import { tfjsMatmul, tfjsReset, tfjsSoftmax, useTfjs } from './peers/tfjs';
import { REFERENCE_TINY } from '../models/reference-config';
import { describeTorch, runTorch } from './peers/torch';
import { repsFor, time, type Timing } from './timing';
import { runTrainSection, type TrainRow } from './train-step';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const only = args.find((a) => a.startsWith('--only='))?.slice('--only='.length).split(',') ?? ['matmul', 'softmax', 'train'];

interface MatmulRow { impl: string; shape: string; n: number; m: number; k: number; gflops: number; gflopsMedian: number; bestMs: number; medianMs: number; reps: number }
interface SoftmaxRow { impl: string; rows: number; cols: number; bestMs: number; medianMs: number; gbPerSec: number }

/** Square sizes and the reference model's real products ([tokens, d]·[d, out]). */
function matmulShapes(): { shape: string; m: number; k: number; n: number }[] {
  const sq = (quick ? [64, 256, 512] : [64, 128, 256, 512, 1024]).map((s) => ({ shape: `${s}³`, m: s, k: s, n: s }));
  const { batch, seqLen, dModel, mlpHidden, vocabSize } = REFERENCE_TINY;
  const tokens = batch * seqLen; // 2048
  const real: [string, number, number, number][] = [
    ['qkv', tokens, dModel, 3 * dModel],
    ['mlp up (gate+up)', tokens, dModel, mlpHidden],
    ['mlp down', tokens, mlpHidden, dModel],
    ['logits', tokens, dModel, vocabSize],
  ];
  return [...sq, ...(quick ? real.slice(0, 1) : real).map(([name, m, k, n]) => ({ shape: `${name} [${m},${k}]x[${k},${n}]`, m, k, n }))];
}

/** A closure multiplying random float32 [m,k]·[k,n] on one of our backends. */
function oursMatmul(be: Backend, m: number, k: number, n: number): () => void {
  const a = Float32Array.from({ length: m * k }, () => Math.random() - 0.5);
  const b = Float32Array.from({ length: k * n }, () => Math.random() - 0.5);
  const out = new Float32Array(m * n);
  return () => be.matmul({ a, b, out, m, k, n, transA: false, transB: false, aOffsets: [0], bOffsets: [0] });
}

/** Timing budget per (impl, shape) in seconds. */
const BUDGET = quick ? 0.4 : 1.5;

function timed(fn: () => void): Timing {
  const t0 = process.hrtime.bigint();
  fn(); // warm-up (compiles wasm / gpu.js kernels, starts threads)
  const once = Number(process.hrtime.bigint() - t0) / 1e9;
  return time(fn, repsFor(once, BUDGET), 0);
}

function matmulRow(impl: string, s: { shape: string; m: number; k: number; n: number }, t: Timing): MatmulRow {
  const flops = 2 * s.m * s.k * s.n;
  return {
    impl, shape: s.shape, n: s.n, m: s.m, k: s.k,
    gflops: round(flops / t.best / 1e9), gflopsMedian: round(flops / t.median / 1e9),
    bestMs: round(t.best * 1e3), medianMs: round(t.median * 1e3), reps: t.reps,
  };
}

const round = (x: number): number => Math.round(x * 100) / 100;

async function runMatmul(): Promise<MatmulRow[]> {
  const rows: MatmulRow[] = [];
  const shapes = matmulShapes();
  const ours: [string, () => Backend][] = [
    ['arra fast (2 threads)', () => createFastBackend()],
    ['arra fast (1 thread)', () => createFastBackend({ threads: 1 })],
    ['arra gpujs (webasm)', () => createGpujsBackend()],
    ['arra ref', () => referenceBackend],
  ];
  for (const [impl, make] of ours) {
    const be = make();
    for (const s of shapes) {
      // The reference and gpu.js webasm take seconds per 1024³; measure them to 512.
      if ((impl === 'arra ref' || impl.startsWith('arra gpujs')) && s.m * s.k * s.n > 512 ** 3) continue;
      rows.push(matmulRow(impl, s, timed(oursMatmul(be, s.m, s.k, s.n))));
      log(rows[rows.length - 1]!);
    }
    be.dispose?.();
  }
  for (const name of ['wasm', 'cpu'] as const) {
    await useTfjs(name);
    for (const s of shapes) {
      if (name === 'cpu' && s.m * s.k * s.n > 512 ** 3) continue;
      rows.push(matmulRow(`tfjs-${name}`, s, timed(tfjsMatmul(s.m, s.k, s.n))));
      log(rows[rows.length - 1]!);
      tfjsReset();
    }
  }
  rows.push(...numpyRows(shapes));
  rows.push(...torchMatmulRows(shapes));
  return rows;
}

/** `torch mm` rows: the same shapes through torch.mm on 2 threads (bench/peers/torch.ts). */
function torchMatmulRows(shapes: { shape: string; m: number; k: number; n: number }[]): MatmulRow[] {
  const r = runTorch({ steps: 0, matmul: shapes.map((s) => [s.m, s.k, s.n]), matmulReps: quick ? 5 : 20 });
  if (typeof r === 'string') { notes.push(r); return []; }
  notes.push(`matmul: ${describeTorch(r)}`);
  return shapes.map((s, i) => matmulRow('torch mm (2 threads)', s, r.matmul[i]!));
}

/** numpy sgemm through python3, with OpenBLAS's core-type / L2 overrides unset for it only. */
function numpyRows(shapes: { shape: string; m: number; k: number; n: number }[]): MatmulRow[] {
  const env = { ...process.env };
  delete env.OPENBLAS_CORETYPE;
  delete env.OPENBLAS_L2_SIZE;
  try {
    const text = execFileSync('python3', [path.join(__dirname, 'peers', 'numpy_sgemm.py'), JSON.stringify(shapes.map((s) => [s.m, s.k, s.n])), quick ? '5' : '20'], { env, encoding: 'utf8' });
    const parsed = JSON.parse(text) as { numpy: string; results: { best: number; median: number }[] };
    return shapes.map((s, i) => matmulRow(`numpy ${parsed.numpy} sgemm`, s, { ...parsed.results[i]!, reps: quick ? 5 : 20 }));
  } catch (e) {
    notes.push(`numpy skipped: ${(e as Error).message.split('\n')[0]}`);
    return [];
  }
}

async function runSoftmax(): Promise<SoftmaxRow[]> {
  const { batch, nHeads, seqLen, vocabSize } = REFERENCE_TINY;
  // attention probabilities [B·H·T, T] and the logits' softmax in the loss [B·T, V]
  const shapes: [number, number][] = [[batch * nHeads * seqLen, seqLen], [batch * seqLen, vocabSize]];
  const rows: SoftmaxRow[] = [];
  const row = (impl: string, r: number, c: number, t: Timing): SoftmaxRow => ({
    impl, rows: r, cols: c, bestMs: round(t.best * 1e3), medianMs: round(t.median * 1e3),
    gbPerSec: round((8 * r * c) / t.best / 1e9), // read x + write y, float32
  });
  for (const [impl, make] of [['arra fast', () => createFastBackend()], ['arra gpujs (webasm)', () => createGpujsBackend()], ['arra ref', () => referenceBackend]] as [string, () => Backend][]) {
    const be = make();
    for (const [r, c] of shapes) {
      const x = Float32Array.from({ length: r * c }, () => 3 * (Math.random() - 0.5));
      const out = new Float32Array(r * c);
      rows.push(row(impl, r, c, timed(() => be.softmax(x, out, r, c))));
      log(rows[rows.length - 1]!);
    }
    be.dispose?.();
  }
  for (const name of ['wasm', 'cpu'] as const) {
    await useTfjs(name);
    for (const [r, c] of shapes) {
      rows.push(row(`tfjs-${name}`, r, c, timed(tfjsSoftmax(r, c))));
      log(rows[rows.length - 1]!);
      tfjsReset();
    }
  }
  const t = runTorch({ steps: 0, softmax: shapes, softmaxReps: quick ? 5 : 30 });
  if (typeof t === 'string') notes.push(t);
  else shapes.forEach(([r, c], i) => rows.push(row('torch softmax (2 threads)', r, c, t.softmax[i]!)));
  return rows;
}

const notes: string[] = [];
function log(row: object): void {
  if (!quiet) process.stderr.write(`${JSON.stringify(row)}\n`);
}
const quiet = args.includes('--quiet');

function machine(): Record<string, unknown> {
  return {
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores: os.availableParallelism(),
    memGiB: round(os.totalmem() / 2 ** 30),
    node: process.version,
    platform: `${os.platform()} ${os.arch()}`,
    loadavg: os.loadavg().map(round),
    date: new Date().toISOString(),
    command: `tsx bench/run.ts ${args.join(' ')}`.trim(),
    quick,
  };
}

function table(headers: string[], rows: (string | number)[][]): string {
  return [`| ${headers.join(' | ')} |`, `|${headers.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

async function main(): Promise<void> {
  const result: { machine: Record<string, unknown>; matmul: MatmulRow[]; softmax: SoftmaxRow[]; trainStep: TrainRow[] } = {
    machine: machine(), matmul: [], softmax: [], trainStep: [],
  };
  if (only.includes('matmul')) result.matmul = await runMatmul();
  if (only.includes('softmax')) result.softmax = await runSoftmax();
  if (only.includes('train')) result.trainStep = await runTrainSection({ quick, all: args.includes('--train-all'), log, notes });
  if (notes.length) result.machine.notes = notes;
  const dir = path.join(__dirname, 'results');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'latest.json'), `${JSON.stringify(result, null, 2)}\n`);

  const out: string[] = [`machine: ${result.machine.cpu}, ${result.machine.cores} cores, node ${result.machine.node}, load ${String(result.machine.loadavg)}`];
  if (result.matmul.length) {
    out.push('', '### matmul (float32), GFLOP/s best (median)', '', table(['impl', 'shape', 'GFLOP/s', 'median', 'best ms'],
      result.matmul.map((r) => [r.impl, r.shape, r.gflops, r.gflopsMedian, r.bestMs])));
  }
  if (result.softmax.length) {
    out.push('', '### softmax rows (float32)', '', table(['impl', 'rows×cols', 'best ms', 'median ms', 'GB/s'],
      result.softmax.map((r) => [r.impl, `${r.rows}×${r.cols}`, r.bestMs, r.medianMs, r.gbPerSec])));
  }
  if (result.trainStep.length) {
    out.push('', '### training step (forward + backward + AdamW)', '', table(['impl', 'config', 'tokens/s', 'ms/step', 'median ms'],
      result.trainStep.map((r) => [r.impl, r.config, r.tokensPerSec, r.msPerStep, r.medianMsPerStep])));
  }
  for (const n of notes) out.push('', `note: ${n}`);
  console.log(out.join('\n'));
  console.log(`\nwrote ${path.relative(process.cwd(), path.join(dir, 'latest.json'))}`);
}

main().then(() => process.exit(0), (e: unknown) => { console.error(e); process.exit(1); });
