/**
 * ARRA changes training only: sampling an ARRA-trained model and a baseline model runs the
 * identical code (models/sampling.ts `sampleImages`), which cannot reach the alignment code —
 * neither through imports nor at run time — and an inference checkpoint without the projector
 * samples exactly what the trained model samples.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import t from 'tap';
import { AdamW } from '../lib';
import * as arra from '../models/arra';
import { Projector } from '../models/projector';
import * as sampling from '../models/sampling';
import { Transformer } from '../models/transformer';
import { TINY, tinyConfig, tinySetup } from './arra-fixture';

const ROOT = path.resolve(__dirname, '..');

/** Project files reachable from `file` through relative imports (static `import … from './x'`). */
function importClosure(file: string): Set<string> {
  const seen = new Set<string>();
  const visit = (f: string): void => {
    if (seen.has(f)) return;
    seen.add(f);
    const src = fs.readFileSync(f, 'utf8');
    for (const m of src.matchAll(/(?:import|export)[^'";]*?from\s+'(\.{1,2}\/[^']+)'/g)) {
      const base = path.resolve(path.dirname(f), m[1]!);
      const target = [`${base}.ts`, path.join(base, 'index.ts')].find((c) => fs.existsSync(c));
      if (target) visit(target);
    }
  };
  visit(file);
  return seen;
}

/** A few ARRA training steps, so the sampled model really is "ARRA-trained". */
function arraTrained(): { model: Transformer; projector: Projector; s: ReturnType<typeof tinySetup> } {
  const s = tinySetup({ randomiseZeros: false });
  const opt = new AdamW([...s.model.parameters(), ...s.projector.parameters()], { lr: 1e-2 });
  for (let step = 0; step < 5; step++) {
    opt.zeroGrad();
    arra.arraLoss(s.model, s.projector, s.batch, tinyConfig({ mode: 'hybnext' })).loss.backward();
    opt.step();
  }
  return { model: s.model, projector: s.projector, s };
}

t.test('no alignment code is reachable from the sampler', async (t) => {
  const closure = [...importClosure(path.join(ROOT, 'models/sampling.ts'))].map((f) => path.relative(ROOT, f));
  t.ok(closure.includes('models/transformer.ts'), 'the import walk does reach the transformer (the walk works)');
  for (const f of ['models/arra.ts', 'models/projector.ts', 'models/attribution.ts']) t.notOk(closure.includes(f), `${f} is not imported by the sampler, directly or indirectly`);
  t.same(Object.keys(arra).filter((k) => /sampl|generat/i.test(k)), [], 'models/arra.ts exports no sampler of its own');
});

t.test('baseline and ARRA models sample through the same function, and the projector never runs', async (t) => {
  const { model, projector, s } = arraTrained();
  t.ok(model.namedModules().every(([, m]) => !(m instanceof Projector)), "the projector is not in the transformer's module tree");
  t.ok(projector.parameters().every((p) => !model.parameters().includes(p)), 'no projector tensor is a transformer parameter');
  const baseline = tinySetup({ seed: 2, randomiseZeros: false }).model;
  const calls: string[] = [];
  const original = Projector.prototype.forward;
  Projector.prototype.forward = function (this: Projector, ...args) {
    calls.push('projector.forward');
    return original.apply(this, args);
  };
  const sampler = sampling.sampleImages;
  try {
    const opts = { classes: [0, 1], numTokens: TINY.grid * TINY.grid, temperature: 1, cfgScale: 1.5, seed: 7 };
    const fromArra = sampler(model, s.layout, opts);
    const fromBaseline = sampler(baseline, s.layout, opts);
    t.equal(fromArra.length, 2 * opts.numTokens, 'ARRA model sampled');
    t.equal(fromBaseline.length, 2 * opts.numTokens, 'baseline model sampled');
    t.same(calls, [], 'Projector.forward was never called while sampling');
    // The inference checkpoint (transformer only) samples exactly the same codes.
    const restored = new Transformer({ ...model.config, seed: 123 });
    restored.loadStateDict(arra.inferenceStateDict(model));
    t.same(Array.from(sampler(restored, s.layout, opts)), Array.from(fromArra), 'a projector-free checkpoint samples identical codes');
  } finally {
    Projector.prototype.forward = original;
  }
});

t.test('the shared sampler depends on the model and the seed, nothing else', async (t) => {
  const { model, s } = arraTrained();
  const baseline = tinySetup({ seed: 2, randomiseZeros: false }).model;
  const opts = { classes: [0, 1, 1, 0], numTokens: TINY.grid * TINY.grid, temperature: 1, cfgScale: 1.5, seed: 7 };
  const once = Array.from(sampling.sampleImages(model, s.layout, opts));
  t.same(Array.from(sampling.sampleImages(model, s.layout, opts)), once, 'same model, same seed: the same codes');
  t.notSame(Array.from(sampling.sampleImages(model, s.layout, { ...opts, seed: 8 })), once, 'another seed: other codes');
  t.notSame(Array.from(sampling.sampleImages(baseline, s.layout, opts)), once, 'another model, same seed: other codes (the weights are used)');
});
