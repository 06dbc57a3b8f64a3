/**
 * Every op in lib/ops against float64 central differences.
 * Default tolerance: |analytic − numeric| ≤ 1e-7 + 1e-6·|numeric| per element (ε = 1e-6),
 * so the worst relative error is < 1e-6; cases that need looser bounds state why.
 */
import t from 'tap';
import { gradcheck, OP_NAMES } from '../lib';
import type { GradCase } from './gradcheck/cases';
import { coreCases } from './gradcheck/core-ops';
import { nnCases } from './gradcheck/nn-ops';
import { selectCases } from './gradcheck/select-ops';

const allCases: GradCase[] = [...coreCases, ...selectCases, ...nnCases];

t.test('every op has a gradient-check case', async (t) => {
  const covered = new Set(allCases.map((c) => c.op));
  const missing = OP_NAMES.filter((name) => !covered.has(name));
  t.same(missing, [], `ops without a gradcheck entry: ${missing.join(', ')}`);
});

for (const c of allCases) {
  t.test(`gradcheck ${c.op}: ${c.what}`, async (t) => {
    const report = gradcheck(c.fn, c.inputs(), c.tol ?? {});
    t.ok(report.checked > 0, 'some elements were compared');
    t.ok(report.ok, `worst: ${JSON.stringify(report.worst)}${c.tol ? ` (tolerance loosened: ${c.tol.why})` : ''}`);
    t.ok(report.maxRelError < (c.tol ? c.tol.rtol * 10 : 1e-6), `max relative error ${report.maxRelError.toExponential(2)}`);
  });
}
