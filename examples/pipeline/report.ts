/** Writing the demo's report.md: settings, the baseline-vs-ARRA table, grids and curves; helpers every report shares. */
import { evidenceLines } from './evidence';
import { flagText, type FlagSpec } from '../../lib/cli';
import { atomicWriteFile } from '../../lib/io';
import { ConvNetFeatures, type FeatureExtractor } from '../../models/encoder';

/**
 * Text safe inside Markdown: `<`, `>` and `&` become entities (so `<HYBNEXT>` is not swallowed
 * as an HTML tag), and `|` is escaped (so it cannot split a table cell).
 */
export function escapeMarkdown(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\|/g, '\\|');
}

/** A value as one shell word: quoted when it holds anything but safe characters. */
function shellWord(v: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(v) ? v : `'${v.replace(/'/g, `'\\''`)}'`;
}

/**
 * The command line that reproduces a run, derived from the parsed flags: every flag whose
 * value is not its default is written out (`--dataset folder --data-dir …` included), in the
 * order of the command's flag list.
 */
export function reproduceCommand(command: string, spec: readonly FlagSpec[], flags: Record<string, unknown>): string {
  const words = ['npx', 'arra', command];
  for (const s of spec) {
    const v = flags[s.name];
    if (v === undefined || v === null || v === false) continue;
    if ('default' in s && s.default === v) continue;
    if (s.type === 'bool') words.push(flagText(s));
    else words.push(flagText(s), shellWord(String(v)));
  }
  return words.join(' ');
}

/** What a feature network is, for a report: kind, architecture, features, name (escaped). */
export function describeNetwork(net: FeatureExtractor): string {
  if (net instanceof ConvNetFeatures) {
    const c = net.net.config;
    const arch = (c.arch ?? 'strided') === 'strided' ? 'all-convolutional (stride-2 3×3 convs)' : 'max-pooling (stride-1 3×3 convs + 2×2 max-pool)';
    return `in-project ConvNet classifier, ${arch}, widths ${c.widths.join('/')}, ${net.dim}-d ${net.pooling} features, ${c.imageSize} px (\`${escapeMarkdown(net.name)}\`)`;
  }
  return `pretrained ${escapeMarkdown(net.name)}, ${net.dim}-d pooled features at ${net.inputSize} px`;
}

export interface ModelRow {
  label: string;
  mode: string;
  seed: number;
  fid: number;
  kid: number;
  kidStd: number;
  kidSubsets: number;
  kidSubsetSize: number;
  promptAccuracy: number;
  numGenerated: number;
  numReal: number;
  finalLossAR: number;
  finalLossGVA: number | null;
  seconds: number;
  grid: string;
}

export interface ReportInput {
  preset: string;
  command: string;
  backend: string;
  settings: Record<string, string | number>;
  stages: { name: string; seconds: number; note: string }[];
  /** a line under the stages table (e.g. that models trained side by side, so their times overlap) */
  stagesNote?: string;
  rows: ModelRow[];
  figures: { title: string; file: string }[];
  /** what each network is (already Markdown-safe), with its weights digest */
  networks: { role: string; description: string; digest: string }[];
  /** how KID was computed */
  kidNote: string;
  /** loud warnings (evaluationWarnings) printed above the results */
  warnings: string[];
  totalSeconds: number;
  /** name of the `promptAccuracy` column (default 'prompt accuracy'; e.g. caption accuracy for text, class coverage when unconditional) */
  scoreName?: string;
  /** one sentence on the conditioning mode and what the score column measures */
  conditionNote?: string;
}

const fmt = (x: number, d = 3): string => (Number.isFinite(x) ? x.toFixed(d) : String(x));

/** mean ± sample standard deviation (± 0 for a single value). */
export function meanSpread(xs: number[]): { mean: number; spread: number } {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const spread = xs.length > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1)) : 0;
  return { mean, spread };
}

export function writeReport(path: string, r: ReportInput): void {
  const md = escapeMarkdown;
  const lines: string[] = [];
  const seeds = new Set(r.rows.map((m) => m.seed)).size;
  const score = r.scoreName ?? 'prompt accuracy';
  lines.push('# arra-ts demo: baseline vs ARRA', '');
  if (r.warnings.length > 0) lines.push('> **WARNING**', ...r.warnings.map((w) => `> - ${md(w)}`), '');
  lines.push(`Preset \`${r.preset}\`, ${md(r.backend)}, total wall time ${fmt(r.totalSeconds / 60, 1)} min. Reproduce with \`${r.command}\`.`, '');
  lines.push(
    `Both models have the same architecture, data, seed and number of steps; the ARRA run adds L_GVA, aligning every`,
    `next-image-token hidden state (${md('<HYBNEXT>')}) through a projector to the global feature of the frozen alignment encoder.`,
    `FID, KID and ${score} are measured with *different* networks (checked by the digest of their weights):`, '',
    '| role | network | weights digest |', '|---|---|---|',
    ...r.networks.map((n) => `| ${n.role} | ${n.description} | \`${n.digest}\` |`), '',
    'FID is biased at small N, so compare the rows only with each other (equal N). KID is unbiased; its ± is the',
    `spread over subsets of the samples (${md(r.kidNote)}).${r.scoreName ? '' : " Prompt accuracy's ± is the binomial standard error."}`, '',
  );
  if (r.conditionNote) lines.push(r.conditionNote, '');
  lines.push('## Results', '');
  const seedNote = seeds === 1 ? ' (one training seed: a data point, not a result)' : '';
  lines.push(`| model | training seed${seedNote} | FID ↓ | KID ↓ (mean ± std over subsets) | ${score} ↑ | final L_AR | final L_GVA | train time | samples |`, '|---|---|---|---|---|---|---|---|---|');
  for (const m of r.rows) {
    const se = 100 * Math.sqrt((m.promptAccuracy * (1 - m.promptAccuracy)) / Math.max(1, m.numGenerated));
    lines.push(`| ${md(m.label)} | ${m.seed} | ${fmt(m.fid, 2)} | ${fmt(m.kid, 4)} ± ${fmt(m.kidStd, 4)} | ${fmt(100 * m.promptAccuracy, 1)} ± ${fmt(se, 1)}% | ${fmt(m.finalLossAR)} | ${m.finalLossGVA === null ? '—' : fmt(m.finalLossGVA)} | ${fmt(m.seconds, 0)} s | [grid](${m.grid}) |`);
  }
  const modes = [...new Set(r.rows.map((m) => m.mode))];
  if (r.rows.length > modes.length) {
    lines.push('', `| model | FID mean ± sd over seeds | KID mean ± sd over seeds | ${score} mean ± sd | seeds |`, '|---|---|---|---|---|');
    for (const mode of modes) {
      const rows = r.rows.filter((m) => m.mode === mode);
      const fid = meanSpread(rows.map((m) => m.fid));
      const kid = meanSpread(rows.map((m) => m.kid));
      const acc = meanSpread(rows.map((m) => 100 * m.promptAccuracy));
      lines.push(`| ${md(rows[0]!.label)} | ${fmt(fid.mean, 2)} ± ${fmt(fid.spread, 2)} | ${fmt(kid.mean, 4)} ± ${fmt(kid.spread, 4)} | ${fmt(acc.mean, 1)} ± ${fmt(acc.spread, 1)}% | ${rows.length} |`);
    }
  }
  const first = r.rows[0];
  lines.push('', ...evidenceLines(r.rows, undefined, r.scoreName ?? 'prompt accuracy'));
  lines.push(`Samples per model: ${first?.numGenerated ?? 0} generated (sampling seed 1234) against ${first?.numReal ?? 0} held-out real images; ${seeds} training seed${seeds === 1 ? '' : 's'} per model.`, '');
  lines.push('## Figures', '');
  for (const f of r.figures) lines.push(`### ${md(f.title)}`, '', `![${md(f.title)}](${f.file})`, '');
  lines.push('## Stages', '', '| stage | wall time | note |', '|---|---|---|');
  for (const s of r.stages) lines.push(`| ${md(s.name)} | ${fmt(s.seconds, 0)} s | ${md(s.note)} |`);
  if (r.stagesNote) lines.push('', r.stagesNote);
  lines.push('', '## Settings', '', '| setting | value |', '|---|---|');
  for (const [k, v] of Object.entries(r.settings)) lines.push(`| ${md(k)} | ${md(String(v))} |`);
  lines.push('');
  atomicWriteFile(path, lines.join('\n'));
}
