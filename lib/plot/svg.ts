/**
 * Standalone SVG charts with no dependencies: line charts (loss curves, FID over training)
 * and grouped bar charts (ablations: baseline vs ARRA per metric). Each function returns
 * the SVG text; {@link saveSvg} writes it atomically. The output opens in any browser and
 * can be embedded in Markdown.
 *
 * Axes get "nice" ticks (steps of 1, 2 or 5 × 10ᵏ, Heckbert's Graphics Gems 1990 recipe),
 * the legend sits to the right of the plot, and all text is XML-escaped.
 */
import { atomicWriteFile } from '../io/atomic';
import { colorAt } from './png';

/** One line: a name for the legend and its (x, y) points (non-finite y breaks the line). */
export interface LineSeries {
  name: string;
  points: [number, number][];
  /** Optional shaded band around the line, as (x, low, high) triples (e.g. mean ± sd over seeds). */
  band?: [number, number, number][];
}

/** Options of {@link lineChartSvg}. */
export interface LineChartOptions {
  title?: string;
  xLabel?: string;
  yLabel?: string;
  /** Logarithmic y axis (points with y ≤ 0 are dropped); good for losses. Default false. */
  logY?: boolean;
  /** Pixel size (default 640 × 400). */
  width?: number;
  height?: number;
}

/** One group of bars: a label under the group and one value per series. */
export interface BarGroup {
  label: string;
  values: number[];
}

/** Options of {@link barChartSvg}. */
export interface BarChartOptions {
  /** Legend names, one per value in each group. */
  seriesNames: string[];
  title?: string;
  yLabel?: string;
  width?: number;
  height?: number;
}

/** The tab10 palette (matplotlib's default cycle). */
const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];
const MARGIN = { left: 70, right: 170, top: 40, bottom: 55 };

/** Escape text for use in XML content and attribute values. */
export function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

/** Up to ~`count` evenly spaced round values covering [lo, hi], and the step between them. */
export function niceTicks(lo: number, hi: number, count = 5): { ticks: number[]; step: number } {
  if (!(hi > lo)) {
    const pad = lo === 0 ? 1 : Math.abs(lo) * 0.1;
    return niceTicks(lo - pad, hi + pad, count);
  }
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const norm = raw / mag;
  const step = (norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10) * mag;
  // ticks are integer multiples k·step, rounded to the step's decimals (no 1.7e-18 for zero)
  const decimals = Math.max(0, 1 - Math.floor(Math.log10(step)));
  const at = (k: number): number => Number((k * step).toFixed(decimals));
  const ticks: number[] = [];
  for (let k = Math.floor(lo / step); ; k++) {
    ticks.push(at(k));
    if (at(k) >= hi) break;
  }
  return { ticks, step };
}

/** Short tick label: `0.001`, `2.5`, `1e+6`. */
function tickLabel(v: number): string {
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-3 || a >= 1e5) ? v.toExponential(0) : String(Number(v.toPrecision(6)));
}

function svgOpen(width: number, height: number, title: string | undefined): string[] {
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<title>${escapeXml(title ?? 'chart')}</title>`,
    `<rect x="0" y="0" width="${width}" height="${height}" fill="white"/>`,
    title ? `<text x="${width / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${escapeXml(title)}</text>` : '',
  ].filter((l) => l !== '');
}

function legend(names: string[], x: number, y: number): string[] {
  const out = ['<g class="legend">'];
  names.forEach((name, i) => {
    const cy = y + i * 20;
    out.push(`<rect x="${x}" y="${cy - 9}" width="14" height="10" fill="${PALETTE[i % PALETTE.length]}"/>`);
    out.push(`<text x="${x + 20}" y="${cy}">${escapeXml(name)}</text>`);
  });
  out.push('</g>');
  return out;
}

function axisLabels(width: number, height: number, xLabel?: string, yLabel?: string): string[] {
  const out: string[] = [];
  const cx = MARGIN.left + (width - MARGIN.left - MARGIN.right) / 2;
  const cy = MARGIN.top + (height - MARGIN.top - MARGIN.bottom) / 2;
  if (xLabel) out.push(`<text x="${cx}" y="${height - 12}" text-anchor="middle">${escapeXml(xLabel)}</text>`);
  if (yLabel) out.push(`<text x="16" y="${cy}" text-anchor="middle" transform="rotate(-90 16 ${cy})">${escapeXml(yLabel)}</text>`);
  return out;
}

const fmt = (v: number): string => String(Math.round(v * 100) / 100);

/**
 * A line chart of one or more series, with axes, ticks, grid lines and a legend.
 * Non-finite points (and y ≤ 0 on a log axis) break the line rather than distort it.
 */
export function lineChartSvg(series: LineSeries[], opts: LineChartOptions = {}): string {
  const { width = 640, height = 400, logY = false } = opts;
  const ty = (y: number): number => (logY ? Math.log10(y) : y);
  const usable = ([x, y]: [number, number]): boolean => Number.isFinite(x) && Number.isFinite(y) && (!logY || y > 0);
  const bandPoints = series.flatMap((s) => (s.band ?? []).flatMap(([x, lo, hi]) => [[x, lo], [x, hi]] as [number, number][]));
  const all = [...series.flatMap((s) => s.points), ...bandPoints].filter(usable);
  const xs = all.map(([x]) => x);
  const ys = all.map(([, y]) => ty(y));
  const xt = niceTicks(xs.length ? Math.min(...xs) : 0, xs.length ? Math.max(...xs) : 1);
  const yt = logY
    ? (() => {
        const lo = Math.floor(ys.length ? Math.min(...ys) : 0);
        const hi = Math.max(lo + 1, Math.ceil(ys.length ? Math.max(...ys) : 1));
        return { ticks: Array.from({ length: hi - lo + 1 }, (_, i) => lo + i), step: 1 };
      })()
    : niceTicks(ys.length ? Math.min(...ys) : 0, ys.length ? Math.max(...ys) : 1);
  const [x0, x1] = [xt.ticks[0]!, xt.ticks[xt.ticks.length - 1]!];
  const [y0, y1] = [yt.ticks[0]!, yt.ticks[yt.ticks.length - 1]!];
  const plotW = width - MARGIN.left - MARGIN.right;
  const plotH = height - MARGIN.top - MARGIN.bottom;
  const px = (x: number): number => MARGIN.left + ((x - x0) / (x1 - x0)) * plotW;
  const py = (y: number): number => MARGIN.top + plotH - ((ty(y) - y0) / (y1 - y0)) * plotH;
  const pyT = (t: number): number => MARGIN.top + plotH - ((t - y0) / (y1 - y0)) * plotH;

  const out = svgOpen(width, height, opts.title);
  out.push('<g class="axes" stroke="#999" stroke-width="1">');
  for (const t of xt.ticks) out.push(`<line x1="${fmt(px(t))}" y1="${MARGIN.top}" x2="${fmt(px(t))}" y2="${MARGIN.top + plotH}" stroke="#eee"/>`);
  for (const t of yt.ticks) out.push(`<line x1="${MARGIN.left}" y1="${fmt(pyT(t))}" x2="${MARGIN.left + plotW}" y2="${fmt(pyT(t))}" stroke="#eee"/>`);
  out.push(`<rect x="${MARGIN.left}" y="${MARGIN.top}" width="${plotW}" height="${plotH}" fill="none"/>`);
  out.push('</g>');
  out.push('<g class="ticks">');
  for (const t of xt.ticks) out.push(`<text x="${fmt(px(t))}" y="${MARGIN.top + plotH + 16}" text-anchor="middle">${tickLabel(t)}</text>`);
  for (const t of yt.ticks) out.push(`<text x="${MARGIN.left - 6}" y="${fmt(pyT(t) + 4)}" text-anchor="end">${logY ? tickLabel(10 ** t) : tickLabel(t)}</text>`);
  out.push('</g>');
  out.push(...axisLabels(width, height, opts.xLabel, opts.yLabel));

  series.forEach((s, i) => {
    const color = PALETTE[i % PALETTE.length];
    // consecutive usable points form one segment; an unusable point starts a new one
    const segments: [number, number][][] = [[]];
    for (const p of s.points) {
      if (usable(p)) segments[segments.length - 1]!.push(p);
      else if (segments[segments.length - 1]!.length > 0) segments.push([]);
    }
    out.push(`<g class="series" data-name="${escapeXml(s.name)}">`);
    const band = (s.band ?? []).filter(([x, lo, hi]) => usable([x, lo]) && usable([x, hi]));
    if (band.length > 1) {
      // the upper edge left to right, then the lower edge back: one closed polygon
      const edge = [...band.map(([x, , hi]) => [x, hi]), ...band.reverse().map(([x, lo]) => [x, lo])] as [number, number][];
      out.push(`<polygon class="band" points="${edge.map(([x, y]) => `${fmt(px(x))},${fmt(py(y))}`).join(' ')}" fill="${color}" fill-opacity="0.18" stroke="none"/>`);
    }
    for (const seg of segments) {
      if (seg.length === 1) out.push(`<circle cx="${fmt(px(seg[0]![0]))}" cy="${fmt(py(seg[0]![1]))}" r="2.5" fill="${color}"/>`);
      else if (seg.length > 1) {
        const d = seg.map(([x, y], k) => `${k === 0 ? 'M' : 'L'}${fmt(px(x))},${fmt(py(y))}`).join(' ');
        out.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="1.8"/>`);
      }
    }
    out.push('</g>');
  });
  out.push(...legend(series.map((s) => s.name), width - MARGIN.right + 16, MARGIN.top + 10));
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

/**
 * A grouped bar chart: one group per {@link BarGroup}, one coloured bar per series within a
 * group, a zero line, and a legend of `seriesNames`. Negative values hang below zero.
 */
export function barChartSvg(bars: BarGroup[], opts: BarChartOptions): string {
  const { width = 640, height = 400, seriesNames } = opts;
  for (const b of bars) {
    if (b.values.length !== seriesNames.length) {
      throw new Error(`barChartSvg: group '${b.label}' has ${b.values.length} values, expected one per series (${seriesNames.length}: ${seriesNames.join(', ')})`);
    }
    if (!b.values.every(Number.isFinite)) throw new Error(`barChartSvg: group '${b.label}' has a non-finite value (${b.values.join(', ')})`);
  }
  const values = bars.flatMap((b) => b.values);
  const yt = niceTicks(Math.min(0, ...values), Math.max(0, ...values));
  const [y0, y1] = [yt.ticks[0]!, yt.ticks[yt.ticks.length - 1]!];
  const plotW = width - MARGIN.left - MARGIN.right;
  const plotH = height - MARGIN.top - MARGIN.bottom;
  const py = (y: number): number => MARGIN.top + plotH - ((y - y0) / (y1 - y0)) * plotH;
  const groupW = plotW / Math.max(1, bars.length);
  const barW = (groupW * 0.8) / Math.max(1, seriesNames.length);

  const out = svgOpen(width, height, opts.title);
  out.push('<g class="axes" stroke="#999" stroke-width="1">');
  for (const t of yt.ticks) out.push(`<line x1="${MARGIN.left}" y1="${fmt(py(t))}" x2="${MARGIN.left + plotW}" y2="${fmt(py(t))}" stroke="#eee"/>`);
  out.push(`<rect x="${MARGIN.left}" y="${MARGIN.top}" width="${plotW}" height="${plotH}" fill="none"/>`);
  out.push(`<line x1="${MARGIN.left}" y1="${fmt(py(0))}" x2="${MARGIN.left + plotW}" y2="${fmt(py(0))}" stroke="#333"/>`);
  out.push('</g>');
  out.push('<g class="ticks">');
  for (const t of yt.ticks) out.push(`<text x="${MARGIN.left - 6}" y="${fmt(py(t) + 4)}" text-anchor="end">${tickLabel(t)}</text>`);
  out.push('</g>');
  out.push(...axisLabels(width, height, undefined, opts.yLabel));
  bars.forEach((group, g) => {
    const gx = MARGIN.left + g * groupW + groupW * 0.1;
    out.push(`<g class="group" data-label="${escapeXml(group.label)}">`);
    group.values.forEach((v, s) => {
      const top = py(Math.max(v, 0));
      const h = Math.abs(py(v) - py(0));
      out.push(`<rect x="${fmt(gx + s * barW)}" y="${fmt(top)}" width="${fmt(barW * 0.92)}" height="${fmt(h)}" fill="${PALETTE[s % PALETTE.length]}"><title>${escapeXml(`${group.label} · ${seriesNames[s]}: ${v}`)}</title></rect>`);
    });
    out.push(`<text x="${fmt(MARGIN.left + (g + 0.5) * groupW)}" y="${MARGIN.top + plotH + 16}" text-anchor="middle">${escapeXml(group.label)}</text>`);
    out.push('</g>');
  });
  out.push(...legend(seriesNames, width - MARGIN.right + 16, MARGIN.top + 10));
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

/** Write SVG text to a file atomically. */
export function saveSvg(path: string, svg: string): void {
  atomicWriteFile(path, svg);
}

/** One panel of {@link heatmapSvg}: a [height, width] grid of values, row-major, with its own caption. */
export interface HeatmapPanel {
  caption: string;
  values: ArrayLike<number>;
}

/** Options of {@link heatmapSvg}. */
export interface HeatmapSvgOptions {
  /** Grid size of every panel. */
  height: number;
  width: number;
  title: string;
  xLabel: string;
  yLabel: string;
  /** What the colour encodes (the colour bar's label), e.g. `cos(f_A,t, f_GF)`. */
  valueLabel: string;
  /** Colour range (default: the smallest and largest finite value over all panels). */
  min?: number;
  max?: number;
  /** Cell side in pixels (default 22). */
  cell?: number;
}

/**
 * Heat maps of one or more grids side by side, in one colour scale (viridis) with a colour bar
 * that shows its range, axis labels (column and row indices) and a title. A range narrower
 * than 1e-6 is widened to ±0.005 around its value, so a constant map is still readable.
 * Returns the SVG text and the range used (to be written next to the figure).
 */
export function heatmapSvg(panels: readonly HeatmapPanel[], opts: HeatmapSvgOptions): { svg: string; min: number; max: number } {
  const { height: gh, width: gw } = opts;
  for (const p of panels) {
    if (p.values.length !== gh * gw) throw new Error(`heatmapSvg: panel '${p.caption}' has ${p.values.length} values, expected ${gh}×${gw} = ${gh * gw}`);
  }
  const finite = panels.flatMap((p) => Array.from(p.values).filter(Number.isFinite));
  let lo = opts.min ?? (finite.length > 0 ? Math.min(...finite) : 0);
  let hi = opts.max ?? (finite.length > 0 ? Math.max(...finite) : 1);
  if (!(hi - lo >= 1e-6)) [lo, hi] = [(lo + hi) / 2 - 0.005, (lo + hi) / 2 + 0.005];
  const cell = opts.cell ?? 22;
  const left = 56;
  const top = 48;
  const panelGap = 18;
  const barWidth = 16;
  const panelW = gw * cell;
  const totalW = left + panels.length * (panelW + panelGap) + 90;
  const totalH = top + gh * cell + 58;
  const out = svgOpen(totalW, totalH, opts.title);
  panels.forEach((p, k) => {
    const x0 = left + k * (panelW + panelGap);
    out.push(`<g class="panel"><text x="${x0 + panelW / 2}" y="${top - 8}" text-anchor="middle">${escapeXml(p.caption)}</text>`);
    for (let r = 0; r < gh; r++) {
      for (let c = 0; c < gw; c++) {
        const v = p.values[r * gw + c]!;
        const fill = Number.isFinite(v) ? rgb(colorAt((v - lo) / (hi - lo))) : '#ff00ff';
        out.push(`<rect x="${x0 + c * cell}" y="${top + r * cell}" width="${cell}" height="${cell}" fill="${fill}"><title>row ${r}, column ${c}: ${v.toFixed(4)}</title></rect>`);
      }
    }
    for (let c = 0; c < gw; c++) out.push(`<text x="${x0 + (c + 0.5) * cell}" y="${top + gh * cell + 14}" text-anchor="middle" font-size="10">${c}</text>`);
    if (k === 0) for (let r = 0; r < gh; r++) out.push(`<text x="${x0 - 6}" y="${top + (r + 0.5) * cell + 4}" text-anchor="end" font-size="10">${r}</text>`);
    out.push('</g>');
  });
  out.push(`<text x="${left + (panels.length * (panelW + panelGap)) / 2}" y="${totalH - 10}" text-anchor="middle">${escapeXml(opts.xLabel)}</text>`);
  const cy = top + (gh * cell) / 2;
  out.push(`<text x="14" y="${cy}" text-anchor="middle" transform="rotate(-90 14 ${cy})">${escapeXml(opts.yLabel)}</text>`);
  // colour bar: 32 bands from lo (bottom) to hi (top), labelled with the range
  const bx = left + panels.length * (panelW + panelGap) + 6;
  const bh = gh * cell;
  out.push('<g class="colorbar">');
  for (let i = 0; i < 32; i++) out.push(`<rect x="${bx}" y="${top + bh - ((i + 1) * bh) / 32}" width="${barWidth}" height="${bh / 32 + 0.5}" fill="${rgb(colorAt((i + 0.5) / 32))}"/>`);
  out.push(`<text x="${bx + barWidth + 4}" y="${top + 10}" font-size="10">${hi.toFixed(4)}</text>`);
  out.push(`<text x="${bx + barWidth + 4}" y="${top + bh}" font-size="10">${lo.toFixed(4)}</text>`);
  out.push(`<text x="${bx + barWidth / 2}" y="${top + bh + 14}" text-anchor="middle" font-size="10">${escapeXml(opts.valueLabel)}</text>`);
  out.push('</g>', '</svg>');
  return { svg: out.join('\n'), min: lo, max: hi };
}

function rgb([r, g, b]: [number, number, number]): string {
  return `rgb(${r},${g},${b})`;
}
