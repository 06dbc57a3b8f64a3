/**
 * Time (and, under `node --cpu-prof`, profile) training steps of the `mnist` preset on the
 * `fast` backend: forward, image-token cross-entropy, backward, AdamW — the demo's inner loop.
 * With `bench` as the second argument it runs the benchmark's reference tiny transformer
 * instead (bench/train-step.ts's step: random tokens, plain cross-entropy). With `arra` it
 * runs the demo's ARRA step: the `mnist` step plus ARRA's alignment loss (§3.2: the
 * projector on block 0's hidden state at every `<HYBNEXT>` position, cosine against a random
 * 128-d global feature per image, λ = 1), so the two can be compared kernel by kernel.
 *
 *   npx tsx bench/profile-step.ts [steps=5] [mnist|bench|arra]
 *   node --cpu-prof --cpu-prof-dir=/tmp/prof --import tsx bench/profile-step.ts 5
 *   npx tsx bench/profile-summary.ts /tmp/prof/<file>.cpuprofile   (self time by function)
 *
 * With `ARRA_KERNEL_TIMES=1` every backend call is timed and a table of total ms per kernel
 * and shape is printed: what the step spends inside the backend, and so what is left outside.
 *
 * Data are random codes and classes: the step's cost does not depend on the values.
 * `ARRA_PRINT_LOSS=1` prints every step's loss to 17 digits and a digest of the weights after
 * the last step (to check that a change keeps the seeded results' bits).
 */
import { createHash } from 'node:crypto';
import { AdamW, type Backend, createFastBackend, crossEntropy, registerBackend, Rng, setBackend, tensor, type Tensor } from '../lib';
import { arraConfig, arraLoss } from '../models/arra';
import { Projector } from '../models/projector';
import { transformerPresets } from '../models/presets';
import { buildClassSequences, classConditionalLayout, imageTokenLoss } from '../models/sequence';
import { Transformer } from '../models/transformer';
import { REFERENCE_TINY } from '../models/reference-config';
import { randomBatch } from './train-step';

const steps = Number(process.argv[2] ?? 5);
const preset = process.argv[3] ?? 'mnist';
if (!Number.isInteger(steps) || steps < 1) throw new Error(`profile-step: steps must be a positive integer, got '${process.argv[2]}'`);
if (preset !== 'mnist' && preset !== 'bench' && preset !== 'arra') throw new Error(`profile-step: the second argument must be 'mnist', 'bench' or 'arra', got '${preset}'`);
const B = 32;
const N = 49; // 7×7 codes
const kernelMs = new Map<string, number>();
if (process.env.ARRA_KERNEL_TIMES) {
  // Wrap each kernel of the fast backend with a timer keyed by kernel and sizes.
  registerBackend('timed', () => {
    const inner = createFastBackend();
    const note = (key: string, t0: number): void => { kernelMs.set(key, (kernelMs.get(key) ?? 0) + performance.now() - t0); };
    const be: Backend = {
      name: 'timed',
      matmul(a) {
        const t0 = performance.now();
        inner.matmul(a);
        note(`matmul b${a.aOffsets.length} ${a.m}x${a.k}x${a.n}${a.transA ? ' tA' : ''}${a.transB ? ' tB' : ''}`, t0);
      },
      softmax(x, o, r, c) { const t0 = performance.now(); inner.softmax(x, o, r, c); note(`softmax ${r}x${c}`, t0); },
      softmaxBackward(y, d, o, r, c) { const t0 = performance.now(); inner.softmaxBackward(y, d, o, r, c); note(`softmaxBackward ${r}x${c}`, t0); },
      binary(k, a, as, b, bs, o, os) { const t0 = performance.now(); inner.binary(k, a, as, b, bs, o, os); note(`binary ${k} [${as.join(',')}]∘[${bs.join(',')}]`, t0); },
      unary(k, x, o) { const t0 = performance.now(); inner.unary(k, x, o); note(`unary ${k} ${x.length}`, t0); },
      sumMiddle(x, o, a, b, c) { const t0 = performance.now(); inner.sumMiddle(x, o, a, b, c); note(`sumMiddle ${a}x${b}x${c}`, t0); },
      logSumExp(x, o, r, c) { const t0 = performance.now(); inner.logSumExp!(x, o, r, c); note(`logSumExp ${r}x${c}`, t0); },
      adamw(a) { const t0 = performance.now(); inner.adamw!(a); note('adamw (all parameters)', t0); },
      rmsNorm(a) { const t0 = performance.now(); inner.rmsNorm!(a); note(`rmsNorm ${a.rows}x${a.cols}`, t0); },
      rmsNormBackward(a) { const t0 = performance.now(); inner.rmsNormBackward!(a); note(`rmsNormBackward ${a.rows}x${a.cols}`, t0); },
      swiglu(a) { const t0 = performance.now(); inner.swiglu!(a); note(`swiglu ${a.out.length}`, t0); },
      swigluBackward(a) { const t0 = performance.now(); inner.swigluBackward!(a); note(`swigluBackward ${a.da.length}`, t0); },
      rope(a) { const t0 = performance.now(); inner.rope!(a); note(`rope ${a.batch}x${a.seqLen}x${a.heads}x${a.headDim}${a.sign < 0 ? ' backward' : ''}`, t0); },
      maskedSoftmax(x, m, o, r, c, mr) { const t0 = performance.now(); inner.maskedSoftmax!(x, m, o, r, c, mr); note(`maskedSoftmax ${r}x${c}`, t0); },
    };
    return be;
  });
}
setBackend(process.env.ARRA_KERNEL_TIMES ? 'timed' : process.env.ARRA_BACKEND ?? 'fast');
const layout = classConditionalLayout(256, 10);
const model = new Transformer({ ...transformerPresets[preset === 'arra' ? 'mnist' : preset] });
const ENC = 128; // the demo's alignment encoder: a ConvNet's 128-d penultimate feature
const projector = preset === 'arra' ? new Projector(model.config.dModel, ENC, { hidden: 128, rng: new Rng(2) }) : null;
const alignCfg = arraConfig({ encoderName: 'random-features' });
const opt = new AdamW([...model.parameters(), ...(projector?.parameters() ?? [])], { lr: 3e-4, weightDecay: 0.1 });
const rng = new Rng(1);
const codes = Int32Array.from({ length: B * N }, () => rng.int(256));
const classes = Int32Array.from({ length: B }, () => rng.int(10));

const benchData = randomBatch(1);
// Its own generator, so the other modes' batches (and ARRA_PRINT_LOSS's digests) stay as they were.
const featureRng = new Rng(3);
const features: Tensor | null = projector ? tensor(Float32Array.from({ length: B * ENC }, () => featureRng.normal()), [B, ENC]) : null; // [B, D_enc]

const times: number[] = [];
let cpu0 = process.cpuUsage();
for (let s = 0; s < steps + 1; s++) {
  if (s === 1) cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let loss;
  if (preset !== 'bench') {
    const batch = buildClassSequences(layout, codes, classes, { dropCondProb: 0.1, rng });
    if (features) {
      loss = arraLoss(model, projector, { ...batch, globalFeatures: features }, alignCfg).loss; // L_AR + λ·L_GVA
    } else {
      const { logits } = model.forward(batch.tokens, batch.shape); // [B, T, V]
      loss = imageTokenLoss(logits, batch.targets);
    }
  } else {
    const { batch: b, seqLen, vocabSize } = REFERENCE_TINY;
    const { logits } = model.forward(benchData.tokens, [b, seqLen]); // [B, T, V]
    loss = crossEntropy(logits.reshape([b * seqLen, vocabSize]), benchData.targets);
  }
  if (process.env.ARRA_PRINT_LOSS) console.log(`step ${s} loss ${loss.item().toPrecision(17)}`);
  opt.zeroGrad();
  loss.backward();
  opt.step();
  if (s > 0) times.push(performance.now() - t0); // step 0 warms up (wasm compile, threads)
  else kernelMs.clear();
}
if (process.env.ARRA_PRINT_LOSS) {
  // The losses are float32 means over ≈ 1600 tokens: a last-bit change in one product can
  // round away in them, so the weights after the last step are digested too.
  const h = createHash('sha256');
  for (const p of model.parameters()) h.update(new Uint8Array(p.values().buffer.slice(0)));
  console.log(`weights after ${steps + 1} steps: sha256 ${h.digest('hex').slice(0, 16)}`);
}
times.sort((a, b) => a - b);
// CPU time (all threads) is steadier than wall time on a shared machine.
const cpu = process.cpuUsage(cpu0);
const cpuMs = (cpu.user + cpu.system) / 1e3 / steps;
console.log(`${preset} preset, batch ${B}: best ${times[0]!.toFixed(0)} ms/step, median ${times[Math.floor(times.length / 2)]!.toFixed(0)} ms/step, CPU ${cpuMs.toFixed(0)} ms/step over ${steps} steps`);
if (kernelMs.size > 0) {
  let total = 0;
  for (const ms of kernelMs.values()) total += ms;
  console.log(`inside the backend: ${(total / steps).toFixed(0)} ms/step`);
  for (const [k, ms] of [...kernelMs].sort((a, b) => b[1] - a[1]).slice(0, 30)) console.log(`${(ms / steps).toFixed(1).padStart(8)} ms/step  ${k}`);
}
process.exit(0);
