/**
 * What each supported Keras layer computes, on our NCHW tensors.
 *
 * Keras works channels-last ([N, H, W, C]); we keep images as [N, C, H, W] and convert the
 * weights once instead (see `convert.ts`). Two details decide whether the numbers match TF:
 *
 * - **"same" padding** pads a total of max((⌈in/s⌉ − 1)·s + (k − 1)·d + 1 − in, 0) pixels
 *   per axis, ⌊total/2⌋ before and the rest after — so with stride 2 on an even input the
 *   extra pixel goes at the bottom/right (PyTorch's symmetric padding would shift the grid).
 * - **"same" average pooling** divides by the number of *real* pixels in each window: TF
 *   does not count the padding.
 *
 * Flatten follows Keras's channels-last order (H, W, C), so a Dense layer after it reads
 * its kernel rows in the order it was trained with.
 */
import {
  add, avgPool2d, clamp, conv2d, div, fmtShape, globalAvgPool, matmul, ones, pad2d, permute, relu, reshape,
  sigmoid, silu, softmax, tanh, type Tensor,
} from '../../../lib';
import type { Activation, LayerOp, Padding } from './layer-config';

/** A layer's weights after conversion to our layout. */
export interface LayerWeights {
  /** Conv: [O, C/groups, kh, kw]; Dense: [in, out]. */
  kernel?: Tensor;
  bias?: Tensor;
  /** BatchNormalization folded to y = x·scale + shift, each [C, 1, 1]. */
  scale?: Tensor;
  shift?: Tensor;
}

/** Pads [before, after] for one axis under TF padding rules; also the output size. */
export function tfPadding(size: number, kernel: number, stride: number, dilation: number, padding: Padding): { before: number; after: number; out: number } {
  const span = (kernel - 1) * dilation + 1;
  if (padding === 'valid') return { before: 0, after: 0, out: Math.floor((size - span) / stride) + 1 };
  const out = Math.ceil(size / stride);
  const total = Math.max((out - 1) * stride + span - size, 0);
  const before = Math.floor(total / 2);
  return { before, after: total - before, out };
}

/** The output shape of a layer given its input shapes ([N, C, H, W] or [N, F]); errors name the layer. */
export function outputShape(op: LayerOp, inputs: number[][], name: string, inChannels?: number): number[] {
  const x = inputs[0]!;
  const where = `layer '${name}'`;
  const need4 = (): [number, number, number, number] => {
    if (x.length !== 4) throw new Error(`${where}: expects an image tensor [N, C, H, W], got ${fmtShape(x)}`);
    return x as [number, number, number, number];
  };
  switch (op.kind) {
    case 'input':
    case 'dropout':
    case 'activation':
    case 'batchnorm':
    case 'folded':
    case 'relu':
      return x;
    case 'conv': {
      const [n, c, h, w] = need4();
      const ph = tfPadding(h, op.kernel[0], op.strides[0], op.dilation[0], op.padding);
      const pw = tfPadding(w, op.kernel[1], op.strides[1], op.dilation[1], op.padding);
      if (ph.out < 1 || pw.out < 1) throw new Error(`${where}: kernel ${op.kernel.join('×')} does not fit its ${h}×${w} input (padding ${op.padding})`);
      return [n, op.depthwise ? c * op.depthMultiplier : op.filters, ph.out, pw.out];
    }
    case 'zeropad': {
      const [n, c, h, w] = need4();
      return [n, c, h + op.pads[0] + op.pads[1], w + op.pads[2] + op.pads[3]];
    }
    case 'add':
      for (const s of inputs) if (fmtShape(s) !== fmtShape(x)) throw new Error(`${where}: Add inputs differ in shape, ${inputs.map(fmtShape).join(' vs ')}`);
      return x;
    case 'avgpool': {
      const [n, c, h, w] = need4();
      const ph = tfPadding(h, op.pool[0], op.strides[0], 1, op.padding);
      const pw = tfPadding(w, op.pool[1], op.strides[1], 1, op.padding);
      if (ph.out < 1 || pw.out < 1) throw new Error(`${where}: pool ${op.pool.join('×')} does not fit its ${h}×${w} input`);
      return [n, c, ph.out, pw.out];
    }
    case 'globalavgpool': {
      const [n, c] = need4();
      return [n, c];
    }
    case 'flatten':
      return [x[0]!, x.slice(1).reduce((a, b) => a * b, 1)];
    case 'dense':
      if (inChannels !== undefined && x[x.length - 1] !== inChannels) throw new Error(`${where}: Dense expects ${inChannels} input features, got ${fmtShape(x)}`);
      return [...x.slice(0, -1), op.units];
  }
}

/** Apply a named activation. */
export function activate(x: Tensor, a: Activation): Tensor {
  switch (a) {
    case 'linear': return x;
    case 'relu': return relu(x);
    case 'relu6': return clamp(x, 0, 6);
    case 'sigmoid': return sigmoid(x);
    case 'tanh': return tanh(x);
    case 'swish': return silu(x);
    case 'softmax': return softmax(x, x.rank === 4 ? 1 : -1);
  }
}

/** TF "same"/"valid" padding as an explicit pad2d (asymmetric when the total is odd). */
function padLike(x: Tensor, kernel: [number, number], strides: [number, number], dilation: [number, number], padding: Padding): Tensor {
  if (padding === 'valid') return x;
  const [, , h, w] = x.shape as [number, number, number, number];
  const ph = tfPadding(h, kernel[0], strides[0], dilation[0], padding);
  const pw = tfPadding(w, kernel[1], strides[1], dilation[1], padding);
  if (ph.before + ph.after + pw.before + pw.after === 0) return x;
  return pad2d(x, [ph.before, ph.after, pw.before, pw.after]);
}

/** TF padding as conv2d's symmetric [top/bottom, left/right] padding, or null when it is asymmetric. */
function symmetricPadding(x: Tensor, kernel: [number, number], strides: [number, number], dilation: [number, number], padding: Padding): [number, number] | null {
  if (padding === 'valid') return [0, 0];
  const [, , h, w] = x.shape as [number, number, number, number];
  const ph = tfPadding(h, kernel[0], strides[0], dilation[0], padding);
  const pw = tfPadding(w, kernel[1], strides[1], dilation[1], padding);
  return ph.before === ph.after && pw.before === pw.after ? [ph.before, pw.before] : null;
}

/** Run one layer. `inputs` are the outputs of the layers named in its inbound nodes. */
export function forwardLayer(op: LayerOp, inputs: Tensor[], weights: LayerWeights, name: string): Tensor {
  const x = inputs[0]!;
  switch (op.kind) {
    case 'input':
    case 'dropout': // inference: identity
    case 'folded': // already applied by the conv before it
      return x;
    case 'conv': {
      const groups = op.depthwise ? x.shape[1]! : 1;
      const conv = { stride: op.strides, dilation: op.dilation, groups };
      const sym = symmetricPadding(x, op.kernel, op.strides, op.dilation, op.padding);
      // Symmetric "same" padding goes to conv2d itself (no padded copy); only TF's asymmetric
      // stride-2 case (extra row/column at the bottom/right) needs an explicit pad2d.
      const y = sym !== null
        ? conv2d(x, weights.kernel!, weights.bias, { ...conv, padding: sym }) // [N, O, Ho, Wo]
        : conv2d(padLike(x, op.kernel, op.strides, op.dilation, op.padding), weights.kernel!, weights.bias, conv);
      return activate(y, op.activation);
    }
    case 'batchnorm':
      // (x − mean)·γ/√(var + ε) + β, folded per channel into x·scale + shift (scale, shift [C, 1, 1])
      return add(x.mul(weights.scale!), weights.shift!);
    case 'relu':
      return op.maxValue === null ? relu(x) : clamp(x, 0, op.maxValue);
    case 'zeropad':
      return pad2d(x, op.pads);
    case 'add':
      return inputs.slice(1).reduce((acc, t) => add(acc, t), x);
    case 'avgpool': {
      if (op.padding === 'valid') return avgPool2d(x, op.pool, op.strides);
      // TF "same": average over the real pixels only = pooled sum of x / pooled count of ones.
      const padded = padLike(x, op.pool, op.strides, [1, 1], 'same');
      const [, , h, w] = x.shape as [number, number, number, number];
      const mask = padLike(ones([1, 1, h, w], { dtype: x.dtype }), op.pool, op.strides, [1, 1], 'same');
      return div(avgPool2d(padded, op.pool, op.strides), avgPool2d(mask, op.pool, op.strides));
    }
    case 'globalavgpool':
      return globalAvgPool(x); // [N, C]
    case 'flatten': {
      if (x.rank === 2) return x;
      const nhwc = x.rank === 4 ? permute(x, [0, 2, 3, 1]) : x; // Keras flattens (H, W, C)
      return reshape(nhwc, [x.shape[0]!, -1]); // [N, H·W·C]
    }
    case 'dense': {
      const y = matmul(x, weights.kernel!); // [N, in] · [in, out]
      return activate(weights.bias ? add(y, weights.bias) : y, op.activation);
    }
    case 'activation':
      return activate(x, op.activation);
  }
}
