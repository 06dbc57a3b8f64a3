/**
 * A worker of `arra demo --jobs N` (examples/pipeline/workers.ts). It serves two kinds of job:
 * a shared stage (demo-shared.ts: the tokenizer or one ConvNet, trained and saved), and a model
 * (demo-models.ts: trained and scored on the shared stages, which it reads back from the demo's
 * folder once). Each is the same function the main thread runs with `--jobs 1`.
 */
import { loadData } from '../pipeline/datasets';
import { serveJobs, sharedData } from '../pipeline/workers';
import { demoDataFlags, loadDemoContext, trainDemoModel, type DemoArrays, type DemoContext, type DemoModelJob, type DemoModelResult, type DemoSpec } from './demo-models';
import { runSharedJob, type SharedJob, type SharedResult } from './demo-shared';

/** A job of the demo's pool. */
export type DemoJob = ({ kind: 'model'; arrays: DemoArrays } & DemoModelJob) | SharedJob;
export type DemoJobResult = DemoModelResult | SharedResult;

const spec = sharedData<DemoSpec>();
let data: ReturnType<typeof loadData> | null = null;
let ctx: DemoContext | null = null;
serveJobs<DemoJob, DemoJobResult>((job) => {
  if (job.kind === 'model') return trainDemoModel((ctx ??= loadDemoContext(spec, job.arrays)), job);
  return runSharedJob(spec, (data ??= loadData(demoDataFlags(spec))), job);
});
