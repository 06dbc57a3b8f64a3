/**
 * The lab's training runs, without the page: one run (a model, its projector, AdamW and its
 * loss history, checkpointed as safetensors bytes) and the side-by-side pair the Train panel
 * drives — baseline and ARRA from the same seed on the same batches (docs/lab.md).
 */
import { AdamW, clipGradNorm, noGrad, parseSafetensors, Rng, serializeSafetensors, streamSeed, type Tensor } from '../../lib';
import { arraConfig, arraLoss, Projector, trainingStateDict, Transformer } from '../../models';
import { type Lab, type StepSettings, TRAIN_BATCH } from './lab-core';

/** One training run: a model, its projector and AdamW, and its loss history. */
export class TrainRun {
  readonly model: Transformer;
  readonly projector: Projector;
  private readonly opt: AdamW;
  readonly history: { lossAR: number; lossGVA: number }[] = [];

  constructor(readonly lab: Lab, readonly settings: StepSettings, seed: number, lr = 1e-2) {
    ({ model: this.model, projector: this.projector } = lab.freshModel(seed));
    const params = settings.mode === 'off' ? this.model.parameters() : [...this.model.parameters(), ...this.projector.parameters()];
    this.opt = new AdamW(params, { lr, weightDecay: 0 });
  }

  /**
   * One optimiser step on `indices`. The baseline (mode `off`) does not train L_GVA, but its
   * L_GVA is still *measured* (same projector init, no gradient), so the two curves compare.
   */
  step(indices: number[], rng: Rng): { lossAR: number; lossGVA: number } {
    const cfg = arraConfig({ ...this.settings, encoderName: 'lab-convnet-random', projectorHidden: 32 });
    const batch = this.lab.batch(indices, 0.1, rng);
    this.opt.zeroGrad();
    const l = arraLoss(this.model, this.settings.mode === 'off' ? null : this.projector, batch, cfg);
    l.loss.backward();
    clipGradNorm(this.model.parameters(), 1);
    this.opt.step();
    const lossGVA = this.settings.mode === 'off'
      ? noGrad(() => arraLoss(this.model, this.projector, batch, { ...cfg, mode: 'hybnext' }).lossGVA.item())
      : l.lossGVA.item();
    const entry = { lossAR: l.lossAR.item(), lossGVA };
    this.history.push(entry);
    return entry;
  }

  /** Model and projector as safetensors bytes (models/arra.ts trainingStateDict: `projector.` prefix). */
  checkpoint(): Uint8Array {
    return serializeSafetensors(trainingStateDict(this.model, this.projector));
  }

  /** Load {@link checkpoint} bytes (lib/io parseSafetensors: no file system, so it works in a page). */
  load(bytes: Uint8Array): void {
    const { tensors } = parseSafetensors(bytes, 'lab checkpoint');
    const own = (prefix: boolean): Map<string, Tensor> => new Map([...tensors].filter(([n]) => n.startsWith('projector.') === prefix).map(([n, t]) => [prefix ? n.slice('projector.'.length) : n, t]));
    this.model.loadStateDict(own(false));
    this.projector.loadStateDict(own(true));
  }
}

/** Baseline and ARRA from the same seed, fed the same batches. */
export class SideBySide {
  readonly baseline: TrainRun;
  readonly arra: TrainRun;
  private readonly rng: Rng;

  constructor(readonly lab: Lab, settings: StepSettings, seed = lab.seed) {
    const arraSettings = settings.mode === 'off' ? { ...settings, mode: 'hybnext' as const } : settings;
    this.baseline = new TrainRun(lab, { ...settings, mode: 'off' }, seed);
    this.arra = new TrainRun(lab, arraSettings, seed);
    this.rng = new Rng(streamSeed(seed, 11));
  }

  get steps(): number {
    return this.arra.history.length;
  }

  /** One step of each run on the same images (and the same condition drops). */
  step(): { baseline: { lossAR: number; lossGVA: number }; arra: { lossAR: number; lossGVA: number } } {
    const indices = this.lab.pick(TRAIN_BATCH, this.rng);
    const dropSeed = this.rng.int(1 << 30);
    return { baseline: this.baseline.step(indices, new Rng(dropSeed)), arra: this.arra.step(indices, new Rng(dropSeed)) };
  }
}
