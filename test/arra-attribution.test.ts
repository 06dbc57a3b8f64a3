/**
 * The gradient attribution report: its norms equal gradients computed directly, blocks after
 * the aligned layer show exactly 0 from L_GVA, the cosine is the cosine, and the alignment grid
 * holds cos(f_A,t, f_GF) of every image position on the token grid.
 */
import t from 'tap';
import { arraLoss } from '../models/arra';
import { gradientAttribution, groupOf } from '../models/attribution';
import { TINY, tinyConfig, tinySetup } from './arra-fixture';

const norm = (v: ArrayLike<number>): number => Math.sqrt(Array.from(v).reduce((s, x) => s + x * x, 0));

t.test('norms and cosines match gradients computed directly', async (t) => {
  const s = tinySetup({ nLayers: 3 });
  const cfg = tinyConfig({ mode: 'hybnext', alignLayer: 1, lambda: 0.5 });
  const report = gradientAttribution(s.model, s.projector, s.batch, cfg);
  t.ok(s.model.parameters().every((p) => p.grad === null), 'the report leaves no gradient behind');

  // Independent: backward of L_AR, then of λ·L_GVA, read one tensor.
  const w = s.model.blocks[0]!.attn;
  const name = s.model.namedParameters().find(([, p]) => p === w.wq.weight)![0];
  arraLoss(s.model, s.projector, s.batch, cfg).lossAR.backward();
  const gAR = Array.from(w.wq.weight.grad!.values());
  s.model.zeroGrad();
  arraLoss(s.model, s.projector, s.batch, cfg).lossGVA.mul(cfg.lambda).backward();
  const gGVA = Array.from(w.wq.weight.grad!.values());
  s.model.zeroGrad();
  s.projector.zeroGrad();
  const row = report.tensors.find((a) => a.name === name)!;
  t.ok(Math.abs(row.normAR - norm(gAR)) < 1e-12, `${name}: ‖∂L_AR/∂θ‖ = ${row.normAR}`);
  t.ok(Math.abs(row.normGVA - norm(gGVA)) < 1e-12, `${name}: ‖λ·∂L_GVA/∂θ‖ = ${row.normGVA}`);
  const cos = gAR.reduce((sum, a, i) => sum + a * gGVA[i]!, 0) / (norm(gAR) * norm(gGVA));
  t.ok(Math.abs(row.cosine - cos) < 1e-12, `cosine ${row.cosine.toFixed(4)}`);

  const group = (g: string) => report.groups.find((x) => x.group === g)!;
  t.same(report.groups.map((g) => g.group), ['embed', 'blocks.0', 'blocks.1', 'blocks.2', 'norm', 'head', 'projector'], 'groups in model order');
  for (const g of ['blocks.2', 'norm', 'head']) t.equal(group(g).normGVA, 0, `${g} (after block 1) gets exactly 0 from L_GVA`);
  for (const g of ['embed', 'blocks.0', 'blocks.1', 'projector']) t.ok(group(g).normGVA > 0, `${g} gets L_GVA gradient`);
  t.equal(group('projector').normAR, 0, 'the projector gets nothing from L_AR');
  t.ok(Number.isNaN(group('head').cosine), 'cosine is undefined (NaN) where one gradient is 0');
  const b0 = report.tensors.filter((a) => a.group === 'blocks.0');
  t.ok(Math.abs(group('blocks.0').normAR - norm(b0.map((a) => a.normAR))) < 1e-12, 'a group norm is the norm over its tensors');
});

t.test('alignment grid: every image position on the token grid, also in rep mode', async (t) => {
  const s = tinySetup();
  const hyb = gradientAttribution(s.model, s.projector, s.batch, tinyConfig({ mode: 'hybnext', alignLayer: 0 }));
  const direct = arraLoss(s.model, s.projector, s.batch, tinyConfig({ mode: 'hybnext', alignLayer: 0 })).perPositionCos;
  const grid = hyb.alignment!;
  t.same([grid.height, grid.width, grid.perSequence.length], [TINY.grid, TINY.grid, TINY.B], '2×2 grid per sequence');
  t.same(Array.from(grid.perSequence.flatMap((r) => Array.from(r))), Array.from(direct), 'cells hold the per-position cosines in raster order');
  t.ok(Math.abs(grid.mean[0]! - (direct[0]! + direct[4]!) / 2) < 1e-6, 'mean over the batch, cell by cell');
  const rep = gradientAttribution(s.model, s.projector, s.batch, tinyConfig({ mode: 'rep', alignLayer: 0 }));
  t.same(Array.from(rep.alignment!.mean), Array.from(grid.mean), 'rep: same diagnostic over all positions (only cell 0 is trained)');
  t.throws(() => gradientAttribution(s.model, s.projector, s.batch, tinyConfig(), { grid: [3, 2] }), /grid 3×2 does not hold the 4 image positions/);
  const off = gradientAttribution(s.model, null, s.batch, tinyConfig({ mode: 'off' }));
  t.equal(off.alignment, null, 'off: no alignment grid');
  t.ok(off.groups.every((g) => g.normGVA === 0), 'off: no L_GVA gradient anywhere');
});

t.test('markdown', async (t) => {
  const s = tinySetup();
  const md = gradientAttribution(s.model, s.projector, s.batch, tinyConfig({ alignLayer: 1 })).toMarkdown();
  t.match(md, /mode `hybnext`, aligned block 1, λ = 1/);
  t.match(md, /\| blocks\.0 \| \d+ \| [\d.e-]+ \| [\d.e-]+ \|/);
  t.match(md, /\| projector\.fc1\.weight \| 48 \|/);
  t.match(md, /on the 2×2 token grid/);
  t.equal(md.split('\n').filter((l) => /^\| r\d /.test(l)).length, 2, 'two grid rows');
  t.equal(groupOf('blocks.12.mlp.w1.weight'), 'blocks.12');
  t.equal(groupOf('head.weight'), 'head');
});
