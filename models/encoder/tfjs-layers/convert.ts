/**
 * Keras weights → our layout, once, at load time.
 *
 * - Conv2D kernel, Keras HWIO [kh, kw, C, O] → ours [O, C, kh, kw]:
 *   ours[o, c, i, j] = keras[i, j, c, o].
 * - DepthwiseConv2D kernel, Keras [kh, kw, C, M] (M = depth multiplier) → ours
 *   [C·M, 1, kh, kw] with groups = C; TF orders the outputs channel-major, so output
 *   channel c·M + m is filter m of input channel c: ours[c·M + m, 0, i, j] = keras[i, j, c, m].
 * - Dense kernel stays [in, out] (x · W).
 * - BatchNormalization (γ, β, moving mean μ, moving variance σ²) is folded to one scale and
 *   shift per channel: y = (x − μ)·γ/√(σ² + ε) + β = x·s + t with s = γ/√(σ² + ε), t = β − μ·s.
 *
 * Every tensor built here is a constant: requiresGrad false.
 */
import { Tensor } from '../../../lib';
import type { DecodedWeight } from './weights';
import type { LayerOp } from './layer-config';
import type { LayerWeights } from './layers';

/** The weight names (after `<layer>/`) a layer needs. */
export function weightNamesOf(op: LayerOp): string[] {
  switch (op.kind) {
    case 'conv': return [op.depthwise ? 'depthwise_kernel' : 'kernel', ...(op.useBias ? ['bias'] : [])];
    case 'dense': return ['kernel', ...(op.useBias ? ['bias'] : [])];
    case 'batchnorm': return [...(op.scale ? ['gamma'] : []), ...(op.center ? ['beta'] : []), 'moving_mean', 'moving_variance'];
    default: return [];
  }
}

/**
 * Convert the weights of one layer. `inShape` is its (first) input's shape ([N, C, H, W] or
 * [N, F]); `get` returns a decoded weight by its short name or throws naming it.
 */
export function convertLayerWeights(op: LayerOp, inShape: number[], get: (w: string) => DecodedWeight, where: string): LayerWeights {
  const expectShape = (w: DecodedWeight, shape: number[]): void => {
    if (w.shape.length !== shape.length || w.shape.some((d, i) => d !== shape[i])) {
      throw new Error(`${where}: weight '${w.name}' has shape ${JSON.stringify(w.shape)}, the layer needs ${JSON.stringify(shape)}`);
    }
  };
  switch (op.kind) {
    case 'conv': {
      const c = inShape[1]!;
      const [kh, kw] = op.kernel;
      if (op.depthwise) {
        const m = op.depthMultiplier;
        const k = get('depthwise_kernel');
        expectShape(k, [kh, kw, c, m]);
        const out = new Float32Array(c * m * kh * kw);
        for (let i = 0; i < kh; i++) for (let j = 0; j < kw; j++) for (let ci = 0; ci < c; ci++) for (let mi = 0; mi < m; mi++) {
          out[((ci * m + mi) * kh + i) * kw + j] = k.values[((i * kw + j) * c + ci) * m + mi]!;
        }
        return { kernel: new Tensor(out, [c * m, 1, kh, kw]), bias: op.useBias ? vector(get('bias'), c * m, expectShape) : undefined };
      }
      const o = op.filters;
      const k = get('kernel');
      expectShape(k, [kh, kw, c, o]);
      const out = new Float32Array(o * c * kh * kw);
      for (let i = 0; i < kh; i++) for (let j = 0; j < kw; j++) for (let ci = 0; ci < c; ci++) for (let oi = 0; oi < o; oi++) {
        out[((oi * c + ci) * kh + i) * kw + j] = k.values[((i * kw + j) * c + ci) * o + oi]!;
      }
      return { kernel: new Tensor(out, [o, c, kh, kw]), bias: op.useBias ? vector(get('bias'), o, expectShape) : undefined };
    }
    case 'dense': {
      const fIn = inShape[inShape.length - 1]!;
      const k = get('kernel');
      expectShape(k, [fIn, op.units]);
      return { kernel: new Tensor(k.values, [fIn, op.units]), bias: op.useBias ? vector(get('bias'), op.units, expectShape) : undefined };
    }
    case 'batchnorm': {
      const c = inShape[1]!;
      const mean = get('moving_mean');
      const variance = get('moving_variance');
      const gamma = op.scale ? get('gamma') : undefined;
      const beta = op.center ? get('beta') : undefined;
      for (const w of [mean, variance, gamma, beta]) if (w) expectShape(w, [c]);
      const scale = new Float32Array(c);
      const shift = new Float32Array(c);
      for (let i = 0; i < c; i++) {
        const s = (gamma?.values[i] ?? 1) / Math.sqrt(variance.values[i]! + op.epsilon);
        scale[i] = s;
        shift[i] = (beta?.values[i] ?? 0) - mean.values[i]! * s;
      }
      return { scale: new Tensor(scale, [c, 1, 1]), shift: new Tensor(shift, [c, 1, 1]) };
    }
    default:
      return {};
  }
}

function vector(w: DecodedWeight, n: number, expectShape: (w: DecodedWeight, s: number[]) => void): Tensor {
  expectShape(w, [n]);
  return new Tensor(w.values, [n]);
}
