/**
 * Two trainings at a time against one: what `arra demo --jobs 2` and `arra experiment --jobs 2`
 * buy on this machine. Rounds alternate between
 *
 *   alone   — one bench/profile-step.ts process, the matmul on every core (the default), and
 *   paired  — two of them side by side, each with ARRA_THREADS = cores / 2,
 *
 * and the throughput (steps per second of the whole machine) of each is compared. Before
 * timing, both thread counts run the same steps with ARRA_PRINT_LOSS=1 and the weights digest
 * after the last step is compared: the thread count must not change a bit.
 *
 *   npx tsx bench/jobs.ts [rounds=3] [steps=20] [preset=arra]
 */
import { execFile } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const rounds = Number(process.argv[2] ?? 3);
const steps = Number(process.argv[3] ?? 20);
const preset = process.argv[4] ?? 'arra';
const cores = availableParallelism();
const half = String(Math.max(1, Math.floor(cores / 2)));
const script = join(__dirname, 'profile-step.ts');
const tsx = join(__dirname, '..', 'node_modules', '.bin', 'tsx');

/** One profile-step process: its median ms/step (from its last line) and its output. */
async function step(env: Record<string, string>): Promise<{ median: number; out: string }> {
  const { stdout } = await run(tsx, [script, String(steps), preset], { env: { ...process.env, ...env }, maxBuffer: 1 << 24 });
  const m = /median (\d+) ms\/step/.exec(stdout);
  if (!m) throw new Error(`bench/jobs: no median in the output of profile-step:\n${stdout}`);
  return { median: Number(m[1]), out: stdout };
}

(async () => {
  const digest = (out: string): string => /sha256 ([0-9a-f]+)/.exec(out)?.[1] ?? 'none';
  const [all, one] = await Promise.all([step({ ARRA_PRINT_LOSS: '1' }), step({ ARRA_PRINT_LOSS: '1', ARRA_THREADS: half })]);
  console.log(`weights after ${steps + 1} ${preset} steps: ${digest(all.out)} on ${cores} threads, ${digest(one.out)} on ${half} — ${digest(all.out) === digest(one.out) ? 'the same bits' : 'DIFFERENT'}`);
  const alone: number[] = [];
  const paired: number[] = [];
  for (let r = 0; r < rounds; r++) {
    alone.push((await step({})).median);
    const [a, b] = await Promise.all([step({ ARRA_THREADS: half }), step({ ARRA_THREADS: half })]);
    paired.push((a.median + b.median) / 2);
    console.log(`round ${r + 1}: alone ${alone[r]} ms/step; paired ${a.median} and ${b.median} ms/step`);
  }
  const med = (x: number[]): number => [...x].sort((p, q) => p - q)[Math.floor(x.length / 2)]!;
  const throughput = (2 * med(alone)) / med(paired); // two steps per paired interval against one per alone interval
  console.log(`${preset} step, ${cores} cores: alone ${med(alone)} ms/step (median of rounds), two side by side ${med(paired)} ms/step each → ${throughput.toFixed(2)}× the throughput`);
})();
