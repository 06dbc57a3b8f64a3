/**
 * The step panels' contents, drawn from a {@link StepReport} (lab-core.ts): the batch, the
 * forward pass, the losses, the backward, and the training curves. Each function returns the
 * panel's new children; main.ts decides when to redraw.
 */
import type { StepReport } from '../lab-core';
import type { SideBySide } from '../lab-train';
import { colourScale, el, groupedBars, heatMap, lineChart, planesImage } from './charts';

/** A loss or gradient norm with five decimals (or in exponent form when tiny). */
export const fmt = (x: number): string => (Number.isNaN(x) ? '—' : Math.abs(x) >= 1e-3 || x === 0 ? x.toFixed(5) : x.toExponential(3));

/** L_GVA of each objective of models/arra.ts, as the losses panel states it. */
const OBJECTIVE_FORMULA: Record<StepReport['settings']['objective'], string> = {
  cosine: '1 − mean cos',
  mse: 'mean (f_A − f_GF)² over every element (raw features)',
  'mse-normalized': 'mean ‖â − b̂‖² (unit vectors, = 2·cosine)',
};

/**
 * The sequences, their targets and <HYBNEXT> positions, the images and their codes on the grid.
 * `name` says what a token id is in the lab's mode (Lab.tokenName): class, prompt words or null.
 */
export function batchView(r: StepReport, name: (id: number) => string): Node[] {
  const { shape: [B, T], tokens, targets, imageMask, aligned, grid, images, prefixLen: P } = r.batch;
  const table = el('table', { class: 'seq' }, el('tr', {}, el('th', {}, 'image'), el('th', {}, 'position →'), ...Array.from({ length: T }, (_, t) => el('th', {}, String(t))), el('th', {}, 'codes on the grid')));
  const [, C, side] = images.shape as [number, number, number];
  const per = C * side * side;
  for (let b = 0; b < B; b++) {
    const img = planesImage(images.values.slice(b * per, (b + 1) * per), C, side, 6);
    const cells = (f: (t: number) => string, cls: (t: number) => string): HTMLElement[] => Array.from({ length: T }, (_, t) => el('td', { class: cls(t) }, f(t)));
    table.append(
      el('tr', {}, el('td', { rowspan: '3' }, img), el('td', {}, 'token'), ...cells((t) => name(tokens[b * T + t]!), (t) => (t < P - 1 ? 'cond' : t === P - 1 ? 'begin' : 'code'))),
      el('tr', {}, el('td', {}, 'target'), ...cells((t) => (targets[b * T + t]! < 0 ? '–' : name(targets[b * T + t]!)), () => 'target')),
      el('tr', {}, el('td', {}, '<HYBNEXT>'), ...cells((t) => (imageMask[b * T + t] ? (aligned.includes(b * T + t) ? '● aligned' : '○') : ''), (t) => (aligned.includes(b * T + t) ? 'hyb' : ''))),
    );
    const codes = tokens.slice(b * T + P, b * T + P + grid * grid);
    const g = el('div', { class: 'token-grid small' }, ...codes.map((c) => el('div', {}, `z${c}`)));
    g.style.gridTemplateColumns = `repeat(${grid}, 2.2em)`;
    table.rows[table.rows.length - 3]!.append(el('td', { rowspan: '3' }, g));
  }
  const prefix = r.batch.prompts
    ? `Prefix: each caption's ${P - 1}-word prompt slot (left-padded) and begin-image — ${r.batch.prompts.map((p) => `"${p}"`).join('; ')}. `
    : P === 2 && tokens[0] !== undefined && name(tokens[0]) === 'null' ? 'Prefix: the one constant [null] [begin-image] (unconditional). ' : 'Prefix: the class token and begin-image. ';
  return [el('p', { 'data-testid': 'batch-prefix' }, `${prefix}B = ${B} sequences of T = ${T} tokens; the output at position t predicts token t+1, so positions ${P - 1}…${T - 2} are <HYBNEXT> (they predict an image token and, in mode hybnext, align to f_GF). Tokenizer: ${r.tokenizer}.`), table];
}

/** Shapes block by block; h^(i), A_phi(h) and cos(f_A,t, f_GF) as heat maps with their colour scales. */
export function forwardView(r: StepReport): Node[] {
  const shapes = el('table', { 'data-testid': 'shapes' }, el('tr', {}, el('th', {}, 'tensor'), el('th', {}, 'shape'), el('th', {}, '')),
    ...r.shapes.map((s) => el('tr', {}, el('td', {}, s.name), el('td', {}, `[${s.shape.join(', ')}]`), el('td', {}, s.note))));
  const [P, D] = r.hidden.shape as [number, number];
  const [, E] = r.projected.shape as [number, number];
  const [B, N] = r.cos.shape as [number, number];
  const grid = r.batch.grid;
  const cosGrids = el('div', { class: 'row' }, ...Array.from({ length: B }, (_, b) => {
    const vals = r.cos.values.slice(b * N, (b + 1) * N);
    const canvas = heatMap(vals, grid, grid, { cell: 46, range: 1, testid: `cos-map-${b}`, label: (y, x) => vals[y * grid + x]!.toFixed(2) });
    canvas.querySelector('.scale-row')?.remove();
    return canvas;
  }));
  return [
    el('div', { class: 'row' }, shapes),
    el('h3', {}, `h^(${r.settings.alignLayer}) at the ${P} image-predicting positions [${P}, ${D}]`), heatMap(r.hidden.values, P, D, { cell: 9, testid: 'hidden-map' }),
    el('h3', {}, `f_A,t = A_phi(h_t) [${P}, ${E}]`), heatMap(r.projected.values, P, E, { cell: 9, testid: 'projected-map' }),
    el('h3', {}, `cos(f_A,t, f_GF) per position, on each image's ${grid}×${grid} token grid (cell k = the position predicting z_k+1; ${r.settings.mode === 'off' ? 'mode off: measured, not trained' : r.settings.mode === 'rep' ? 'mode rep trains cell 0 only' : 'all cells trained'})`),
    el('div', { 'data-testid': 'cos-map' }, cosGrids, colourScale(1, 'cos-map')),
  ];
}

/** The three losses with what each one is. */
export function lossesView(r: StepReport, vocabSize: number): Node[] {
  const item = (label: string, testid: string, v: number, note: string): HTMLElement => el('div', { class: 'loss' }, el('div', { class: 'label' }, label), el('div', { class: 'value', 'data-testid': testid }, fmt(v)), el('div', { class: 'note' }, note));
  return [
    item('L_AR', 'loss-ar', r.lossAR, `cross-entropy of the image tokens (ln V = ${Math.log(vocabSize).toFixed(4)} at init: the head starts at 0)`),
    item('L_GVA', 'loss-gva', r.lossGVA, r.settings.mode === 'off' ? 'mode off: not part of the loss' : `${OBJECTIVE_FORMULA[r.settings.objective]} over ${r.batch.aligned.length} aligned positions`),
    item('L_ARRA', 'loss-total', r.lossTotal, `L_AR + λ·L_GVA, λ = ${r.settings.lambda}`),
  ];
}

/** Per group the norms of both gradients and their cosine; `steps` = training steps behind these weights. */
export function backwardView(r: StepReport, steps: number): Node[] {
  const groups = r.groups;
  const bars = groupedBars(groups.map((g) => g.group), [
    { name: '‖∂L_AR/∂θ‖', colour: '#3366cc', values: groups.map((g) => g.normAR) },
    { name: '‖λ·∂L_GVA/∂θ‖', colour: '#dc3912', values: groups.map((g) => g.normGVA) },
  ], 'attribution-bars');
  const table = el('table', { 'data-testid': 'attribution' }, el('tr', {}, el('th', {}, 'group'), el('th', {}, 'parameters'), el('th', {}, '‖∂L_AR/∂θ‖'), el('th', {}, '‖λ·∂L_GVA/∂θ‖'), el('th', {}, 'cos(AR, GVA)')),
    ...groups.map((g) => el('tr', {}, el('td', {}, g.group), el('td', {}, String(g.size)), el('td', {}, fmt(g.normAR)), el('td', {}, fmt(g.normGVA)), el('td', {}, fmt(g.cosine)))));
  const atInit = steps === 0;
  const note = el('p', {}, `The step runs on the ARRA run's current weights (${steps} training steps). Blocks after the aligned block ${r.settings.alignLayer} get exactly 0 from L_GVA.`,
    atInit ? ' At step 0 L_AR reaches only the head: its weight starts at 0 (LlamaGen), so no gradient flows below it yet — train a few steps and the blue bars appear.' : '');
  return [note, el('div', { class: 'row' }, bars, table)];
}

/** Both runs' loss curves side by side, and their last values. */
export function curvesView(runs: SideBySide): Node[] {
  const b = runs.baseline.history;
  const a = runs.arra.history;
  return [
    lineChart([
      { name: 'L_AR', colour: '#3366cc', values: b.map((h) => h.lossAR) },
      { name: 'L_GVA (measured)', colour: '#dc3912', values: b.map((h) => h.lossGVA), dashed: true },
    ], { title: 'baseline (mode off)', testid: 'curve-baseline' }),
    lineChart([
      { name: 'L_AR', colour: '#3366cc', values: a.map((h) => h.lossAR) },
      { name: 'L_GVA (trained)', colour: '#dc3912', values: a.map((h) => h.lossGVA) },
    ], { title: `ARRA (${runs.arra.settings.mode}, λ = ${runs.arra.settings.lambda}, block ${runs.arra.settings.alignLayer})`, testid: 'curve-arra' }),
    el('div', { class: 'last' }, el('span', {}, 'last: baseline L_AR '), el('b', { 'data-testid': 'train-baseline-ar' }, b.length ? b[b.length - 1]!.lossAR.toFixed(4) : '–'),
      el('span', {}, ', ARRA L_AR '), el('b', { 'data-testid': 'train-arra-ar' }, a.length ? a[a.length - 1]!.lossAR.toFixed(4) : '–'),
      el('span', {}, ', ARRA L_GVA '), el('b', { 'data-testid': 'train-arra-gva' }, a.length ? a[a.length - 1]!.lossGVA.toFixed(4) : '–')),
  ];
}
