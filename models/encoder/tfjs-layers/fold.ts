/**
 * Folding BatchNormalization into the convolution before it — the standard inference-time
 * rewrite (TF Lite, ONNX Runtime and PyTorch's `fuse_conv_bn_eval` all do it).
 *
 * With frozen statistics a BN is a per-channel affine map y = x·s + t (see `convert.ts`).
 * After a convolution with a linear activation, z_o = Σ W_o · patch + b_o, so
 *
 *     y_o = (Σ W_o · patch + b_o)·s_o + t_o = Σ (s_o·W_o) · patch + (s_o·b_o + t_o)
 *
 * i.e. the same convolution with weights W'_o = s_o·W_o and bias b'_o = s_o·b_o + t_o, and the
 * BN disappears. The result is the same function (up to float32 rounding); it just skips a
 * full pass over every feature map. Only done when the conv's output feeds nothing but the BN.
 */
import { Tensor } from '../../../lib';
import type { TypedLayer } from './layer-config';
import type { LayerWeights } from './layers';

/** Rewrite conv → BN pairs in place: the conv absorbs the BN, the BN becomes `folded`. Returns the new layer list. */
export function foldBatchNorms(layers: readonly TypedLayer[], weights: Map<string, LayerWeights>): TypedLayer[] {
  const byName = new Map(layers.map((l) => [l.node.name, l]));
  const consumers = new Map<string, number>();
  for (const l of layers) for (const i of l.node.inputs) consumers.set(i, (consumers.get(i) ?? 0) + 1);
  return layers.map((bn) => {
    if (bn.op.kind !== 'batchnorm') return bn;
    const conv = byName.get(bn.node.inputs[0]!);
    if (conv === undefined || conv.op.kind !== 'conv' || conv.op.activation !== 'linear' || consumers.get(conv.node.name) !== 1) return bn;
    const cw = weights.get(conv.node.name)!;
    const bw = weights.get(bn.node.name)!;
    const s = bw.scale!.values();
    const t = bw.shift!.values();
    const k = cw.kernel!.values();
    const [o] = cw.kernel!.shape as [number];
    const per = k.length / o;
    const kernel = new Float32Array(k.length);
    for (let oc = 0; oc < o; oc++) for (let i = 0; i < per; i++) kernel[oc * per + i] = k[oc * per + i]! * s[oc]!;
    const b = cw.bias?.values();
    const bias = new Float32Array(o);
    for (let oc = 0; oc < o; oc++) bias[oc] = (b ? b[oc]! : 0) * s[oc]! + t[oc]!;
    weights.set(conv.node.name, { kernel: new Tensor(kernel, cw.kernel!.shape), bias: new Tensor(bias, [o]) });
    weights.set(bn.node.name, {});
    return { node: bn.node, op: { kind: 'folded' } };
  });
}
