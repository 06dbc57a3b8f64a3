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
  /** the mode's score in [0, 1] (prompt accuracy, caption accuracy, class coverage), when there is one */
  promptAccuracy?: number;
  /** the last step's next-token loss */
  finalLossAR?: number;
}

/** One metric of the table: its name, how to read a row, decimals, and whether lower is better. */
interface Metric { name: string; get: (r: EvidenceRow) => number | undefined; digits: number; lowerBetter: boolean }

const fmt = (x: number, d: number): string => (x >= 0 ? '+' : '') + x.toFixed(d);

/**
 * Markdown lines: per metric, the paired difference ARRA − baseline over seeds and what it
 * supports. `scoreName` names `promptAccuracy` (default: prompt accuracy).
 */
export function evidenceLines(rows: readonly EvidenceRow[], studyLink = 'docs/results.md', scoreName = 'prompt accuracy'): string[] {
  const base = new Map(rows.filter((r) => r.mode === 'off').map((r) => [r.seed, r]));
  const arra = rows.filter((r) => r.mode !== 'off' && base.has(r.seed));
  if (arra.length === 0) return [];
  const lines = ['### How strong is the evidence?', ''];
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
  const metrics: Metric[] = [
    { name: 'FID ↓', get: (r) => r.fid, digits: 2, lowerBetter: true },
    { name: 'KID ↓', get: (r) => r.kid, digits: 4, lowerBetter: true },
    { name: `${scoreName} ↑ (points)`, get: (r) => (r.promptAccuracy === undefined ? undefined : 100 * r.promptAccuracy), digits: 1, lowerBetter: false },
    { name: 'final L_AR', get: (r) => r.finalLossAR, digits: 4, lowerBetter: true },
  ];
  lines.push(`Paired by seed (${arra.length} seeds; per seed the same tokenizer, initial weights, batches and sampling seed). Difference ARRA − baseline, 95% paired t interval:`, '');
  lines.push('| metric | mean difference | 95% CI | ARRA better on | reading |', '|---|---|---|---|---|');
  for (const m of metrics) {
    const pairs = arra.map((a) => [m.get(base.get(a.seed)!), m.get(a)] as const);
    if (pairs.some(([b, a]) => b === undefined || a === undefined)) continue; // a metric some rows lack is left out, not guessed
    const ci = pairedTInterval(pairs.map(([b]) => b!), pairs.map(([, a]) => a!));
    const better = pairs.filter(([b, a]) => (m.lowerBetter ? a! < b! : a! > b!)).length;
    const below = ci.high < 0;
    const reading = ci.low <= 0 && ci.high >= 0
      ? 'the interval includes 0: no detectable difference at this budget'
      : `ARRA ${below ? 'lower' : 'higher'} (${below === m.lowerBetter ? 'better' : 'worse'}) beyond seed noise`;
    lines.push(`| ${m.name} | ${fmt(ci.estimate, m.digits)} | [${fmt(ci.low, m.digits)}, ${fmt(ci.high, m.digits)}] | ${better} of ${pairs.length} seeds | ${reading} |`);
  }
  lines.push('', `${arra.length} seeds is a small sample: the interval is wide by construction, and a gap inside it is not evidence either way. See \`${studyLink}\` in the arra-ts repository for the study.`, '');
  return lines;
}
