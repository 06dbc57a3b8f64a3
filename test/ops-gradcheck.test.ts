/**
 * Every differentiable op against float64 central differences.
 * Default tolerance: |analytic − numeric| ≤ 1e-7 + 1e-6·|numeric| per element (ε = 1e-6),
 * so the worst relative error is < 1e-6; cases that need looser bounds state why.
 *
 * The registry of ops that need a case is derived from the code, never written by hand:
 * every function lib/ops exports (minus the commented allowlist below) and every name passed
 * to `record(...)` in lib/, models/ and examples/ (ops recorded outside lib/ops, such as
 * `straightThrough` and `rope`, included); no file may attach a gradFn without `record`.
 * A new op without a case fails this file.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import t from 'tap';
import { gradcheck, opsRecordedBy } from '../lib';
import * as opsModule from '../lib/ops';
import type { GradCase } from './gradcheck/cases';
import { coreCases } from './gradcheck/core-ops';
import { modelCases } from './gradcheck/model-ops';
import { nnCases } from './gradcheck/nn-ops';
import { selectCases } from './gradcheck/select-ops';

const allCases: GradCase[] = [...coreCases, ...selectCases, ...nnCases, ...modelCases];

/** Exports of lib/ops that are not ops of the graph, each with the reason. Keep it short. */
const NOT_DIFFERENTIABLE_OPS: Record<string, string> = {
  matmulKernel: 'the backend product that matmul and its backward call; it records nothing itself',
};

const root = join(__dirname, '..');

/** Every .ts file under `dir`. */
function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return sources(p);
    return p.endsWith('.ts') ? [p] : [];
  });
}

/**
 * The op names recorded in the source: `record('name', …)`. A call whose name is not a
 * string literal cannot be read off the code, so it is reported as an error instead.
 */
function recordedInSource(): { names: Map<string, string>; computed: string[]; bypass: string[] } {
  const names = new Map<string, string>();
  const computed: string[] = [];
  const bypass: string[] = [];
  for (const file of ['lib', 'models', 'examples'].flatMap((d) => sources(join(root, d)))) {
    if (file.endsWith(join('lib', 'autograd.ts'))) continue; // where record is defined
    const text = readFileSync(file, 'utf8');
    // an op that attaches its gradFn by hand would escape the registry
    for (const m of text.matchAll(/\.gradFn\s*=(?!=)/g)) bypass.push(`${relative(root, file)}:${text.slice(0, m.index).split('\n').length}`);
    for (const m of text.matchAll(/\brecord\(\s*(['"`]?)([^'"`,\s)]*)/g)) {
      const where = `${relative(root, file)}:${text.slice(0, m.index).split('\n').length}`;
      if (m[1] === '') computed.push(`${where} (record(${m[2]}, …))`);
      else names.set(m[2]!, where);
    }
  }
  return { names, computed, bypass };
}

const exported = Object.entries(opsModule).filter(([, v]) => typeof v === 'function').map(([k]) => k);
const { names: recorded, computed, bypass } = recordedInSource();
const required = new Set([...exported.filter((k) => !(k in NOT_DIFFERENTIABLE_OPS)), ...recorded.keys()]);

t.test('the registry is derived from the code and every op in it has a case', async (t) => {
  t.same(computed, [], 'every record(...) call names its op with a string literal');
  t.same(bypass, [], 'no op sets .gradFn itself (only record does, in lib/autograd.ts)');
  t.ok(recorded.has('straightThrough') && recorded.has('rope'), 'ops recorded outside lib/ops are found (straightThrough, rope)');
  t.ok(exported.includes('conv2d') && required.size > 50, `${required.size} ops found`);
  for (const k of Object.keys(NOT_DIFFERENTIABLE_OPS)) t.ok(exported.includes(k), `allowlisted '${k}' is still exported`);
  const covered = new Set(allCases.map((c) => c.op));
  const missing = [...required].filter((name) => !covered.has(name));
  t.same(missing, [], `ops without a gradcheck case: ${missing.join(', ')}`);
  const unknown = [...covered].filter((name) => !required.has(name));
  t.same(unknown, [], `cases for names that are neither exported nor recorded: ${unknown.join(', ')}`);
});

for (const c of allCases) {
  t.test(`gradcheck ${c.op}: ${c.what}`, async (t) => {
    let report: ReturnType<typeof gradcheck> | undefined;
    const ran = opsRecordedBy(() => {
      report = gradcheck(c.fn, c.inputs(), { ...(c.tol ?? {}), ...(c.options ?? {}) });
    });
    // a case named after a recorded op must record it (a composite export records its parts)
    if (recorded.has(c.op) && c.notRecorded === undefined) t.ok(ran.has(c.op), `the case records '${c.op}' (recorded: ${[...ran].join(', ')})`);
    t.ok(report!.checked > 0, 'some elements were compared');
    t.ok(report!.ok, `worst: ${JSON.stringify(report!.worst)}${c.tol ? ` (tolerance loosened: ${c.tol.why})` : ''}`);
    t.ok(report!.maxRelError < (c.tol ? c.tol.rtol * 10 : 1e-6), `max relative error ${report!.maxRelError.toExponential(2)}`);
  });
}
