/**
 * The VQ loss assembled by value (models/vq.ts file comment, van den Oord et al. 2017 eq. 3):
 *
 *   loss = ‖x − x̂‖² + ‖sg(ẑ) − z_q‖² + β·‖ẑ − sg(z_q)‖²,   β = 0.25,
 *
 * each term a mean over elements. The expected value is computed here in plain loops from
 * the encoder's output, the codebook and the decoder's reconstruction of the chosen codes —
 * independently of `quantize` — and compared with `VQTokenizer.loss`.
 */
import t from 'tap';
import { noGrad, Rng, setBackend, tensor } from '../lib';
import { quantize, VQTokenizer } from '../models/vq';

setBackend('ref');
const rng = new Rng(4);
const B = 3;
const images = tensor(Float32Array.from({ length: B * 8 * 8 }, () => rng.uniform()), [B, 1, 8, 8]);
const vq = new VQTokenizer({ imageSize: 8, channels: 1, downsample: 4, codebookSize: 6, codeDim: 3, hidden: [4, 8], reviveEvery: 0, seed: 1 });

/** Rows of unit length. */
function unitRows(v: ArrayLike<number>, d: number): number[][] {
  const rows: number[][] = [];
  for (let i = 0; i < v.length / d; i++) {
    const row = Array.from({ length: d }, (_, j) => v[i * d + j]!);
    const n = Math.hypot(...row);
    rows.push(row.map((x) => x / n));
  }
  return rows;
}

t.test('β = 0.25 is the default and the loss equals recon + codebook + 0.25 · commitment, by value', async (t) => {
  t.equal(vq.config.commitmentWeight, 0.25);
  vq.eval(); // no dead-code revival between the two evaluations
  const r = noGrad(() => vq.loss(images));
  // the expected terms, from scratch
  const { zRows, xHat } = noGrad(() => {
    const z = vq.encoder.forward(images); // [B, d, h, w]
    const [, d, h, w] = z.shape as [number, number, number, number];
    const zv = z.values();
    const rows: number[] = [];
    for (let b = 0; b < B; b++) for (let i = 0; i < h; i++) for (let j = 0; j < w; j++) for (let c = 0; c < d; c++) rows.push(zv[((b * d + c) * h + i) * w + j]!);
    return { zRows: unitRows(rows, d), xHat: vq.decodeUnclamped(r.indices).values() }; // the loss sees the unclamped output
  });
  const book = unitRows(vq.codebook.values(), 3);
  let sq = 0;
  zRows.forEach((z, m) => {
    // nearest unit codebook row = largest dot product
    const dots = book.map((e) => e.reduce((s, x, c) => s + x * z[c]!, 0));
    const best = dots.indexOf(Math.max(...dots));
    t.equal(r.indices[m], best, `row ${m}: code ${best}`);
    for (let c = 0; c < 3; c++) sq += (z[c]! - book[best]![c]!) ** 2;
  });
  const quantTerm = sq / (zRows.length * 3);
  const x = images.values();
  let rec = 0;
  for (let i = 0; i < x.length; i++) rec += (xHat[i]! - x[i]!) ** 2;
  const recon = rec / x.length;
  const close = (a: number, b: number): boolean => Math.abs(a - b) <= 1e-6 * Math.max(1, Math.abs(b));
  t.ok(close(r.recon.item(), recon), `recon ${r.recon.item()} vs ${recon}`);
  t.ok(close(r.codebook.item(), quantTerm), `codebook term ${r.codebook.item()} vs ${quantTerm}`);
  t.ok(close(r.commitment.item(), quantTerm), 'the commitment term has the same value (it differs only in where the gradient goes)');
  t.ok(quantTerm > 1e-3, `the quantisation error is not trivially 0 (${quantTerm})`);
  t.ok(close(r.loss.item(), recon + quantTerm + 0.25 * quantTerm), `loss ${r.loss.item()} = ${recon} + 1.25 × ${quantTerm}`);
});

t.test('β weights only the encoder side: ∂(β·commitment)/∂ẑ = −β · ∂codebook/∂z_q, by value', async (t) => {
  // ∂/∂ẑ of β·mean‖ẑ − sg(z_q)‖² is β·2(ẑ − z_q)/n; ∂/∂z_q of mean‖sg(ẑ) − z_q‖² is 2(z_q − ẑ)/n
  const z = tensor(Float64Array.from({ length: 5 * 3 }, () => rng.normal()), [5, 3], { requiresGrad: true });
  const codebook = tensor(Float64Array.from({ length: 4 * 3 }, () => rng.normal()), [4, 3], { requiresGrad: true });
  const q1 = quantize(z, codebook);
  q1.zn.retainGrad();
  q1.commitment.mul(0.25).backward();
  t.equal(codebook.grad, null, 'the commitment term does not reach the codebook (z_q is sg-ed)');
  const q2 = quantize(z, codebook);
  q2.zq.retainGrad();
  z.zeroGrad();
  q2.codebook.backward();
  t.ok(z.grad === null || z.grad.values().every((g) => g === 0), 'the codebook term does not reach z (ẑ is sg-ed)');
  const gz = q1.zn.grad!.values();
  const gq = q2.zq.grad!.values();
  const n = gz.length;
  const zn = q1.zn.values();
  const zq = q1.zq.values();
  for (let i = 0; i < n; i++) {
    const want = 0.25 * 2 * (zn[i]! - zq[i]!) / n;
    if (Math.abs(gz[i]! - want) > 1e-12 || Math.abs(gz[i]! + 0.25 * gq[i]!) > 1e-12) {
      t.fail(`element ${i}: ∂/∂ẑ ${gz[i]}, want ${want}; −β·∂/∂z_q ${-0.25 * gq[i]!}`);
      return;
    }
  }
  t.pass(`all ${n} elements: β·2(ẑ − z_q)/n and −β times the codebook gradient`);
});
