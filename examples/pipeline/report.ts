/** Writing the demo's report.md: settings, the baseline-vs-ARRA table, grids and curves. */
import { atomicWriteFile } from '../../lib/io';

export interface ModelRow {
  label: string;
  mode: string;
  seed: number;
  fid: number;
  promptAccuracy: number;
  numGenerated: number;
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
  rows: ModelRow[];
  figures: { title: string; file: string }[];
  fidNetwork: string;
  alignEncoder: string;
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
  const lines: string[] = [];
  const score = r.scoreName ?? 'prompt accuracy';
  lines.push('# arra-ts demo: baseline vs ARRA', '');
  lines.push(`Preset \`${r.preset}\`, ${r.backend}, total wall time ${fmt(r.totalSeconds / 60, 1)} min. Reproduce with \`${r.command}\`.`, '');
  lines.push(
    `Both models have the same architecture, data, seed and number of steps; the ARRA run adds L_GVA, aligning every`,
    `next-image-token hidden state (\`<HYBNEXT>\`) through a projector to the global feature of the frozen encoder`,
    `**${r.alignEncoder}**. ${r.scoreName ? 'FID is' : 'FID and prompt accuracy are'} measured with a *different* network, **${r.fidNetwork}**.`,
    'FID is biased at small N, so compare the rows only with each other (equal N).', '',
  );
  if (r.conditionNote) lines.push(r.conditionNote, '');
  lines.push('## Results', '');
  lines.push(`| model | seed | FID ↓ | ${score} ↑ | final L_AR | final L_GVA | train time | samples |`, '|---|---|---|---|---|---|---|---|');
  for (const m of r.rows) {
    lines.push(`| ${m.label} | ${m.seed} | ${fmt(m.fid, 2)} | ${fmt(100 * m.promptAccuracy, 1)}% | ${fmt(m.finalLossAR)} | ${m.finalLossGVA === null ? '—' : fmt(m.finalLossGVA)} | ${fmt(m.seconds, 0)} s | [grid](${m.grid}) |`);
  }
  const modes = [...new Set(r.rows.map((m) => m.mode))];
  if (r.rows.length > modes.length) {
    lines.push('', `| model | FID mean ± sd | ${score} mean ± sd | seeds |`, '|---|---|---|---|');
    for (const mode of modes) {
      const rows = r.rows.filter((m) => m.mode === mode);
      const fid = meanSpread(rows.map((m) => m.fid));
      const acc = meanSpread(rows.map((m) => 100 * m.promptAccuracy));
      lines.push(`| ${rows[0]!.label} | ${fmt(fid.mean, 2)} ± ${fmt(fid.spread, 2)} | ${fmt(acc.mean, 1)} ± ${fmt(acc.spread, 1)}% | ${rows.length} |`);
    }
  }
  lines.push('', `Samples per model: ${r.rows[0]?.numGenerated ?? 0} (one row per class in the grids).`, '');
  lines.push('## Figures', '');
  for (const f of r.figures) lines.push(`### ${f.title}`, '', `![${f.title}](${f.file})`, '');
  lines.push('## Stages', '', '| stage | wall time | note |', '|---|---|---|');
  for (const s of r.stages) lines.push(`| ${s.name} | ${fmt(s.seconds, 0)} s | ${s.note} |`);
  lines.push('', '## Settings', '', '| setting | value |', '|---|---|');
  for (const [k, v] of Object.entries(r.settings)) lines.push(`| ${k} | ${v} |`);
  lines.push('');
  atomicWriteFile(path, lines.join('\n'));
}
