/**
 * The frozen feature extractor: what ARRA aligns to and what FID measures with.
 *
 * ARRA (§3, "global visual alignment") computes f_GF = pool(E(I)) with a *frozen*, pretrained
 * encoder E: its parameters never change and no gradient ever reaches them. Here that is a
 * type — `extract` always runs under {@link noGrad}, its output never requires a gradient,
 * and every parameter of an extractor is a constant (requiresGrad false) — and a test
 * (test/encoder.test.ts) that backpropagates through a graph that *uses* the features and
 * checks that nothing arrives at the encoder.
 */
import { createHash } from 'node:crypto';
import { fmtShape, noGrad, Tensor } from '../../lib';

/** A frozen image encoder producing one global feature vector per image. */
export interface FeatureExtractor {
  /** Identifies the network and its weights (recorded in feature caches). */
  readonly name: string;
  /** Length of the feature vector. */
  readonly dim: number;
  /** The square side, in pixels, images are resized to before encoding. */
  readonly inputSize: number;
  /**
   * Encode a batch: images [B, C, H, W] float32 in [0, 1] (C = 1 or 3) → features [B, dim].
   * Runs under no-grad; the result never requires a gradient.
   */
  extract(images: Tensor): Tensor;
  /** The encoder's constants (weights); all have requiresGrad false. */
  parameters(): Tensor[];
}

/**
 * SHA-256 (first 16 hex digits) of a network's weight values in order, names ignored: two
 * extractors with equal digests are the same network, whatever they are called or at what
 * input size they run (`mobilenet@64` and `mobilenet@96` share one digest). Used to keep the
 * FID network, the accuracy classifier and the alignment encoder apart (examples/pipeline/evaluate.ts).
 */
export function parametersDigest(params: readonly Tensor[]): string {
  const h = createHash('sha256');
  for (const t of params) {
    const v = Float32Array.from(t.values()); // one precision, so a float64 copy of a net matches too
    h.update(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
  }
  return h.digest('hex').slice(0, 16);
}

/** Check an image batch before encoding: [B, C, H, W] float32, C in `channels`. */
export function checkImages(who: string, images: Tensor, channels: readonly number[]): [number, number, number, number] {
  if (images.rank !== 4) throw new Error(`${who}: expected images [B, C, H, W], got ${fmtShape(images.shape)}`);
  if (images.dtype !== 'float32') throw new Error(`${who}: expected float32 images in [0, 1], got ${images.dtype}`);
  const [b, c, h, w] = images.shape as [number, number, number, number];
  if (!channels.includes(c)) throw new Error(`${who}: expected ${channels.join(' or ')} channels, got ${c} (images ${fmtShape(images.shape)})`);
  return [b, c, h, w];
}

/**
 * Run `encode` on the images in chunks of `batchSize` under no-grad and stack the rows:
 * features [B, dim]. Chunking bounds the memory of large intermediate maps.
 */
export function extractInChunks(images: Tensor, batchSize: number, dim: number, encode: (chunk: Tensor) => Tensor): Tensor {
  return noGrad(() => {
    const [b] = images.shape as [number];
    const out = new Float32Array(b * dim);
    for (let start = 0; start < b; start += batchSize) {
      const n = Math.min(batchSize, b - start);
      const chunk = n === b ? images : sliceBatch(images, start, n);
      const f = encode(chunk); // [n, dim]
      if (f.rank !== 2 || f.shape[0] !== n || f.shape[1] !== dim) {
        throw new Error(`extract: encoder produced ${fmtShape(f.shape)}, expected [${n}, ${dim}]`);
      }
      out.set(f.values(), start * dim);
    }
    return new Tensor(out, [b, dim]);
  });
}

/** Rows [start, start + n) of a batch (a packed copy; no graph). */
function sliceBatch(images: Tensor, start: number, n: number): Tensor {
  const per = images.size / images.shape[0]!;
  const v = images.values().subarray(start * per, (start + n) * per);
  return new Tensor(v, [n, ...images.shape.slice(1)]);
}
