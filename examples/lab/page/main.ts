/**
 * The ARRA lab page: one ARRA training step of the tiny preset taken apart, the controls that
 * re-run it, a live side-by-side training loop, sampling, and which backend ran each kernel.
 * All numbers come from lib/ and models/ running unchanged in the page (lab-core.ts); this
 * file only draws them. Guide: docs/lab.md.
 *
 * `window.arraLab` exposes the same actions to test/lab.test.ts (Playwright in Chromium).
 */
import { backendNames, createFastBackend, createGpujsBackend, describeBackend, referenceBackend, registerBackend, Rng, setBackend, backend } from '../../../lib';
import { loadDemoRun, sampleDemo, type DemoRun } from '../demo-run';
import { checkGpujs, timeMatmul, type GpuCheck } from '../gpu-check';
import { checkThreads, type ThreadCheck } from '../thread-check';
import type { ConditionMode } from '../../../models';
import { DEFAULT_SETTINGS, ENCODER_DIM, Lab, PromptError, STEP_BATCH, type SampleRequest, type StepReport, type StepSettings } from '../lab-core';
import { SideBySide } from '../lab-train';
import { LAB_CLASSES, parseLabData, type LabData } from '../lab-data';
import { shapesLabData } from '../lab-shapes';
import { timedBackend, type KernelTime, type TimedBackend } from '../timed-backend';
import { el, greyImage, planesImage } from './charts';
import { backwardView, batchView, curvesView, fmt, forwardView, lossesView } from './step-panels';

// Every backend is wrapped so the page can show per-kernel times; results are unchanged.
registerBackend('ref', () => timedBackend(referenceBackend));
// Threads: Web Workers over SharedArrayBuffer when the page is cross-origin isolated (the lab
// server's COOP/COEP headers); helpers join once started (lib/backend/fast/pool.ts).
const PAGE_THREADS = crossOriginIsolated ? Math.max(1, Math.min(4, navigator.hardwareConcurrency || 1)) : 1;
// One instance: re-selecting `fast` keeps its workers (setBackend releases only a different instance).
const fastBackend = createFastBackend({ threads: PAGE_THREADS });
const timedFast = timedBackend(fastBackend);
registerBackend('fast', () => timedFast);
registerBackend('gpujs', () => timedBackend(createGpujsBackend()));

/** Source links: the file (served read-only by server.ts) and the docs chapter of each panel. */
function links(...files: [string, string][]): HTMLElement {
  return el('span', { class: 'links' }, ...files.flatMap(([label, file]) => [el('a', { href: `/src/${file}`, target: '_blank' }, label), ' ']));
}

function panel(testid: string, title: string, sources: HTMLElement, ...body: (Node | string)[]): HTMLElement {
  return el('section', { 'data-testid': testid, class: 'panel' }, el('h2', {}, title, ' ', sources), ...body);
}

function select(testid: string, options: [string, string][], value: string): HTMLSelectElement {
  const s = el('select', { 'data-testid': testid });
  for (const [v, label] of options) s.append(el('option', { value: v, ...(v === value ? { selected: '' } : {}) }, label));
  return s;
}

function numberInput(testid: string, value: number, step: number, min: number, max: number): HTMLInputElement {
  return el('input', { type: 'number', 'data-testid': testid, value: String(value), step: String(step), min: String(min), max: String(max) });
}

async function start(): Promise<void> {
  const root = document.getElementById('lab')!;
  root.replaceChildren();
  const bytes = new Uint8Array(await (await fetch('mnist-subset.bin')).arrayBuffer());
  const digits = parseLabData(bytes, 8);
  let shapes: LabData | null = null;
  // one Lab per conditioning mode (each has its own vocabulary, so its own model), made on first use
  const labs = new Map<ConditionMode, Lab>([['class', new Lab(digits, 0, 'class')]]);
  const labFor = (c: ConditionMode): Lab => {
    if (!labs.has(c)) labs.set(c, new Lab(c === 'text' ? (shapes ??= shapesLabData(8)) : digits, 0, c));
    return labs.get(c)!;
  };
  let lab = labs.get('class')!;
  const settings: StepSettings = { ...DEFAULT_SETTINGS };
  let runs = new SideBySide(lab, settings);
  let stepIndices = lab.pick(STEP_BATCH, new Rng(1));
  let lastReport: StepReport | null = null;
  let lastTimes: KernelTime[] = [];

  // ---- controls -------------------------------------------------------------------------
  const mode = select('mode', [['off', 'off (LlamaGen baseline)'], ['hybnext', 'hybnext (every image position)'], ['rep', 'rep (first position only)']], settings.mode);
  const lambda = numberInput('lambda', settings.lambda, 0.1, 0, 10);
  const alignLayer = select('align-layer', [['0', 'block 0'], ['1', 'block 1']], String(settings.alignLayer));
  const objective = select('objective', [['cosine', 'cosine: 1 − mean cos'], ['mse', 'mse on the raw features'], ['mse-normalized', 'mse on unit vectors (= 2·cosine)']], settings.objective);
  const backendSelect = select('backend-select', backendNames().map((n) => [n, { ref: 'reference loops', fast: `WASM SIMD (${PAGE_THREADS} thread${PAGE_THREADS > 1 ? 's' : ''})`, gpujs: 'gpu.js (WebGL)' }[n] ?? n] as [string, string]), 'fast');
  const threadLine = el('div', { 'data-testid': 'threads' }, '');
  const threadButton = el('button', { 'data-testid': 'thread-check' }, `matmul 256³: ${PAGE_THREADS} threads vs 1`);
  const backendLabel = el('span', { 'data-testid': 'backend' }, '');
  const kernelTable = el('table', { 'data-testid': 'kernel-times' });
  const gpuLine = el('div', { 'data-testid': 'gpu-check' }, '');
  const compareButton = el('button', { 'data-testid': 'compare-backends' }, 'run the step on every backend');
  const compareBody = el('div', { 'data-testid': 'backend-compare' });

  const readSettings = (): void => {
    settings.mode = mode.value as StepSettings['mode'];
    settings.lambda = Number(lambda.value);
    settings.alignLayer = Number(alignLayer.value);
    settings.objective = objective.value as StepSettings['objective'];
  };

  // ---- panels ---------------------------------------------------------------------------
  const batchBody = el('div');
  const forwardBody = el('div');
  const lossBody = el('div', { class: 'losses' });
  const backwardBody = el('div');
  const curves = el('div', { class: 'curves' });
  const trainCount = el('span', { 'data-testid': 'train-steps' }, '0');
  const sampleTokens = el('div', { 'data-testid': 'sample-tokens', class: 'token-grid' });
  const sampleImage = el('div', { class: 'sample-out' });
  const tokenizerLine = el('span', { 'data-testid': 'tokenizer' }, lab.tokenizer);
  const demoBody = el('div', { 'data-testid': 'demo-run' }, 'looking for runs/demo …');

  const rerun = el('button', { 'data-testid': 'rerun' }, 're-run the step');
  const trainStart = el('button', { 'data-testid': 'train-start' }, 'start');
  const trainPause = el('button', { 'data-testid': 'train-pause' }, 'pause');
  const trainStep = el('button', { 'data-testid': 'train-step' }, 'step');
  const trainReset = el('button', { 'data-testid': 'train-reset' }, 'reset (same seed)');
  const trainVq = el('button', { 'data-testid': 'train-vq' }, 'train the VQ (150 steps)');
  const condition = select('condition', [['class', 'class: digits 0/1/2, [class] [begin-image]'], ['text', 'text: captioned shapes, [words …] [begin-image]'], ['none', 'none: digits, [null] [begin-image]']], 'class');
  const conditionNote = el('div', { 'data-testid': 'condition-note' }, '');
  const encoderLine = el('div', { class: 'row', 'data-testid': 'encoder' }, '');
  const samplePrompt = el('input', { type: 'text', 'data-testid': 'sample-prompt', value: 'a large red circle at the top left', size: '40' });
  const sampleError = el('div', { 'data-testid': 'sample-error', class: 'error' }, '');
  const sampleSource = el('div', { 'data-testid': 'sample-source' }, '');
  const sampleClass = select('sample-class', LAB_CLASSES.map((d, i) => [String(i), `digit ${d}`] as [string, string]), '1');
  const cfg = numberInput('sample-cfg', 2, 0.5, 0, 10);
  const temperature = numberInput('sample-temp', 1, 0.1, 0, 5);
  const topK = numberInput('sample-topk', 0, 1, 0, 16);
  const sampleRun = el('button', { 'data-testid': 'sample-run' }, 'sample');

  root.append(
    panel('panel-backend', 'Which kernels ran where', links(['lib/backend/index.ts', 'lib/backend/index.ts'], ['gpujs', 'lib/backend/gpujs/index.ts'], ['fast', 'lib/backend/fast/index.ts'], ['docs/speed.md', 'docs/speed.md']),
      el('div', { class: 'row' }, 'backend: ', backendSelect, ' running: ', backendLabel), gpuLine,
      el('div', { 'data-testid': 'isolation' }, crossOriginIsolated
        ? `cross-origin isolated: SharedArrayBuffer is available; the WASM backend's matmul runs on ${PAGE_THREADS} threads (this page thread + ${PAGE_THREADS - 1} Web Worker${PAGE_THREADS > 2 ? 's' : ''} on one shared wasm memory; the page thread spins instead of Atomics.wait, lib/platform/browser.ts) for products of at least 2 M multiply-adds — the tiny model's are far smaller, so its step runs on one`
        : 'not cross-origin isolated (serve with npm run lab for the COOP/COEP headers): no SharedArrayBuffer; the WASM backend runs one thread'),
      el('div', { class: 'row' }, threadButton, threadLine),
      el('div', { class: 'row' }, compareButton), compareBody,
      el('div', {}, 'per-kernel time of the last step (a step = attribution forward + two backwards + the gradient pass + the picture forward):'), kernelTable),
    panel('panel-controls', 'Controls', links(['ArraConfig', 'models/arra.ts'], ['docs/arra.md', 'docs/arra.md']),
      el('div', { class: 'row' }, 'conditioning ', condition, ' ', conditionNote),
      el('div', { class: 'row' }, 'mode ', mode, ' λ ', lambda, ' aligned block ', alignLayer, ' objective ', objective, ' ', rerun),
      el('div', { class: 'row' }, 'tokenizer: ', tokenizerLine, ' ', trainVq),
      encoderLine),
    panel('panel-batch', 'The batch as the model sees it', links(['buildClassSequences / buildTextSequences / buildUnconditionalSequences', 'models/sequence.ts'], ['prefixes', 'models/prefix.ts'], ['docs/models.md', 'docs/models.md']), batchBody),
    panel('panel-forward', 'Forward, block by block', links(['Transformer.forward', 'models/transformer.ts'], ['Projector', 'models/projector.ts'], ['globalVisualAlignment', 'models/arra.ts']), forwardBody),
    panel('panel-losses', 'L_AR, L_GVA, L_ARRA', links(['arraLoss', 'models/arra.ts'], ['docs/arra.md', 'docs/arra.md']), lossBody),
    panel('panel-backward', 'Backward: where each loss pushes', links(['gradientAttribution', 'models/attribution.ts'], ['docs/arra.md', 'docs/arra.md']), backwardBody),
    panel('panel-training', 'Training: baseline and ARRA from the same seed', links(['arraLoss', 'models/arra.ts'], ['AdamW', 'lib/optim/adamw.ts'], ['docs/experiments.md', 'docs/experiments.md']),
      el('div', { class: 'row' }, trainStart, trainPause, trainStep, trainReset, ' steps: ', trainCount), curves),
    panel('panel-sampling', 'Sampling', links(['sampleImages', 'models/sampling.ts'], ['VQTokenizer.decode', 'models/vq.ts'], ['docs/models.md', 'docs/models.md']),
      el('div', { class: 'row' }, el('span', { class: 'for-class' }, 'class ', sampleClass), el('span', { class: 'for-text' }, 'prompt ', samplePrompt),
        ' CFG scale ', cfg, ' temperature ', temperature, ' top-k (0 = all) ', topK, ' ', sampleRun),
      sampleError, sampleSource,
      el('div', { class: 'row' }, sampleTokens, sampleImage)),
    panel('panel-demo', 'A previous `arra demo` run', links(['demo', 'examples/commands/demo.ts']), demoBody),
  );

  // ---- drawing ---------------------------------------------------------------------------
  const drawBackend = (): void => {
    backendLabel.textContent = describeBackend();
    kernelTable.replaceChildren(el('tr', {}, el('th', {}, 'kernel'), el('th', {}, 'calls'), el('th', {}, 'ms')),
      ...lastTimes.map((t) => el('tr', {}, el('td', {}, t.kernel), el('td', {}, String(t.calls)), el('td', {}, t.ms.toFixed(2)))),
      el('tr', {}, el('td', {}, 'outside the backend (ops in TypeScript)'), el('td', {}, ''), el('td', {}, lastReport ? (lastReport.stepMs - lastTimes.reduce((s, t) => s + t.ms, 0)).toFixed(1) : '')),
      el('tr', {}, el('td', {}, 'whole step'), el('td', {}, ''), el('td', { 'data-testid': 'step-ms' }, lastReport ? lastReport.stepMs.toFixed(1) : '')));
  };

  const drawBatch = (r: StepReport): void => batchBody.replaceChildren(...batchView(r, (id) => lab.tokenName(id)));
  const drawForward = (r: StepReport): void => forwardBody.replaceChildren(...forwardView(r));
  const drawLosses = (r: StepReport): void => lossBody.replaceChildren(...lossesView(r, lab.layout.vocabSize));
  const drawBackward = (r: StepReport): void => backwardBody.replaceChildren(...backwardView(r, runs.steps));
  const drawCurves = (): void => {
    trainCount.textContent = String(runs.steps);
    curves.replaceChildren(...curvesView(runs));
    drawSource();
  };

  /** Run the step on the ARRA run's current model and redraw every step panel. */
  const runStep = (): StepReport => {
    readSettings();
    const timed = backend() as TimedBackend;
    timed.resetTimes?.();
    const report = lab.step(runs.arra.model, runs.arra.projector, settings, stepIndices);
    lastTimes = timed.times?.() ?? [];
    lastReport = report;
    drawBatch(report);
    drawForward(report);
    drawLosses(report);
    drawBackward(report);
    drawBackend();
    return report;
  };

  // ---- training loop ---------------------------------------------------------------------
  let running = false;
  const trainOnce = (): void => {
    runs.step();
    drawCurves();
  };
  const loop = (): void => {
    if (!running) return;
    trainOnce();
    setTimeout(loop, 0);
  };
  trainStart.onclick = () => { if (!running) { running = true; loop(); } };
  trainPause.onclick = () => { running = false; runStep(); };
  trainStep.onclick = () => { trainOnce(); runStep(); };
  trainReset.onclick = () => { running = false; readSettings(); runs = new SideBySide(lab, settings); drawCurves(); runStep(); };

  // ---- sampling ---------------------------------------------------------------------------
  /** What the sampling panel samples from, said plainly: which weights, trained where, for how long. */
  const drawSource = (): void => {
    const data = lab.condition === 'text' ? `${lab.size} captioned shapes made in this page (seed 0)` : `${lab.size} MNIST digits from the local server`;
    sampleSource.textContent = `samples come from the ARRA run's tiny transformer, trained in this page for ${runs.steps} steps on ${data}; tokenizer: ${lab.tokenizer}. Nothing here is loaded from a checkpoint (the demo panel below samples the loaded ones).`;
  };
  /** The panels follow the conditioning mode: class and prompt inputs, CFG (no guidance without a condition). */
  const drawCondition = (): void => {
    const c = lab.condition;
    root.querySelectorAll<HTMLElement>('.for-class').forEach((e) => { e.style.display = c === 'class' ? '' : 'none'; });
    root.querySelectorAll<HTMLElement>('.for-text').forEach((e) => { e.style.display = c === 'text' ? '' : 'none'; });
    cfg.disabled = c === 'none';
    conditionNote.textContent = c === 'text'
      ? `prompt slot of ${lab.text!.promptLen} words, ${lab.text!.tokenizer.size - 2} known words: ${lab.text!.tokenizer.vocab.slice(2).join(' ')}`
      : c === 'none' ? 'one constant prefix: nothing says which digit to draw; CFG is off (there is no condition to contrast with)' : 'the class token says which digit';
    tokenizerLine.textContent = lab.tokenizer;
    const [, C, side] = lab.data.images28.shape as [number, number, number];
    encoderLine.textContent = `alignment target f_GF: a frozen ConvNet with seeded random weights (random features, ${ENCODER_DIM}-d) of each ${side} px ${C === 3 ? 'RGB' : 'grey'} image — a fixed target per image, not a pretrained encoder (the demo trains one)`;
    sampleError.textContent = '';
    drawSource();
  };
  /** Each mode keeps its own training runs, so switching back finds them where they were. */
  const runsByMode = new Map<ConditionMode, SideBySide>();
  /** Switch mode: that mode's Lab and runs (fresh ones from the same seed the first time), the step on its batch. */
  const setCondition = (c: ConditionMode): void => {
    running = false;
    runsByMode.set(lab.condition, runs);
    condition.value = c;
    lab = labFor(c);
    readSettings();
    runs = runsByMode.get(c) ?? new SideBySide(lab, settings);
    stepIndices = lab.pick(STEP_BATCH, new Rng(1));
    sampleTokens.replaceChildren(); // the last sample was another mode's
    sampleImage.replaceChildren();
    drawCondition();
    drawCurves();
    runStep();
  };
  condition.onchange = () => setCondition(condition.value as ConditionMode);

  /** Draw the tokens one by one (each appears after the previous), then the decoded image; a bad prompt is shown, not thrown. */
  const sample = async (opts: SampleRequest, delayMs = 150): Promise<{ codes: number[]; image: number[]; shape: number[] } | { error: string; nearest: string[] }> => {
    sampleError.textContent = '';
    let out: ReturnType<Lab['sample']>;
    try {
      out = lab.sample(runs.arra.model, lab.condition === 'none' ? { ...opts, cfgScale: 1 } : opts);
    } catch (e) {
      if (!(e instanceof PromptError)) throw e;
      sampleError.textContent = `prompt: ${e.message}`;
      sampleTokens.replaceChildren();
      sampleImage.replaceChildren();
      return { error: e.message, nearest: e.nearest };
    }
    drawSource();
    const grid = lab.vq.gridSize;
    sampleTokens.style.gridTemplateColumns = `repeat(${grid}, 2.6em)`;
    sampleTokens.replaceChildren(...Array.from({ length: grid * grid }, () => el('div', {}, '·')));
    sampleImage.replaceChildren();
    for (let n = 0; n < out.codes.length; n++) {
      await new Promise((r) => setTimeout(r, delayMs));
      sampleTokens.children[n]!.textContent = `z${out.codes[n]}`;
    }
    const [, C, side] = out.image.shape as [number, number, number];
    sampleImage.replaceChildren(planesImage(out.image.values, C, side, 12, 'sample-image'), el('div', {}, `decoded by ${lab.tokenizer.startsWith('VQ trained') ? 'the trained' : 'the untrained (seeded random)'} VQ`));
    return { codes: out.codes, image: out.image.values, shape: out.image.shape };
  };
  sampleRun.onclick = () => void sample({ classIndex: Number(sampleClass.value), prompt: samplePrompt.value, cfgScale: Number(cfg.value), temperature: Number(temperature.value), topK: Number(topK.value), seed: Date.now() % 100000 });

  // ---- tokenizer, backend, demo ------------------------------------------------------------
  /** New codes mean a new language for the transformer: both training runs restart (same seed). */
  const trainTokenizer = (steps: number): number[] => {
    const losses = lab.trainTokenizer(steps);
    tokenizerLine.textContent = `${lab.tokenizer}; the training runs restarted on the new codes`;
    running = false;
    runs = new SideBySide(lab, settings);
    drawCurves();
    return losses;
  };
  trainVq.onclick = () => { trainTokenizer(150); runStep(); };
  rerun.onclick = () => runStep();
  for (const c of [mode, lambda, alignLayer, objective]) c.onchange = () => runStep();
  const useBackend = (name: string): string => {
    setBackend(name);
    backendSelect.value = name;
    runStep();
    return describeBackend();
  };
  backendSelect.onchange = () => useBackend(backendSelect.value);

  /** The same step on ref, fast and gpujs: the numbers and their largest difference from ref. */
  const compareBackends = (): { backend: string; lossAR: number; lossGVA: number; gradDiff: number; ms: number }[] => {
    const chosen = backend().name;
    const rows = ['ref', 'fast', 'gpujs'].map((name) => {
      setBackend(name);
      return { name, report: runStep() };
    });
    const ref = rows[0]!.report;
    const out = rows.map(({ name, report }) => ({
      backend: name, lossAR: report.lossAR, lossGVA: report.lossGVA, ms: report.stepMs,
      gradDiff: Math.max(...report.gradients.flatMap((g, k) => g.values.map((v, i) => Math.abs(v - ref.gradients[k]!.values[i]!)))),
    }));
    compareBody.replaceChildren(el('table', {}, el('tr', {}, el('th', {}, 'backend'), el('th', {}, 'L_AR'), el('th', {}, 'L_GVA'), el('th', {}, '|L_AR − ref|'), el('th', {}, '|L_GVA − ref|'), el('th', {}, 'max |∂θ − ref| (2 tensors)'), el('th', {}, 'step ms')),
      ...out.map((r) => el('tr', {}, el('td', {}, r.backend), el('td', {}, fmt(r.lossAR)), el('td', {}, fmt(r.lossGVA)), el('td', {}, Math.abs(r.lossAR - ref.lossAR).toExponential(1)),
        el('td', {}, Math.abs(r.lossGVA - ref.lossGVA).toExponential(1)), el('td', {}, r.gradDiff.toExponential(1)), el('td', {}, r.ms.toFixed(1))))),
      el('p', {}, 'Stated tolerance: 1e-5 for WASM SIMD, 1e-4 for gpu.js (float32 on the GPU, other summation order); the first gpu.js step includes shader compilation.'));
    useBackend(chosen);
    return out;
  };
  compareButton.onclick = () => void compareBackends();

  /** The threaded matmul against one thread (thread-check.ts), once every helper has started. */
  const threadCheck = async (size = 256, reps = 3): Promise<ThreadCheck> => {
    await fastBackend.whenReady();
    const r = checkThreads(fastBackend, size, reps);
    threadLine.textContent = `${r.readyThreads} of ${r.threads} threads took work (${r.helperSlices} units of the products on the workers); max relative difference from one thread ${r.maxRelDiff.toExponential(1)} (stated tolerance 1e-5); ${r.msThreads.toFixed(1)} ms vs ${r.msOne.toFixed(1)} ms on one thread`;
    return r;
  };
  threadButton.onclick = () => void threadCheck();

  let gpu: GpuCheck | null = null;
  try {
    gpu = checkGpujs();
    gpuLine.textContent = `gpu.js check: mode ${gpu.mode}; matmul 37×53·53×29 max rel. error ${gpu.matmulError.toExponential(2)}, softmax 12×100 max error ${gpu.softmaxError.toExponential(2)} vs the reference loops`;
  } catch (e) {
    gpuLine.textContent = `gpu.js check failed: ${e instanceof Error ? e.message : String(e)}`;
  }

  /** The demo panel: the run's figures, and sampling from its checkpoints (demo-run.ts). */
  let demo: DemoRun | null = null;
  const showDemo = async (): Promise<void> => {
    const { present, files } = (await (await fetch('/runs/demo/index.json')).json()) as { present: boolean; files: { path: string; bytes: number }[] };
    if (!present) { demoBody.textContent = 'no runs/demo next to this checkout (run `arra demo` first; the server serves its outputs when present).'; return; }
    const figures = files.filter((f) => /\.(png|svg)$/.test(f.path));
    const checkpoints = files.filter((f) => f.path.endsWith('.safetensors')).map((f) => f.path);
    demoBody.replaceChildren(
      el('p', {}, `${files.length} files from runs/demo; checkpoints: ${checkpoints.join(', ') || 'none'}`),
      el('div', { class: 'row' }, ...figures.map((f) => el('figure', {}, el('img', { src: `/runs/demo/${f.path}`, alt: f.path }), el('figcaption', {}, f.path)))),
    );
    demo = await loadDemoRun(files.map((f) => f.path), async (p) => new Uint8Array(await (await fetch(`/runs/demo/${p}`)).arrayBuffer()));
    if (!demo) return;
    const run = demo;
    const which = select('demo-model', run.models.map((m, i) => [String(i), `${m.name} (mode ${m.mode}, step ${m.step})`] as [string, string]), '0');
    const demoClass = select('demo-class', run.models[0]!.classNames.map((c, i) => [String(i), c] as [string, string]), '0');
    const go = el('button', { 'data-testid': 'demo-sample' }, 'sample from the demo model');
    const tokens = el('div', { 'data-testid': 'demo-tokens', class: 'token-grid small' });
    const out = el('div', { class: 'sample-out' });
    go.onclick = () => {
      const m = run.models[Number(which.value)]!;
      const r = sampleDemo(run, m, { classIndex: Number(demoClass.value), cfgScale: Number(cfg.value), temperature: Number(temperature.value), topK: Number(topK.value), seed: Date.now() % 100000 });
      const grid = run.vq.gridSize;
      tokens.style.gridTemplateColumns = `repeat(${grid}, 2.4em)`;
      tokens.replaceChildren(...r.codes.map((c) => el('div', {}, String(c))));
      out.replaceChildren(greyImage(r.image.values, r.image.shape[2]!, 6, 'demo-image'), el('div', {}, `decoded by the run's VQ (${run.vq.config.imageSize} px)`));
    };
    demoBody.append(el('h3', {}, `sample from the run's checkpoints (${run.vq.gridSize}×${run.vq.gridSize} tokens; CFG, temperature and top-k from the sampling panel)`),
      el('div', { class: 'row' }, which, demoClass, go), el('div', { class: 'row' }, tokens, out));
  };
  const demoReady = showDemo().catch((e: unknown) => { demoBody.textContent = `runs/demo could not be read: ${e instanceof Error ? e.message : String(e)}`; });

  setBackend('fast');
  drawCondition();
  drawCurves();
  runStep();

  (window as unknown as { arraLab: unknown }).arraLab = {
    get lab(): Lab { return lab; },
    /** Switch the conditioning mode (class / text / none) as the select does. */
    setCondition,
    step: (s: Partial<StepSettings> = {}, backendName?: string): StepReport => {
      if (backendName) setBackend(backendName);
      mode.value = s.mode ?? settings.mode;
      lambda.value = String(s.lambda ?? settings.lambda);
      alignLayer.value = String(s.alignLayer ?? settings.alignLayer);
      objective.value = s.objective ?? settings.objective;
      backendSelect.value = backend().name;
      return runStep();
    },
    get stepIndices(): number[] { return stepIndices; },
    kernelTimes: (): KernelTime[] => lastTimes,
    useBackend,
    train: (n: number): { baseline: { lossAR: number; lossGVA: number }[]; arra: { lossAR: number; lossGVA: number }[] } => {
      for (let i = 0; i < n; i++) runs.step();
      drawCurves();
      runStep();
      return { baseline: runs.baseline.history, arra: runs.arra.history };
    },
    trainTokenizer: (n: number): number[] => { const l = trainTokenizer(n); runStep(); return l; },
    sample: (o: SampleRequest) => sample(o, 20),
    gpuCheck: (): GpuCheck | null => gpu,
    compareBackends,
    threadCheck,
    /** The demo run's models, or null when runs/demo has none. */
    demoModels: (): string[] | null => demo?.models.map((m) => m.name) ?? null,
    /** Best-of-reps ms of one size³ matmul on backend `name` (bench/lab-step.ts). */
    timeMatmul: async (name: string, size: number, reps: number): Promise<number> => {
      setBackend(name);
      if (name === 'fast') await fastBackend.whenReady(); // every helper worker takes work
      const b = backend();
      return timeMatmul((args) => b.matmul(args), size, reps);
    },
    /** Threads of the page's fast backend (PAGE_THREADS). */
    fastThreads: PAGE_THREADS,
    /** Load a TrainRun.checkpoint() (bytes as numbers) into the ARRA run, then re-run the step. */
    loadCheckpoint: (bytes: number[]): StepReport => { runs.arra.load(Uint8Array.from(bytes)); return runStep(); },
  };
  await demoReady;
  document.body.dataset.ready = 'true';
}

start().catch((e: unknown) => {
  console.error(e);
  document.body.dataset.ready = 'error';
  document.getElementById('lab')!.textContent = `The lab failed to start: ${e instanceof Error ? e.message : String(e)}`;
});
