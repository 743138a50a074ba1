/**
 * Training settings. Defaults are the paper's (ld-method.md §1-§4); smaller image size and batch
 * for CPUs are ordinary options, recorded in run.json.
 */
import type { BackendName } from '../backends';
import { PAPER_GEOMETRY, type GeometrySettings } from '../data/augment';
import type { FilterGradMode } from '../model/conv';
import { validateShapeGuided, type ShapeGuidedSettings } from '../shapeGuided/config';

export type StageChoice = '1' | '2' | 'both';

/**
 * The geometric augmentation a run may change (ld-method.md §1.2 A and C): T0's flip probabilities,
 * rotation range and crop-area range, and view 2's quarter turns; absent = the paper's. Radiographs
 * come in a canonical orientation, so one-shot landmarks do better without the paper's orientation
 * invariance (README, One-shot landmarks). The PyTorch engine reads the same keys.
 */
export type AugmentSettings = GeometrySettings;
export const PAPER_AUGMENT: AugmentSettings = PAPER_GEOMETRY;

/**
 * Whose patches are the negatives of patch discrimination: 'batch' (paper) every other patch of the
 * batch; 'image' only the other patches of the same image (as CC2D), so the same anatomy in two
 * images is never pushed apart.
 */
export type NegativesChoice = 'batch' | 'image';
export const NEGATIVES_CHOICES: readonly NegativesChoice[] = ['batch', 'image'];

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
  /** Geometric augmentation; absent = PAPER_AUGMENT. */
  augment?: AugmentSettings;
  /** Negatives of patch discrimination; absent = 'batch' (the paper). */
  negatives?: NegativesChoice;
  /**
   * Training by time: the engine times the first steps and fixes `steps` (and, with stage both and
   * `stage1Share`, `stage1Steps`) so the run takes about this many minutes; until then `steps` is
   * BUDGET_PROVISIONAL_STEPS. `budget` records the measurement; a run that has one is an ordinary
   * run of `steps` steps (resume is exact).
   */
  minutes?: number;
  budget?: { secondsPerStep: number; timedSteps: number };
  /** With `minutes` and stage both: stage 1's share of the steps once they are fixed (the paper's 0.2). */
  stage1Share?: number;
  /** The preset the settings came from ('paper' when absent). */
  preset?: string;
}

/** `steps` of a time-budgeted run before its first steps are timed. */
export const BUDGET_PROVISIONAL_STEPS = 10_000_000;
/** Steps timed, after the first, before a time budget becomes a step count (both engines). */
export const BUDGET_TIMED_STEPS = 10;

/** Steps that fit `minutes` at the mean speed of the timed steps (resources/torch/ld_torch/train.py budget_steps). */
export function stepsForMinutes(minutes: number, stepSeconds: readonly number[]): number {
  const per = stepSeconds.reduce((a, b) => a + b, 0) / stepSeconds.length;
  return Math.max(stepSeconds.length + 1, Math.floor((minutes * 60) / per));
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

/**
 * A named set of defaults for `pretrain` (explicit options override each one). 'paper' is the
 * paper's settings; 'landmarks' is the one-shot landmark recipe measured in the README (One-shot
 * landmarks), each difference from the paper a named option with the paper's value available.
 */
export interface TrainPreset {
  stage: StageChoice;
  size: number;
  batch: number;
  lr: number;
  lrHalveEvery: number;
  /** Centre-sensitive averaging at the spec's σ (size·14/448). */
  centreSensitive: boolean;
  augment?: AugmentSettings;
  negatives?: NegativesChoice;
  /** Train by time when neither steps nor minutes are given. */
  minutes?: number;
}

export const PRESETS: Record<'paper' | 'landmarks', TrainPreset> = {
  paper: { stage: PAPER_DEFAULTS.stage, size: PAPER_DEFAULTS.size, batch: PAPER_DEFAULTS.batch, lr: PAPER_DEFAULTS.lr, lrHalveEvery: PAPER_DEFAULTS.lrHalveEvery, centreSensitive: false },
  landmarks: {
    stage: '1',
    size: 128,
    batch: 2,
    lr: 1e-3,
    lrHalveEvery: PAPER_DEFAULTS.lrHalveEvery,
    centreSensitive: true,
    augment: { hflipP: 0, vflipP: 0, rotationDeg: 10, cropScale: [0.9, 1], view2Turns: false, viewWarp: [1.25, 10, 0.1] },
    negatives: 'image',
    minutes: 30,
  },
};
export type PresetName = keyof typeof PRESETS;
export const PRESET_NAMES = Object.keys(PRESETS) as PresetName[];

export function defaultStage1Steps(stage: StageChoice, steps: number): number {
  if (stage === '1') return steps;
  if (stage === '2') return 0;
  return Math.min(steps, Math.max(1, Math.round(steps * PAPER_STAGE1_FRACTION)));
}

/** How long a new run trains: its `steps` and `stage1Steps`, and with a time budget `minutes` (and `stage1Share`). */
export interface RunLength {
  steps: number;
  stage1Steps: number;
  minutes?: number;
  stage1Share?: number;
}

/**
 * The length of a new run (the CLI's `pretrain` and the app's Train mode). With `minutes` it trains by
 * time: `steps` is BUDGET_PROVISIONAL_STEPS until the engine has timed its first steps, and with
 * stage both and no stage-1 steps given, stage 1 is fixed then at the paper's share. Otherwise
 * `steps` (absent: the paper's for the stage), stage 1 by default the paper's share.
 */
export function runLength(stage: StageChoice, opts: { steps?: number; minutes?: number; stage1Steps?: number }): RunLength {
  const { minutes } = opts;
  const steps = minutes !== undefined
    ? BUDGET_PROVISIONAL_STEPS
    : opts.steps ?? (stage === 'both' ? PAPER_DEFAULTS.steps : stage === '1' ? PAPER_DEFAULTS.stage1Steps : PAPER_DEFAULTS.steps - PAPER_DEFAULTS.stage1Steps);
  const length: RunLength = { steps, stage1Steps: opts.stage1Steps ?? defaultStage1Steps(stage, steps) };
  if (minutes !== undefined) {
    length.minutes = minutes;
    // the split of stage both is fixed with the steps, at the paper's share, unless given
    if (stage === 'both' && opts.stage1Steps === undefined) {
      length.stage1Steps = BUDGET_PROVISIONAL_STEPS;
      length.stage1Share = PAPER_STAGE1_FRACTION;
    }
  }
  return length;
}

/** Whether a run's steps are still provisional: it trains by time and the engine has not timed its steps yet. */
export function stepsProvisional(c: Pick<TrainConfig, 'minutes' | 'budget'>): boolean {
  return c.minutes !== undefined && !c.budget;
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
  if (c.augment) errors.push(...validateAugment(c.augment));
  // the PyTorch engine's message (train.py validate), for either missing condition
  if (c.augment?.viewWarp && (c.augment.view2Turns || !(c.centreSigma && c.centreSigma > 0))) errors.push('augment.viewWarp needs view2Turns off and centre-sensitive averaging (centreSigma > 0)');
  if (c.minutes !== undefined && !(c.minutes > 0 && Number.isFinite(c.minutes))) errors.push(`minutes must be a positive number (got ${c.minutes})`);
  if (c.negatives !== undefined && !NEGATIVES_CHOICES.includes(c.negatives)) errors.push(`negatives must be one of ${NEGATIVES_CHOICES.join(', ')} (got ${String(c.negatives)})`);
  if (c.initFrom !== undefined && c.stage !== '2') errors.push(`initialising from a checkpoint needs stage 2 (got stage ${c.stage})`);
  if (c.shapeGuided) {
    if (c.stage === '1') errors.push('shape-guided training needs the clustering branch: use stage 2 or both, not 1');
    errors.push(...validateShapeGuided(c.shapeGuided, { size: c.size, clusters: c.clusters }));
  }
  return errors;
}

export function validateAugment(a: AugmentSettings): string[] {
  const errors: string[] = [];
  for (const key of ['hflipP', 'vflipP'] as const) {
    if (!(a[key] >= 0 && a[key] <= 1)) errors.push(`augment.${key} must be a probability in [0, 1] (got ${a[key]})`);
  }
  if (!(a.rotationDeg >= 0 && a.rotationDeg <= 180)) errors.push(`augment.rotationDeg must be in [0, 180] (got ${a.rotationDeg})`);
  const [lo, hi] = a.cropScale ?? [];
  if (!(lo > 0 && lo <= hi && hi <= 1)) errors.push(`augment.cropScale must satisfy 0 < min ≤ max ≤ 1 (got ${JSON.stringify(a.cropScale)})`);
  if (typeof a.view2Turns !== 'boolean') errors.push('augment.view2Turns must be true or false');
  if (a.viewWarp != null) {
    const v = a.viewWarp;
    if (!(Array.isArray(v) && v.length === 3 && v.every(Number.isFinite) && v[0] >= 1 && v[1] >= 0 && v[2] >= 0 && v[2] < 0.5)) {
      errors.push(`augment.viewWarp must be [max scale ≥ 1, max rotation ° ≥ 0, max shift in [0, 0.5) of the crop] (got ${JSON.stringify(v)})`);
    }
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
