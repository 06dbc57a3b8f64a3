/**
 * A collapsed tokenizer (decoder output ≈ one constant image) must be recognised: with the
 * demo's recipe some seeds end there (MNIST: MSE 0.104 = the pixel variance, against ≈ 0.01).
 */
import t from 'tap';
import { captionedShapes } from '../lib';
import { evaluateVq, tokenizerCollapse } from '../examples/pipeline/vq-trainer';
import { VQTokenizer } from '../models/vq';

t.test('the held-out pixel variance is the variance of the pixels', (t) => {
  const ds = captionedShapes(12, { size: 16, seed: 3 });
  const vq = new VQTokenizer({ imageSize: 16, channels: ds.images.shape[1]!, downsample: 4, codebookSize: 8, codeDim: 4, hidden: [4, 8], seed: 1 });
  const held = evaluateVq(vq, ds);
  const x = Array.from(ds.images.values());
  const mean = x.reduce((a, b) => a + b, 0) / x.length;
  const variance = x.reduce((a, b) => a + (b - mean) ** 2, 0) / x.length;
  t.ok(Math.abs(held.pixelVariance - variance) < 1e-6 * Math.max(1, variance), `${held.pixelVariance} vs ${variance}`);
  t.end();
});

t.test('collapse: MSE above 80% of the pixel variance', (t) => {
  t.match(tokenizerCollapse({ mse: 0.104, pixelVariance: 0.095, usage: 1, perplexity: 200 }), /collapsed: held-out MSE 0\.1040 per pixel against a pixel variance of 0\.0950/);
  t.equal(tokenizerCollapse({ mse: 0.012, pixelVariance: 0.095, usage: 0.96, perplexity: 150 }), null);
  t.match(tokenizerCollapse({ mse: NaN, pixelVariance: 0.095, usage: 0, perplexity: 1 }), /collapsed/, 'a NaN MSE is not a working tokenizer');
  t.end();
});
