/**
 * Full-loss gradient check of L_ARRA = L_AR + λ·L_GVA in `rep` mode: float64 central
 * differences (ε = 1e-6) against backward, for EVERY parameter element of the tiny transformer
 * (embedding, both blocks, final norm, output head — randomised, as LlamaGen starts it at 0)
 * and of the projector; cosine and mse objectives; aligned block = first and last.
 * Tolerance per element |analytic − numeric| ≤ 1e-7 + 1e-6·|numeric|; worst relative error < 1e-6.
 */
import t from 'tap';
import { gradcheckFullLoss, tinyConfig, TINY } from './arra-fixture';

for (const objective of ['cosine', 'mse'] as const) {
  for (const alignLayer of [0, TINY.nLayers - 1]) {
    t.test(`rep, ${objective}, aligned block ${alignLayer}`, async (t) => {
      const { report, names, silent } = gradcheckFullLoss(tinyConfig({ mode: 'rep', objective, alignLayer, lambda: 0.7 }));
      t.ok(names.some((n) => n.startsWith('embed')) && names.some((n) => n.startsWith('head')) && names.some((n) => n.startsWith('projector.')), 'embedding, head and projector are among the checked tensors');
      t.ok(names.filter((n) => n.startsWith('blocks.1.')).length > 0, 'the last block is checked');
      t.same(silent, [], 'every parameter tensor receives a non-zero gradient');
      t.ok(report.checked > 1000, `${report.checked} elements compared`);
      t.ok(report.ok, `worst: ${JSON.stringify(report.worst)}`);
      t.ok(report.maxRelError < 1e-6, `max relative error ${report.maxRelError.toExponential(2)}`);
    });
  }
}
