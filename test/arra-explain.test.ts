/**
 * examples/explain.ts end to end on the tiny setup: a checkpoint and a batch written to disk
 * and read back give the same report as the in-memory model, and the three output files exist
 * and parse (markdown table, PNG heat map of the right size, SVG bar chart).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PNG } from 'pngjs';
import t from 'tap';
import { gradientAttribution } from '../models/attribution';
import { explainToFiles, loadArraCheckpoint, loadBatch, saveArraCheckpoint, saveBatch, toArraBatch } from '../examples/explain';
import { TINY, tinyConfig, tinySetup } from './arra-fixture';

t.test('checkpoint + batch on disk → report.md, alignment.png, blocks.svg', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arra-explain-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const s = tinySetup();
  const cfg = tinyConfig({ mode: 'hybnext', alignLayer: 1 });
  saveArraCheckpoint(path.join(dir, 'ck.safetensors'), { model: s.model, projector: s.projector, cfg, layout: s.layout });
  saveBatch(path.join(dir, 'batch.safetensors'), { codes: s.codes, classes: s.classes, globalFeatures: s.batch.globalFeatures });

  const ck = loadArraCheckpoint(path.join(dir, 'ck.safetensors'));
  t.same(ck.cfg, cfg, 'ARRA settings round-trip');
  const batch = toArraBatch(ck.layout, loadBatch(path.join(dir, 'batch.safetensors')), 'float64');
  t.same(Array.from(batch.tokens), Array.from(s.batch.tokens), 'same token sequences');
  const report = explainToFiles(ck, batch, dir);
  const expected = gradientAttribution(s.model, s.projector, s.batch, cfg);
  t.same(report.groups, expected.groups, 'same per-block numbers as the in-memory model');

  const md = fs.readFileSync(path.join(dir, 'report.md'), 'utf8');
  t.match(md, /\| blocks\.1 \|/);
  t.match(md, /!\[alignment per position\]\(alignment\.svg\)/);
  t.match(md, /Colour scale \(viridis\) from -?\d\.\d{4} \(dark\) to -?\d\.\d{4} \(yellow\)/, 'the range used is written');
  const heat = fs.readFileSync(path.join(dir, 'alignment.svg'), 'utf8');
  t.match(heat, /<title>Alignment cos\(f_A,t, f_GF\) per image-token position, block 1/, 'a title');
  t.match(heat, /token column \(image grid\)/, 'an x-axis label');
  t.match(heat, /token row/, 'a y-axis label');
  t.equal((heat.match(/<g class="colorbar">/g) ?? []).length, 1, 'a colour bar');
  const cells = (heat.match(/<rect [^>]*><title>row \d+, column \d+/g) ?? []).length;
  t.equal(cells, (1 + TINY.B) * TINY.grid * TINY.grid, 'one cell per position, mean + each sequence');
  const png = PNG.sync.read(fs.readFileSync(path.join(dir, 'alignment.png')));
  t.same([png.width, png.height], [TINY.B * (TINY.grid * 24 + 6) + 6, 2 * (TINY.grid * 24 + 6) + 6], 'heat map: mean grid above one grid per sequence');
  const svg = fs.readFileSync(path.join(dir, 'blocks.svg'), 'utf8');
  t.equal((svg.match(/<g class="group"/g) ?? []).length, report.groups.length, 'one bar group per block');
  t.equal((svg.match(/<rect [^>]*><title>/g) ?? []).length, 2 * report.groups.length, 'two bars per block (L_AR, L_GVA)');
});
