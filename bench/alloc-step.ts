/**
 * Where a training step's fresh typed arrays come from: bytes of new Float32Array /
 * Float64Array storage per step, by phase (forward, backward, optimizer) and by allocation
 * site. Load-independent evidence for the buffer reuse (docs/speed.md, "Fewer fresh arrays"):
 * wall time is noisy on a shared machine, bytes are not.
 *
 *   npx tsx bench/alloc-step.ts [steps=5] [bench|mnist] [sites=25]
 *
 * The counting is bench-only: before the library is loaded, this script replaces the global
 * Float32Array / Float64Array constructors with counting proxies (views over an existing
 * buffer — wasm memory — are not counted: they allocate nothing) and wraps `slice` / `map`.
 * The library itself carries no counter. Then it runs the same steps again in a child
 * `node --trace-gc` without the proxies and counts the full collections (`Mark-Compact`
 * lines) between the markers it prints before step 1 and after the last step.
 * Step 0 (wasm compile, first use of every shape) is left out of both counts.
 * `ARRA_REUSE=0` gives the figures without the backward's array reuse (lib/grad-buffers.ts).
 */
/* eslint-disable @typescript-eslint/no-explicit-any */
import { execFileSync } from 'child_process';

type Phase = 'forward' | 'backward' | 'optimizer' | 'other';
let counting = false;
let phase: Phase = 'other';
const bySite = new Map<string, { bytes: number; count: number }>();
const byPhase = new Map<Phase, { bytes: number; count: number }>();

/** The first few library frames above the allocation, as `fn (file)` joined by ' < '. */
function site(): string {
  const prev = Error.prepareStackTrace;
  Error.prepareStackTrace = (_e, cs) => cs;
  const holder: { stack?: NodeJS.CallSite[] } = {};
  Error.captureStackTrace(holder, site);
  const frames = holder.stack ?? [];
  Error.prepareStackTrace = prev;
  const names: string[] = [];
  for (const f of frames) {
    const file = f.getFileName() ?? '';
    if (file.includes('alloc-step')) continue;
    if (!/\/(lib|models)\//.test(file)) continue;
    const short = file.replace(/^.*\/(lib|models)\//, '$1/').replace(/\.ts$/, '');
    names.push(`${f.getFunctionName() ?? '<anon>'}@${short}:${f.getLineNumber()}`);
    if (names.length === 3) break;
  }
  return names.join(' < ');
}

function note(bytes: number): void {
  if (!counting || bytes === 0) return;
  const s = `${phase} | ${site()}`;
  const e = bySite.get(s) ?? { bytes: 0, count: 0 };
  e.bytes += bytes; e.count++;
  bySite.set(s, e);
  const p = byPhase.get(phase) ?? { bytes: 0, count: 0 };
  p.bytes += bytes; p.count++;
  byPhase.set(phase, p);
}

const gcChild = process.argv.includes('--gc-child');
if (!gcChild) for (const name of ['Float32Array', 'Float64Array'] as const) {
  const Real = (globalThis as any)[name] as Float32ArrayConstructor;
  const bpe = Real.BYTES_PER_ELEMENT;
  (globalThis as any)[name] = new Proxy(Real, {
    construct(target, args) {
      const a0 = args[0];
      if (typeof a0 === 'number') note(a0 * bpe);
      else if (a0 !== undefined && !(a0 instanceof ArrayBuffer) && !(a0 instanceof SharedArrayBuffer)) note((a0 as ArrayLike<number>).length * bpe);
      return Reflect.construct(target, args);
    },
  });
  for (const m of ['slice', 'map'] as const) {
    const orig = Real.prototype[m] as (...a: any[]) => Float32Array;
    (Real.prototype as any)[m] = function (this: Float32Array, ...a: any[]) {
      const r = orig.apply(this, a);
      note(r.byteLength);
      return r;
    };
  }
}

async function main(): Promise<void> {
  const steps = Number(process.argv[2] ?? 5);
  const preset = process.argv[3] ?? 'bench';
  const top = Number(process.argv[4] ?? 25);
  const lib = await import('../lib');
  // (absent in checkouts from before lib/grad-buffers.ts: the script also measures those)
  const pooled = await import('../lib/grad-buffers').then((m) => m.pooledBytes, () => () => 0);
  const { transformerPresets } = await import('../models/presets');
  const { Transformer } = await import('../models/transformer');
  const { REFERENCE_TINY } = await import('../models/reference-config');
  const { buildClassSequences, classConditionalLayout, imageTokenLoss } = await import('../models/sequence');
  const { randomBatch } = await import('./train-step');
  lib.setBackend(process.env.ARRA_BACKEND ?? 'fast');
  const model = new Transformer({ ...transformerPresets[preset as 'bench' | 'mnist'] });
  const opt = new lib.AdamW(model.parameters(), { lr: 3e-4, weightDecay: 0.1 });
  const rng = new lib.Rng(1);
  const B = 32, N = 49;
  const layout = classConditionalLayout(256, 10);
  const codes = Int32Array.from({ length: B * N }, () => rng.int(256));
  const classes = Int32Array.from({ length: B }, () => rng.int(10));
  const benchData = randomBatch(1);
  // phase markers: runBackward is the backward, Optimizer.step the optimizer
  const origBackward = lib.Tensor.prototype.backward;
  lib.Tensor.prototype.backward = function (this: InstanceType<typeof lib.Tensor>, g?: InstanceType<typeof lib.Tensor>) {
    phase = 'backward';
    try { origBackward.call(this, g); } finally { phase = 'other'; }
  };
  for (let s = 0; s < steps + 1; s++) {
    counting = s > 0; // step 0 warms up
    console.log(`-- step ${s}`);
    phase = 'forward';
    let loss;
    if (preset === 'mnist') {
      const batch = buildClassSequences(layout, codes, classes, { dropCondProb: 0.1, rng });
      const { logits } = model.forward(batch.tokens, batch.shape);
      loss = imageTokenLoss(logits, batch.targets);
    } else {
      const { batch: b, seqLen, vocabSize } = REFERENCE_TINY;
      const { logits } = model.forward(benchData.tokens, [b, seqLen]);
      loss = lib.crossEntropy(logits.reshape([b * seqLen, vocabSize]), benchData.targets);
    }
    phase = 'other';
    if (process.env.ARRA_PRINT_LOSS) console.log(`step ${s} loss ${loss.item().toPrecision(17)}`);
    opt.zeroGrad();
    loss.backward();
    phase = 'optimizer';
    opt.step();
    phase = 'other';
  }
  console.log('-- end');
  counting = false;
  if (gcChild) process.exit(0);
  const mb = (b: number): string => (b / steps / 2 ** 20).toFixed(2).padStart(8);
  let total = 0;
  for (const p of byPhase.values()) total += p.bytes;
  console.log(`pool after the last step: ${(pooled() / 2 ** 20).toFixed(1)} MiB of free arrays`);
  console.log(`${preset} preset: ${mb(total)} MiB of fresh Float32/64Array per step (${steps} steps)`);
  for (const [p, e] of [...byPhase].sort((a, b) => b[1].bytes - a[1].bytes)) console.log(`${mb(e.bytes)} MiB  ${(e.count / steps).toFixed(0).padStart(5)} arrays  ${p}`);
  console.log(`top ${top} sites (MiB/step, arrays/step, phase | site < caller < caller):`);
  for (const [s, e] of [...bySite].sort((a, b) => b[1].bytes - a[1].bytes).slice(0, top)) console.log(`${mb(e.bytes)} ${(e.count / steps).toFixed(0).padStart(5)}  ${s}`);
  // full collections per step, counted in a child without the proxies
  const out = execFileSync(process.execPath, ['--trace-gc', '--import', 'tsx', __filename, String(steps), preset, '0', '--gc-child'], { encoding: 'utf8', maxBuffer: 1 << 28 });
  const lines = out.split('\n');
  const from = lines.indexOf('-- step 1');
  const to = lines.indexOf('-- end');
  // only the main thread's isolate (the helper threads of the matmul have their own heaps)
  const isolate = /^\[\d+:(0x[0-9a-f]+)\]/.exec(lines.find((l) => l.includes('Mark-Compact')) ?? '')?.[1] ?? '';
  const inSteps = lines.slice(from, to).filter((l) => l.includes(`:${isolate}]`));
  const marks = inSteps.filter((l) => l.includes('Mark-Compact')).length;
  const scavenges = inSteps.filter((l) => l.includes('Scavenge')).length;
  const pauses = inSteps.filter((l) => l.includes('Mark-Compact')).map((l) => Number(/, ([\d.]+) \/ [\d.]+ ms/.exec(l)?.[1] ?? 0)).sort((a, b) => a - b);
  const pauseMs = pauses[Math.floor(pauses.length / 2)] ?? 0;
  console.log(`node --trace-gc, steps 1..${steps}: ${(marks / steps).toFixed(1)} mark-compacts/step (${marks} in ${steps} steps, median final pause ${pauseMs.toFixed(1)} ms), ${(scavenges / steps).toFixed(1)} scavenges/step`);
  process.exit(0);
}
void main();
