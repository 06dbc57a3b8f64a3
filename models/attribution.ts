/**
 * Gradient attribution for ARRA: which parameters each of the two losses pushes, how hard,
 * and whether the two pushes agree; and how well every image position's hidden state already
 * predicts the global feature.
 *
 * For each parameter tensor θ: ‖∂L_AR/∂θ‖, ‖λ·∂L_GVA/∂θ‖ and cos(∂L_AR/∂θ, ∂L_GVA/∂θ)
 * (positive: alignment helps next-token prediction on this batch; negative: they compete).
 * Blocks after the aligned layer get exactly 0 from L_GVA — the report makes that visible.
 * The alignment grid holds cos(A_phi(h_t^(i)), f_GF) at every image-predicting position,
 * laid out on the image token grid (cell k = the position whose output predicts token z_k+1),
 * whether or not the mode trains that position (`rep` trains cell 0 only).
 *
 * Library call: {@link gradientAttribution}. CLI: examples/explain.ts. Explained in docs/arra.md.
 */
import { cosineSimilarity, indexSelect, noGrad, reshape, type Tensor } from '../lib';
import { alignedPositions, arraLoss, type ArraBatch, type ArraConfig } from './arra';
import type { Projector } from './projector';
import type { Transformer } from './transformer';

/** One parameter tensor's share of the two gradients. */
export interface TensorAttribution {
  /** Dotted name (`blocks.0.attn.wq.weight`, `projector.fc1.weight`). */
  name: string;
  /** Block or module it belongs to (`blocks.0`, `head`, `projector`, …). */
  group: string;
  size: number;
  /** ‖∂L_AR/∂θ‖₂ */
  normAR: number;
  /** ‖λ·∂L_GVA/∂θ‖₂ */
  normGVA: number;
  /** cos between the two gradients; NaN when either is exactly zero. */
  cosine: number;
}

/** The same three numbers over all tensors of a group taken as one vector. */
export type GroupAttribution = Omit<TensorAttribution, 'name'>;

/** What {@link gradientAttribution} returns. */
export interface AttributionReport {
  mode: ArraConfig['mode'];
  alignLayer: number;
  lambda: number;
  lossAR: number;
  lossGVA: number;
  tensors: TensorAttribution[];
  groups: GroupAttribution[];
  /** Alignment cos per image position, [B][height·width] row-major, and its batch mean. */
  alignment: { height: number; width: number; perSequence: Float32Array[]; mean: Float32Array } | null;
  /** The report as markdown: settings, per-group table, per-tensor table, mean alignment grid. */
  toMarkdown(): string;
}

/** Options of {@link gradientAttribution}. */
export interface AttributionOptions {
  /** Image token grid [height, width]; default: square when the image-token count is a square, else [1, N]. */
  grid?: [number, number];
}

/**
 * Run one forward, backpropagate L_AR and λ·L_GVA separately, and compare their gradients
 * tensor by tensor. Leaves every `.grad` cleared. `projector` may be null only for mode `off`
 * (then the GVA columns are 0 and there is no alignment grid).
 */
export function gradientAttribution(
  model: Transformer,
  projector: Projector | null,
  batch: ArraBatch,
  cfg: ArraConfig,
  opts: AttributionOptions = {},
): AttributionReport {
  const named: [string, Tensor][] = [
    ...model.namedParameters(),
    ...(projector?.namedParameters() ?? []).map(([n, t]): [string, Tensor] => [`projector.${n}`, t]),
  ];
  const clear = (): void => named.forEach(([, t]) => t.zeroGrad());
  const take = (): (Float64Array | null)[] => named.map(([, t]) => (t.grad ? Float64Array.from(t.grad.values()) : null));

  clear();
  const losses = arraLoss(model, projector, batch, cfg);
  losses.lossAR.backward();
  const gradAR = take();
  clear();
  const gva = losses.lossGVA.mul(cfg.lambda);
  if (gva.requiresGrad) gva.backward(); // mode `off`: a constant, no graph
  const gradGVA = take();
  clear();

  const tensors = named.map(([name, t], i): TensorAttribution => ({ name, group: groupOf(name), size: t.size, ...compare([gradAR[i]!], [gradGVA[i]!]) }));
  const groups: GroupAttribution[] = [];
  for (const group of new Set(tensors.map((a) => a.group))) {
    const idx = tensors.flatMap((a, i) => (a.group === group ? [i] : []));
    const size = idx.reduce((n, i) => n + tensors[i]!.size, 0);
    groups.push({ group, size, ...compare(idx.map((i) => gradAR[i]!), idx.map((i) => gradGVA[i]!)) });
  }
  const alignment = projector === null || cfg.mode === 'off' ? null : alignmentGrid(model, projector, batch, cfg.alignLayer, opts.grid);
  const report: Omit<AttributionReport, 'toMarkdown'> = {
    mode: cfg.mode,
    alignLayer: cfg.alignLayer,
    lambda: cfg.lambda,
    lossAR: losses.lossAR.item(),
    lossGVA: losses.lossGVA.item(),
    tensors,
    groups,
    alignment,
  };
  return { ...report, toMarkdown: () => attributionMarkdown(report) };
}

/** `blocks.3.mlp.w1.weight` → `blocks.3`; `projector.fc1.weight` → `projector`; `head.weight` → `head`. */
export function groupOf(name: string): string {
  const m = /^(\w+)\.(\d+)\./.exec(name);
  return m ? `${m[1]}.${m[2]}` : name.split('.')[0]!;
}

/** Norms of two gradients (each possibly split over several tensors; null = no gradient) and their cosine. */
function compare(a: (Float64Array | null)[], b: (Float64Array | null)[]): { normAR: number; normGVA: number; cosine: number } {
  let aa = 0;
  let bb = 0;
  let ab = 0;
  a.forEach((ga, k) => {
    const gb = b[k];
    for (let i = 0; i < (ga?.length ?? 0); i++) aa += ga![i]! * ga![i]!;
    for (let i = 0; i < (gb?.length ?? 0); i++) bb += gb![i]! * gb![i]!;
    if (ga && gb) for (let i = 0; i < ga.length; i++) ab += ga[i]! * gb[i]!;
  });
  const normAR = Math.sqrt(aa);
  const normGVA = Math.sqrt(bb);
  return { normAR, normGVA, cosine: normAR > 0 && normGVA > 0 ? ab / (normAR * normGVA) : NaN };
}

/** cos(A_phi(h_t^(i)), f_GF) at every image-predicting position, under no-grad, on the token grid. */
function alignmentGrid(model: Transformer, projector: Projector, batch: ArraBatch, layer: number, grid?: [number, number]): AttributionReport['alignment'] {
  const [B, T] = batch.shape;
  const positions = alignedPositions(batch.imageMask, batch.shape, 'hybnext'); // [P], P = B·N
  const N = positions.length / B;
  if (!Number.isInteger(N)) throw new Error(`gradientAttribution: ${positions.length} image positions do not split evenly over ${B} sequences`);
  const side = Math.round(Math.sqrt(N));
  const [height, width] = grid ?? (side * side === N ? [side, side] : [1, N]);
  if (height * width !== N) throw new Error(`gradientAttribution: grid ${height}×${width} does not hold the ${N} image positions per sequence`);
  const cos = noGrad(() => {
    const hidden = model.forward(batch.tokens, batch.shape).hiddens[layer]!; // [B, T, D]
    const D = hidden.shape[2]!;
    const fA = projector.forward(indexSelect(reshape(hidden, [B * T, D]), 0, positions)); // [P, D_enc]
    const fGF = indexSelect(batch.globalFeatures.detach().astype(fA.dtype), 0, positions.map((p) => Math.floor(p / T))); // [P, D_enc]
    return cosineSimilarity(fA, fGF, -1).values(); // [P]
  });
  const perSequence = Array.from({ length: B }, (_, b) => Float32Array.from(cos.subarray(b * N, (b + 1) * N)));
  const mean = new Float32Array(N).map((_, k) => perSequence.reduce((s, row) => s + row[k]!, 0) / B);
  return { height, width, perSequence, mean };
}

function fmt(x: number): string {
  if (Number.isNaN(x)) return '—';
  return x === 0 ? '0' : Math.abs(x) >= 1e-3 && Math.abs(x) < 1e4 ? x.toFixed(4) : x.toExponential(2);
}

function attributionMarkdown(r: Omit<AttributionReport, 'toMarkdown'>): string {
  const lines = [
    `# ARRA gradient attribution`,
    '',
    `mode \`${r.mode}\`, aligned block ${r.alignLayer}, λ = ${r.lambda}; L_AR = ${fmt(r.lossAR)}, L_GVA = ${fmt(r.lossGVA)}`,
    '',
    `## Per block`,
    '',
    '| group | parameters | ‖∂L_AR/∂θ‖ | ‖λ·∂L_GVA/∂θ‖ | GVA / AR | cos(AR, GVA) |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
    ...r.groups.map((g) => `| ${g.group} | ${g.size} | ${fmt(g.normAR)} | ${fmt(g.normGVA)} | ${fmt(g.normAR > 0 ? g.normGVA / g.normAR : NaN)} | ${fmt(g.cosine)} |`),
    '',
    `## Per tensor`,
    '',
    '| tensor | elements | ‖∂L_AR/∂θ‖ | ‖λ·∂L_GVA/∂θ‖ | cos(AR, GVA) |',
    '| --- | ---: | ---: | ---: | ---: |',
    ...r.tensors.map((t) => `| ${t.name} | ${t.size} | ${fmt(t.normAR)} | ${fmt(t.normGVA)} | ${fmt(t.cosine)} |`),
  ];
  if (r.alignment) {
    const { height, width, mean } = r.alignment;
    lines.push('', `## Alignment cos(f_A,t, f_GF) on the ${height}×${width} token grid (batch mean)`, '');
    lines.push(`| row | ${Array.from({ length: width }, (_, c) => `c${c}`).join(' | ')} |`, `| --- | ${'---: | '.repeat(width).trim()}`);
    for (let row = 0; row < height; row++) lines.push(`| r${row} | ${Array.from(mean.subarray(row * width, (row + 1) * width), (v) => v.toFixed(3)).join(' | ')} |`);
  }
  return lines.join('\n') + '\n';
}
