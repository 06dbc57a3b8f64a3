/**
 * Turning a weight group's bytes into float arrays: dequantisation.
 *
 * TF.js stores weights little-endian, back to back, in manifest order. The converter's
 * `--quantize_uint8/uint16` option stores each weight as integers q with one (min, scale)
 * pair per weight; the value is recovered as
 *
 *     w = q · scale + min
 *
 * (so a uint8 weight keeps 256 levels between min and min + 255·scale). float16
 * quantisation stores IEEE half floats. Unquantised weights are float32 or int32.
 */
import { type ModelArtifacts, storedByteLength, type WeightSpec } from './artifacts';

/** A decoded weight: TF.js layout (channels last), float32 values. */
export interface DecodedWeight {
  name: string;
  shape: number[];
  values: Float32Array;
}

/** IEEE 754 half → number. */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 31) return frac === 0 ? sign * Infinity : NaN;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}

/** Decode one weight from `bytes` (starting at `offset`) according to its spec. */
export function decodeWeight(spec: WeightSpec, bytes: Uint8Array, offset: number): Float32Array {
  const n = spec.shape.reduce((a, b) => a * b, 1);
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset, storedByteLength(spec));
  const out = new Float32Array(n);
  const q = spec.quantization;
  if (q === undefined) {
    if (spec.dtype === 'int32') for (let i = 0; i < n; i++) out[i] = view.getInt32(4 * i, true);
    else for (let i = 0; i < n; i++) out[i] = view.getFloat32(4 * i, true);
  } else if (q.dtype === 'uint8') {
    for (let i = 0; i < n; i++) out[i] = view.getUint8(i) * q.scale + q.min;
  } else if (q.dtype === 'uint16') {
    for (let i = 0; i < n; i++) out[i] = view.getUint16(2 * i, true) * q.scale + q.min;
  } else {
    for (let i = 0; i < n; i++) out[i] = halfToFloat(view.getUint16(2 * i, true));
  }
  return out;
}

/**
 * Decode the weights of a model whose names pass `wanted` (all by default). Weights not
 * wanted (the classification head) are skipped without being decoded. The byte totals were
 * already checked when the artifacts were read, so every offset here is in range.
 */
export function decodeWeights(artifacts: ModelArtifacts, wanted: (name: string) => boolean = () => true): Map<string, DecodedWeight> {
  const out = new Map<string, DecodedWeight>();
  artifacts.manifest.forEach((group, g) => {
    const bytes = artifacts.groupBytes[g]!;
    let offset = 0;
    for (const spec of group.weights) {
      if (wanted(spec.name)) {
        if (out.has(spec.name)) throw new Error(`${artifacts.modelFile}: the weight manifest lists '${spec.name}' twice`);
        const values = decodeWeight(spec, bytes, offset);
        const bad = values.findIndex((v) => !Number.isFinite(v));
        if (bad >= 0) {
          throw new Error(`${artifacts.modelFile}: weight '${spec.name}' (group ${g}: ${artifacts.manifest[g]!.paths.join(', ')}) holds ${values[bad]} at flat index ${bad}; weights must be finite`);
        }
        out.set(spec.name, { name: spec.name, shape: spec.shape, values });
      }
      offset += storedByteLength(spec);
    }
  });
  return out;
}
