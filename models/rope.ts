/**
 * Rotary position embedding (RoPE; Su et al. 2021, "RoFormer"), 1-D and 2-D.
 *
 * RoPE turns each query/key head vector into d/2 pairs `(x[2i], x[2i+1])` and rotates pair i
 * by an angle θ(position, i). A dot product of a rotated query at position p and a rotated
 * key at position q then depends only on p − q: attention sees relative positions, and no
 * position vector is added to the residual stream.
 *
 * - **1-D** (GPT-style sequences): θ(t, i) = t · base^(−2i/d).
 * - **2-D** (LlamaGen's image grid, `precompute_freqs_cis_2d`): the first d/4 pairs rotate by
 *   the token's row, the last d/4 pairs by its column, with frequencies f_j = base^(−4j/d).
 *   Image token k (0-based, raster order) sits at (row, col) = (⌊k/g⌋, k mod g).
 *   The `prefixLen` condition positions before the grid (class id or text, then begin-image)
 *   are put on the diagonal just before the grid, at (j − prefixLen, j − prefixLen): they stay
 *   ordered among themselves, which a text prompt needs. LlamaGen does something else: its
 *   `precompute_freqs_cis_2d` prepends `cls_token_num` rows of *zeros* to the table, so the
 *   prefix's q and k are multiplied by cos = sin = 0 — they become zero vectors (every score
 *   against a prefix key is 0, and a prefix query scores 0 against everything), not left
 *   unrotated (cos = 1, sin = 0). Its values still carry the condition. We keep the prefix's
 *   q/k alive and rotated instead (docs/models.md, "Deviations from LlamaGen").
 *
 * The rotation is one op with its own backward: a rotation's transpose is the rotation by
 * −θ, so ∂L/∂x = R(−θ) · ∂L/∂y pair by pair.
 */
import { allocate, backend, fmtShape, record, referenceRope, Tensor } from '../lib';

/** Which positional scheme a table was built for. */
export type RopeKind = '1d' | '2d';

/** Options of {@link ropeTable}. */
export interface RopeTableOptions {
  kind: RopeKind;
  /** head dimension d (even for 1-D, a multiple of 4 for 2-D) */
  headDim: number;
  /** number of positions to precompute */
  maxSeqLen: number;
  /** frequency base (10 000 as in the papers) */
  base?: number;
  /** 2-D only: image tokens per side g */
  gridSize?: number;
  /** 2-D only: positions before the first image token (default 2: condition, begin-image) */
  prefixLen?: number;
}

/** cos θ and sin θ for every position and pair: both [maxSeqLen, headDim/2], row-major. */
export interface RopeTable {
  cos: Float64Array;
  sin: Float64Array;
  headDim: number;
  maxSeqLen: number;
}

/** Precompute the rotation angles of every (position, pair). */
export function ropeTable(opts: RopeTableOptions): RopeTable {
  const { kind, headDim: d, maxSeqLen, base = 10000 } = opts;
  const half = d / 2;
  const cos = new Float64Array(maxSeqLen * half);
  const sin = new Float64Array(maxSeqLen * half);
  const put = (t: number, i: number, angle: number): void => {
    cos[t * half + i] = Math.cos(angle);
    sin[t * half + i] = Math.sin(angle);
  };
  if (kind === '1d') {
    if (d % 2 !== 0) throw new Error(`rope: 1-D RoPE needs an even head dimension, got ${d}`);
    for (let t = 0; t < maxSeqLen; t++) for (let i = 0; i < half; i++) put(t, i, t * Math.pow(base, (-2 * i) / d));
  } else {
    if (d % 4 !== 0) throw new Error(`rope: 2-D RoPE needs a head dimension divisible by 4, got ${d}`);
    const g = opts.gridSize;
    if (g === undefined || g < 1) throw new Error('rope: 2-D RoPE needs gridSize (image tokens per side)');
    const prefixLen = opts.prefixLen ?? 2;
    const quarter = d / 4;
    for (let t = 0; t < maxSeqLen; t++) {
      const k = t - prefixLen; // image token index; negative = condition prefix
      const row = k < 0 ? k : Math.floor(k / g);
      const col = k < 0 ? k : k % g;
      for (let j = 0; j < quarter; j++) {
        const f = Math.pow(base, (-4 * j) / d);
        put(t, j, row * f);
        put(t, quarter + j, col * f);
      }
    }
  }
  return { cos, sin, headDim: d, maxSeqLen };
}

/**
 * Rotate x [B, T, H, d] for positions start..start+T−1 of `table`.
 *
 * Forward, per pair (a, b) = (x[2i], x[2i+1]) with c = cos θ, s = sin θ:
 *   y[2i] = a·c − b·s,   y[2i+1] = a·s + b·c.
 * Backward (the transpose of that rotation matrix):
 *   ∂x[2i] = g[2i]·c + g[2i+1]·s,   ∂x[2i+1] = −g[2i]·s + g[2i+1]·c.
 */
export function applyRope(x: Tensor, table: RopeTable, start = 0): Tensor {
  const shape = x.shape;
  if (shape.length !== 4 || shape[3] !== table.headDim) {
    throw new Error(`applyRope: expected x [B, T, H, ${table.headDim}], got ${fmtShape(shape)}`);
  }
  const [B, T, H, d] = shape as [number, number, number, number];
  if (start + T > table.maxSeqLen) {
    throw new Error(`applyRope: positions ${start}..${start + T - 1} exceed the table's ${table.maxSeqLen} positions`);
  }
  // A backend kernel (reference.ts's referenceRope is the loop, the source of truth) reads
  // `src` through its strides — its gradient arrives as a permuted view of the heads'
  // [B, H, T, hd] gradient: reading it in place saves a copy — and writes a contiguous result.
  const rotate = (src: Tensor, sign: 1 | -1): Tensor => {
    const out = allocate(x.dtype, src.size);
    const { data, offset, stride } = src.nd;
    (backend().rope ?? referenceRope)({
      x: data, offset, strides: stride as [number, number, number, number], out, cos: table.cos, sin: table.sin,
      start, sign, batch: B, seqLen: T, heads: H, headDim: d,
    });
    return new Tensor(out, shape);
  };
  const y = rotate(x, 1);
  return record('rope', y, [x], (g) => [rotate(g, -1)]);
}
