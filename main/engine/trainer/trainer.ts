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
import { tf } from '../tf';
import { learningRate, stageOfStep, type TrainConfig } from './config';
import { trainStep, type LossValues } from './step';

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

export interface TrainerSink {
  onStep(report: StepReport): void | Promise<void>;
  onProgress?(event: ProgressEvent): void;
  onCheckpoint(checkpoint: Checkpoint, reason: 'interval' | 'final' | 'cancel'): void | Promise<void>;
}

export interface CancelToken {
  readonly cancelled: boolean;
}

export function modelConfigFor(config: TrainConfig, stage: 1 | 2): ModelConfig {
  return { inChannels: config.channels, embedDim: config.embedDim, clusters: stage === 2 ? config.clusters : 0 };
}

export class Trainer {
  private store: ParamStore;
  private adam: Adam;
  private rng: Rng;
  private step: number;
  private stage: 1 | 2;

  constructor(
    readonly config: TrainConfig,
    private readonly images: PreparedImage[],
    resume?: Checkpoint,
  ) {
    if (images.length === 0) throw new Error('no training images');
    if (resume) {
      this.step = resume.step;
      this.stage = resume.stage;
      this.rng = new Rng(resume.rng);
      this.store = initModel(modelConfigFor(config, resume.stage), new Rng(0)); // shapes only; overwritten
      this.store.assignFrom(resume.tensors);
      this.adam = new Adam(PAPER_ADAM);
      this.adam.load(resume.tensors, resume.adamStep);
    } else {
      this.step = 0;
      this.rng = new Rng(config.seed);
      this.stage = stageOfStep(config, 1).stage;
      this.store = initModel(modelConfigFor(config, this.stage), this.rng);
      this.adam = new Adam(PAPER_ADAM);
    }
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
    return { step: this.step, stage: this.stage, rng: this.rng.state(), adamStep: this.adam.step, tensors };
  }

  /** Stage 2 adds the clustering branch (default init) and a fresh Adam, as the reference does. */
  private enterStage2(): void {
    initModel(modelConfigFor(this.config, 2), this.rng, this.store);
    this.adam.dispose();
    this.adam = new Adam(PAPER_ADAM);
    this.stage = 2;
  }

  async run(sink: TrainerSink, cancel: CancelToken = { cancelled: false }): Promise<'completed' | 'cancelled'> {
    const { config } = this;
    const started = Date.now();
    const startStep = this.step;
    let lastCheckpointStep = this.step;
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
      const batch = makeBatch(this.images, this.rng, { pairs: config.batch, cropSize: config.size, channels: config.channels });
      const alignment = { src: Array.from({ length: 2 * config.batch }, (_, i) => alignGridIndex(batch.f[i], batch.k[i], GRID)) };
      const losses = await trainStep(
        { store: this.store, model: modelConfigFor(config, stage), adam: this.adam, filterGrad: config.filterGrad, microBatch: config.microBatch },
        { x: batch.x, shape: [batch.n, config.size, config.size, config.channels], meta: { pairs: config.batch, w: batch.w, alignment, centreSigma: config.centreSigma ?? 0 } },
        lr,
      );
      this.step = next;
      const seconds = (Date.now() - t0) / 1000;
      await sink.onStep({ step: next, stage, lr, losses, seconds });
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
  }
}

/** Live tensor count and bytes, for leak checks. */
export function tensorMemory(): { tensors: number; bytes: number } {
  const m = tf.memory();
  return { tensors: m.numTensors, bytes: m.numBytes };
}
