/**
 * Before/after: training steps of this checkout and of another one (e.g. an older commit
 * unpacked with `git archive <commit> | tar -x -C /tmp/base` and node_modules linked),
 * alternating A, B, A, B … so both see the same load on a shared machine.
 *
 *   npx tsx bench/ab-step.ts <other-checkout> [rounds=3] [steps=5] [presets=bench,mnist]
 *
 * Each run is bench/profile-step.ts of *this* checkout's copy (so both sides time the same
 * way) started in the given checkout, for the listed presets (`bench`, `mnist`, `arra`: the
 * demo's ARRA step); the table shows
 * the best and median ms/step and CPU ms/step (both threads; steadier than wall time under
 * load) over the rounds: best of the per-run bests, median of the per-run medians.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

const [other, roundsArg, stepsArg, presetsArg] = process.argv.slice(2);
if (!other || !fs.existsSync(path.join(other, 'lib'))) throw new Error(`ab-step: expected another checkout (a folder with lib/) as the first argument, got '${other ?? ''}'`);
const rounds = Number(roundsArg ?? 3);
const steps = Number(stepsArg ?? 5);
if (!Number.isInteger(rounds) || rounds < 1 || !Number.isInteger(steps) || steps < 1) throw new Error('ab-step: rounds and steps must be positive integers');
const presets = (presetsArg ?? 'bench,mnist').split(',');
for (const p of presets) if (!['bench', 'mnist', 'arra'].includes(p)) throw new Error(`ab-step: presets are a comma-separated list of bench, mnist, arra; got '${p}'`);

const here = path.resolve(__dirname, '..');
const sides: [string, string][] = [['before', path.resolve(other)], ['after', here]];
const script = fs.readFileSync(path.join(__dirname, 'profile-step.ts'), 'utf8');
for (const [, dir] of sides) if (dir !== here) fs.writeFileSync(path.join(dir, 'bench', 'profile-step.ab.ts'), script);

type Run = { best: number; median: number; cpu: number };
const results = new Map<string, Run[]>();
for (let r = 0; r < rounds; r++) {
  for (const preset of presets) {
    for (const [label, dir] of sides) {
      const file = dir === here ? 'profile-step.ts' : 'profile-step.ab.ts';
      const text = execFileSync(process.execPath, ['--import', 'tsx', path.join(dir, 'bench', file), String(steps), preset], { cwd: dir, encoding: 'utf8' });
      const m = /best (\d+) ms\/step, median (\d+) ms\/step, CPU (\d+) ms\/step/.exec(text);
      if (!m) throw new Error(`ab-step: unexpected output from ${dir}: ${text}`);
      const key = `${preset}|${label}`;
      results.set(key, [...(results.get(key) ?? []), { best: Number(m[1]), median: Number(m[2]), cpu: Number(m[3]) }]);
      process.stderr.write(`${key}: ${m[0]}\n`);
    }
  }
}
const med = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
console.log('| preset | side | best ms/step | median ms/step | CPU ms/step (median) |\n|---|---|---|---|---|');
for (const [key, runs] of results) {
  const [preset, label] = key.split('|');
  console.log(`| ${preset} | ${label} | ${Math.min(...runs.map((x) => x.best))} | ${med(runs.map((x) => x.median))} | ${med(runs.map((x) => x.cpu))} |`);
}
