/**
 * Plots: the PNG grid decodes (pngjs) to exactly the expected pixels at known positions;
 * heatmaps follow the colour map; SVG charts are well-formed XML and name every series.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PNG } from 'pngjs';
import t from 'tap';
import { Tensor } from '../lib/tensor';
import { colorAt, heatmapImage, heatmapPng, imageGrid, saveImageGrid } from '../lib/plot/png';
import { barChartSvg, escapeXml, lineChartSvg, niceTicks, saveSvg } from '../lib/plot/svg';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arra-plot-'));
t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));

/** RGBA of pixel (x, y) in a decoded PNG. */
function pixel(png: { width: number; data: Uint8Array }, x: number, y: number): number[] {
  const o = (y * png.width + x) * 4;
  return Array.from(png.data.subarray(o, o + 4));
}

/**
 * A minimal XML well-formedness check: one root element, every start tag closed in order,
 * attributes quoted, only the five predefined entities or numeric ones. Returns the
 * problem, or null when the document is well-formed.
 */
function xmlProblem(xml: string): string | null {
  const body = xml.replace(/^<\?xml[^?]*\?>\s*/, '');
  const stack: string[] = [];
  let roots = 0;
  const token = /<(\/?)([A-Za-z][\w:.-]*)((?:\s+[\w:.-]+\s*=\s*(?:"[^"<]*"|'[^'<]*'))*)\s*(\/?)>|<!--[\s\S]*?-->|([^<]+)|(<)/g;
  for (let m = token.exec(body); m; m = token.exec(body)) {
    const [, closing, name, , selfClosing, text, stray] = m;
    if (stray) return `stray '<' at ${m.index}: ${body.slice(m.index, m.index + 30)}`;
    if (text !== undefined) {
      if (stack.length === 0 && text.trim() !== '') return `text outside the root: ${text.slice(0, 30)}`;
      const bad = text.match(/&(?!(amp|lt|gt|quot|apos|#\d+|#x[0-9a-f]+);)/i);
      if (bad) return `bare '&' in text: ${text.slice(0, 40)}`;
      continue;
    }
    if (!name) continue; // comment
    if (closing) {
      if (stack.pop() !== name) return `</${name}> closes the wrong element`;
    } else if (!selfClosing) {
      if (stack.length === 0) roots++;
      stack.push(name);
    } else if (stack.length === 0) roots++;
  }
  if (stack.length) return `unclosed <${stack.join('>, <')}>`;
  return roots === 1 ? null : `expected one root element, found ${roots}`;
}

t.test('image grid: decoded PNG has the exact pixels at known positions', async (t) => {
  // 3 RGB images 2×2: image i has red = i/4, green = pixel index/4, blue = 1 at (0,0) else 0
  const n = 3;
  const data = new Float32Array(n * 3 * 2 * 2);
  for (let i = 0; i < n; i++) {
    for (let p = 0; p < 4; p++) {
      data[i * 12 + p] = i / 4;
      data[i * 12 + 4 + p] = p / 4;
      data[i * 12 + 8 + p] = p === 0 ? 1 : 0;
    }
  }
  const file = path.join(dir, 'grid.png');
  const size = saveImageGrid(new Tensor(data, [n, 3, 2, 2]), file, { rows: 2, padding: 1, upscale: 3, padValue: 0.5 });
  // 2 rows × 2 cols of 6×6 cells with 1-pixel borders: 2·6 + 3 = 15
  t.same(size, { width: 15, height: 15 });
  const png = PNG.sync.read(fs.readFileSync(file));
  t.equal(png.width, 15);
  t.equal(png.height, 15);
  t.same(pixel(png, 0, 0), [128, 128, 128, 255], 'border is padValue grey');
  t.same(pixel(png, 1, 1), [0, 0, 255, 255], 'image 0, pixel (0,0): r=0, g=0, b=1');
  t.same(pixel(png, 3, 3), [0, 0, 255, 255], 'upscaled: (0,0) covers a 3×3 block');
  t.same(pixel(png, 4, 1), [0, 64, 0, 255], 'image 0, pixel (1,0): g = 1/4 → 64');
  t.same(pixel(png, 6, 6), [0, 191, 0, 255], 'image 0, pixel (1,1): g = 3/4 → 191');
  t.same(pixel(png, 7, 1), [128, 128, 128, 255], 'border between columns');
  t.same(pixel(png, 8, 1), [64, 0, 255, 255], 'image 1 (row 0, col 1): r = 1/4');
  t.same(pixel(png, 1, 8), [128, 0, 255, 255], 'image 2 (row 1, col 0): r = 2/4 → 128');
  t.same(pixel(png, 10, 10), [128, 128, 128, 255], 'empty fourth cell stays border-coloured');
});

t.test('image grid: greyscale, clamping, default layout and shape errors', async (t) => {
  const g = imageGrid(new Tensor(new Float32Array([-0.5, 0.5, 2, NaN]), [4, 1, 1, 1]), { padding: 0 });
  t.same([g.width, g.height], [2, 2], '4 images → 2×2 grid by default');
  t.same(Array.from(g.data), [0, 0, 0, 255, 128, 128, 128, 255, 255, 255, 255, 255, 0, 0, 0, 255], 'clamped to [0,1], NaN → 0, grey → r=g=b');
  t.same([imageGrid(new Tensor(new Float32Array(5), [5, 1, 1, 1]), { padding: 0 }).width], [3], '5 images → 3 columns');
  t.throws(() => imageGrid(new Tensor(new Float32Array(8), [1, 2, 2, 2])), /expected images \[N, C, H, W\] with C = 1 or 3, got \[1,2,2,2\]/);
  t.throws(() => imageGrid(new Tensor(new Float32Array(4), [1, 1, 2, 2]), { upscale: 1.5 }), /upscale must be a positive integer, got 1.5/);
});

t.test('heatmap: min → first colour of the map, max → last, NaN magenta, upscaled', async (t) => {
  const file = path.join(dir, 'heat.png');
  t.same(heatmapPng([[0, 5], [10, NaN]], file, { scale: 2 }), { width: 4, height: 4 });
  const png = PNG.sync.read(fs.readFileSync(file));
  t.same(pixel(png, 0, 0), [68, 1, 84, 255], 'min → viridis(0)');
  t.same(pixel(png, 1, 1), [68, 1, 84, 255], 'scale 2: same block');
  t.same(pixel(png, 2, 0), [33, 145, 140, 255], 'middle → viridis(0.5)');
  t.same(pixel(png, 0, 3), [253, 231, 37, 255], 'max → viridis(1)');
  t.same(pixel(png, 3, 3), [255, 0, 255, 255], 'NaN → magenta');
  const gray = heatmapImage(new Tensor(new Float32Array([1, 2]), [1, 2]), { colormap: 'gray', min: 0, max: 4 });
  t.same(Array.from(gray.data), [64, 64, 64, 255, 128, 128, 128, 255], 'explicit min/max');
  t.same(colorAt(0.05), [70, 19, 101], 'interpolates between anchors');
});

t.test('line chart SVG: well-formed, names every series (escaped), axes and legend', async (t) => {
  const svg = lineChartSvg(
    [
      { name: 'baseline <no align>', points: [[0, 2.3], [100, 1.5], [200, 1.1], [300, 0.9]] },
      { name: 'ARRA & REPA', points: [[0, 2.3], [100, 1.3], [200, NaN], [300, 0.7]] },
    ],
    { title: 'Training loss', xLabel: 'step', yLabel: 'loss' },
  );
  t.equal(xmlProblem(svg), null, 'well-formed XML');
  t.match(svg, /^<\?xml version="1.0" encoding="UTF-8"\?>\n<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  t.ok(svg.includes('>baseline &lt;no align&gt;</text>'), 'first series in the legend, escaped');
  t.ok(svg.includes('>ARRA &amp; REPA</text>'), 'second series in the legend, escaped');
  t.ok(svg.includes('>Training loss</text>') && svg.includes('>step</text>') && svg.includes('>loss</text>'), 'title and axis labels');
  t.equal((svg.match(/<path /g) ?? []).length, 2, 'series 1 is one path; series 2 is one path (0–100) and one point (300)');
  t.equal((svg.match(/<circle /g) ?? []).length, 1, 'the point after the NaN gap is a dot');
  for (const tick of ['>0</text>', '>100</text>', '>300</text>', '>0.5</text>', '>2.5</text>']) t.ok(svg.includes(tick), `tick ${tick}`);

  const logSvg = lineChartSvg([{ name: 'loss', points: [[1, 100], [2, 1], [3, 0.01], [4, 0]] }], { logY: true });
  t.equal(xmlProblem(logSvg), null);
  for (const tick of ['>0.01</text>', '>1</text>', '>100</text>']) t.ok(logSvg.includes(tick), `log tick ${tick}`);
  t.equal(xmlProblem(lineChartSvg([])), null, 'an empty chart is still valid SVG');
  t.match(xmlProblem('<svg><g></svg>') ?? '', /closes the wrong element/, 'the checker itself catches mistakes');
});

t.test('bar chart SVG: one rect per value, legend, labels, negative values', async (t) => {
  const svg = barChartSvg(
    [
      { label: 'FID', values: [42.1, 35.3] },
      { label: 'ΔCLIP', values: [-0.5, 1.2] },
      { label: 'loss', values: [0.9, 0.8] },
    ],
    { seriesNames: ['baseline', 'ARRA'], title: 'Ablation', yLabel: 'score' },
  );
  t.equal(xmlProblem(svg), null, 'well-formed XML');
  t.equal((svg.match(/<rect [^>]*fill="#(1f77b4|ff7f0e)"/g) ?? []).length, 6 + 2, 'six bars plus two legend swatches');
  for (const s of ['>baseline</text>', '>ARRA</text>', '>FID</text>', '>ΔCLIP</text>', '>Ablation</text>', '>score</text>']) t.ok(svg.includes(s), s);
  t.ok(svg.includes('<title>ΔCLIP · baseline: -0.5</title>'), 'each bar carries its value');
  t.throws(() => barChartSvg([{ label: 'x', values: [1] }], { seriesNames: ['a', 'b'] }), /group 'x' has 1 values, expected one per series \(2: a, b\)/);
  const file = path.join(dir, 'bars.svg');
  saveSvg(file, svg);
  t.equal(fs.readFileSync(file, 'utf8'), svg);
});

t.test('niceTicks: round steps covering the range', async (t) => {
  t.same(niceTicks(0, 1), { ticks: [0, 0.2, 0.4, 0.6, 0.8, 1], step: 0.2 });
  t.same(niceTicks(3, 97).ticks, [0, 20, 40, 60, 80, 100]);
  t.same(niceTicks(-0.013, 0.021).ticks, [-0.015, -0.01, -0.005, 0, 0.005, 0.01, 0.015, 0.02, 0.025]);
  t.same(niceTicks(5, 5).ticks, [4.4, 4.6, 4.8, 5, 5.2, 5.4, 5.6], 'degenerate range widened by 10%');
  t.same(niceTicks(0.1, 0.3).ticks, [0.1, 0.15, 0.2, 0.25, 0.3], 'no floating-point dust (0.30000000000000004)');
  t.equal(escapeXml(`a<b>&"c'`), 'a&lt;b&gt;&amp;&quot;c&apos;');
});

t.test('lineChartSvg: a band per series (mean ± sd over seeds) widens the y range and is one polygon', async (t) => {
  const svg = lineChartSvg([
    { name: 'off', points: [[0, 10], [100, 8]], band: [[0, 9, 11], [100, 2, 14]] },
    { name: 'arra', points: [[0, 10], [100, 7]] },
  ]);
  const polygons = svg.match(/<polygon class="band" points="([^"]+)"/g) ?? [];
  t.equal(polygons.length, 1, 'only the series with a band gets one');
  const pts = /points="([^"]+)"/.exec(polygons[0]!)![1]!.split(' ');
  t.equal(pts.length, 4, 'upper edge there, lower edge back');
  t.match(svg, />14</, 'the band top (14) sets the y axis, above every line point');
  t.match(svg, />2</, 'and the band bottom (2) too');
});
