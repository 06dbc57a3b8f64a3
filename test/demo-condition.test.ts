/**
 * `arra demo --preset tiny --condition none`: the baseline-vs-ARRA comparison runs
 * unconditionally end to end, the report scores it by class coverage (not by a prompt
 * accuracy it cannot have), and ARRA's explain step reads unconditional sequences.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { loadArModel } from '../examples/pipeline/ar-trainer';
import { main } from '../examples/cli';

const dir = mkdtempSync(join(tmpdir(), 'arra-demo-none-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

t.test('arra demo --preset tiny --condition none', async (t) => {
  const log = console.log;
  const err = process.stderr.write.bind(process.stderr);
  console.log = () => {};
  process.stderr.write = (() => true) as typeof process.stderr.write;
  let code: number;
  try {
    code = await main(['demo', '--preset', 'tiny', '--condition', 'none', '--out', dir]);
  } finally {
    console.log = log;
    process.stderr.write = err;
  }
  t.equal(code, 0, 'exit status 0');
  const report = readFileSync(join(dir, 'report.md'), 'utf8');
  t.match(report, /\| model \| training seed[^|]*\| FID ↓ \| KID ↓[^|]*\| class coverage ↑ \|/, 'the score column is class coverage');
  t.match(report, /\| baseline \(LlamaGen\) \| 0 \| \d+\.\d\d \| -?\d+\.\d{4} ± \d+\.\d{4} \| \d+\.\d ± \d+\.\d% \|/);
  t.match(report, /Unconditional \(`--condition none`\): one constant prefix, no guidance/);
  t.match(report, /--condition none/, 'the reproduce line keeps the mode');
  t.notMatch(report, /FID and prompt accuracy are measured/, 'no claim of a prompt accuracy');
  for (const run of ['baseline-s0', 'arra-s0']) {
    const m = loadArModel(join(dir, run, 'model.safetensors'));
    t.same(m.condition, { mode: 'none' }, `${run}: unconditional checkpoint`);
    t.equal(m.layout.numClasses, 0);
  }
  t.ok(existsSync(join(dir, 'arra-s0', 'explain', 'report.md')), 'the explain step ran on unconditional sequences');
});
