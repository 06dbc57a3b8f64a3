/**
 * The pretrained MobileNetV2 shipped inside the npm package nsfwjs (MIT).
 *
 * `node_modules/nsfwjs/dist/models/mobilenet_v2/` holds a Keras 2.2.4 MobileNetV2 (α = 1,
 * ImageNet-initialised backbone, fine-tuned by nsfwjs with a 5-way head) as a browserify
 * bundle `model.min.js` plus one uint8-quantised weight shard `group1-shard1of1.min.js`
 * (base64). We read both as data and use only the backbone up to the 7×7 average pool —
 * the 1280-d global feature; the nsfwjs classification head (dense_1..3) is never built.
 *
 * What the model expects (from nsfwjs's own `infer`): RGB in [0, 1] (pixels / 255), 224×224,
 * resized with bilinear align-corners. Smaller `inputSize`s (96, 128, …) run much faster
 * and are fine for toy data, but the weights were trained at 224.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TfjsLayersEncoder, type TfjsEncoderOptions } from './model';

/** Where nsfwjs's MobileNetV2 files are (throws with instructions when the package is missing). */
export function nsfwjsMobileNetV2File(): string {
  let entry: string;
  try {
    entry = require.resolve('nsfwjs'); // resolves the path only; nothing is loaded
  } catch {
    throw new Error('nsfwjs is not installed: run `npm install` (it is a dependency of arra-ts) to get the pretrained MobileNetV2');
  }
  // Walk up from the entry point (dist/cjs/index.js) to the package root.
  let root = path.dirname(entry);
  while (!fs.existsSync(path.join(root, 'package.json')) || !fs.existsSync(path.join(root, 'dist'))) {
    const up = path.dirname(root);
    if (up === root) throw new Error(`nsfwjs: could not find its package folder above ${entry}`);
    root = up;
  }
  const file = path.join(root, 'dist', 'models', 'mobilenet_v2', 'model.min.js');
  if (!fs.existsSync(file)) throw new Error(`${file}: not found — this nsfwjs version does not ship dist/models/mobilenet_v2`);
  return file;
}

/** The pretrained MobileNetV2 backbone as a frozen 1280-d feature extractor. */
export function loadMobileNetV2(opts: TfjsEncoderOptions = {}): TfjsLayersEncoder {
  const size = opts.inputSize ?? 224;
  const pooling = opts.pooling ?? 'avg';
  const name = opts.name ?? `nsfwjs-mobilenet_v2@${size}${pooling === 'avg' ? '' : `-${pooling}`}`;
  return TfjsLayersEncoder.load(nsfwjsMobileNetV2File(), { ...opts, inputSize: size, name });
}
