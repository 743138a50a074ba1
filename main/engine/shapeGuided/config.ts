/**
 * Shape-guided segmentation settings (ld-method.md §5): one cluster of the LD model is pushed, by a
 * small discriminator, towards the shapes of an unpaired set of reference masks (the "prior").
 * Paper values are the defaults; every value is recorded in run.json and fixed on resume.
 */

export interface ShapeGuidedSettings {
  /** Absolute path of the folder of prior masks (PNG/JPEG/TIFF/DICOM; any size; foreground > 0.1 after scaling to [0, 1]). */
  priorDir: string;
  /**
   * Negative slope of the discriminator's LeakyReLUs. The reference writes `nn.LeakyReLU(True)`, which
   * passes True as negative_slope, i.e. 1.0: every activation is the identity (ld-method.md §9.1).
   * Default 0.01: the same file writes `nn.ReLU(True)` for ReLU(inplace=True) throughout, so the intended
   * call was `nn.LeakyReLU(inplace=True)`, PyTorch's default slope. 1.0 reproduces the reference exactly.
   */
  discLeakySlope: number;
  /** D learning rate = this × G's (paper: 0.05, i.e. 5e-5 for G's 1e-3); halved with G's. */
  discLrFactor: number;
  /** Weight of the generator loss L_G in G's objective (paper: 1). */
  gWeight: number;
  /** The cluster the prior constrains (paper: channel 0). */
  cluster: number;
  /**
   * Longest side (px) prior masks are kept at in memory: larger masks are area-averaged down once at
   * load time (4 × the training size by default, so at the paper's 448 its 475–1584 px masks are untouched).
   */
  priorMaxSide: number;
}

/** §9.1: the slope `nn.LeakyReLU(True)` really sets. */
export const REFERENCE_BUG_LEAKY_SLOPE = 1.0;
export const DEFAULT_DISC_LEAKY_SLOPE = 0.01;
export const PAPER_DISC_LR_FACTOR = 0.05;
export const PAPER_G_WEIGHT = 1;
/** K of the paper's shape-guided run (its LD runs use 16). */
export const SHAPE_GUIDED_CLUSTERS = 8;
/** Binarisation threshold of the augmented prior masks (in [0, 1]). */
export const PRIOR_THRESHOLD = 0.1;
/**
 * The discriminator pools five times and then applies two unpadded 3×3 convolutions, so its input must
 * be at least 5 px after the pools: 5·32 = 160.
 */
export const MIN_SHAPE_GUIDED_SIZE = 160;

export function defaultPriorMaxSide(size: number): number {
  return 4 * size;
}

export function defaultShapeGuided(priorDir: string, size: number): ShapeGuidedSettings {
  return {
    priorDir,
    discLeakySlope: DEFAULT_DISC_LEAKY_SLOPE,
    discLrFactor: PAPER_DISC_LR_FACTOR,
    gWeight: PAPER_G_WEIGHT,
    cluster: 0,
    priorMaxSide: defaultPriorMaxSide(size),
  };
}

export function validateShapeGuided(s: ShapeGuidedSettings, opts: { size: number; clusters: number }): string[] {
  const errors: string[] = [];
  if (typeof s.priorDir !== 'string' || !s.priorDir) errors.push('shape-guided training needs a prior-mask folder');
  if (!(Number.isFinite(s.discLeakySlope) && s.discLeakySlope >= 0 && s.discLeakySlope <= 1)) {
    errors.push(`discriminator LeakyReLU slope must be in [0, 1] (got ${s.discLeakySlope}; 1 reproduces the reference's nn.LeakyReLU(True))`);
  }
  if (!(Number.isFinite(s.discLrFactor) && s.discLrFactor > 0)) errors.push(`discriminator learning-rate factor must be positive (got ${s.discLrFactor})`);
  if (!(Number.isFinite(s.gWeight) && s.gWeight >= 0)) errors.push(`generator-loss weight must be non-negative (got ${s.gWeight})`);
  if (!Number.isInteger(s.cluster) || s.cluster < 0 || s.cluster >= opts.clusters) errors.push(`shape-guided cluster must be in 0..${opts.clusters - 1} (got ${s.cluster})`);
  if (!Number.isInteger(s.priorMaxSide) || s.priorMaxSide < 16) errors.push(`prior max side must be an integer ≥ 16 (got ${s.priorMaxSide})`);
  if (opts.size < MIN_SHAPE_GUIDED_SIZE) {
    errors.push(`shape-guided training needs --size ≥ ${MIN_SHAPE_GUIDED_SIZE} (got ${opts.size}): the discriminator pools 5 times and then applies two unpadded 3×3 convolutions`);
  }
  return errors;
}
