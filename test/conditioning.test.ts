/**
 * Conditioning modes at the model level (models/prefix.ts, sampling.ts, the trainer):
 * the library-built unconditional prefix, classifier-free guidance on text prompts checked
 * against logits computed by hand, and a tiny text-conditional model that memorises two
 * captions and gives each back under greedy decoding.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { noGrad, Rng } from '../lib';
import { encodePrompts, textConditioning } from '../examples/pipeline/conditioning';
import { trainAr } from '../examples/pipeline/ar-trainer';
import { arraConfig } from '../models/arra';
import { classPrefixes, textPrefixes, unconditionalLayout, unconditionalPrefix, type ConditionSpec } from '../models/prefix';
import { transformerPresets } from '../models/presets';
import { samplePrompts, sampleUnconditional } from '../models/sampling';
import { buildTextSequences, buildUnconditionalSequences, classConditionalLayout, textConditionalLayout } from '../models/sequence';
import { Transformer } from '../models/transformer';

const dir = mkdtempSync(join(tmpdir(), 'arra-cond-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

t.test('the unconditional prefix is [pad … pad null begin-image] in every mode', async (t) => {
  const text = textConditionalLayout(16, 6); // pad 25, null 22, begin 23
  t.same(Array.from(unconditionalPrefix(text, 5)), [text.pad, text.pad, text.pad, text.nullClass, text.beginImage]);
  t.same(Array.from(unconditionalPrefix(text, 4, 2)), [text.pad, text.pad, text.nullClass, text.beginImage, text.pad, text.pad, text.nullClass, text.beginImage], 'one row per copy');
  const cls = classConditionalLayout(16, 3);
  t.same(Array.from(unconditionalPrefix(cls, 2)), [cls.nullClass, cls.beginImage], 'class mode: [null begin]');
  t.same(Array.from(classPrefixes(cls, [2, 0])), [16 + 2, cls.beginImage, 16, cls.beginImage]);
  t.same(Array.from(textPrefixes(text, [Int32Array.of(3, 1)], 4)), [text.pad, text.pad, 16 + 3, 16 + 1, text.beginImage], 'prompt left-padded');
  t.throws(() => unconditionalPrefix(text, 1), /prefixLen must be an integer ≥ 2/);
  t.throws(() => textPrefixes(text, [Int32Array.of(6)], 4), /word 6 in prompt 0 is outside \[0, 6\)/);
  // A dropped text condition during training is exactly the sampler's unconditional prefix.
  const s = buildTextSequences(text, Int32Array.of(1, 2), [Int32Array.of(4)], { promptLen: 3, dropCondProb: 1, rng: new Rng(0) });
  t.same(Array.from(s.tokens.subarray(0, 4)), Array.from(unconditionalPrefix(text, 4)));
  const none = unconditionalLayout(16);
  t.match(none, { numClasses: 0, nullClass: 16, beginImage: 17, pad: 18, vocabSize: 19 });
  const u = buildUnconditionalSequences(none, Int32Array.of(1, 2, 3, 4), 2);
  t.same(Array.from(u.tokens), [16, 17, 1, 2, 16, 17, 3, 4]);
  t.same(Array.from(u.targets), [-1, 1, 2, -1, -1, 3, 4, -1]);
});

/** A tiny text model whose head is randomised, so guidance has something to move. */
function randomTextModel(layoutVocab: number, promptLen: number, N: number): Transformer {
  const model = new Transformer({ ...transformerPresets.tiny, vocabSize: layoutVocab, maxSeqLen: promptLen + 1 + N, prefixLen: promptLen + 1, seed: 4 });
  const rng = new Rng(11);
  const w = model.head.weight.nd.data;
  for (let i = 0; i < w.length; i++) w[i] = rng.normal();
  return model;
}

t.test('CFG with the library-built unconditional prefix equals uncond + s·(cond − uncond) by hand (1e-5)', async (t) => {
  const layout = textConditionalLayout(16, 6);
  const P = 3;
  const N = 4;
  const model = randomTextModel(layout.vocabSize, P, N);
  const prompts = [Int32Array.of(2, 5), Int32Array.of(0, 1, 3)];
  const s = 2.5;
  const seen: Float32Array[] = [];
  const codes = samplePrompts(model, layout, prompts, P, { numTokens: N, temperature: 1, cfgScale: s, seed: 3, onStep: (_n, l) => seen.push(l.slice()) });
  // The reference: full forwards over hand-written token rows, the unconditional one spelled out.
  const handCond = [[layout.pad, 16 + 2, 16 + 5], [16 + 0, 16 + 1, 16 + 3]];
  const handUncond = [layout.pad, layout.pad, layout.nullClass];
  const V = layout.vocabSize;
  let worst = 0;
  let moved = 0;
  for (let step = 0; step < N; step++) {
    const T = P + 1 + step;
    const rowsOf = (prefixOf: (b: number) => number[]): Int32Array => {
      const tok = new Int32Array(2 * T);
      for (let b = 0; b < 2; b++) {
        tok.set([...prefixOf(b), layout.beginImage], b * T);
        for (let n = 0; n < step; n++) tok[b * T + P + 1 + n] = codes[b * N + n]!;
      }
      return tok;
    };
    const cond = noGrad(() => model.forward(rowsOf((b) => handCond[b]!), [2, T]).logits.values());
    const uncond = noGrad(() => model.forward(rowsOf(() => handUncond), [2, T]).logits.values());
    for (let b = 0; b < 2; b++) {
      for (let k = 0; k < 16; k++) {
        const i = (b * T + T - 1) * V + k;
        const want = uncond[i]! + s * (cond[i]! - uncond[i]!);
        worst = Math.max(worst, Math.abs(seen[step]![b * 16 + k]! - want));
        moved = Math.max(moved, Math.abs(want - cond[i]!));
      }
    }
  }
  t.ok(worst < 1e-5, `max |sampler − hand| = ${worst.toExponential(2)} over ${N} steps × 2 prompts`);
  t.ok(moved > 1e-2, `guidance changes the logits (max |guided − cond| = ${moved.toFixed(3)}), so the check is not vacuous`);
  t.throws(() => sampleUnconditional(model, layout, 2, { numTokens: N, cfgScale: 2, seed: 0 }), /guidance needs a condition/);
});

t.test('a tiny text-conditional model memorises two captions and samples each back greedily', async (t) => {
  const captions = ['a red circle at the top left', 'a blue square at the bottom'];
  const ds = { images: null as never, labels: Int32Array.of(0, 1), classNames: ['x', 'y'], prompts: captions, source: 'two captions' };
  const { spec, prompts } = textConditioning(ds, 0);
  t.equal(spec.promptLen, 7, 'the prompt slot is the longest caption (7 words)');
  t.same(spec.vocab!.slice(0, 2), ['<pad>', '<unk>']);
  const layout = textConditionalLayout(16, spec.vocab!.length);
  const images = [Int32Array.of(1, 2, 3, 4), Int32Array.of(9, 8, 7, 6)];
  const N = 4;
  const config = { ...transformerPresets.tiny, vocabSize: layout.vocabSize, maxSeqLen: spec.promptLen! + 1 + N, prefixLen: spec.promptLen! + 1 };
  const r = await trainAr(
    { codes: Int32Array.of(...images[0]!, ...images[1]!), labels: ds.labels, globalFeatures: null, layout, numTokens: N, condition: spec, prompts },
    { model: config, arra: arraConfig({ encoderName: 'none', mode: 'off' }), steps: 120, batchSize: 8, lr: 1e-2, seed: 0, outDir: join(dir, 'memorise'), checkpointEvery: 0 },
  );
  const last = r.history[r.history.length - 1]!;
  t.ok(last.lossAR < 0.3, `L_AR after 120 steps: ${last.lossAR.toFixed(3)}`);
  const asked = encodePrompts(spec, ['A blue square, at the bottom!', 'a red circle at the top left'], 'test'); // case and punctuation ignored
  for (const cfgScale of [1, 2]) {
    const codes = samplePrompts(r.model, layout, asked, spec.promptLen!, { numTokens: N, temperature: 0, cfgScale, seed: 0 });
    t.same(Array.from(codes.subarray(0, 4)), Array.from(images[1]!), `cfg ${cfgScale}: the second caption gives its image back`);
    t.same(Array.from(codes.subarray(4, 8)), Array.from(images[0]!), `cfg ${cfgScale}: the first caption gives its image back`);
  }
});

t.test('the trainer refuses a model whose prefix does not fit the conditioning', async (t) => {
  const spec: ConditionSpec = { mode: 'text', promptLen: 3, vocab: ['<pad>', '<unk>', 'a'] };
  const layout = textConditionalLayout(16, 3);
  await t.rejects(
    trainAr(
      { codes: new Int32Array(4), labels: Int32Array.of(0), globalFeatures: null, layout, numTokens: 4, condition: spec, prompts: [Int32Array.of(2)] },
      { model: { ...transformerPresets.tiny, vocabSize: layout.vocabSize }, arra: arraConfig({ encoderName: 'none', mode: 'off' }), steps: 1, batchSize: 1, lr: 1e-3, seed: 0, outDir: join(dir, 'bad') },
    ),
    /the model's prefixLen is 2 but 'text' sequences have 4 positions/,
  );
});

t.test('templated prompts for a dataset with class names; unknown words name the nearest known ones', async (t) => {
  const ds = { images: null as never, labels: Int32Array.of(7, 3, 7), classNames: ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine'], source: 'digits' };
  const { spec, prompts, texts } = textConditioning(ds, 0);
  t.ok(texts.every((p, i) => p.endsWith(ds.classNames[ds.labels[i]!]!)), `each prompt names its image's class (${texts.join(' | ')})`);
  t.equal(spec.promptLen, 6, "the longest template: 'a close-up photo of an eight' (6 words)");
  t.same(encodePrompts(spec, ['A photo of a SEVEN.'], 'x'), encodePrompts(spec, ['a photo of a seven'], 'x'), 'case and punctuation ignored');
  t.equal(prompts.length, 3);
  t.throws(() => encodePrompts(spec, ['a photo of a sevn'], '--prompts'), /--prompts: unknown word 'sevn' in 'a photo of a sevn'; nearest known words: seven/);
  t.throws(() => encodePrompts(spec, ['a photo of a seven a photo of a three'], '--prompts'), /has 10 words, the model's prompt slot holds 6/);
  t.throws(() => encodePrompts(spec, ['?!'], '--prompts'), /has no words/);
  t.throws(() => encodePrompts({ mode: 'class' }, ['seven'], '--prompts'), /not text-conditional/);
});

t.test('a held-out prompt with a word no training prompt had is a usage error pointing at --train-limit', async (t) => {
  const { heldOutPrompts, textRequest } = await import('../examples/pipeline/evaluate-modes');
  const { UsageError } = await import('../lib/cli');
  const train = { images: null as never, labels: Int32Array.of(0), classNames: ['x'], prompts: ['a red circle at the top'], source: 'one caption' };
  const test = { images: null as never, labels: Int32Array.of(0, 0), classNames: ['x'], prompts: ['a red circle at the top', 'a red square at the top'], source: 'held out' };
  const { spec } = textConditioning(train, 0);
  const prompts = heldOutPrompts(test, 3, 0);
  t.same(prompts.texts, ['a red circle at the top', 'a red square at the top', 'a red circle at the top'], 'n prompts, cycling through the held-out set');
  let caught: unknown;
  try { textRequest(spec, prompts); } catch (err) { caught = err; }
  t.ok(caught instanceof UsageError, 'a usage error (exit 2)');
  t.match((caught as Error).message, /unknown word 'square'.*--train-limit/);
});
