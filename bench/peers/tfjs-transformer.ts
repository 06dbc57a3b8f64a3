/**
 * The reference tiny transformer written with tfjs, for the training-step comparison:
 * the same architecture as models/transformer.ts (token embedding, pre-norm blocks of
 * RMSNorm → causal self-attention with 1-D RoPE → residual, RMSNorm → SwiGLU → residual,
 * final RMSNorm, linear head), the same sizes (models/reference-config.ts), cross-entropy,
 * and AdamW (tfjs's Adam plus decoupled weight decay θ ← θ − lr·λ·θ, as in lib/optim).
 */
import { REFERENCE_TINY } from '../../models/reference-config';
import { tf } from './tfjs';

const { batch: B, seqLen: T, dModel: D, nLayers, nHeads: H, mlpHidden: F, vocabSize: V } = REFERENCE_TINY;
const hd = D / H;
const LR = 3e-4;
const WD = 0.1;

interface Layer { attnNorm: tf.Variable; wq: tf.Variable; wk: tf.Variable; wv: tf.Variable; wo: tf.Variable; mlpNorm: tf.Variable; w1: tf.Variable; w3: tf.Variable; w2: tf.Variable }

const linearInit = (inF: number, outF: number): tf.Variable => tf.variable(tf.randomUniform([inF, outF], -1 / Math.sqrt(inF), 1 / Math.sqrt(inF)));

/** x · rsqrt(mean(x²) + ε) · w over the last axis. */
function rmsNorm(x: tf.Tensor, w: tf.Tensor): tf.Tensor {
  return x.mul(tf.rsqrt(x.square().mean(-1, true).add(1e-5))).mul(w);
}

/** Rotate (x1, x2) halves of each head by position-dependent angles. x: [B, H, T, hd]. */
function rope(x: tf.Tensor, cos: tf.Tensor, sin: tf.Tensor): tf.Tensor {
  const [x1, x2] = tf.split(x, 2, -1); // [B, H, T, hd/2] each
  return tf.concat([x1!.mul(cos).sub(x2!.mul(sin)), x1!.mul(sin).add(x2!.mul(cos))], -1);
}

/** A closure running one training step on `data` (model built on first call of this function). */
export function tfjsTrainStep(data: { tokens: Int32Array; targets: Int32Array }): () => Promise<void> {
  const embed = tf.variable(tf.randomNormal([V, D], 0, 0.02));
  const layers: Layer[] = Array.from({ length: nLayers }, () => ({
    attnNorm: tf.variable(tf.ones([D])), wq: linearInit(D, D), wk: linearInit(D, D), wv: linearInit(D, D), wo: linearInit(D, D),
    mlpNorm: tf.variable(tf.ones([D])), w1: linearInit(D, F), w3: linearInit(D, F), w2: linearInit(F, D),
  }));
  const finalNorm = tf.variable(tf.ones([D]));
  const head = tf.variable(tf.zeros([D, V]));
  const vars = [embed, finalNorm, head, ...layers.flatMap((l) => Object.values(l) as tf.Variable[])];

  // RoPE tables [T, hd/2] and the causal mask [T, T] (−1e9 above the diagonal).
  const inv = tf.tensor1d(Array.from({ length: hd / 2 }, (_, i) => 1 / 10000 ** ((2 * i) / hd)));
  const angles = tf.range(0, T).reshape([T, 1]).mul(inv.reshape([1, hd / 2]));
  const cos = tf.keep(tf.cos(angles));
  const sin = tf.keep(tf.sin(angles));
  const mask = tf.keep(tf.linalg.bandPart(tf.ones([T, T]), -1, 0).sub(1).mul(1e9));
  // The embedding lookup is a one-hot product: gather's gradient (UnsortedSegmentSum) has no
  // tfjs-wasm kernel. It adds one [B·T, V]·[V, D] product (≈ 4% of the step's flops).
  const tokensOneHot = tf.keep(tf.oneHot(tf.tensor1d(data.tokens, 'int32'), V).toFloat());
  const targets = tf.keep(tf.oneHot(tf.tensor1d(data.targets, 'int32'), V));
  const adam = tf.train.adam(LR, 0.9, 0.999, 1e-8);

  const heads = (x: tf.Tensor): tf.Tensor => x.reshape([B, T, H, hd]).transpose([0, 2, 1, 3]); // [B, H, T, hd]
  const lossFn = (): tf.Scalar => {
    let h = tokensOneHot.matMul(embed); // [B·T, D]
    for (const l of layers) {
      const x = rmsNorm(h, l.attnNorm);
      const q = rope(heads(x.matMul(l.wq)), cos, sin);
      const k = rope(heads(x.matMul(l.wk)), cos, sin);
      const v = heads(x.matMul(l.wv));
      const att = tf.softmax(tf.matMul(q, k, false, true).div(Math.sqrt(hd)).add(mask)); // [B, H, T, T]
      const y = tf.matMul(att, v).transpose([0, 2, 1, 3]).reshape([B * T, D]);
      h = h.add(y.matMul(l.wo));
      const z = rmsNorm(h, l.mlpNorm);
      const gate = z.matMul(l.w1);
      h = h.add(gate.mul(tf.sigmoid(gate)).mul(z.matMul(l.w3)).matMul(l.w2)); // SwiGLU
    }
    const logits = rmsNorm(h, finalNorm).matMul(head); // [B·T, V]
    return tf.losses.softmaxCrossEntropy(targets, logits) as tf.Scalar;
  };

  return async () => {
    const { value, grads } = tf.variableGrads(lossFn, vars);
    tf.tidy(() => { for (const v of vars) v.assign(v.mul(1 - LR * WD)); }); // decoupled decay
    adam.applyGradients(grads as tf.NamedTensorMap & Record<string, tf.Variable>);
    await value.data();
    value.dispose();
    tf.dispose(grads);
  };
}
