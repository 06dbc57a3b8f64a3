/**
 * results.md of an experiment: mean ± sd per arm, the paired difference against the baseline
 * with both 95% intervals and the relative change, every seed's figures, FID/KID-vs-step
 * curves with a ± sd band per arm (SVG, lib/plot) and the sample grids of each seed side by
 * side. Every number in it is printed from results.json at the stated decimals (a test parses
 * the tables back and compares).
 */
import { join } from 'node:path';
import { lineChartSvg, saveSvg, type LineSeries } from '../../../lib';
import { atomicWriteFile } from '../../../lib/io';
import { detectableDifference, sd, seedsToDetect } from '../../../lib/stats';
import type { Arm } from './grid';
import { METRICS as METRIC_LIST, type ExperimentResults, type Summary } from './results';

const fixed = (x: number | null, d: number): string => (x === null ? '—' : Number.isFinite(x) ? x.toFixed(d) : String(x));
const meanSd = (s: Summary | null, scale: number, d: number): string => (s === null ? '—' : `${fixed(s.mean * scale, d)} ± ${s.sd === null ? '—' : fixed(s.sd * scale, d)}`);

/** A short description of an arm's settings. */
export function describeArm(a: Arm): string {
  if (a.align === 'off') return 'no alignment (LlamaGen baseline)';
  const mode = a.align === 'hybnext' ? '&lt;HYBNEXT&gt; (every image position)' : '&lt;REP&gt; (first image position)';
  return `${mode}, block ${a.alignLayer}, λ = ${a.lambda}, ${a.objective}, encoder ${a.encoder} (${a.pooling}), projector p = ${a.projectorHidden}`;
}

/**
 * How KID is printed. With Inception-like features KID is ~10⁻³ and is shown ×10³; the cubic
 * kernel (xᵀy/d + 1)³ is not scale-invariant, and a feature network with large activations
 * (this project's ConvNets) gives KIDs in the hundreds, which are then shown as they are.
 */
export function kidDisplay(r: Pick<ExperimentResults, 'cells'>): { label: string; scale: number; decimals: number } {
  return r.cells.some((c) => Math.abs(c.kid) >= 1) ? { label: 'KID', scale: 1, decimals: 2 } : { label: 'KID ×10³', scale: 1e3, decimals: 3 };
}

/** The FID and KID curves: one line per arm (mean over seeds) with a ± 1 sd band. */
function curveSvgs(r: ExperimentResults, outDir: string): string[] {
  const kid = kidDisplay(r);
  const files: string[] = [];
  const n = r.grid.seeds.length;
  for (const [metric, label, scale] of [['fid', 'FID', 1], ['kid', kid.label, kid.scale]] as const) {
    const series: LineSeries[] = r.grid.arms.map((a) => ({
      name: a.name,
      points: r.curves[a.name]!.map((p) => [p.step, p[metric].mean * scale] as [number, number]),
      band: n > 1 ? r.curves[a.name]!.map((p) => [p.step, (p[metric].mean - p[metric].sd!) * scale, (p[metric].mean + p[metric].sd!) * scale] as [number, number, number]) : undefined,
    }));
    if (series.every((s) => s.points.length === 0)) continue;
    const file = `${metric}-curve.svg`;
    saveSvg(join(outDir, file), lineChartSvg(series, {
      title: `${label} vs step (${r.grid.curve.samples} samples per point; band: ± 1 sd over ${n} seed${n > 1 ? 's' : ''})`, xLabel: 'training step', yLabel: label,
    }));
    files.push(file);
  }
  return files;
}

/** The paper's headline: FID −7.1% with ARRA (LlamaGen-B, ImageNet 256; ARRA.md). */
export const PAPER_FID_CHANGE = -0.071;

/**
 * "What this grid could detect": per arm and metric, the sd of the per-seed differences, the
 * smallest true difference a paired t test over these n seeds detects with 80% power
 * (lib/stats/power.ts), and for FID how many seeds the paper's −7.1% would need at this spread.
 */
function powerSection(r: ExperimentResults, metrics: readonly { key: string; label: string; scale: number; decimals: number }[], L: string[]): void {
  const n = r.grid.seeds.length;
  L.push('## What this grid could detect', '');
  L.push(`Taking the spread of the per-seed differences measured here as the true one (a planning figure, not a certainty), the smallest mean difference a paired t test over ${n} seeds detects at α = 0.05 with 80% power is (t₀.₉₇₅,ₙ₋₁ + t₀.₈,ₙ₋₁) · sd/√n. An interval that includes 0 says little about an effect much smaller than this.`, '');
  L.push(`| arm | metric | sd of differences | detectable with ${n} seeds | as % of baseline | seeds to detect FID ${(100 * PAPER_FID_CHANGE).toFixed(1)}% (the paper's) |`);
  L.push('|---|---|---|---|---|---|');
  for (const c of r.comparisons) {
    const m = metrics.find((x) => x.key === c.metric)!;
    const s = sd(c.differences);
    const delta = detectableDifference(s, c.differences.length);
    const base = r.summary[c.baseline]![c.metric as 'fid']!.mean;
    const relative = base === 0 ? '—' : `${fixed((100 * delta) / Math.abs(base), 1)}%`;
    const seeds = c.metric === 'fid' ? seedsToDetect(s, PAPER_FID_CHANGE * base) : undefined;
    L.push(`| ${c.arm} | ${m.label} | ${fixed(s * m.scale, m.decimals)} | ${fixed(delta * m.scale, m.decimals)} | ${relative} | ${seeds === undefined ? '' : seeds === null ? '> 10 000' : String(seeds)} |`);
  }
  L.push('');
}

/** Write results.md (and the curve SVGs) into the experiment folder. */
export function writeResultsMd(r: ExperimentResults, outDir: string): void {
  // the score column is named for the conditioning mode (accuracy, caption accuracy, class coverage)
  const kid = kidDisplay(r);
  const METRICS = METRIC_LIST.map((m) => (m.key === 'promptAccuracy' ? { ...m, label: `${r.scoreName} %` } : m.key === 'kid' ? { ...m, ...kid } : m));
  const g = r.grid;
  const n = g.seeds.length;
  const cell0 = r.cells[0]!;
  const minutes = (r.totalSeconds.train + r.totalSeconds.eval + r.totalSeconds.shared) / 60;
  const L: string[] = [];
  L.push(`# Experiment \`${g.name}\`: paired by seed`, '');
  if (r.partial) L.push(`**Partial: ${r.partial.seedsDone} of ${r.partial.seedsPlanned} seeds finished** — the grid is still running or was stopped; rerun its command to continue.`, '');
  if (g.description) L.push(g.description, '');
  if (r.warnings.length > 0) L.push('**Warnings** (the figures below mean less than they seem):', '', ...r.warnings.map((w) => `- ⚠ ${w}`), '');
  L.push(
    `Reproduce with \`${r.command}\` (${r.backend}) ${codeNote(r.code)}. Dataset **${g.dataset}**, ${{ class: 'class-conditional', text: 'text-conditional', none: 'unconditional' }[g.condition]}, preset \`${g.preset}\`,`,
    `${g.steps} steps × ${g.batchSize} sequences, learning rate ${g.lr}; **${n} seed${n > 1 ? 's' : ''}** (${g.seeds.join(', ')}).`,
    `Each evaluation: **N = ${cell0.numGenerated} generated images** against ${cell0.numReal} held-out real images. Per seed, FID and KID`,
    'come from a max-pooling ConvNet and accuracy from a separately trained strided ConvNet classifier; both are checked (by weight digest) to be',
    'neither each other nor any alignment encoder.',
    `KID: ${cell0.kidSubsets} subsets of ${cell0.kidSubsetSize}. Compute: ${fixed(r.totalSeconds.shared / 60, 1)} min shared stages + ${fixed(r.totalSeconds.train / 60, 1)} min training + ${fixed(r.totalSeconds.eval / 60, 1)} min evaluation (curves and final) = ${fixed(minutes, 1)} min.`,
    '',
    'For seed s every arm shares the tokenizer, the scoring network, the initial transformer weights, the batch order and the',
    'sampling seed; only the arm\'s settings differ. How to read the intervals: docs/experiments.md in arra-ts.', '',
  );

  L.push(`## Per arm (mean ± sd over ${n} seed${n > 1 ? 's' : ''})`, '');
  L.push(`| arm | settings | ${METRICS.map((m) => `${m.label} ${m.better === 'lower' ? '↓' : '↑'}`).join(' | ')} | final L_GVA | train s |`);
  L.push(`|${'---|'.repeat(METRICS.length + 4)}`);
  for (const a of g.arms) {
    const s = r.summary[a.name]!;
    L.push(`| ${a.name} | ${describeArm(a)} | ${METRICS.map((m) => meanSd(s[m.key], m.scale, m.decimals)).join(' | ')} | ${meanSd(s.finalLossGVA, 1, 4)} | ${meanSd(s.trainSeconds, 1, 0)} |`);
  }
  L.push('');

  L.push(`## Paired difference vs \`${g.baseline}\` (arm − ${g.baseline}, seed by seed)`, '');
  if (n < 2) L.push(`One seed: no interval can be computed. A single seed is a data point, not a result.`, '');
  L.push('| arm | metric | mean difference | 95% CI, paired t | 95% CI, bootstrap | change vs baseline | p (paired t) | t interval excludes 0 |');
  L.push('|---|---|---|---|---|---|---|---|');
  for (const c of r.comparisons) {
    const m = METRICS.find((x) => x.key === c.metric)!;
    const ci = (iv: { low: number; high: number } | null): string => (iv === null ? '—' : `[${fixed(iv.low * m.scale, m.decimals)}, ${fixed(iv.high * m.scale, m.decimals)}]`);
    const excludes = c.pairedT === null ? '—' : c.pairedT.low > 0 || c.pairedT.high < 0 ? 'yes' : 'no';
    L.push(`| ${c.arm} | ${m.label} | ${fixed(c.meanDifference * m.scale, m.decimals)} | ${ci(c.pairedT)} | ${ci(c.bootstrap)} | ${Number.isFinite(c.relativePercent) ? `${fixed(c.relativePercent, 1)}%` : '— (baseline mean 0)'} | ${c.pairedT === null ? '—' : fixed(c.pairedT.p, 4)} | ${excludes} |`);
  }
  L.push('', `Lower is better for FID, KID and L_AR; higher for ${r.scoreName}. Paired t: mean ± t₀.₉₇₅,ₙ₋₁ · sd/√n of the ${n} differences. `
    + `Bootstrap: percentile interval of the mean difference over 10 000 resamples of the seeds (seed 0); with few seeds it is narrower than it should be. `
    + 'An interval that includes 0 means this grid cannot tell the arm from the baseline.', '');

  if (n >= 2) powerSection(r, METRICS, L);

  L.push('## Every seed', '');
  L.push(`| arm | seed | FID | ${kid.label} | ${kid.label.replace('KID', 'KID sd')} | ${r.scoreName} % | final L_AR | final L_GVA | train s | eval s |`);
  L.push('|---|---|---|---|---|---|---|---|---|---|');
  for (const c of r.cells) {
    L.push(`| ${c.arm} | ${c.seed} | ${fixed(c.fid, 2)} | ${fixed(c.kid * kid.scale, kid.decimals)} | ${fixed(c.kidStd * kid.scale, kid.decimals)} | ${fixed(100 * c.promptAccuracy, 1)} | ${fixed(c.finalLossAR, 4)} | ${fixed(c.finalLossGVA, 4)} | ${fixed(c.trainSeconds, 0)} | ${fixed(c.evalSeconds, 0)} |`);
  }
  L.push('');

  const svgs = curveSvgs(r, outDir);
  if (svgs.length > 0) {
    L.push('## FID and KID against step', '', `Mean over seeds, band ± 1 sd; ${g.curve.samples} generated images per point (FID at this N is biased upwards: compare the curves with each other, not with the table).`, '');
    for (const f of svgs) L.push(`![${f}](${f})`, '');
  }

  const layoutNote = g.condition === 'class' ? 'One row per class prompt' : g.condition === 'text' ? 'The first held-out prompts, in order, row by row' : 'Unconditional samples';
  L.push('## Samples: the same seed side by side', '', `${layoutNote}; the same sampling seed in every column.`, '');
  L.push(`| seed | ${g.arms.map((a) => a.name).join(' | ')} |`, `|${'---|'.repeat(g.arms.length + 1)}`);
  for (const s of g.seeds) {
    L.push(`| ${s} | ${g.arms.map((a) => `![${a.name} seed ${s}](${r.cells.find((c) => c.arm === a.name && c.seed === s)!.samples})`).join(' | ')} |`);
  }
  L.push('');
  atomicWriteFile(join(outDir, 'results.md'), L.join('\n'));
}

/** Where the cells' code is named: one commit, or the list when cells were computed on several. */
function codeNote(code: readonly string[] | undefined): string {
  const list = code ?? ['unrecorded'];
  const named = list.map((c) => `\`${c}\``).join(', ');
  if (list.length === 1) return list[0] === 'unrecorded' ? '(the code\'s commit was not recorded)' : `on the code of commit ${named}`;
  return `— cells computed on several versions of the code: ${named}`;
}
