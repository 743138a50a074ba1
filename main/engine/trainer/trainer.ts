/**
 * The LD training loop, free of files and threads: it draws batches from prepared images, steps the
 * model, reports progress, and hands checkpoints to a sink. Everything random comes from one seeded
 * RNG whose state is part of each checkpoint, so a resumed run continues bit for bit.
 */
import { alignGridIndex, makeBatch, type PreparedImage } from '../data';
import { GRID } from '../losses';
import { initModel, ParamStore, type NamedArray } from '../model/params';
import type { ModelConfig } from '../model/spec';
import { Adam, PAPER_ADAM } from '../optim/adam';
import { Rng, type RngState } from '../rng';
import { initDiscriminator } from '../shapeGuided/discriminator';
import { drawPriorBatch, type PriorMask } from '../shapeGuided/priors';
import { tf } from '../tf';
import { BUDGET_TIMED_STEPS, learningRate, stageOfStep, stepsForMinutes, type TrainConfig } from './config';
import { trainStep, type LossValues, type ShapeStepContext } from './step';

export interface Checkpoint {
  /** Last completed step. */
  step: number;
  stage: 1 | 2;
  rng: RngState;
  adamStep: number;
  /** Model parameters, BN statistics and Adam moments (keys `adam.m.*`, `adam.v.*`). */
  tensors: Map<string, NamedArray>;
}

export interface StepReport {
  step: number;
  stage: 1 | 2;
  lr: number;
  losses: LossValues;
  seconds: number;
}

export interface ProgressEvent extends StepReport {
  totalSteps: number;
  imagesPerSecond: number;
  etaSeconds: number;
}

/** A time budget turned into steps (TrainConfig.minutes). */
export interface BudgetReport {
  steps: number;
  stage1Steps: number;
  secondsPerStep: number;
  timedSteps: number;
}

export interface TrainerSink {
  onStep(report: StepReport): void | Promise<void>;
  onBudget?(report: BudgetReport): void | Promise<void>;
  onProgress?(event: ProgressEvent): void;
  onCheckpoint(checkpoint: Checkpoint, reason: 'interval' | 'final' | 'cancel'): void | Promise<void>;
}

export interface CancelToken {
  readonly cancelled: boolean;
}

export function modelConfigFor(config: TrainConfig, stage: 1 | 2): ModelConfig {
  return { inChannels: config.channels, embedDim: config.embedDim, clusters: stage === 2 ? config.clusters : 0 };
}

export interface TrainerExtras {
  /** Shape-guided training: the prior masks (required when config.shapeGuided is set). */
  priors?: PriorMask[];
  /** config.initFrom's tensors (a new stage-2 run starts from them). */
  init?: Map<string, NamedArray>;
}

/**
 * Copy every tensor of `tensors` that the store has, with the same shape (Adam state and other extras
 * are ignored). Returns the names copied and the store's names left at their initialisation.
 */
export function assignMatching(store: ParamStore, tensors: Map<string, NamedArray>): { loaded: string[]; kept: string[] } {
  const loaded: string[] = [];
  const kept: string[] = [];
  for (const [name, v] of [...store.trainable, ...store.buffers]) {
    const a = tensors.get(name);
    if (a && a.shape.join('x') === v.shape.join('x')) {
      v.assign(tf.tensor(a.data, a.shape));
      loaded.push(name);
    } else kept.push(name);
  }
  return { loaded, kept };
}

/** Adam state keys of the discriminator in checkpoints: `disc_adam.m.<key>`, `disc_adam.v.<key>`. */
const DISC_ADAM = 'disc_adam.';

export class Trainer {
  private store: ParamStore;
  private adam: Adam;
  private rng: Rng;
  private step: number;
  private stage: 1 | 2;
  private disc?: ParamStore;
  private discAdam?: Adam;
  private readonly priors?: PriorMask[];
  /** With config.initFrom: the tensors copied from it and the ones left at their initialisation. */
  readonly initReport?: { loaded: string[]; kept: string[] };

  constructor(
    readonly config: TrainConfig,
    private readonly images: PreparedImage[],
    resume?: Checkpoint,
    extras: TrainerExtras = {},
  ) {
    if (images.length === 0) throw new Error('no training images');
    if (config.shapeGuided) {
      if (!extras.priors?.length) throw new Error('shape-guided training needs prior masks');
      this.priors = extras.priors;
    }
    if (resume) {
      this.step = resume.step;
      this.stage = resume.stage;
      this.rng = new Rng(resume.rng);
      this.store = initModel(modelConfigFor(config, resume.stage), new Rng(0)); // shapes only; overwritten
      this.store.assignFrom(resume.tensors);
      this.adam = new Adam(PAPER_ADAM);
      this.adam.load(resume.tensors, resume.adamStep);
      if (this.stage === 2 && config.shapeGuided) {
        this.disc = initDiscriminator(new ParamStore(), new Rng(0)); // shapes only
        this.disc.assignFrom(resume.tensors);
        this.discAdam = new Adam(PAPER_ADAM);
        const moments = new Map<string, NamedArray>();
        for (const [key, a] of resume.tensors) if (key.startsWith(DISC_ADAM)) moments.set(key.slice('disc_'.length), a);
        this.discAdam.load(moments, resume.adamStep);
      }
    } else {
      this.step = 0;
      this.rng = new Rng(config.seed);
      this.stage = stageOfStep(config, 1).stage;
      this.store = initModel(modelConfigFor(config, this.stage), this.rng);
      this.adam = new Adam(PAPER_ADAM);
      if (extras.init) {
        if (this.stage !== 2) throw new Error('initialising from a checkpoint needs a stage-2 run');
        this.initReport = assignMatching(this.store, extras.init);
        if (!this.initReport.loaded.some((n) => n.startsWith('enc'))) throw new Error('the initialisation checkpoint has no encoder weights matching this model (different input channels?)');
      }
      if (this.stage === 2 && config.shapeGuided) this.createDiscriminator();
    }
  }

  private createDiscriminator(): void {
    this.disc = initDiscriminator(new ParamStore(), this.rng);
    this.discAdam = new Adam(PAPER_ADAM);
  }

  /** The discriminator (shape-guided stage 2 only). */
  get discriminator(): ParamStore | undefined {
    return this.disc;
  }

  get completedSteps(): number {
    return this.step;
  }

  get params(): ParamStore {
    return this.store;
  }

  async checkpoint(): Promise<Checkpoint> {
    const tensors = await this.store.toArrays();
    for (const [k, v] of await this.adam.toArrays()) tensors.set(k, v);
    if (this.disc && this.discAdam) {
      for (const [k, v] of await this.disc.toArrays()) tensors.set(k, v);
      // adam.m.disc_1.weight → disc_adam.m.disc_1.weight (kept apart from G's optimiser state)
      for (const [k, v] of await this.discAdam.toArrays()) tensors.set(`disc_${k}`, v);
    }
    return { step: this.step, stage: this.stage, rng: this.rng.state(), adamStep: this.adam.step, tensors };
  }

  /** A time budget becomes a step count once the first steps are timed (the PyTorch engine does the same). */
  private async fixBudget(timed: number[], sink: TrainerSink): Promise<void> {
    const c = this.config;
    c.steps = Math.max(this.step + 1, stepsForMinutes(c.minutes!, timed));
    if (c.stage === 'both' && c.stage1Share !== undefined) c.stage1Steps = Math.min(c.steps, Math.max(1, Math.round(c.steps * c.stage1Share)));
    c.budget = { secondsPerStep: timed.reduce((a, b) => a + b, 0) / timed.length, timedSteps: timed.length };
    await sink.onBudget?.({ steps: c.steps, stage1Steps: c.stage1Steps, ...c.budget });
  }

  /** Stage 2 adds the clustering branch (default init) and a fresh Adam, as the reference does. */
  private enterStage2(): void {
    initModel(modelConfigFor(this.config, 2), this.rng, this.store);
    this.adam.dispose();
    this.adam = new Adam(PAPER_ADAM);
    this.stage = 2;
    if (this.config.shapeGuided) this.createDiscriminator();
  }

  private shapeContext(): ShapeStepContext | undefined {
    const sg = this.config.shapeGuided;
    if (!sg || this.stage !== 2 || !this.disc || !this.discAdam) return undefined;
    return { disc: this.disc, discAdam: this.discAdam, slope: sg.discLeakySlope, gWeight: sg.gWeight, discLrFactor: sg.discLrFactor, cluster: sg.cluster };
  }

  async run(sink: TrainerSink, cancel: CancelToken = { cancelled: false }): Promise<'completed' | 'cancelled'> {
    const { config } = this;
    const started = Date.now();
    const startStep = this.step;
    let lastCheckpointStep = this.step;
    let measuring = config.minutes !== undefined && !config.budget;
    const timed: number[] = [];
    let warm = false; // the first step of a process (kernel set-up) is not timed
    while (this.step < config.steps) {
      if (cancel.cancelled) {
        if (lastCheckpointStep !== this.step) await sink.onCheckpoint(await this.checkpoint(), 'cancel');
        return 'cancelled';
      }
      const next = this.step + 1;
      const { stage, stageStep } = stageOfStep(config, next);
      if (stage === 2 && this.stage === 1) this.enterStage2();
      const lr = learningRate(config, stageStep);
      const t0 = Date.now();
      const batch = makeBatch(this.images, this.rng, { pairs: config.batch, cropSize: config.size, channels: config.channels, geometry: config.augment });
      const alignment = { src: Array.from({ length: 2 * config.batch }, (_, i) => alignGridIndex(batch.f[i], batch.k[i], GRID)) };
      const shape = this.shapeContext();
      const real = shape ? drawPriorBatch(this.priors!, this.rng, config.batch, config.size) : undefined;
      const losses = await trainStep(
        { store: this.store, model: modelConfigFor(config, stage), adam: this.adam, filterGrad: config.filterGrad, microBatch: config.microBatch, shape },
        { x: batch.x, shape: [batch.n, config.size, config.size, config.channels], meta: { pairs: config.batch, w: batch.w, alignment, centreSigma: config.centreSigma ?? 0, negatives: config.negatives ?? 'batch', warps: batch.warps }, real },
        lr,
      );
      this.step = next;
      const seconds = (Date.now() - t0) / 1000;
      await sink.onStep({ step: next, stage, lr, losses, seconds });
      if (measuring) {
        if (warm) timed.push(seconds);
        warm = true;
        if (timed.length === BUDGET_TIMED_STEPS) {
          await this.fixBudget(timed, sink);
          measuring = false;
        }
      }
      if (sink.onProgress) {
        const elapsed = (Date.now() - started) / 1000;
        const perStep = elapsed / (next - startStep);
        sink.onProgress({
          step: next, stage, lr, losses, seconds, totalSteps: config.steps,
          imagesPerSecond: (5 * config.batch) / Math.max(seconds, 1e-6),
          etaSeconds: perStep * (config.steps - next),
        });
      }
      if (next % config.checkpointEvery === 0 || next === config.steps) {
        await sink.onCheckpoint(await this.checkpoint(), next === config.steps ? 'final' : 'interval');
        lastCheckpointStep = next;
      }
    }
    return 'completed';
  }

  dispose(): void {
    this.store.dispose();
    this.adam.dispose();
    this.disc?.dispose();
    this.discAdam?.dispose();
  }
}

/** Live tensor count and bytes, for leak checks. */
export function tensorMemory(): { tensors: number; bytes: number } {
  const m = tf.memory();
  return { tensors: m.numTensors, bytes: m.numBytes };
}
