/**
 * The ARRA lab in a real browser: Debian's headless Chromium (SwiftShader WebGL) driven by
 * playwright-core, against the page that `npm run lab` serves.
 *
 * The Node side of every comparison is computed here with the same code the page runs
 * (examples/lab/lab-core.ts) on the reference backend. Skipped, visibly, when the browser is
 * not installed (`apt-get install chromium`; ARRA_CHROMIUM points elsewhere).
 *
 * ARRA_LAB_SCREENSHOTS=1 writes the panel screenshots into docs/img/lab-*.png (for the docs);
 * otherwise they go to a temporary folder and are only checked.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import t from 'tap';
import { Rng, setBackend } from '../lib';
import { buildLab } from '../examples/lab/build';
import { chromiumPath, launchChromium } from '../examples/lab/chromium';
import { mnistSubsetBytes } from '../examples/lab/data-file';
import { DEFAULT_SETTINGS, Lab, STEP_BATCH, type StepReport, type StepSettings } from '../examples/lab/lab-core';
import { SideBySide } from '../examples/lab/lab-train';
import { parseLabData } from '../examples/lab/lab-data';
import { shapesLabData } from '../examples/lab/lab-shapes';
import { serveLab } from '../examples/lab/server';
import { trainAr } from '../examples/pipeline/ar-trainer';
import { saveVq } from '../examples/pipeline/vq-trainer';
import { arraConfig, transformerPresets } from '../models';

/** The words of a text-mode prefix (its pads dropped), by the lab's own token names. */
function promptWordsOf(lab: Lab, prefix: number[]): string[] {
  return prefix.map((id) => lab.tokenName(id)).filter((n) => n !== 'pad').map((n) => n.slice(1, -1));
}

/** max |a − b| over two equal-length lists (Infinity when the lengths differ). */
function maxDiff(a: number[], b: number[]): number {
  if (a.length !== b.length) return Infinity;
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!));
  return d;
}

/**
 * A miniature runs/demo in `dir`, written by the demo's own writers (saveVq, trainAr: 3 steps
 * of the tiny preset), so the page reads exactly the format `arra demo` leaves.
 */
function writeMiniatureDemo(dir: string, lab: Lab): string {
  fs.mkdirSync(path.join(dir, 'vq'));
  saveVq(path.join(dir, 'vq', 'vq.safetensors'), lab.vq);
  trainAr({ codes: lab.codes, labels: lab.data.classes, globalFeatures: lab.features, layout: lab.layout, numTokens: 4, classNames: ['zero', 'one', 'two'] }, {
    model: transformerPresets.tiny, arra: arraConfig({ encoderName: 'lab-convnet-random', projectorHidden: 32 }),
    steps: 3, batchSize: 8, lr: 1e-2, seed: 0, outDir: path.join(dir, 'arra-s0'),
  });
  return dir;
}

/** Where screenshots go: docs/img with ARRA_LAB_SCREENSHOTS=1, else a temporary folder (only checked). */
const SHOT_DIR = process.env.ARRA_LAB_SCREENSHOTS === '1' ? path.resolve(__dirname, '../docs/img') : fs.mkdtempSync(path.join(os.tmpdir(), 'arra-lab-shots-'));

const PANELS = ['backend', 'controls', 'batch', 'forward', 'losses', 'backward', 'training', 'sampling', 'demo'];

if (!fs.existsSync(chromiumPath())) {
  t.test('the lab page in headless Chromium', { skip: `no browser at ${chromiumPath()} (apt-get install chromium, or set ARRA_CHROMIUM)` }, async () => {});
} else {
  t.test('the lab page in headless Chromium', async (t) => {
    setBackend('ref');
    const lab = new Lab(parseLabData(mnistSubsetBytes(), 8), 0);
    const demoDir = writeMiniatureDemo(t.testdir({}), lab);
    await buildLab();
    const server = await serveLab({ demoDir });
    const browser = await launchChromium();
    t.teardown(async () => {
      await browser.close();
      await server.close();
    });
    const page = browser.context.pages()[0] ?? (await browser.context.newPage());
    const problems: string[] = [];
    // Warnings are only listed: Chromium itself logs WebGL performance notes ("GPU stall due to ReadPixels") as warnings.
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console error: ${m.text()}`);
      else if (m.type() === 'warning') t.comment(`console warning: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    await page.goto(server.url);
    await page.waitForFunction(() => (globalThis as any).document.body.dataset.ready !== undefined, null, { timeout: 60_000 });
    t.equal(await page.evaluate(() => (globalThis as any).document.body.dataset.ready), 'true', 'the page started');
    t.equal(await page.evaluate(() => (globalThis as any).crossOriginIsolated), true, 'COOP/COEP headers make the page cross-origin isolated');
    t.match(await page.locator('[data-testid=isolation]').textContent(), /^cross-origin isolated: SharedArrayBuffer is available/, 'and the backend panel says so');

    // The Node run: same data bytes, same code, reference backend.
    const runs = new SideBySide(lab, DEFAULT_SETTINGS);
    const indices = lab.pick(STEP_BATCH, new Rng(1));
    t.same(await page.evaluate(() => (globalThis as any).arraLab.stepIndices), indices, 'page and Node take the same batch');

    const pageStep = (s: Partial<StepSettings>, backend: string): Promise<StepReport> =>
      page.evaluate(([s, b]) => (globalThis as any).arraLab.step(s, b), [s, backend] as const);
    const settingsList: StepSettings[] = [DEFAULT_SETTINGS, { mode: 'rep', lambda: 0.5, alignLayer: 1, objective: 'mse' }];

    await t.test('L_AR, L_GVA and parameter gradients equal the Node run (1e-5) on ref and WASM SIMD', async (t) => {
      for (const settings of settingsList) {
        const node = lab.step(runs.arra.model, runs.arra.projector, settings, indices);
        for (const backend of ['ref', 'fast']) {
          const got = await pageStep(settings, backend);
          const what = `${backend}, mode ${settings.mode}, block ${settings.alignLayer}, ${settings.objective}`;
          t.ok(Math.abs(got.lossAR - node.lossAR) <= 1e-5, `L_AR ${got.lossAR} vs Node ${node.lossAR} (${what})`);
          t.ok(Math.abs(got.lossGVA - node.lossGVA) <= 1e-5, `L_GVA ${got.lossGVA} vs Node ${node.lossGVA} (${what})`);
          t.ok(got.lossGVA > 0, `L_GVA is not trivially 0 (${what})`);
          for (const [k, g] of node.gradients.entries()) {
            const d = maxDiff(got.gradients[k]!.values, g.values);
            t.ok(d <= 1e-5, `∂L_ARRA/∂${g.name}: max diff ${d.toExponential(2)} (${what})`);
            t.ok(g.values.some((v) => v !== 0), `∂L_ARRA/∂${g.name} is not all zero (${what})`);
          }
          t.ok(maxDiff(got.cos.values, node.cos.values) <= 1e-5, `cos(f_A,t, f_GF) per position (${what})`);
        }
      }
      const shown = await page.evaluate(() => ['loss-ar', 'loss-gva', 'loss-total'].map((id) => Number((globalThis as any).document.querySelector(`[data-testid=${id}]`).textContent)));
      const last = lab.step(runs.arra.model, runs.arra.projector, settingsList[1]!, indices);
      t.ok(maxDiff(shown, [last.lossAR, last.lossGVA, last.lossTotal]) <= 1e-4, `the loss panel shows ${shown.join(', ')}`);
    });

    await t.test('after training in Node, the checkpoint loaded in the page gives the same step (1e-5)', async (t) => {
      const trained = new SideBySide(lab, DEFAULT_SETTINGS);
      for (let i = 0; i < 6; i++) trained.step();
      const bytes = Array.from(trained.arra.checkpoint());
      await page.evaluate((b) => (globalThis as any).arraLab.loadCheckpoint(b), bytes);
      const node = lab.step(trained.arra.model, trained.arra.projector, DEFAULT_SETTINGS, indices);
      t.ok(node.groups.find((g) => g.group === 'blocks.0')!.normAR > 0, 'after training L_AR reaches block 0 (not only the head)');
      for (const backend of ['ref', 'fast']) {
        const got = await pageStep(DEFAULT_SETTINGS, backend);
        t.ok(Math.abs(got.lossAR - node.lossAR) <= 1e-5, `L_AR ${got.lossAR} vs Node ${node.lossAR} (${backend})`);
        t.ok(Math.abs(got.lossGVA - node.lossGVA) <= 1e-5, `L_GVA ${got.lossGVA} vs Node ${node.lossGVA} (${backend})`);
        for (const [k, g] of node.gradients.entries()) t.ok(maxDiff(got.gradients[k]!.values, g.values) <= 1e-5, `∂L_ARRA/∂${g.name} (${backend})`);
        for (const [k, g] of node.groups.entries()) {
          const p = got.groups[k]!;
          t.ok(Math.abs(p.normAR - g.normAR) <= 1e-5 && Math.abs(p.normGVA - g.normGVA) <= 1e-5, `attribution of ${g.group}: ‖∂L_AR‖ ${p.normAR.toFixed(6)}, ‖λ∂L_GVA‖ ${p.normGVA.toFixed(6)} (${backend})`);
        }
      }
      // back to the untrained weights, which the training test below starts from
      await page.evaluate((b) => (globalThis as any).arraLab.loadCheckpoint(b), Array.from(runs.arra.checkpoint()));
    });

    await t.test('gpu.js runs on WebGL (SwiftShader) in the page and matches the reference', async (t) => {
      const check = await page.evaluate(() => (globalThis as any).arraLab.gpuCheck());
      t.ok(['webgl2', 'webgl'].includes(check.mode), `gpu.js mode is ${check.mode}`);
      t.ok(check.matmulError <= 1e-5, `matmul max relative error ${check.matmulError}`);
      t.ok(check.softmaxError <= 1e-6, `softmax max error ${check.softmaxError}`);
      const node = lab.step(runs.arra.model, runs.arra.projector, DEFAULT_SETTINGS, indices);
      const got = await pageStep(DEFAULT_SETTINGS, 'gpujs');
      t.match(got.backend, /gpujs \(mode webgl2?;/, 'the step ran on gpu.js WebGL');
      t.match(await page.locator('[data-testid=backend]').textContent(), /mode webgl/, 'the backend panel says so');
      // float32 on a GPU (sums in another order, GPU exp): the stated tolerance is 1e-4
      t.ok(Math.abs(got.lossAR - node.lossAR) <= 1e-4, `gpujs L_AR ${got.lossAR} vs Node ${node.lossAR}`);
      t.ok(Math.abs(got.lossGVA - node.lossGVA) <= 1e-4, `gpujs L_GVA ${got.lossGVA} vs Node ${node.lossGVA}`);
      const times = await page.evaluate(() => (globalThis as any).arraLab.kernelTimes()) as { kernel: string; calls: number }[];
      t.ok(times.find((k) => k.kernel === 'matmul')!.calls > 0, 'the kernel table counted matmul calls');
      t.ok(times.find((k) => k.kernel === 'softmax')!.calls > 0, 'and softmax calls');
      const rows = await page.evaluate(() => (globalThis as any).arraLab.compareBackends()) as { backend: string; lossAR: number; gradDiff: number }[];
      t.same(rows.map((r) => r.backend), ['ref', 'fast', 'gpujs'], 'the compare button runs all three');
      t.ok(rows[1]!.gradDiff <= 1e-5 && rows[2]!.gradDiff <= 1e-4, `and shows their gradient differences from ref: fast ${rows[1]!.gradDiff}, gpujs ${rows[2]!.gradDiff}`);
      t.equal(await page.locator('[data-testid=backend-compare] tr').count(), 4, 'one table row per backend');
      await pageStep(DEFAULT_SETTINGS, 'fast');
    });

    await t.test('cross-origin isolated: the WASM matmul runs on Web Workers and equals the one-thread run', async (t) => {
      // Threads claim units of a product (lib/backend/fast/pool.ts): a worker that wakes after the
      // page thread has claimed every unit runs none, so the product is large (512³: a few ms,
      // 64 units) and repeated until the workers have taken some (at once unless the cores are busy).
      type Check = { threads: number; readyThreads: number; helperSlices: number; maxRelDiff: number; msThreads: number; msOne: number };
      let r = await page.evaluate(() => (globalThis as any).arraLab.threadCheck(512, 3)) as Check;
      for (let tries = 1; r.helperSlices === 0 && tries < 5; tries++) r = await page.evaluate(() => (globalThis as any).arraLab.threadCheck(512, 3)) as Check;
      t.ok(r.threads > 1, `the page's fast backend has ${r.threads} threads`);
      t.equal(r.readyThreads, r.threads, 'every helper worker started');
      t.ok(r.helperSlices > 0, `and the workers ran ${r.helperSlices} units of the products`);
      t.ok(r.maxRelDiff <= 1e-5, `512³ matmul: max relative difference from one thread ${r.maxRelDiff} (stated tolerance 1e-5)`);
      t.comment(`512³ matmul in the page: ${r.msThreads.toFixed(1)} ms on ${r.threads} threads, ${r.msOne.toFixed(1)} ms on one`);
      t.match(await page.locator('[data-testid=threads]').textContent(), new RegExp(`^${r.threads} of ${r.threads} threads took work`), 'the backend panel reports the threads');
      t.match(await page.locator('[data-testid=backend]').textContent(), new RegExp(`matmul on ${r.threads} threads`), 'and describeBackend says so');
      // the step on the threaded backend still equals Node's
      const node = lab.step(runs.arra.model, runs.arra.projector, DEFAULT_SETTINGS, indices);
      const got = await pageStep(DEFAULT_SETTINGS, 'fast');
      t.ok(Math.abs(got.lossAR - node.lossAR) <= 1e-5, `threaded fast: L_AR ${got.lossAR} vs Node ${node.lossAR}`);
    });

    await t.test('a training loop lowers both losses; sampling decodes an image', async (t) => {
      // the tokenizer first: new codes restart both training runs
      const vq = await page.evaluate(() => (globalThis as any).arraLab.trainTokenizer(150)) as number[];
      t.ok(vq[vq.length - 1]! < vq[0]! / 2, `the in-page VQ learns: recon ${vq[0]!.toFixed(4)} → ${vq[vq.length - 1]!.toFixed(4)}`);
      t.equal(await page.locator('[data-testid=train-steps]').textContent(), '0', 'and the training runs restarted');
      const steps = 30;
      const h = await page.evaluate((n) => (globalThis as any).arraLab.train(n), steps) as { baseline: { lossAR: number }[]; arra: { lossAR: number; lossGVA: number }[] };
      t.equal(h.arra.length, steps);
      const mean = (xs: number[]): number => xs.reduce((s, x) => s + x, 0) / xs.length;
      const first = (k: 'lossAR' | 'lossGVA'): number => mean(h.arra.slice(0, 3).map((e) => e[k]));
      const lastOf = (k: 'lossAR' | 'lossGVA'): number => mean(h.arra.slice(-3).map((e) => e[k]));
      t.ok(lastOf('lossAR') < first('lossAR') - 0.3, `ARRA L_AR ${first('lossAR').toFixed(3)} → ${lastOf('lossAR').toFixed(3)}`);
      t.ok(lastOf('lossGVA') < first('lossGVA') - 0.1, `ARRA L_GVA ${first('lossGVA').toFixed(3)} → ${lastOf('lossGVA').toFixed(3)}`);
      t.ok(mean(h.baseline.slice(-3).map((e) => e.lossAR)) < mean(h.baseline.slice(0, 3).map((e) => e.lossAR)) - 0.3, 'the baseline L_AR falls too');
      t.equal(await page.locator('[data-testid=train-steps]').textContent(), String(steps), 'the panel counts the steps');

      const s = await page.evaluate(() => (globalThis as any).arraLab.sample({ classIndex: 1, cfgScale: 2, temperature: 1, topK: 8, seed: 3 })) as { codes: number[]; image: number[] };
      t.equal(s.codes.length, 4, 'four codes on the 2×2 grid');
      t.ok(s.codes.every((c) => Number.isInteger(c) && c >= 0 && c < 16), `codes ${s.codes.join(' ')} are in [0, 16)`);
      t.equal(s.image.length, 64, 'decoded to 8×8 pixels');
      t.ok(s.image.every(Number.isFinite) && Math.max(...s.image) - Math.min(...s.image) > 0.05, `the decoded image is not blank (pixel range ${(Math.max(...s.image) - Math.min(...s.image)).toFixed(3)})`);
      t.equal(await page.locator('[data-testid=sample-tokens] div').allTextContents().then((x) => x.join(' ')), s.codes.map((c) => `z${c}`).join(' '), 'the tokens are shown on the grid');
      t.equal(await page.locator('[data-testid=sample-image]').count(), 1, 'and the decoded image is drawn');
    });

    await t.test('the controls re-run the step; start/pause drive the training loop', async (t) => {
      await page.selectOption('[data-testid=mode]', 'rep');
      t.equal(await page.locator('td.hyb').count(), STEP_BATCH, 'mode rep: one aligned position per sequence');
      await page.selectOption('[data-testid=mode]', 'off');
      t.equal(await page.locator('td.hyb').count(), 0, 'mode off: none');
      t.equal(Number(await page.locator('[data-testid=loss-total]').textContent()), Number(await page.locator('[data-testid=loss-ar]').textContent()), 'mode off: L_ARRA = L_AR');
      await page.selectOption('[data-testid=mode]', 'hybnext');
      t.equal(await page.locator('td.hyb').count(), STEP_BATCH * 4, 'mode hybnext: every image-predicting position');
      await page.fill('[data-testid=lambda]', '0.5');
      await page.locator('[data-testid=lambda]').dispatchEvent('change');
      const shown = await page.evaluate(() => ['loss-ar', 'loss-gva', 'loss-total'].map((id) => Number((globalThis as any).document.querySelector(`[data-testid=${id}]`).textContent)));
      t.ok(Math.abs(shown[2]! - (shown[0]! + 0.5 * shown[1]!)) <= 2e-5, `λ = 0.5: L_ARRA ${shown[2]} = L_AR + 0.5·L_GVA`);
      await page.fill('[data-testid=lambda]', '1');
      await page.locator('[data-testid=lambda]').dispatchEvent('change');
      const before = Number(await page.locator('[data-testid=train-steps]').textContent());
      await page.locator('[data-testid=train-start]').click();
      await page.waitForFunction((n) => Number((globalThis as any).document.querySelector('[data-testid=train-steps]').textContent) >= n + 3, before, { timeout: 20_000 });
      await page.locator('[data-testid=train-pause]').click();
      const paused = Number(await page.locator('[data-testid=train-steps]').textContent());
      await page.waitForTimeout(300);
      t.equal(Number(await page.locator('[data-testid=train-steps]').textContent()), paused, `the loop ran (${before} → ${paused} steps) and pause stops it`);
    });

    await t.test('text and unconditional modes: the batch shows their prefix, sampling decodes an image, an unknown word is an error naming the nearest words', async (t) => {
      // text: captioned shapes made in the page; Node makes the same ones from the same seed
      await page.selectOption('[data-testid=condition]', 'text');
      const textLab = new Lab(shapesLabData(8), 0, 'text');
      const textRuns = new SideBySide(textLab, DEFAULT_SETTINGS);
      const textIdx = textLab.pick(STEP_BATCH, new Rng(1));
      t.same(await page.evaluate(() => (globalThis as any).arraLab.stepIndices), textIdx, 'text mode: page and Node take the same batch of shapes');
      const node = textLab.step(textRuns.arra.model, textRuns.arra.projector, DEFAULT_SETTINGS, textIdx);
      const got = await pageStep(DEFAULT_SETTINGS, 'fast');
      t.same(got.batch.tokens, node.batch.tokens, 'the same token ids');
      t.ok(Math.abs(got.lossAR - node.lossAR) <= 1e-5 && Math.abs(got.lossGVA - node.lossGVA) <= 1e-5, `text mode L_AR ${got.lossAR}, L_GVA ${got.lossGVA} equal Node's (1e-5)`);
      const P = textLab.text!.promptLen;
      t.equal(got.batch.prefixLen, P + 1, `prefix = a ${P}-word prompt slot + begin-image`);
      const words = promptWordsOf(textLab, node.batch.tokens.slice(0, P));
      const cells = await page.locator('table.seq tr').nth(1).locator('td.cond').allTextContents();
      t.same(cells.filter((c) => c !== 'pad'), words.map((w) => `"${w}"`), `the batch view shows row 0's prompt words: ${words.join(' ')}`);
      t.equal(words.join(' '), got.batch.prompts![0]!.split(' ').filter((w) => w.length).join(' '), 'and they spell its caption');
      t.match(await page.locator('[data-testid=batch-prefix]').textContent(), /prompt slot/, 'the prefix is explained');
      const vq = await page.evaluate(() => (globalThis as any).arraLab.trainTokenizer(150)) as number[];
      // the decoder's last layer is linear (models/vq.ts), so training starts near the all-black image's error, not at a sigmoid's 0.5
      t.ok(vq[vq.length - 1]! < 0.8 * vq[0]! && vq[vq.length - 1]! < 0.015, `the 3-channel VQ learns the shapes in the page: recon ${vq[0]!.toFixed(4)} → ${vq[vq.length - 1]!.toFixed(4)} (< 0.8× the start and < 0.015)`);
      await page.evaluate((n) => (globalThis as any).arraLab.train(n), 20);
      const s = await page.evaluate(() => (globalThis as any).arraLab.sample({ prompt: 'a red circle at the top left', cfgScale: 2, temperature: 1, topK: 0, seed: 5 })) as { codes: number[]; image: number[]; shape: number[] };
      t.same(s.shape, [1, 3, 8, 8], 'the text prompt decodes to an 8×8 RGB image');
      t.ok(s.codes.length === 4 && s.codes.every((c) => c >= 0 && c < 16), `codes ${s.codes.join(' ')}`);
      // 150 VQ steps + 20 AR steps in the page: a faint shape on black (the decoder is linear and clamped, so black is exactly 0)
      t.ok(s.image.every((v) => Number.isFinite(v) && v >= 0 && v <= 1) && Math.max(...s.image) - Math.min(...s.image) > 0.01, `the decoded image is in [0, 1] and not constant (pixel range ${(Math.max(...s.image) - Math.min(...s.image)).toFixed(3)})`);
      t.equal(await page.locator('[data-testid=sample-image]').count(), 1, 'and it is drawn');
      t.equal(await page.locator('[data-testid=sample-error]').textContent(), '', 'no prompt error');
      t.match(await page.locator('[data-testid=sample-source]').textContent(), /trained in this page for 20 steps on 360 captioned shapes/, 'the panel says the model was trained in the page');
      // an unknown word, typed in the box: the page names the nearest known words (lib/data nearestWords)
      await page.fill('[data-testid=sample-prompt]', 'a red circel at the top');
      await page.locator('[data-testid=sample-run]').click();
      await page.waitForFunction(() => ((globalThis as any).document.querySelector('[data-testid=sample-error]').textContent as string).length > 0, null, { timeout: 10_000 });
      const err = await page.locator('[data-testid=sample-error]').textContent();
      t.match(err, /unknown word 'circel'.*nearest known words: circle/, `the page shows: ${err}`);
      t.equal(await page.locator('[data-testid=sample-image]').count(), 0, 'and no image');
      await page.locator('[data-testid=panel-sampling]').screenshot({ path: path.join(SHOT_DIR, 'lab-sampling-text.png') });
      const longer = await page.evaluate(() => (globalThis as any).arraLab.sample({ prompt: 'a large red circle at the top left at the top', cfgScale: 2, temperature: 1, topK: 0, seed: 5 })) as { error: string };
      t.match(longer.error, new RegExp(`has 11 words, the model's prompt slot holds ${P}`), `known words but too many for the slot: ${longer.error}`);
      await page.fill('[data-testid=sample-prompt]', 'a large red circle at the top left');
      await page.locator('[data-testid=panel-batch]').screenshot({ path: path.join(SHOT_DIR, 'lab-batch-text.png') });

      // none: the one constant prefix, no guidance
      await page.selectOption('[data-testid=condition]', 'none');
      const noneLab = new Lab(parseLabData(mnistSubsetBytes(), 8), 0, 'none');
      const noneRuns = new SideBySide(noneLab, DEFAULT_SETTINGS);
      const noneNode = noneLab.step(noneRuns.arra.model, noneRuns.arra.projector, DEFAULT_SETTINGS, noneLab.pick(STEP_BATCH, new Rng(1)));
      const noneGot = await pageStep(DEFAULT_SETTINGS, 'fast');
      t.ok(Math.abs(noneGot.lossAR - noneNode.lossAR) <= 1e-5, `none mode L_AR ${noneGot.lossAR} equals Node's`);
      const first = await page.locator('table.seq tr').nth(1).locator('td').allTextContents();
      t.same(first.slice(2, 4), ['null', 'begin'], 'the batch view shows [null] [begin-image]');
      t.equal(await page.locator('[data-testid=sample-cfg]').isDisabled(), true, 'CFG scale is disabled: nothing to guide');
      await page.evaluate((n) => (globalThis as any).arraLab.train(n), 10);
      const u = await page.evaluate(() => (globalThis as any).arraLab.sample({ cfgScale: 2, temperature: 1, topK: 8, seed: 2 })) as { codes: number[]; image: number[]; shape: number[] };
      t.same(u.shape, [1, 1, 8, 8], 'the unconditional sample decodes to an 8×8 grey image');
      t.ok(u.image.every(Number.isFinite) && Math.max(...u.image) - Math.min(...u.image) > 0.05, 'not blank');
      t.equal(await page.locator('[data-testid=sample-tokens] div').allTextContents().then((x) => x.join(' ')), u.codes.map((c) => `z${c}`).join(' '), 'its tokens are shown on the grid');

      const classSteps = Number(await page.locator('[data-testid=train-steps]').textContent());
      await page.selectOption('[data-testid=condition]', 'class');
      t.equal(await page.locator('[data-testid=sample-cfg]').isDisabled(), false, 'back to class: CFG enabled again');
      t.equal(await page.locator('[data-testid=sample-image]').count(), 0, 'the other mode\'s sample is cleared');
      t.ok(Number(await page.locator('[data-testid=train-steps]').textContent()) >= 30 && classSteps === 10, 'the class runs were kept while the other modes trained');
      const c = await page.evaluate(() => (globalThis as any).arraLab.sample({ classIndex: 1, cfgScale: 2, temperature: 1, topK: 8, seed: 3 })) as { shape: number[] };
      t.same(c.shape, [1, 1, 8, 8], 'class sampling still decodes an 8×8 digit');
    });

    await t.test('a previous demo run: the page read its checkpoints and samples from them', async (t) => {
      t.same(await page.evaluate(() => (globalThis as any).arraLab.demoModels()), ['arra-s0'], 'the demo model was loaded from the server');
      t.match(await page.locator('[data-testid=demo-run] p').first().textContent(), /checkpoints: .*arra-s0\/model\.safetensors.*vq\/vq\.safetensors/);
      await page.locator('[data-testid=demo-sample]').click();
      t.equal(await page.locator('[data-testid=demo-tokens] div').count(), 4, 'four sampled codes on the grid');
      t.equal(await page.locator('[data-testid=demo-image]').count(), 1, 'and the decoded image');
    });

    await t.test('a screenshot of each panel', async (t) => {
      await pageStep(DEFAULT_SETTINGS, 'fast');
      const dir = SHOT_DIR;
      for (const name of PANELS) {
        const file = path.join(dir, `lab-${name}.png`);
        await page.locator(`[data-testid=panel-${name}]`).screenshot({ path: file });
        const bytes = fs.readFileSync(file);
        t.ok(bytes.length > 2000 && bytes.subarray(1, 4).toString() === 'PNG', `${path.basename(file)}: ${bytes.length} bytes of PNG`);
      }
    });

    t.same(problems, [], 'no console errors, no page errors');
  });
}
