/**
 * A worker of `arra demo --jobs N` (examples/pipeline/workers.ts): it reads the demo's shared
 * stages back from its folder once, then trains and scores the models it is given
 * (demo-models.ts), the same job the main thread runs with `--jobs 1`.
 */
import { serveJobs, sharedData } from '../pipeline/workers';
import { loadDemoContext, trainDemoModel, type DemoContext, type DemoModelJob, type DemoModelResult, type DemoSpec } from './demo-models';

let ctx: DemoContext | null = null;
serveJobs<DemoModelJob, DemoModelResult>((job) => trainDemoModel((ctx ??= loadDemoContext(sharedData<DemoSpec>())), job));
