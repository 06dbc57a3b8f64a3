/**
 * From a Keras layer's JSON config to a typed description of what it computes.
 *
 * Only the MobileNetV2 layer set is supported; anything else — another layer class, a
 * channels_first model, a ReLU with a negative slope, an unknown activation — is an error
 * naming the file, the layer and the setting, raised before any weight is touched.
 */
import { isObject } from './artifacts';
import type { LiteralValue } from './literal';
import type { LayerNode } from './topology';

/** Layer classes the loader can build. */
export const SUPPORTED_LAYERS = [
  'InputLayer', 'Conv2D', 'DepthwiseConv2D', 'BatchNormalization', 'ReLU', 'ZeroPadding2D', 'Add',
  'AveragePooling2D', 'GlobalAveragePooling2D', 'Flatten', 'Dense', 'Dropout', 'Activation',
] as const;

/** Element-wise activations a layer may name. */
export type Activation = 'linear' | 'relu' | 'relu6' | 'sigmoid' | 'tanh' | 'softmax' | 'swish';
const ACTIVATIONS: readonly string[] = ['linear', 'relu', 'relu6', 'sigmoid', 'tanh', 'softmax', 'swish'];

/** TF padding modes. */
export type Padding = 'same' | 'valid';

/** What one layer computes, with its settings parsed and checked. */
export type LayerOp =
  | { kind: 'input' }
  | {
      kind: 'conv';
      /** DepthwiseConv2D: one filter bank per input channel (groups = channels). */
      depthwise: boolean;
      /** Conv2D output channels (0 for depthwise; there it is channels × depthMultiplier). */
      filters: number;
      depthMultiplier: number;
      kernel: [number, number];
      strides: [number, number];
      dilation: [number, number];
      padding: Padding;
      useBias: boolean;
      activation: Activation;
    }
  | { kind: 'batchnorm'; epsilon: number; center: boolean; scale: boolean }
  /** A BatchNormalization folded into the convolution before it (see `fold.ts`): passes its input on. */
  | { kind: 'folded' }
  | { kind: 'relu'; maxValue: number | null }
  | { kind: 'zeropad'; pads: [number, number, number, number] }
  | { kind: 'add' }
  | { kind: 'avgpool'; pool: [number, number]; strides: [number, number]; padding: Padding }
  | { kind: 'globalavgpool' }
  | { kind: 'flatten' }
  | { kind: 'dense'; units: number; useBias: boolean; activation: Activation }
  | { kind: 'dropout' }
  | { kind: 'activation'; activation: Activation };

/** A layer ready to build: its node (name, inputs) and its parsed op. */
export interface TypedLayer {
  node: LayerNode;
  op: LayerOp;
}

/** Parse and check one layer's config. */
export function typedLayer(node: LayerNode, file: string): TypedLayer {
  const c = node.config;
  const where = `${file}: layer '${node.name}' (${node.className})`;
  const bad = (what: string): never => { throw new Error(`${where}: ${what}`); };
  if (!(SUPPORTED_LAYERS as readonly string[]).includes(node.className)) {
    bad(`unsupported layer type; supported: ${SUPPORTED_LAYERS.join(', ')}`);
  }
  const format = c['data_format'];
  if (format !== undefined && format !== null && format !== 'channels_last') bad(`data_format '${String(format)}' is not supported (channels_last only)`);
  const pair = (key: string, dflt: [number, number]): [number, number] => {
    const v = c[key];
    if (v === undefined || v === null) return dflt;
    if (typeof v === 'number' && Number.isInteger(v) && v > 0) return [v, v];
    if (Array.isArray(v) && v.length === 2 && v.every((e) => typeof e === 'number' && Number.isInteger(e) && e > 0)) return [v[0] as number, v[1] as number];
    return bad(`${key} should be a positive integer or a pair, got ${JSON.stringify(v)}`);
  };
  const padding = (): Padding => {
    const p = c['padding'] ?? 'valid';
    if (p !== 'same' && p !== 'valid') bad(`padding '${String(p)}' is not supported (same or valid)`);
    return p as Padding;
  };
  const activation = (key = 'activation'): Activation => {
    const a = c[key] ?? 'linear';
    if (typeof a !== 'string' || !ACTIVATIONS.includes(a)) bad(`activation ${JSON.stringify(a)} is not supported (${ACTIVATIONS.join(', ')})`);
    return a as Activation;
  };
  const flag = (key: string, dflt: boolean): boolean => (typeof c[key] === 'boolean' ? (c[key] as boolean) : dflt);

  switch (node.className) {
    case 'InputLayer':
      return { node, op: { kind: 'input' } };
    case 'Conv2D':
    case 'DepthwiseConv2D': {
      const depthwise = node.className === 'DepthwiseConv2D';
      const filters = depthwise ? 0 : c['filters'];
      if (!depthwise && (typeof filters !== 'number' || filters <= 0)) bad(`filters should be a positive integer, got ${JSON.stringify(filters)}`);
      const dm = depthwise ? (c['depth_multiplier'] ?? 1) : 1;
      if (typeof dm !== 'number' || !Number.isInteger(dm) || dm <= 0) bad(`depth_multiplier should be a positive integer, got ${JSON.stringify(dm)}`);
      if (!depthwise && c['groups'] !== undefined && c['groups'] !== 1) bad(`groups ${JSON.stringify(c['groups'])} is not supported`);
      return {
        node,
        op: {
          kind: 'conv', depthwise, filters: filters as number, depthMultiplier: dm as number,
          kernel: pair('kernel_size', [1, 1]), strides: pair('strides', [1, 1]), dilation: pair('dilation_rate', [1, 1]),
          padding: padding(), useBias: flag('use_bias', true), activation: activation(),
        },
      };
    }
    case 'BatchNormalization': {
      const axis = c['axis'] ?? -1;
      const axisOk = axis === -1 || axis === 3 || (Array.isArray(axis) && axis.length === 1 && (axis[0] === -1 || axis[0] === 3));
      if (!axisOk) bad(`axis ${JSON.stringify(axis)} is not supported (the channel axis, -1 or 3)`);
      const eps = c['epsilon'] ?? 1e-3;
      if (typeof eps !== 'number' || !(eps >= 0)) bad(`epsilon should be a non-negative number, got ${JSON.stringify(eps)}`);
      return { node, op: { kind: 'batchnorm', epsilon: eps as number, center: flag('center', true), scale: flag('scale', true) } };
    }
    case 'ReLU': {
      const slope = c['negative_slope'] ?? 0;
      const threshold = c['threshold'] ?? 0;
      if (slope !== 0 || threshold !== 0) bad(`negative_slope ${String(slope)} / threshold ${String(threshold)} are not supported (0 only)`);
      const max = c['max_value'];
      if (max !== undefined && max !== null && typeof max !== 'number') bad(`max_value should be a number, got ${JSON.stringify(max)}`);
      return { node, op: { kind: 'relu', maxValue: typeof max === 'number' ? max : null } };
    }
    case 'ZeroPadding2D':
      return { node, op: { kind: 'zeropad', pads: zeroPads(c['padding'], bad) } };
    case 'Add':
      if (node.inputs.length < 2) bad(`needs at least 2 inputs, has ${node.inputs.length}`);
      return { node, op: { kind: 'add' } };
    case 'AveragePooling2D': {
      const pool = pair('pool_size', [2, 2]);
      return { node, op: { kind: 'avgpool', pool, strides: pair('strides', pool), padding: padding() } };
    }
    case 'GlobalAveragePooling2D':
      if (c['keepdims'] === true) bad('keepdims true is not supported');
      return { node, op: { kind: 'globalavgpool' } };
    case 'Flatten':
      return { node, op: { kind: 'flatten' } };
    case 'Dense': {
      const units = c['units'];
      if (typeof units !== 'number' || units <= 0) bad(`units should be a positive integer, got ${JSON.stringify(units)}`);
      return { node, op: { kind: 'dense', units: units as number, useBias: flag('use_bias', true), activation: activation() } };
    }
    case 'Dropout':
      return { node, op: { kind: 'dropout' } };
    default: // 'Activation'
      return { node, op: { kind: 'activation', activation: activation() } };
  }
}

/** ZeroPadding2D's `padding`: n, [h, w] (symmetric) or [[top, bottom], [left, right]]. */
function zeroPads(p: LiteralValue | undefined, bad: (what: string) => never): [number, number, number, number] {
  const isInt = (v: LiteralValue | undefined): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;
  if (p === undefined || p === null) return [1, 1, 1, 1];
  if (isInt(p)) return [p, p, p, p];
  if (Array.isArray(p) && p.length === 2) {
    const [h, w] = p;
    if (isInt(h) && isInt(w)) return [h, h, w, w];
    if (Array.isArray(h) && Array.isArray(w) && h.length === 2 && w.length === 2 && [...h, ...w].every(isInt)) {
      return [h[0] as number, h[1] as number, w[0] as number, w[1] as number];
    }
  }
  return bad(`padding ${JSON.stringify(p)} is not understood (n, [h, w] or [[top, bottom], [left, right]])`);
}

