/**
 * `arra experiment`: grid validation before any work; pairing by seed (the same first batch
 * and initial transformer weights for every arm of a seed, different across seeds); a grid of
 * two arms × two seeds on the tiny preset end to end; Ctrl-C after the first cell and in the
 * middle of the second, then a rerun that skips the finished cell, resumes the half-finished
 * one and writes the same results as an uninterrupted run; results.md parses back into the
 * numbers of results.json; and the budget refusal.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
const tap = t;
import { main } from '../examples/cli';
import { cellDir, RESULT_FILE, type CellResult } from '../examples/pipeline/experiment/cell';
import { loadGrid, validateGrid, type ExperimentGrid } from '../examples/pipeline/experiment/grid';
import type { ExperimentResults } from '../examples/pipeline/experiment/results';
import { ARITHMETIC_COPY, checkArithmetic, runExperiment } from '../examples/pipeline/experiment/run';
import { describeArithmetic } from '../lib';
import { UsageError } from '../lib/cli';
import { detectableDifference, sd } from '../lib/stats';

const dir = mkdtempSync(join(tmpdir(), 'arra-exp-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

const TINY = {
  name: 'tiny', dataset: 'mnist', preset: 'tiny', steps: 4, batchSize: 4, seeds: [0, 1], evalSamples: 20,
  curve: { every: 2, samples: 10 }, checkpointEvery: 2,
  arms: [{ name: 'off', align: 'off' }, { name: 'hybnext', align: 'hybnext', lambda: 1, alignLayer: 'first' }],
};
const grid = (): ExperimentGrid => validateGrid(structuredClone(TINY), 'tiny.json');

/** Run main() with stdout/stderr captured. */
async function cli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const [log, w] = [console.log, process.stderr.write.bind(process.stderr)];
  console.log = (...a: unknown[]) => { out += `${a.join(' ')}\n`; };
  process.stderr.write = ((c: string) => { err += c; return true; }) as typeof process.stderr.write;
  try {
    return { code: await main(argv), out, err };
  } finally {
    console.log = log;
    process.stderr.write = w;
  }
}

t.test('grid validation: every mistake names the field, expected and found, before any work', async (t) => {
  const bad = (patch: (g: Record<string, unknown>) => void, message: RegExp, what: string): void => {
    const g = structuredClone(TINY) as unknown as Record<string, unknown>;
    patch(g);
    t.throws(() => validateGrid(g, 'g.json'), message, what);
    try { validateGrid(g, 'g.json'); } catch (e) { t.ok(e instanceof UsageError, `${what}: a UsageError`); }
  };
  const arms = (g: Record<string, unknown>): Record<string, unknown>[] => g.arms as Record<string, unknown>[];
  bad((g) => { g.step = 3; }, /--grid g\.json: step: unknown field \(did you mean 'steps'\?\)/, 'unknown top-level field');
  bad((g) => { arms(g)[1]!.lamda = 2; }, /arms\[1\]\.lamda: unknown field \(did you mean 'lambda'\?\)/, 'unknown arm field');
  bad((g) => { g.steps = '40'; }, /steps: expected an integer ≥ 1, found "40"/, 'wrong type');
  bad((g) => { arms(g)[1]!.lambda = -1; }, /arms\[1\]\.lambda: expected a number ≥ 0, found -1/, 'out of range');
  bad((g) => { arms(g)[1]!.alignLayer = 5; }, /arms\[1\]\.alignLayer: expected a block index 0\.\.1 of the preset's 2-block model, or first, middle, last, found 5/, 'layer beyond the model');
  bad((g) => { arms(g)[0]!.lambda = 2; }, /arms\[0\]\.lambda: expected no 'lambda' on an arm with align 'off'/, 'a field that would have no effect');
  bad((g) => { arms(g)[1]!.pooling = 'max'; }, /arms\[1\]\.pooling: "max" is not supported yet \(the ConvNet encoder offers penultimate, avg, both today\)/, 'a pooling the encoder does not offer');
  bad((g) => { arms(g)[1]!.pooling = 'cls'; }, /arms\[1\]\.pooling: expected one of penultimate, avg, max, both, found "cls"/, 'an unknown pooling');
  bad((g) => { g.condition = 'pixels'; }, /condition: expected one of class, text, none, found "pixels"/, 'unknown condition');
  bad((g) => { arms(g)[1]!.name = 'off'; }, /arms: expected arms with distinct names, found \["off","off"\]/, 'duplicate arm');
  bad((g) => { g.seeds = [1, 1]; }, /seeds: expected distinct seeds, found \[1,1\]/, 'duplicate seed');
  bad((g) => { g.seeds = []; }, /seeds: expected a non-empty list of seeds/, 'no seeds');
  bad((g) => { arms(g)[1] = { name: 'off2', align: 'off' }; }, /baseline: expected the name of the reference arm \(needed when the grid has 2 arms with align 'off'\)/, 'ambiguous baseline');
  bad((g) => { g.baseline = 'arra'; }, /baseline: expected one of off, hybnext, found "arra"/, 'baseline names no arm');
  bad((g) => { arms(g)[1]!.encoder = 'clip'; }, /arms\[1\]\.encoder: expected 'convnet' .* or 'mobilenet\[@<px>\]'/, 'unknown encoder');
  bad((g) => { g.curve = { every: 9, samples: 10 }; }, /curve\.every: expected at most steps \(4\)/, 'curve beyond the run');
  bad((g) => { delete g.arms; }, /arms: expected a 'arms' field/, 'missing field');

  const g = grid();
  t.equal(g.arms[1]!.alignLayer, 0, "'first' is block 0");
  t.equal(validateGrid({ ...structuredClone(TINY), arms: [{ name: 'off', align: 'off' }, { name: 'last', align: 'rep', alignLayer: 'last' }] }, 'g').arms[1]!.alignLayer, 1, "'last' of the tiny model is block 1");
  t.same([g.baseline, g.arms[1]!.encoder, g.arms[1]!.objective, g.arms[1]!.pooling, g.condition], ['off', 'convnet', 'cosine', 'penultimate', 'class'], 'defaults filled in');
  t.equal(validateGrid({ ...structuredClone(TINY), arms: [{ name: 'off', align: 'off' }, { name: 'm', align: 'hybnext', encoder: 'mobilenet' }] }, 'g').arms[1]!.pooling, 'avg', "MobileNetV2's pooling is its global average");
  bad((g) => { arms(g)[1]!.encoder = 'mobilenet@64'; arms(g)[1]!.pooling = 'penultimate'; }, /arms\[1\]\.pooling: "penultimate" is not supported yet \(the MobileNetV2 encoder offers avg, max, both today\)/, 'MobileNetV2 has no penultimate layer to offer');

  // Through the CLI: exit status 2, the message on stderr, nothing written.
  const file = join(dir, 'bad.json');
  writeFileSync(file, JSON.stringify({ ...TINY, arms: [{ name: 'off', align: 'off' }, { name: 'x', align: 'hybnext', objective: 'l1' }] }));
  const out = join(dir, 'never');
  const r = await cli(['experiment', '--grid', file, '--out', out]);
  t.equal(r.code, 2, 'usage error exit status');
  t.match(r.err, /arms\[1\]\.objective: expected one of cosine, mse, mse-normalized, found "l1"/);
  t.notOk(existsSync(out), 'no output folder was created');
  writeFileSync(file, '{ "name": ');
  t.match((await cli(['experiment', '--grid', file])).err, /--grid .*bad\.json: not valid JSON/);
});

t.test('the committed grid files validate', async (t) => {
  const folder = join(__dirname, '..', 'examples', 'experiments');
  const files = readdirSync(folder).filter((f) => f.endsWith('.json')).sort();
  t.ok(files.length >= 6, `${files.length} grid files`);
  for (const f of files) {
    const g = loadGrid(join(folder, f));
    t.ok(g.seeds.length >= 3 && g.arms.some((a) => a.name === g.baseline), `${f}: ${g.arms.length} arms × ${g.seeds.length} seeds, ${g.condition}`);
  }
});

t.test('unconditional and text-conditioned grids run end to end, each scored in its own terms', async (t) => {
  for (const [condition, scoreName, wording] of [['none', 'class coverage', /unconditional/], ['text', 'class accuracy of the prompt', /text-conditional/]] as const) {
    const g = validateGrid({ ...structuredClone(TINY), name: `tiny-${condition}`, condition, seeds: [0], curve: undefined }, 'g.json');
    const r = await runExperiment(g, { outDir: join(dir, `cond-${condition}`), command: 'test', log: quiet });
    t.equal(r.status, 'done', `${condition}: done`);
    if (r.status !== 'done') continue;
    t.equal(r.results.scoreName, scoreName, `${condition}: the score is ${scoreName}`);
    t.ok(r.results.cells.every((c) => Number.isFinite(c.fid) && c.numGenerated === 20 && c.promptAccuracy >= 0 && c.promptAccuracy <= 1), `${condition}: FID and score of every cell`);
    const md = readFileSync(join(dir, `cond-${condition}`, 'results.md'), 'utf8');
    t.match(md, wording);
    t.match(md, new RegExp(`\\| ${scoreName} % \\|`), 'the score column is named for the mode');
    t.match(md, /One seed: no interval can be computed/, 'one seed says so instead of inventing an interval');
  }
});

/** Every tensor of a model, flattened, by name. */
const weightsOf = (model: { stateDict(): Map<string, { values(): ArrayLike<number> }> }): Record<string, number[]> =>
  Object.fromEntries([...model.stateDict()].map(([k, v]) => [k, Array.from(v.values())]));

/** results.json without wall times and the command line (those differ between any two runs). */
function withoutTimes(r: ExperimentResults): unknown {
  return JSON.parse(JSON.stringify({ ...r, command: '' }, (k, v: unknown) => (/Seconds$/.test(k) || k === 'totalSeconds' ? undefined : v)));
}

const quiet = (): void => {};

t.test('two arms × two seeds end to end: paired, resumable, results.md = results.json', async (t) => {
  // 1. Uninterrupted run, recording each cell's first batch and initial weights.
  const first = new Map<string, { rows: number[]; tokens: number[]; weights: Record<string, number[]> }>();
  const straightDir = join(dir, 'straight');
  const straight = await runExperiment(grid(), {
    outDir: straightDir, command: 'test', log: quiet,
    hooks: { onBatch: (arm, seed, step, batch, model) => { if (step === 1) first.set(`${arm}-s${seed}`, { rows: [...batch.rows], tokens: [...batch.tokens], weights: weightsOf(model) }); } },
  });
  t.equal(straight.status, 'done');
  t.same(JSON.parse(readFileSync(join(straightDir, ARITHMETIC_COPY), 'utf8')), { arithmetic: describeArithmetic() }, 'the folder records the arithmetic it was computed on');
  if (straight.status !== 'done') return;
  for (const s of [0, 1]) {
    const [a, b] = [first.get(`off-s${s}`)!, first.get(`hybnext-s${s}`)!];
    t.same(a.rows, b.rows, `seed ${s}: both arms draw the same first batch`);
    t.same(a.tokens, b.tokens, `seed ${s}: the same input sequences (condition dropping included)`);
    t.same(a.weights, b.weights, `seed ${s}: the same initial transformer weights (the projector's init shifts nothing)`);
  }
  t.notSame(first.get('off-s0')!.rows, first.get('off-s1')!.rows, 'another seed draws another batch');
  t.notSame(first.get('off-s0')!.weights, first.get('off-s1')!.weights, 'and starts from other weights');

  const res = straight.results;
  t.equal(res.cells.length, 4);
  for (const c of res.cells) {
    t.ok(Number.isFinite(c.fid) && Number.isFinite(c.kid) && c.kidStd >= 0, `${c.arm}-s${c.seed}: FID ${c.fid.toFixed(3)}, KID ${c.kid.toExponential(2)}`);
    t.equal(c.numGenerated, 20);
    t.same(c.curve.map((p) => p.step), [2, 4], 'FID/KID at steps 2 and 4');
    t.equal(c.finalLossGVA === null, c.arm === 'off', 'L_GVA only where aligned');
  }
  const cmp = res.comparisons.find((c) => c.arm === 'hybnext' && c.metric === 'fid')!;
  const base = res.cells.filter((c) => c.arm === 'off').map((c) => c.fid);
  const arra = res.cells.filter((c) => c.arm === 'hybnext').map((c) => c.fid);
  t.same(cmp.differences, [arra[0]! - base[0]!, arra[1]! - base[1]!], 'differences are per seed, arm − baseline');
  t.ok(cmp.pairedT!.low <= cmp.meanDifference && cmp.meanDifference <= cmp.pairedT!.high, 'the t interval brackets the mean difference');
  t.ok(existsSync(join(straightDir, 'fid-curve.svg')) && existsSync(join(straightDir, 'cells', 'off-s1', 'samples.png')));
  // which code computed the cells: this checkout's commit (git rev-parse here, independently)
  let head: string | null = null;
  try { head = execFileSync('git', ['rev-parse', '--short=7', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim(); } catch { head = null; }
  const code = res.cells.map((c) => c.code);
  if (head) t.ok(code.every((c) => c === head || c === `${head}-dirty`), `every cell names the commit that computed it (${code[0]})`);
  else t.ok(code.every((c) => c === null), 'outside a git checkout the code is null');
  t.same(res.code, [code[0] ?? 'unrecorded'], 'results.json lists the one commit');
  t.match(readFileSync(join(straightDir, 'results.md'), 'utf8'), head ? `on the code of commit \`${code[0]}\`` : 'commit was not recorded', 'and results.md names it');

  // 2. The same grid, Ctrl-C after the first cell …
  const resumedDir = join(dir, 'resumed');
  const stopAfterFirst = await runExperiment(grid(), {
    outDir: resumedDir, command: 'test', log: quiet, hooks: { afterCell: () => { process.emit('SIGINT'); } },
  });
  t.same(stopAfterFirst, { status: 'interrupted', cellsDone: 1 }, 'stopped after the first cell');
  t.notOk(existsSync(join(resumedDir, 'results.json')), 'no report before a whole seed is done');
  const firstResult = join(cellDir(resumedDir, 'off', 0), RESULT_FILE);
  t.ok(existsSync(firstResult) && !existsSync(join(cellDir(resumedDir, 'hybnext', 0), RESULT_FILE)), 'only the first cell is finished');
  const firstMtime = statSync(firstResult).mtimeMs;
  // … then again in the middle of the second cell (after step 3 of 4) …
  const stopMid = await runExperiment(grid(), {
    outDir: resumedDir, command: 'test', log: quiet, hooks: { onBatch: (arm, _s, step) => { if (arm === 'hybnext' && step === 3) process.emit('SIGINT'); } },
  });
  t.equal(stopMid.status, 'interrupted', 'stopped inside the second cell');
  t.ok(existsSync(join(cellDir(resumedDir, 'hybnext', 0), 'train-state.safetensors')), 'its checkpoint is on disk');
  t.notOk(existsSync(join(cellDir(resumedDir, 'hybnext', 0), RESULT_FILE)), 'but no result.json');
  // … and once more after the first seed, whose partial report is on disk.
  const resumedSteps: string[] = [];
  const stopAfterSeed = await runExperiment(grid(), {
    outDir: resumedDir, command: 'test', log: quiet, hooks: {
      onBatch: (arm, seed, step) => resumedSteps.push(`${arm}-s${seed}@${step}`),
      afterCell: (r, status) => { if (status === 'done' && r.arm === 'hybnext' && r.seed === 0) process.emit('SIGINT'); },
    },
  });
  t.equal(stopAfterSeed.status, 'interrupted');
  t.same(resumedSteps, ['hybnext-s0@4'], 'the finished cell was skipped and the half-finished one resumed at step 4');
  const partial = JSON.parse(readFileSync(join(resumedDir, 'results.json'), 'utf8')) as ExperimentResults;
  t.same([partial.partial, partial.grid.seeds, partial.cells.length], [{ seedsDone: 1, seedsPlanned: 2 }, [0], 2], 'a partial report of seed 0');
  t.match(readFileSync(join(resumedDir, 'results.md'), 'utf8'), /\*\*Partial: 1 of 2 seeds finished\*\*/);
  // … and a rerun to the end.
  const trainedSteps: string[] = [];
  const resumed = await runExperiment(grid(), {
    outDir: resumedDir, command: 'test', log: quiet, hooks: { onBatch: (arm, seed, step) => trainedSteps.push(`${arm}-s${seed}@${step}`) },
  });
  t.equal(resumed.status, 'done');
  if (resumed.status !== 'done') return;
  t.notOk(trainedSteps.some((s) => s.startsWith('off-s0@')), 'the finished cell was not retrained');
  t.equal(statSync(firstResult).mtimeMs, firstMtime, 'nor its result.json rewritten');
  t.same(trainedSteps.filter((s) => s.startsWith('hybnext-s0@')), [], 'seed 0 is not touched again');
  t.ok(trainedSteps.includes('off-s1@1') && trainedSteps.includes('hybnext-s1@4'), 'seed 1 trains from its first step');
  t.equal(res.partial, null, 'the finished grid is not partial');
  t.same(withoutTimes(resumed.results), withoutTimes(res), 'results identical to the uninterrupted run (wall times aside)');

  // 3. results.md says what results.json says.
  checkMarkdown(t, readFileSync(join(resumedDir, 'results.md'), 'utf8'), JSON.parse(readFileSync(join(resumedDir, 'results.json'), 'utf8')) as ExperimentResults);

  // 4. The same folder with another grid is refused before any work.
  await t.rejects(runExperiment({ ...grid(), steps: 6 }, { outDir: resumedDir, command: 'test', log: quiet }), /--out: .* holds an experiment made by a different grid \(field 'steps': 4 there, 6 now\)/);
});

/** Parse results.md's tables and compare every number with results.json at the printed precision. */
function checkMarkdown(t: Pick<typeof tap, 'ok' | 'equal'>, md: string, json: ExperimentResults): void {
  const tableAfter = (heading: RegExp): string[][] => {
    const lines = md.split('\n');
    const start = lines.findIndex((l) => heading.test(l));
    t.ok(start >= 0, `section ${heading}`);
    const rows: string[][] = [];
    for (let i = start + 1; i < lines.length; i++) {
      const l = lines[i]!;
      if (!l.startsWith('|')) { if (rows.length > 0) break; continue; }
      rows.push(l.split('|').slice(1, -1).map((c) => c.trim()));
    }
    return rows.slice(2); // header and separator
  };
  const near = (text: string, value: number | null, decimals: number, what: string): void => {
    if (value === null) { t.equal(text, '—', what); return; }
    t.ok(Math.abs(Number(text) - value) <= 0.5 * 10 ** -decimals + 1e-12, `${what}: ${text} vs ${value}`);
  };
  // KID is shown ×10³ when it is small and as it is when the feature network makes it large (kidDisplay)
  const kidScaled = /\| KID ×10³ \|/.test(md);
  const [kidK, kidD] = kidScaled ? [1e3, 3] : [1, 2];
  t.equal(kidScaled, !json.cells.some((c) => Math.abs(c.kid) >= 1), 'the KID unit follows the size of the values');
  const seedRows = tableAfter(/^## Every seed/);
  t.equal(seedRows.length, json.cells.length, 'one row per cell');
  for (const row of seedRows) {
    const c = json.cells.find((x: CellResult) => x.arm === row[0] && x.seed === Number(row[1]))!;
    t.ok(c, `cell ${row[0]}-s${row[1]} in results.json`);
    near(row[2]!, c.fid, 2, 'FID');
    near(row[3]!, c.kid * kidK, kidD, 'KID');
    near(row[4]!, c.kidStd * kidK, kidD, 'KID sd');
    near(row[5]!, 100 * c.promptAccuracy, 1, 'accuracy');
    near(row[6]!, c.finalLossAR, 4, 'L_AR');
    near(row[7]!, c.finalLossGVA, 4, 'L_GVA');
  }
  const armRows = tableAfter(/^## Per arm/);
  t.equal(armRows.length, json.grid.arms.length);
  for (const row of armRows) {
    const s = json.summary[row[0]!]!;
    const [fidMean, fidSd] = row[2]!.split(' ± ');
    near(fidMean!, s.fid!.mean, 2, `${row[0]} FID mean`);
    near(fidSd!, s.fid!.sd, 2, `${row[0]} FID sd`);
    const [kidMean] = row[3]!.split(' ± ');
    near(kidMean!, s.kid!.mean * kidK, kidD, `${row[0]} KID mean`);
  }
  const pairRows = tableAfter(/^## Paired difference/);
  t.equal(pairRows.length, json.comparisons.length);
  const scale: Record<string, [string, number, number]> = { FID: ['fid', 1, 2], [kidScaled ? 'KID ×10³' : 'KID']: ['kid', kidK, kidD], 'accuracy %': ['promptAccuracy', 100, 1], 'final L_AR': ['finalLossAR', 1, 4] };
  for (const row of pairRows) {
    const [key, k, d] = scale[row[1]!]!;
    const c = json.comparisons.find((x) => x.arm === row[0] && x.metric === key)!;
    near(row[2]!, c.meanDifference * k, d, `${row[0]} ${key} difference`);
    const [lo, hi] = row[3]!.slice(1, -1).split(', ');
    near(lo!, c.pairedT!.low * k, d, 't low');
    near(hi!, c.pairedT!.high * k, d, 't high');
    const [blo, bhi] = row[4]!.slice(1, -1).split(', ');
    near(blo!, c.bootstrap!.low * k, d, 'bootstrap low');
    near(bhi!, c.bootstrap!.high * k, d, 'bootstrap high');
    near(row[5]!.replace('%', ''), c.relativePercent, 1, 'relative change');
    near(row[6]!, c.pairedT!.p, 4, 'p');
  }
  const powerRows = tableAfter(/^## What this grid could detect/);
  t.equal(powerRows.length, json.comparisons.length, 'one power row per comparison');
  for (const row of powerRows) {
    const [key, k, d] = scale[row[1]!]!;
    const c = json.comparisons.find((x) => x.arm === row[0] && x.metric === key)!;
    const s = sd(c.differences);
    near(row[2]!, s * k, d, `${row[0]} ${key} sd of differences`);
    near(row[3]!, detectableDifference(s, c.differences.length) * k, d, `${row[0]} ${key} detectable difference`);
    if (key === 'fid') t.ok(/^(\d+|> 10 000)$/.test(row[5]!), `seeds for the paper's −7.1%: ${row[5]}`);
  }
}

t.test('--budget-minutes refuses a grid that will not fit, --estimate only prints', async (t) => {
  const file = join(dir, 'tiny.json');
  writeFileSync(file, JSON.stringify(TINY));
  const out = join(dir, 'budget');
  const refused = await cli(['experiment', '--grid', file, '--out', out, '--budget-minutes', '0.001']);
  t.equal(refused.code, 2, 'usage error');
  t.match(refused.err, /--budget-minutes: the grid needs an estimated \d+\.\d min, more than the budget of 0\.001 min; pass --yes/);
  t.match(refused.out, /estimate: \S+ for 4 of 4 cells \(AR step: off \d+ ms, hybnext \d+ ms/, 'the estimate is printed first');
  t.notOk(existsSync(join(out, 'grid.json')), 'nothing was started');
  const est = await cli(['experiment', '--grid', file, '--out', out, '--estimate']);
  t.equal(est.code, 0);
  t.match(est.out, /estimate: /);
  t.notOk(existsSync(join(out, 'cells')), '--estimate trains nothing');
});

t.test('a grid is not continued on other arithmetic (backend, or ARRA_FMA)', async (t) => {
  const file = join(dir, 'tiny-arith.json');
  writeFileSync(file, JSON.stringify(TINY));
  const out = join(dir, 'arith');
  mkdirSync(out, { recursive: true });
  const other = describeArithmetic() === 'ref' ? 'fast, fused multiply-add' : 'ref';
  writeFileSync(join(out, ARITHMETIC_COPY), JSON.stringify({ arithmetic: other }));
  const refused = await cli(['experiment', '--grid', file, '--out', out]);
  t.equal(refused.code, 2, 'usage error');
  const esc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  t.match(refused.err, new RegExp(`--out: .* was computed on backend "${esc(other)}", this run is on "${esc(describeArithmetic())}": continuing would mix two computations in one grid`));
  if (describeArithmetic().startsWith('fast')) {
    // a folder from before the float32 GELU kernels (its record has no revision) is refused, with why
    writeFileSync(join(out, ARITHMETIC_COPY), JSON.stringify({ arithmetic: 'fast, fused multiply-add' }));
    const old = await cli(['experiment', '--grid', file, '--out', out]);
    t.equal(old.code, 2, 'a pre-revision fast folder: usage error');
    t.match(old.err, /predates the float32 GELU kernels/, 'says the folder predates the kernel revision');
    writeFileSync(join(out, ARITHMETIC_COPY), JSON.stringify({ arithmetic: other }));
  }
  t.notOk(existsSync(join(out, 'grid.json')), 'refused before any work');
  t.doesNotThrow(() => checkArithmetic(out, other), 'the same arithmetic continues');
  t.doesNotThrow(() => checkArithmetic(join(dir, 'no-such-folder'), 'ref'), 'a new folder (or one from before the record) starts');
  t.match(describeArithmetic(), /^(fast, (fused multiply-add|separate multiply and add), float32 GELU \(kernels r\d+\)|ref|gpujs \(mode \w+\))$/, 'names the backend, and for fast the multiply-add');
});

t.test('kidDisplay: ×10³ for Inception-sized KIDs, as it is for large ones', async (t) => {
  const { kidDisplay } = await import('../examples/pipeline/experiment/results-md');
  const cells = (kids: number[]) => ({ cells: kids.map((kid) => ({ kid })) as unknown as CellResult[] });
  t.same(kidDisplay(cells([0.0012, -0.0003])), { label: 'KID ×10³', scale: 1e3, decimals: 3 });
  t.same(kidDisplay(cells([0.5, 592.1])), { label: 'KID', scale: 1, decimals: 2 }, 'one large value switches the unit for the whole report');
  t.same(kidDisplay(cells([-1.5])), { label: 'KID', scale: 1, decimals: 2 }, 'by magnitude');
});
