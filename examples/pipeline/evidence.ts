/**
 * "How strong is the evidence?" — the paragraph every baseline-vs-ARRA report ends its results
 * with. Seeds pair the runs (same tokenizer, initial weights, batches and sampling seed), so the
 * comparison is the per-seed difference ARRA − baseline, with a paired t interval (lib/stats).
 * One seed gives a difference but no interval, and the report says so instead of ranking.
 */
import { pairedTInterval } from '../../lib/stats';

export interface EvidenceRow {
  /** `off` = the baseline; any other value is an ARRA arm */
  mode: string;
  seed: number;
  fid: number;
  kid: number;
}

/** Markdown lines: per metric, the paired difference ARRA − baseline over seeds and what it supports. */
export function evidenceLines(rows: readonly EvidenceRow[], studyLink = 'docs/results.md'): string[] {
  const base = new Map(rows.filter((r) => r.mode === 'off').map((r) => [r.seed, r]));
  const arra = rows.filter((r) => r.mode !== 'off' && base.has(r.seed));
  if (arra.length === 0) return [];
  const lines = ['### How strong is the evidence?', ''];
  const fmt = (x: number, d: number): string => (x >= 0 ? '+' : '') + x.toFixed(d);
  if (arra.length === 1) {
    const a = arra[0]!;
    const b = base.get(a.seed)!;
    lines.push(
      `**One seed: a data point, not a result.** ARRA − baseline on seed ${a.seed}: FID ${fmt(a.fid - b.fid, 2)}, KID ${fmt(a.kid - b.kid, 4)}. ` +
      `With one seed there is no confidence interval, and seed-to-seed spread at this scale is larger than most such gaps; ` +
      `rerun with \`--seeds 3\` or more, and see \`${studyLink}\` in the arra-ts repository for the multi-seed study.`, '',
    );
    return lines;
  }
  lines.push(`Paired by seed (${arra.length} seeds; per seed the same tokenizer, initial weights, batches and sampling seed). Difference ARRA − baseline, 95% paired t interval:`, '');
  lines.push('| metric | mean difference | 95% CI | reading |', '|---|---|---|---|');
  for (const [name, get, d] of [['FID ↓', (r: EvidenceRow) => r.fid, 2], ['KID ↓', (r: EvidenceRow) => r.kid, 4]] as const) {
    const ci = pairedTInterval(arra.map((a) => get(base.get(a.seed)!)), arra.map(get));
    const reading = ci.low <= 0 && ci.high >= 0
      ? 'the interval includes 0: no detectable difference at this budget'
      : ci.high < 0 ? 'ARRA lower (better) beyond seed noise' : 'ARRA higher (worse) beyond seed noise';
    lines.push(`| ${name} | ${fmt(ci.estimate, d)} | [${fmt(ci.low, d)}, ${fmt(ci.high, d)}] | ${reading} |`);
  }
  lines.push('', `${arra.length} seeds is a small sample: the interval is wide by construction. See \`${studyLink}\` in the arra-ts repository for the study.`, '');
  return lines;
}
