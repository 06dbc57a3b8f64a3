/**
 * The demo's stages at a chosen size, one process, one seed: the per-stage seconds the demo
 * prints, plus a digest of each output (report numbers, checkpoints, images) so that two
 * checkouts can be compared bit for bit. Run under `node --cpu-prof` for a profile:
 *
 *   node --cpu-prof --cpu-prof-dir /tmp/prof --import tsx bench/demo-stages.ts [out] [size]
 *
 * `size`: `small` (default: 6000 train / 1000 held-out images like quick, 30 VQ steps, one
 * encoder epoch, 4 AR steps with two FID-curve evaluations, 1000 final samples per model) or
 * `tiny` (the test suite's preset).
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { main } from '../examples/cli';
import { loadSafetensors } from '../lib/io';
import { DEMO_PRESETS } from '../examples/commands/demo';

const out = process.argv[2] ?? '/tmp/demo-stages';
const size = process.argv[3] ?? 'small';
if (size === 'small') {
  Object.assign(DEMO_PRESETS.tiny, {
    ...DEMO_PRESETS.quick, vqSteps: 30, encoderEpochs: 1, arSteps: 4, evalEvery: 2, seeds: 1,
  });
}

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p) : [p];
  });
}

void (async () => {
  const code = await main(['demo', '--preset', 'tiny', '--out', out]);
  if (code !== 0) process.exit(code);
  const report = readFileSync(join(out, 'report.md'), 'utf8');
  // The report's table rows (numbers), without the seconds column's wall-clock figures.
  for (const l of report.split('\n')) if (/^\| (baseline|ARRA)/.test(l)) console.log(l.replace(/\| \d+ s \|/, "| · |"));
  for (const f of files(out).sort()) {
    if (f.endsWith('report.md') || f.includes('/cache/') || f.endsWith('.json') || f.endsWith('.jsonl')) continue;
    // safetensors: the tensors' bytes only (the metadata records training seconds)
    const h = createHash('sha256');
    if (f.endsWith('.safetensors')) for (const [name, t] of loadSafetensors(f).tensors) { const v = t.values(); h.update(name).update(new Uint8Array(v.buffer, v.byteOffset, v.byteLength)); }
    else h.update(readFileSync(f));
    console.log(`${h.digest('hex').slice(0, 16)}  ${f.slice(out.length + 1)}`);
  }
})();
