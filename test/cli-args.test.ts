/**
 * CLI plumbing: flag parsing and every kind of usage error (by message), help text,
 * the plain progress format with a fake clock, and the JSONL metrics round trip.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import t from 'tap';
import { type FlagSpec, formatHelp, givenFlags, parseArgs, rejectUnusedFlags, selectCommand, UsageError } from '../lib/cli/args';
import { MetricsLogger, readMetrics } from '../lib/cli/metrics';
import { createProgress, formatDuration, formatMetric } from '../lib/cli/progress';

const trainFlags = [
  { name: 'steps', type: 'int', default: 500, min: 1, help: 'optimizer steps' },
  { name: 'lambda', type: 'float', default: 0.5, min: 0, help: 'weight of the alignment loss' },
  { name: 'dropout', type: 'float', min: 0, max: 1, help: 'dropout probability' },
  { name: 'dataset', type: 'enum', choices: ['mnist', 'fashion', 'shapes'], default: 'mnist', help: 'training data' },
  { name: 'outDir', type: 'string', required: true, help: 'where checkpoints go' },
  { name: 'resume', type: 'bool', help: 'continue from the last checkpoint' },
  { name: 'batchSize', type: 'int', default: 32, validate: (v: number) => (v % 2 === 0 ? undefined : 'must be even'), help: 'batch size' },
] as const satisfies readonly FlagSpec[];

const parse = (argv: string[]) => parseArgs(argv, trainFlags, { command: 'train' });

t.test('parses every kind of flag, fills defaults, types the result', async (t) => {
  const { flags, positionals, help } = parse(['--steps', '20', '--lambda=0.25', '--dataset', 'shapes', '--out-dir', 'runs/a', '--resume', '--batch-size', '-0']);
  t.same(flags, { steps: 20, lambda: 0.25, dropout: undefined, dataset: 'shapes', outDir: 'runs/a', resume: true, batchSize: -0 });
  t.same(positionals, []);
  t.equal(help, false);
  const steps: number = flags.steps; // compile-time: typed number, not number | undefined
  const dataset: 'mnist' | 'fashion' | 'shapes' = flags.dataset;
  t.equal(steps + dataset.length, 26);

  const d = parse(['--out-dir=x']).flags;
  t.same([d.steps, d.lambda, d.dataset, d.resume, d.batchSize], [500, 0.5, 'mnist', false, 32], 'defaults');
  // Which flags were typed, as opposed to defaulted (a default equal to the typed value still counts as typed).
  const g = parse(['--out-dir=x', '--steps', '500', '--no-resume']);
  t.same([...g.given].sort(), ['outDir', 'resume', 'steps']);
  t.same([...givenFlags(g.flags)].sort(), ['outDir', 'resume', 'steps'], 'also reachable from the flags object');
  t.same([...givenFlags({ steps: 1 })], [], 'a hand-built object reports none');
  t.throws(() => rejectUnusedFlags(g.flags, ['lambda', 'steps', 'resume'], 'in this mode'), /^--steps, --resume: have no effect in this mode; drop them$/);
  t.doesNotThrow(() => rejectUnusedFlags(g.flags, ['lambda', 'dataset'], 'in this mode'), 'defaults never trigger it');
  t.equal(parse(['--out-dir', 'x', '--no-resume']).flags.resume, false);
  t.equal(parse(['--out-dir', 'x', '--resume=false']).flags.resume, false);
  t.equal(parse(['--outDir', 'x', '--lambda', '3e-4']).flags.lambda, 3e-4, 'camelCase spelling and exponent form accepted');
  t.equal(parse(['--out-dir', 'x', '--dropout', '1']).flags.dropout, 1, 'max is inclusive');
  t.equal(parse(['-h']).help, true, '--help skips the required check');
  t.same(parseArgs(['a.png', '--', '--not-a-flag'], trainFlags.slice(0, 1), { positionals: true }).positionals, ['a.png', '--not-a-flag']);
});

t.test('usage errors name the flag, what was expected and what arrived', async (t) => {
  const cases: [string[], RegExp][] = [
    [['--out-dir', 'x', '--lambda', '-1'], /^--lambda: expected a number ≥ 0, got -1$/],
    [['--out-dir', 'x', '--lambda', 'abc'], /^--lambda: expected a number ≥ 0, got "abc"$/],
    [['--out-dir', 'x', '--steps', '1.5'], /^--steps: expected an integer ≥ 1, got "1.5"$/],
    [['--out-dir', 'x', '--steps', '0'], /^--steps: expected an integer ≥ 1, got 0$/],
    [['--out-dir', 'x', '--dropout', '1.5'], /^--dropout: expected a number in \[0, 1\], got 1.5$/],
    [['--out-dir', 'x', '--dataset', 'cifar'], /^--dataset: expected one of mnist, fashion, shapes, got "cifar"$/],
    [['--out-dir', 'x', '--batch-size', '7'], /^--batch-size: must be even, got 7$/],
    [['--out-dir', 'x', '--steps'], /^--steps: missing value \(expected an integer ≥ 1\)$/],
    [['--steps', '--out-dir', 'x'], /^--steps: missing value/],
    [['--out-dir', 'x', '--stpes', '3'], /^unknown flag --stpes for 'train'; did you mean --steps\? \(see --help\)$/],
    [['--out-dir', 'x', '--zzzzzzzz'], /^unknown flag --zzzzzzzz for 'train' \(see --help\)$/],
    [['--out-dir', 'x', '--steps', '1', '--steps', '2'], /^--steps: given more than once$/],
    [['--out-dir', 'x', '--resume=maybe'], /^--resume: expected true or false, got "maybe"$/],
    [['--out-dir', 'x', 'stray'], /^unexpected argument "stray" for 'train'/],
    [[], /^--out-dir: required \(a string\) for 'train'$/],
  ];
  for (const [argv, message] of cases) {
    t.throws(() => parse(argv), { name: 'UsageError', message }, argv.join(' ') || '(no arguments)');
  }
  try {
    parse(['--out-dir', 'x', '--lambda', '-1']);
  } catch (err) {
    t.ok(err instanceof UsageError && err.flag === '--lambda', 'the error carries the flag');
  }
});

t.test('subcommand selection', async (t) => {
  const commands = ['train', 'sample', 'eval'] as const;
  t.same(selectCommand(['train', '--steps', '5'], commands), { command: 'train', rest: ['--steps', '5'] });
  t.throws(() => selectCommand(['trian'], commands), /unknown command 'trian'; did you mean 'train'\? \(commands: train, sample, eval\)/);
  t.throws(() => selectCommand([], commands), /missing command: expected one of train, sample, eval/);
});

t.test('help text lists every flag with type, default and range', async (t) => {
  const help = formatHelp('train', trainFlags, { summary: 'Train the ARRA model.' });
  t.match(help, /^Usage: arra train \[flags\]\n\nTrain the ARRA model\.\n\nFlags:\n/);
  for (const flag of ['--steps <int>', '--lambda <float>', '--dropout <float>', '--dataset <mnist|fashion|shapes>', '--out-dir <string>', '--resume', '--batch-size <int>', '-h, --help']) {
    t.ok(help.includes(flag), `lists ${flag}`);
  }
  t.match(help, /--steps <int> +optimizer steps \(default 500; an integer ≥ 1\)/);
  t.match(help, /--out-dir <string> +where checkpoints go \(required\)/);
  t.match(help, /--dropout <float> +dropout probability \(a number in \[0, 1\]\)/);
  const lines = help.split('\n').filter((l) => l.startsWith('  -'));
  t.equal(lines.length, trainFlags.length + 1, 'one line per flag plus --help');
  const helpColumn = [...trainFlags.map((f) => f.help), 'show this help'].map((h, i) => lines[i]!.indexOf(h));
  t.equal(new Set(helpColumn).size, 1, `help texts start in one column (${[...new Set(helpColumn)]})`);
});

t.test('progress, plain mode: periodic lines with rate and ETA, then a final line', async (t) => {
  let clock = 0;
  const out: string[] = [];
  const p = createProgress({ label: 'train', total: 500, stream: { write: (s: string) => out.push(s), isTTY: false }, intervalMs: 2000, now: () => clock });
  for (let step = 1; step <= 500; step++) {
    clock = step * (1000 / 3.1); // 3.1 it/s
    p.update(step, { loss: 1 / step });
  }
  p.stop();
  p.stop();
  // a step every 322.6 ms and a 2000 ms interval: a line every 7th step (2258 ms), 71 of them, plus the final line
  t.equal(out.length, 72, 'one line per ≥ 2 s, plus the final line');
  t.equal(out[0], '[train] 7/500 (1%) 3.1 it/s ETA 2m39s loss=0.1429\n');
  t.equal(out.find((l) => l.startsWith('[train] 119/')), '[train] 119/500 (23%) 3.1 it/s ETA 2m03s loss=0.008403\n');
  t.equal(out.find((l) => l.startsWith('[train] 120/')), undefined, 'not every step prints');
  t.equal(out[out.length - 1], '[train] 500/500 (100%) 3.1 it/s done in 2m41s loss=0.002000\n', 'final line once (stop() twice adds nothing)');

  const out2: string[] = [];
  clock = 0;
  const q = createProgress({ label: 'eval', total: 10, stream: { write: (s: string) => out2.push(s) }, now: () => clock });
  clock = 90_000;
  q.increment(4);
  q.stop();
  t.same(out2, ['[eval] 4/10 (40%) 0.04 it/s ETA 2m15s\n', '[eval] 4/10 (40%) 0.04 it/s stopped after 1m30s\n']);
  t.same([formatDuration(45.4), formatDuration(123), formatDuration(3900), formatDuration(NaN)], ['45s', '2m03s', '1h05m', '?']);
  t.same([formatMetric(3), formatMetric(0.41), formatMetric(3e-4), formatMetric(123456.7), formatMetric('warmup')], ['3', '0.4100', '3.00e-4', '1.23e+5', 'warmup']);
});

t.test('progress, TTY mode: draws a cli-progress bar on the given stream', async (t) => {
  const out: string[] = [];
  const stream = { write: (s: string) => out.push(s) > 0, isTTY: true, columns: 120, on() { return this; }, removeListener() { return this; } };
  const p = createProgress({ label: 'train', total: 10, stream });
  p.update(3, { loss: 0.5 });
  p.update(10);
  p.stop();
  const text = out.join('');
  t.match(text, /\[train\] [░█]{40} 10\/10 \(100%\) \d+ it\/s ETA 0s loss=0\.5000/);
  t.match(text, /\x1b\[\?25h/, 'cursor shown again after stop');
});

t.test('JSONL metrics: round trip, append, NaN kept, torn last line handled', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arra-metrics-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'run', 'metrics.jsonl');
  const log = new MetricsLogger(file);
  log.log({ step: 1, loss: 2.5, tag: 'train' });
  log.log({ step: 2, loss: NaN, grad: Infinity, nested: { a: [1, 2] } });
  t.equal(fs.readFileSync(file, 'utf8').split('\n').length, 3, 'one line per record, written immediately');
  log.close();
  t.throws(() => log.log({ step: 3 }), /after close/);

  const resumed = new MetricsLogger(file); // appends
  resumed.log({ step: 3, loss: -Infinity });
  resumed.close();
  const records = readMetrics(file);
  t.equal(records.length, 3);
  t.same(records[0], { step: 1, loss: 2.5, tag: 'train' });
  t.ok(Number.isNaN(records[1]!.loss), 'NaN survives');
  t.equal(records[1]!.grad, Infinity);
  t.same(records[1]!.nested, { a: [1, 2] });
  t.equal(records[2]!.loss, -Infinity);

  fs.appendFileSync(file, '{"step": 4, "lo'); // a crash mid-write
  t.equal(readMetrics(file).length, 3, 'torn final line ignored by the reader');
  const after = new MetricsLogger(file);
  after.log({ step: 4, loss: 1 });
  after.close();
  t.same(readMetrics(file).map((r) => r.step), [1, 2, 3, 4], 'torn fragment dropped before appending');

  fs.writeFileSync(file, '{"step":1}\nnot json\n{"step":3}\n');
  t.throws(() => readMetrics(file), new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:2: not valid JSON`));
  const fresh = new MetricsLogger(file, { truncate: true });
  fresh.log({ x: 1 });
  fresh.close();
  t.same(readMetrics(file), [{ x: 1 }]);
});
