/**
 * The lab's pictures, drawn with the DOM only (no chart library): heat maps on a canvas with a
 * colour scale beside them, grey images, grouped bars and line charts as SVG.
 */

/** Create an element with attributes and children. */
export function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  e.append(...children);
  return e;
}

const SVG = 'http://www.w3.org/2000/svg';

function svgEl(tag: string, attrs: Record<string, string | number>, text?: string): SVGElement {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

/** Diverging colour for v in [−1, 1]: blue (−1) → white (0) → red (+1). */
export function diverging(v: number): [number, number, number] {
  const t = Math.max(-1, Math.min(1, v));
  return t >= 0 ? [255, Math.round(255 * (1 - t)), Math.round(255 * (1 - t))] : [Math.round(255 * (1 + t)), Math.round(255 * (1 + t)), 255];
}

/**
 * A rows×cols heat map (row-major values) on a canvas, each cell `cell` px, coloured by
 * `diverging(v / range)`; with a colour bar and its numbers underneath.
 */
export function heatMap(values: ArrayLike<number>, rows: number, cols: number, opts: { cell?: number; range?: number; testid: string; label?: (r: number, c: number) => string }): HTMLElement {
  const cell = opts.cell ?? 14;
  let range = opts.range ?? 0;
  if (!range) for (let i = 0; i < values.length; i++) range = Math.max(range, Math.abs(values[i]!));
  range ||= 1;
  const canvas = el('canvas', { width: String(cols * cell), height: String(rows * cell), 'data-testid': opts.testid });
  const ctx = canvas.getContext('2d')!;
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const [R, G, B] = diverging(values[r * cols + c]! / range);
      ctx.fillStyle = `rgb(${R},${G},${B})`;
      ctx.fillRect(c * cell, r * cell, cell, cell);
      if (opts.label) {
        ctx.fillStyle = '#222';
        ctx.font = `${Math.max(9, Math.floor(cell / 4))}px monospace`;
        ctx.fillText(opts.label(r, c), c * cell + 3, r * cell + cell / 2 + 4);
      }
    }
  }
  return el('div', { class: 'heat' }, canvas, colourScale(range, opts.testid));
}

/** The colour bar of a heat map: −range … 0 … +range. */
export function colourScale(range: number, testid: string): HTMLElement {
  const bar = el('canvas', { width: '160', height: '10', class: 'scale' });
  const ctx = bar.getContext('2d')!;
  for (let x = 0; x < 160; x++) {
    const [R, G, B] = diverging((x / 159) * 2 - 1);
    ctx.fillStyle = `rgb(${R},${G},${B})`;
    ctx.fillRect(x, 0, 1, 10);
  }
  const fmt = (v: number): string => (Math.abs(v) >= 100 || (v !== 0 && Math.abs(v) < 0.01) ? v.toExponential(1) : v.toFixed(2));
  return el('div', { class: 'scale-row', 'data-testid': `${testid}-scale` }, el('span', {}, fmt(-range)), bar, el('span', {}, fmt(range)));
}

/** A grey image [S, S] in [0, 1] (values outside are clipped), scaled up `zoom` times. */
export function greyImage(values: ArrayLike<number>, side: number, zoom: number, testid?: string): HTMLCanvasElement {
  const canvas = el('canvas', { width: String(side * zoom), height: String(side * zoom), class: 'grey', ...(testid ? { 'data-testid': testid } : {}) });
  const ctx = canvas.getContext('2d')!;
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      const g = Math.round(255 * Math.max(0, Math.min(1, values[y * side + x]!)));
      ctx.fillStyle = `rgb(${g},${g},${g})`;
      ctx.fillRect(x * zoom, y * zoom, zoom, zoom);
    }
  }
  return canvas;
}

/** An image [C, side, side] (C = 1 grey, C = 3 RGB planes) in [0, 1], `zoom` px per pixel. */
export function planesImage(values: ArrayLike<number>, channels: number, side: number, zoom: number, testid?: string): HTMLCanvasElement {
  if (channels === 1) return greyImage(values, side, zoom, testid);
  if (channels !== 3) throw new Error(`planesImage: expected 1 or 3 channels, got ${channels}`);
  const canvas = el('canvas', { width: String(side * zoom), height: String(side * zoom), class: 'grey', ...(testid ? { 'data-testid': testid } : {}) });
  const ctx = canvas.getContext('2d')!;
  const px = side * side;
  const v = (c: number, i: number): number => Math.round(255 * Math.max(0, Math.min(1, values[c * px + i]!)));
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      const i = y * side + x;
      ctx.fillStyle = `rgb(${v(0, i)},${v(1, i)},${v(2, i)})`;
      ctx.fillRect(x * zoom, y * zoom, zoom, zoom);
    }
  }
  return canvas;
}

/** Grouped horizontal bars: one group per label, one bar per series (log-free, linear in the max). */
export function groupedBars(labels: string[], series: { name: string; colour: string; values: number[] }[], testid: string): SVGElement {
  const rowH = 12 * series.length + 10;
  const W = 420;
  const left = 90;
  const max = Math.max(1e-12, ...series.flatMap((s) => s.values.filter(Number.isFinite)));
  const svg = svgEl('svg', { width: W, height: labels.length * rowH + 30, 'data-testid': testid, role: 'img' });
  labels.forEach((label, i) => {
    svg.append(svgEl('text', { x: 4, y: i * rowH + 14, 'font-size': 11 }, label));
    series.forEach((s, j) => {
      const v = s.values[i]!;
      const w = Number.isFinite(v) ? ((W - left - 70) * v) / max : 0;
      svg.append(svgEl('rect', { x: left, y: i * rowH + 4 + j * 12, width: Math.max(0.5, w), height: 10, fill: s.colour }));
      svg.append(svgEl('text', { x: left + w + 4, y: i * rowH + 13 + j * 12, 'font-size': 10 }, v.toExponential(2)));
    });
  });
  series.forEach((s, j) => {
    svg.append(svgEl('rect', { x: left + j * 150, y: labels.length * rowH + 12, width: 10, height: 10, fill: s.colour }));
    svg.append(svgEl('text', { x: left + 14 + j * 150, y: labels.length * rowH + 21, 'font-size': 11 }, s.name));
  });
  return svg;
}

/** A line chart of several series against the step, with its y range printed on the axis. */
export function lineChart(series: { name: string; colour: string; values: number[]; dashed?: boolean }[], opts: { title: string; testid: string }): SVGElement {
  const W = 360;
  const H = 180;
  const pad = { l: 40, r: 10, t: 20, b: 34 };
  const all = series.flatMap((s) => s.values);
  const lo = Math.min(0, ...all);
  const hi = Math.max(1e-6, ...all);
  const n = Math.max(2, ...series.map((s) => s.values.length));
  const x = (i: number): number => pad.l + ((W - pad.l - pad.r) * i) / (n - 1);
  const y = (v: number): number => pad.t + ((H - pad.t - pad.b) * (hi - v)) / (hi - lo || 1);
  const svg = svgEl('svg', { width: W, height: H, 'data-testid': opts.testid, role: 'img' });
  svg.append(svgEl('text', { x: pad.l, y: 13, 'font-size': 12, 'font-weight': 'bold' }, opts.title));
  svg.append(svgEl('line', { x1: pad.l, y1: y(lo), x2: W - pad.r, y2: y(lo), stroke: '#888' }));
  svg.append(svgEl('line', { x1: pad.l, y1: pad.t, x2: pad.l, y2: y(lo), stroke: '#888' }));
  svg.append(svgEl('text', { x: 2, y: pad.t + 8, 'font-size': 10 }, hi.toFixed(2)));
  svg.append(svgEl('text', { x: 2, y: y(lo), 'font-size': 10 }, lo.toFixed(2)));
  svg.append(svgEl('text', { x: W - 60, y: H - 20, 'font-size': 10 }, `step ${n - 1}`));
  series.forEach((s, j) => {
    if (s.values.length > 0) {
      const points = s.values.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
      svg.append(svgEl('polyline', { points, fill: 'none', stroke: s.colour, 'stroke-width': 1.5, ...(s.dashed ? { 'stroke-dasharray': '4 3' } : {}) }));
    }
    svg.append(svgEl('rect', { x: pad.l + j * 110, y: H - 12, width: 10, height: 3, fill: s.colour }));
    svg.append(svgEl('text', { x: pad.l + 14 + j * 110, y: H - 8, 'font-size': 10 }, s.name));
  });
  return svg;
}
