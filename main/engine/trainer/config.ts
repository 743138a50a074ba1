/**
 * Training settings. Defaults are the paper's (ld-method.md §1-§4); smaller image size and batch
 * for CPUs are ordinary options, recorded in run.json.
 */
import type { BackendName } from '../backends';
import type { FilterGradMode } from '../model/conv';
import { validateShapeGuided, type ShapeGuidedSettings } from '../shapeGuided/config';

export type StageChoice = '1' | '2' | 'both';

export interface TrainConfig {
  stage: StageChoice;
  /** Total optimisation steps of the run (both stages together when stage = both). */
  steps: number;
  /** With stage = both: steps of stage 1 before stage 2 starts (fixed when the run is created). */
  stage1Steps: number;
  /** Training crop side (paper 448); a multiple of 16. Images are first resized to size·512/448. */
  size: number;
  /** B: sampled pairs per step (paper 4); the network sees 5·B images. */
  batch: number;
  /**
   * Pairs per forward/backward pass; absent or equal to `batch` = the paper's objective. A divisor
   * of `batch` saves memory (tfjs-wasm's 4 GiB heap) at the price of per-micro-batch negatives
   * and BatchNorm statistics.
   */
  microBatch?: number;
  channels: 1 | 3;
  clusters: number;
  embedDim: number;
  lr: number;
  /** Halve the learning rate every N steps of a stage (paper: 10 epochs × 1,000 iterations). */
  lrHalveEvery: number;
  seed: number;
  /** Write a checkpoint every N steps (and always at the end and on cancel). */
  checkpointEvery: number;
  filterGrad: FilterGradMode;
  /**
   * Centre-sensitive averaging (ld-method.md §6.1): σ in px at the training size of the Gaussian that
   * weights each patch's average; 0 or absent = the paper's uniform average. `--centre-sensitive`
   * sets it to size·14/448 (the spec's 14 px at 448).
   */
  centreSigma?: number;
  /**
   * Shape-guided segmentation (ld-method.md §5): stage 2 adds a discriminator that pushes cluster
   * `shapeGuided.cluster` of the clustering map towards the prior masks' shapes (+ 1·L_G).
   */
  shapeGuided?: ShapeGuidedSettings;
  /**
   * A checkpoint (absolute path) whose weights initialise the model of a `stage: '2'` run, as the
   * reference's stage 2 starts from its stage-1 checkpoint: every tensor present with the same shape
   * is copied; the rest (e.g. a new clustering branch) keeps its initialisation; Adam starts fresh.
   */
  initFrom?: string;
}

/** Paper: stage 1 runs 20k iterations and stage 2 80k, so stage 1 is a fifth of the total. */
export const PAPER_STAGE1_FRACTION = 0.2;

export const PAPER_DEFAULTS: Omit<TrainConfig, 'filterGrad'> = {
  stage: 'both',
  steps: 100_000,
  stage1Steps: 20_000,
  size: 448,
  batch: 4,
  channels: 1,
  clusters: 16,
  embedDim: 32,
  lr: 1e-3,
  lrHalveEvery: 10_000,
  seed: 0,
  checkpointEvery: 1_000,
};

export function defaultStage1Steps(stage: StageChoice, steps: number): number {
  if (stage === '1') return steps;
  if (stage === '2') return 0;
  return Math.min(steps, Math.max(1, Math.round(steps * PAPER_STAGE1_FRACTION)));
}

export function filterGradFor(backend: BackendName): FilterGradMode {
  // Only libtensorflow has a fast Conv2DBackpropFilter; wasm has none, cpu/webgpu have naive ones.
  return backend === 'tensorflow' ? 'native' : 'im2col';
}

export function validateConfig(c: TrainConfig): string[] {
  const errors: string[] = [];
  if (!Number.isInteger(c.size) || c.size < 32 || c.size % 16 !== 0) errors.push(`size must be a multiple of 16 and at least 32 (got ${c.size})`);
  if (!Number.isInteger(c.batch) || c.batch < 1) errors.push(`batch must be a positive integer (got ${c.batch})`);
  if (c.microBatch !== undefined && (!Number.isInteger(c.microBatch) || c.microBatch < 1 || c.batch % c.microBatch !== 0)) {
    errors.push(`micro-batch must be a positive divisor of the batch ${c.batch} (got ${c.microBatch})`);
  }
  if (!Number.isInteger(c.steps) || c.steps < 1) errors.push(`steps must be a positive integer (got ${c.steps})`);
  if (c.stage === 'both' && (!Number.isInteger(c.stage1Steps) || c.stage1Steps < 0)) errors.push(`stage-1 steps must be a non-negative integer (got ${c.stage1Steps})`);
  if (!(c.lr > 0)) errors.push(`learning rate must be positive (got ${c.lr})`);
  if (!Number.isInteger(c.checkpointEvery) || c.checkpointEvery < 1) errors.push(`checkpoint interval must be a positive integer (got ${c.checkpointEvery})`);
  if (c.centreSigma !== undefined && !(c.centreSigma >= 0 && Number.isFinite(c.centreSigma))) errors.push(`centre sigma must be a non-negative number of pixels (got ${c.centreSigma})`);
  if (c.clusters < 2) errors.push(`clusters must be at least 2 (got ${c.clusters})`);
  if (c.initFrom !== undefined && c.stage !== '2') errors.push(`initialising from a checkpoint needs stage 2 (got stage ${c.stage})`);
  if (c.shapeGuided) {
    if (c.stage === '1') errors.push('shape-guided training needs the clustering branch: use stage 2 or both, not 1');
    errors.push(...validateShapeGuided(c.shapeGuided, { size: c.size, clusters: c.clusters }));
  }
  return errors;
}

/** Which stage a (1-based) global step belongs to, and its 1-based index within that stage. */
export function stageOfStep(c: TrainConfig, step: number): { stage: 1 | 2; stageStep: number } {
  if (c.stage === '1') return { stage: 1, stageStep: step };
  if (c.stage === '2') return { stage: 2, stageStep: step };
  return step <= c.stage1Steps ? { stage: 1, stageStep: step } : { stage: 2, stageStep: step - c.stage1Steps };
}

export function learningRate(c: TrainConfig, stageStep: number): number {
  return c.lr * 0.5 ** Math.floor((stageStep - 1) / c.lrHalveEvery);
}
