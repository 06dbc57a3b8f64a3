/**
 * Regenerate the measured part of bench/RESULTS.md in one command:
 *
 *   npx tsx bench/report.ts [--quick]
 *
 * It measures the three comparisons on this machine, in one run, with every peer
 * next to ours in time (the machine is shared, so only ratios measured side by side mean
 * anything; figures are best and median):
 * - the training step of the reference tiny transformer: ours, then PyTorch (2 threads), then
 *   ours again (A/B/A, so a change of load shows as a gap between our two rows), plus
 *   tfjs-wasm, and the `mnist` preset's step (the demo's model);
 * - softmax and the exp-family kernels against tfjs-wasm, interleaved call by call
 *   (bench/kernels.ts), and PyTorch's softmax;
 * - matmul 512³: ours on 2 and 1 threads against numpy/OpenBLAS sgemm and torch.mm;
 * and the per-kernel breakdown of one training step (bench/profile-step.ts with
 * ARRA_KERNEL_TIMES=1). The load average is read before and after.
 *
 * Output: bench/results/report.json and the block between the `<!-- report:start -->` and
 * `<!-- report:end -->` markers of bench/RESULTS.md (the rest of that file is prose).
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { createFastBackend } from '../lib';
import { runKernelBench, type KernelRow } from './kernels';
import { tfjsMatmul, tfjsReset, useTfjs } from './peers/tfjs';
import { tfjsTrainStep } from './peers/tfjs-transformer';
import { describeTorch, runTorch } from './peers/torch';
import { REFERENCE_TINY } from '../models/reference-config';
import { time, timeAsync, type Timing } from './timing';
import { oursStep, randomBatch } from './train-step';

const quick = process.argv.includes('--quick');
const round = (x: number, d = 2): number => Math.round(x * 10 ** d) / 10 ** d;
const load = (): string => os.loadavg().map((l) => l.toFixed(1)).join(', ');
const notes: string[] = [];

interface Row { what: string; impl: string; best: number; median: number; unit: string; reps: number }
const rows: Row[] = [];

function say(r: Row): void {
  rows.push(r);
  process.stderr.write(`${r.what} | ${r.impl} | ${r.best} | ${r.median} ${r.unit}\n`);
}

const TOKENS = REFERENCE_TINY.batch * REFERENCE_TINY.seqLen;

function trainRow(impl: string, t: Timing): void {
  say({ what: 'train step (bench config)', impl, best: round(t.best * 1e3, 0), median: round(t.median * 1e3, 0), unit: 'ms/step', reps: t.reps });
}

async function trainSection(): Promise<void> {
  const steps = quick ? 3 : 6;
  trainRow('arra fast (2 threads)', time(oursStep('fast'), steps, 1));
  const torch = runTorch({ steps: quick ? 4 : 10 });
  if (typeof torch === 'string') notes.push(torch);
  else {
    notes.push(`train step: ${describeTorch(torch)}`);
    if (torch.train) trainRow(`torch ${torch.torch} CPU (${torch.threads} threads)`, torch.train);
  }
  trainRow('arra fast (2 threads), again', time(oursStep('fast'), steps, 1));
  await useTfjs('wasm');
  trainRow('tfjs-wasm (1 thread)', await timeAsync(tfjsTrainStep(randomBatch(1)), quick ? 1 : 2, 1));
  tfjsReset();
  // The demo's model, in its own process (bench/profile-step.ts prints best/median).
  const text = execFileSync(process.execPath, ['--import', 'tsx', path.join(__dirname, 'profile-step.ts'), String(steps), 'mnist'], { encoding: 'utf8' });
  const m = /best (\d+) ms\/step, median (\d+) ms\/step/.exec(text);
  if (m) say({ what: 'train step (mnist preset, D=96, 3 blocks, T=51, B=32)', impl: 'arra fast (2 threads)', best: Number(m[1]), median: Number(m[2]), unit: 'ms/step', reps: steps });
}

function kernelRows(k: KernelRow[]): void {
  for (const r of k) say({ what: `${r.kernel} ${r.shape}`, impl: r.impl, best: r.gbPerSec, median: r.gbPerSecMedian, unit: 'GB/s', reps: r.rounds });
}

async function softmaxSection(): Promise<void> {
  kernelRows(await runKernelBench(quick ? 8 : 20));
  const { batch, nHeads, seqLen, vocabSize } = REFERENCE_TINY;
  const shapes: [number, number][] = [[batch * nHeads * seqLen, seqLen], [batch * seqLen, vocabSize]];
  const t = runTorch({ steps: 0, softmax: shapes, softmaxReps: quick ? 10 : 30 });
  if (typeof t === 'string') { notes.push(t); return; }
  t.softmax.forEach((s) => say({ what: `softmax ${s.rows}×${s.cols}`, impl: `torch.softmax (${t.threads} threads)`, best: round((8 * s.rows * s.cols) / s.best / 1e9), median: round((8 * s.rows * s.cols) / s.median / 1e9), unit: 'GB/s', reps: s.reps }));
}

function gflopsRow(impl: string, n: number, t: Timing): void {
  const f = (2 * n ** 3) / 1e9;
  say({ what: `matmul ${n}³`, impl, best: round(f / t.best, 1), median: round(f / t.median, 1), unit: 'GFLOP/s', reps: t.reps });
}

async function matmulSection(): Promise<void> {
  const n = 512;
  const a = Float32Array.from({ length: n * n }, () => Math.random() - 0.5);
  const b = Float32Array.from({ length: n * n }, () => Math.random() - 0.5);
  const out = new Float32Array(n * n);
  const reps = quick ? 8 : 25;
  for (const threads of [2, 1]) {
    const be = createFastBackend({ threads });
    const run = (): void => be.matmul({ a, b, out, m: n, k: n, n, transA: false, transB: false, aOffsets: [0], bOffsets: [0] });
    run();
    gflopsRow(`arra fast (${threads} thread${threads > 1 ? 's' : ''})`, n, time(run, reps, 2));
    be.dispose?.();
  }
  await useTfjs('wasm');
  const tfRun = tfjsMatmul(n, n, n);
  tfRun();
  gflopsRow('tfjs-wasm (1 thread)', n, time(tfRun, reps, 1));
  tfjsReset();
  const env: NodeJS.ProcessEnv = { ...process.env, OPENBLAS_NUM_THREADS: '2' };
  delete env.OPENBLAS_CORETYPE;
  delete env.OPENBLAS_L2_SIZE;
  try {
    const text = execFileSync('python3', [path.join(__dirname, 'peers', 'numpy_sgemm.py'), JSON.stringify([[n, n, n]]), String(reps)], { env, encoding: 'utf8' });
    const p = JSON.parse(text) as { numpy: string; results: { best: number; median: number }[] };
    gflopsRow(`numpy ${p.numpy} sgemm (OpenBLAS, 2 threads)`, n, { ...p.results[0]!, reps });
  } catch (e) {
    notes.push(`numpy skipped: ${(e as Error).message.split('\n')[0]}`);
  }
  const t = runTorch({ steps: 0, matmul: [[n, n, n]], matmulReps: reps });
  if (typeof t === 'string') notes.push(t);
  else gflopsRow(`torch.mm (${t.threads} threads)`, n, t.matmul[0]!);
}

/** Top lines of the per-kernel table of one bench-config step. */
function breakdown(): string[] {
  const text = execFileSync(process.execPath, ['--import', 'tsx', path.join(__dirname, 'profile-step.ts'), quick ? '2' : '4', 'bench'], {
    encoding: 'utf8', env: { ...process.env, ARRA_KERNEL_TIMES: '1' },
  });
  return text.trim().split('\n').slice(0, 22);
}

function table(what: string): string[] {
  const sel = rows.filter((r) => r.what.startsWith(what));
  const groups = [...new Set(sel.map((r) => r.what))];
  const out: string[] = [];
  for (const g of groups) {
    const rs = sel.filter((r) => r.what === g);
    out.push('', `**${g}** (${rs[0]!.unit}, best / median)`, '', '| impl | best | median | runs |', '|---|---|---|---|');
    for (const r of rs) out.push(`| ${r.impl} | ${r.best} | ${r.median} | ${r.reps} |`);
  }
  return out;
}

async function main(): Promise<void> {
  const loadBefore = load();
  const started = new Date().toISOString();
  await trainSection();
  await softmaxSection();
  await matmulSection();
  const kernels = breakdown();
  const loadAfter = load();
  const machine = `${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.availableParallelism()} cores, Node ${process.version}`;
  const report = { machine, started, loadBefore, loadAfter, quick, rows, notes, breakdown: kernels };
  const dir = path.join(__dirname, 'results');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);

  const md = [
    `Generated by \`npx tsx bench/report.ts${quick ? ' --quick' : ''}\` on ${started.slice(0, 16).replace('T', ' ')} UTC.`,
    `Machine: ${machine}; load average (1, 5, 15 min) ${loadBefore} before, ${loadAfter} after.`,
    ...table('train step'),
    ...table('softmax'), ...table('exp'), ...table('sigmoid'), ...table('silu'),
    ...table('matmul'),
    '', '**Per-kernel time of one bench-config step** (ARRA_KERNEL_TIMES=1; wall ms, so inflated by the load)', '', '```', ...kernels, '```',
    ...notes.map((n) => `\nNote: ${n}`),
  ].join('\n');
  const file = path.join(__dirname, 'RESULTS.md');
  const text = fs.readFileSync(file, 'utf8');
  const start = text.indexOf('<!-- report:start -->');
  const end = text.indexOf('<!-- report:end -->');
  if (start < 0 || end < start) throw new Error('bench/RESULTS.md: expected the markers <!-- report:start --> and <!-- report:end -->');
  fs.writeFileSync(file, `${text.slice(0, start)}<!-- report:start -->\n${md}\n${text.slice(end)}`);
  console.log(md);
}

main().then(() => process.exit(0), (e: unknown) => { console.error(e); process.exit(1); });
