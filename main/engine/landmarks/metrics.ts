/**
 * Landmark accuracy: predicted against true positions (pure; no file access).
 *
 * Images are paired by name, exactly, else by file stem ("3167.png" ↔ "3167"); landmarks by name,
 * else by position when the two tables share no name but have as many landmarks. A true point without a
 * prediction is a *missing* prediction: it cannot have an error, so it is left out of the MREs, but it
 * is listed, counted, and counted as a failure in every success detection rate.
 */
import type { LandmarkTable, PlacedPoint, Point } from './types';

export const DEFAULT_RADII_MM = [2, 2.5, 3, 4];
export const DEFAULT_RADII_PX = [10, 20, 40, 80];

export interface EvaluateOptions {
  /** Pixel spacing in mm per pixel (one for all images): adds errors in mm and success rates at `radiiMm`. */
  spacingMm?: number;
  /** Success radii in mm (default 2, 2.5, 3, 4); used only with `spacingMm`. */
  radiiMm?: number[];
  /** Success radii in px: used without `spacingMm` (default 10, 20, 40, 80), and with it when given. */
  radiiPx?: number[];
  /**
   * Also report errors as a fraction of the image height (e.g. the spine set, whose images differ in
   * size and have no spacing). Heights: `heights` (by truth image name), else the truth table's, else
   * the prediction's.
   */
  heightFraction?: boolean;
  heights?: ReadonlyMap<string, number>;
}

export interface PointError {
  /** The image as named in the truth table. */
  image: string;
  landmark: string;
  truth: Point;
  predicted: PlacedPoint;
  errorPx: number;
  errorMm?: number;
  /** errorPx / image height. */
  errorHeightFraction?: number;
}

export type MissingReason = 'image-not-predicted' | 'landmark-not-predicted' | 'point-not-placed';

export interface MissingPrediction {
  image: string;
  landmark: string;
  reason: MissingReason;
}

/** Mean ± population SD (as numpy's std), median and max; null when there are no values. */
export interface ErrorStats {
  n: number;
  mean: number | null;
  sd: number | null;
  median: number | null;
  max: number | null;
}

/** Share of the true points predicted within `radius`; missing predictions count as failures. */
export interface SuccessRate {
  radius: number;
  unit: 'mm' | 'px';
  hits: number;
  /** Evaluated plus missing points. */
  total: number;
  rate: number | null;
}

export interface GroupErrors {
  /** Points with an error. */
  n: number;
  missing: number;
  px: ErrorStats;
  mm?: ErrorStats;
  heightFraction?: ErrorStats;
}

export interface LandmarkErrors extends GroupErrors {
  landmark: string;
}

export interface ImageErrors extends GroupErrors {
  image: string;
  /** The prediction's image name when it differs (paired by stem), else absent. */
  predImage?: string;
  height?: number;
}

/** How well confidence ranks the errors: a useful confidence is high where the error is low. */
export interface ConfidenceRanking {
  /** Evaluated points with a finite confidence. */
  n: number;
  withoutConfidence: number;
  /** Spearman's rank correlation of confidence and error (average ranks for ties); negative is good. */
  spearmanRho: number | null;
  /** The ⌊n/2⌋ most and least confident points (for odd n the middle one is in neither). */
  mostConfidentHalf: { n: number; mrePx: number | null; mreMm?: number | null };
  leastConfidentHalf: { n: number; mrePx: number | null; mreMm?: number | null };
}

export interface LandmarkEvaluation {
  spacingMm: number | null;
  counts: {
    truthImages: number;
    predImages: number;
    pairedImages: number;
    /** Placed true points (the denominator of the success rates). */
    truthPoints: number;
    evaluated: number;
    missing: number;
    /** Placed predictions with no true point to compare with. */
    predictedWithoutTruth: number;
  };
  errorPx: ErrorStats;
  errorMm?: ErrorStats;
  errorHeightFraction?: ErrorStats;
  successRates: SuccessRate[];
  perLandmark: LandmarkErrors[];
  perImage: ImageErrors[];
  confidence: ConfidenceRanking;
  missing: MissingPrediction[];
  unpaired: {
    /** Truth images with no prediction at all. */
    truthImages: string[];
    /** Predicted images with no truth. */
    predImages: string[];
    /** Predicted landmarks the truth does not define. */
    predLandmarks: string[];
    /** Truth images whose height is unknown (with `heightFraction`). */
    imagesWithoutHeight: string[];
  };
  /** Things a reader should know: pairing by stem or position, ambiguities. */
  notes: string[];
  points: PointError[];
}

/** File name without folders and without an extension such as .png or .dcm (numeric parts of DICOM UIDs are kept). */
export function imageStem(name: string): string {
  const base = name.split(/[\\/]/).pop() ?? name;
  return base.replace(/\.[A-Za-z][A-Za-z0-9]{0,4}$/, '');
}

/** For each truth image, the index of its predicted image (or -1), pairing exact names first, then stems. */
export function pairImages(truthNames: readonly string[], predNames: readonly string[], notes: string[] = []): number[] {
  const byName = uniqueIndex(predNames, 'predicted');
  uniqueIndex(truthNames, 'truth');
  const byStem = new Map<string, number[]>();
  predNames.forEach((name, i) => {
    const stem = imageStem(name);
    byStem.set(stem, [...(byStem.get(stem) ?? []), i]);
  });
  const taken = new Set<number>();
  const pairs = truthNames.map((name) => {
    const exact = byName.get(name);
    if (exact !== undefined) taken.add(exact);
    return exact ?? -1;
  });
  let byStemCount = 0;
  truthNames.forEach((name, t) => {
    if (pairs[t] >= 0) return;
    const candidates = (byStem.get(imageStem(name)) ?? []).filter((i) => !taken.has(i));
    if (candidates.length === 1) {
      pairs[t] = candidates[0];
      taken.add(candidates[0]);
      byStemCount++;
    } else if (candidates.length > 1) {
      notes.push(`truth image '${name}' matches several predicted images by stem (${candidates.map((i) => `'${predNames[i]}'`).join(', ')}): left unpaired`);
    }
  });
  if (byStemCount > 0) notes.push(`${byStemCount} image(s) paired by file stem, not by exact name`);
  return pairs;
}

function uniqueIndex(names: readonly string[], which: string): Map<string, number> {
  const index = new Map<string, number>();
  names.forEach((name, i) => {
    if (index.has(name)) throw new Error(`the ${which} landmarks list image '${name}' twice`);
    index.set(name, i);
  });
  return index;
}

/** For each truth landmark, the index of the predicted landmark of that name (or -1). */
function pairLandmarks(truth: readonly string[], pred: readonly string[], notes: string[]): number[] {
  const byName = new Map(pred.map((name, i) => [name, i]));
  const pairs = truth.map((name) => byName.get(name) ?? -1);
  if (pairs.every((p) => p < 0) && truth.length === pred.length && truth.length > 0) {
    notes.push(`no landmark names in common (truth '${truth[0]}'…, prediction '${pred[0]}'…): paired by position`);
    return truth.map((_, i) => i);
  }
  return pairs;
}

export function errorStats(values: readonly number[]): ErrorStats {
  const n = values.length;
  if (n === 0) return { n, mean: null, sd: null, median: null, max: null };
  let sum = 0;
  let max = -Infinity;
  for (const v of values) {
    sum += v;
    if (v > max) max = v;
  }
  const mean = sum / n;
  let squares = 0;
  for (const v of values) squares += (v - mean) ** 2;
  const sorted = [...values].sort((a, b) => a - b);
  const median = n % 2 ? sorted[(n - 1) / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  return { n, mean, sd: Math.sqrt(squares / n), median, max };
}

/** Ranks 1…n, tied values sharing the average of the ranks they span. */
export function averageRanks(values: readonly number[]): number[] {
  const order = values.map((_, i) => i).sort((a, b) => values[a] - values[b]);
  const ranks = new Array<number>(values.length);
  for (let start = 0; start < order.length; ) {
    let end = start + 1;
    while (end < order.length && values[order[end]] === values[order[start]]) end++;
    const rank = (start + 1 + end) / 2; // mean of ranks start+1 … end
    for (let k = start; k < end; k++) ranks[order[k]] = rank;
    start = end;
  }
  return ranks;
}

/** Spearman's rho (Pearson correlation of average ranks); null for fewer than 2 values or a constant side. */
export function spearmanRho(a: readonly number[], b: readonly number[]): number | null {
  if (a.length !== b.length) throw new Error(`spearmanRho: ${a.length} vs ${b.length} values`);
  const n = a.length;
  if (n < 2) return null;
  const ra = averageRanks(a);
  const rb = averageRanks(b);
  const mean = (n + 1) / 2;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    const da = ra[i] - mean;
    const db = rb[i] - mean;
    sab += da * db;
    saa += da * da;
    sbb += db * db;
  }
  return saa > 0 && sbb > 0 ? sab / Math.sqrt(saa * sbb) : null;
}

function isPlaced(p: PlacedPoint | null | undefined): p is PlacedPoint {
  return p != null && Number.isFinite(p.x) && Number.isFinite(p.y);
}

function successRates(points: readonly PointError[], missing: number, radii: readonly number[], unit: 'mm' | 'px'): SuccessRate[] {
  const total = points.length + missing;
  return radii.map((radius) => {
    const hits = points.filter((p) => (unit === 'mm' ? p.errorMm! : p.errorPx) <= radius).length;
    return { radius, unit, hits, total, rate: total > 0 ? hits / total : null };
  });
}

function groupErrors(points: readonly PointError[], missing: number, withMm: boolean, withHeight: boolean): GroupErrors {
  const group: GroupErrors = { n: points.length, missing, px: errorStats(points.map((p) => p.errorPx)) };
  if (withMm) group.mm = errorStats(points.map((p) => p.errorMm!));
  if (withHeight) group.heightFraction = errorStats(points.filter((p) => p.errorHeightFraction !== undefined).map((p) => p.errorHeightFraction!));
  return group;
}

function meanOf(values: readonly number[]): number | null {
  return values.length ? values.reduce((s, v) => s + v, 0) / values.length : null;
}

function confidenceRanking(points: readonly PointError[], withMm: boolean): ConfidenceRanking {
  const rated = points.filter((p) => Number.isFinite(p.predicted.confidence));
  const confidence = rated.map((p) => p.predicted.confidence!);
  const half = Math.floor(rated.length / 2);
  // Most confident first; equal confidences keep table order, so the split of a tie is arbitrary.
  const byConfidence = rated.map((_, i) => i).sort((a, b) => confidence[b] - confidence[a]);
  const summarise = (indices: number[]) => {
    const s: { n: number; mrePx: number | null; mreMm?: number | null } = { n: indices.length, mrePx: meanOf(indices.map((i) => rated[i].errorPx)) };
    if (withMm) s.mreMm = meanOf(indices.map((i) => rated[i].errorMm!));
    return s;
  };
  return {
    n: rated.length,
    withoutConfidence: points.length - rated.length,
    spearmanRho: spearmanRho(
      confidence,
      rated.map((p) => p.errorPx),
    ),
    mostConfidentHalf: summarise(byConfidence.slice(0, half)),
    leastConfidentHalf: summarise(byConfidence.slice(byConfidence.length - half)),
  };
}

function checkRadii(radii: readonly number[], what: string): void {
  for (const r of radii) if (!(Number.isFinite(r) && r > 0)) throw new Error(`${what}: radii must be positive numbers, got ${r}`);
}

/** Errors of `pred` against `truth`; see the module comment for how images, landmarks and gaps are handled. */
export function evaluateLandmarks(pred: LandmarkTable, truth: LandmarkTable, options: EvaluateOptions = {}): LandmarkEvaluation {
  const { spacingMm, heightFraction = false } = options;
  if (spacingMm !== undefined && !(Number.isFinite(spacingMm) && spacingMm > 0)) throw new Error(`spacing must be a positive number of mm per pixel, got ${spacingMm}`);
  const withMm = spacingMm !== undefined;
  const radiiMm = options.radiiMm ?? DEFAULT_RADII_MM;
  const radiiPx = options.radiiPx ?? (withMm ? [] : DEFAULT_RADII_PX);
  checkRadii(radiiMm, 'radiiMm');
  checkRadii(radiiPx, 'radiiPx');

  const notes: string[] = [];
  const imagePairs = pairImages(
    truth.images.map((im) => im.image),
    pred.images.map((im) => im.image),
    notes,
  );
  const landmarkPairs = pairLandmarks(truth.landmarks, pred.landmarks, notes);
  const truthLandmarkOfPred = new Map(landmarkPairs.map((k, l) => [k, l]));

  const points: PointError[] = [];
  const missing: MissingPrediction[] = [];
  const perImage: ImageErrors[] = [];
  const imagesWithoutHeight: string[] = [];
  const pointsOfLandmark = truth.landmarks.map((): PointError[] => []);
  const missingOfLandmark = truth.landmarks.map(() => 0);
  let truthPoints = 0;
  let predictedWithoutTruth = 0;

  truth.images.forEach((truthImage, t) => {
    const predImage = imagePairs[t] >= 0 ? pred.images[imagePairs[t]] : undefined;
    const height = options.heights?.get(truthImage.image) ?? truthImage.height ?? predImage?.height;
    const hasHeight = height !== undefined && Number.isFinite(height) && height > 0;
    if (heightFraction && !hasHeight) imagesWithoutHeight.push(truthImage.image);
    const imagePoints: PointError[] = [];
    let imageMissing = 0;
    truth.landmarks.forEach((landmark, l) => {
      const truePoint = truthImage.points[l];
      if (truePoint == null) return;
      if (!isPlaced(truePoint)) throw new Error(`truth point '${landmark}' of image '${truthImage.image}' is not a finite position`);
      truthPoints++;
      const predicted = predImage && landmarkPairs[l] >= 0 ? predImage.points[landmarkPairs[l]] : undefined;
      if (!isPlaced(predicted)) {
        const reason: MissingReason = !predImage ? 'image-not-predicted' : landmarkPairs[l] < 0 ? 'landmark-not-predicted' : 'point-not-placed';
        missing.push({ image: truthImage.image, landmark, reason });
        imageMissing++;
        missingOfLandmark[l]++;
        return;
      }
      const errorPx = Math.hypot(predicted.x - truePoint.x, predicted.y - truePoint.y);
      const point: PointError = { image: truthImage.image, landmark, truth: { x: truePoint.x, y: truePoint.y }, predicted, errorPx };
      if (withMm) point.errorMm = errorPx * spacingMm;
      if (heightFraction && hasHeight) point.errorHeightFraction = errorPx / height;
      points.push(point);
      imagePoints.push(point);
      pointsOfLandmark[l].push(point);
    });
    if (predImage) {
      predImage.points.forEach((p, k) => {
        const l = truthLandmarkOfPred.get(k);
        if (isPlaced(p) && (l === undefined || truthImage.points[l] == null)) predictedWithoutTruth++;
      });
    }
    const entry: ImageErrors = { image: truthImage.image, ...groupErrors(imagePoints, imageMissing, withMm, heightFraction) };
    if (predImage && predImage.image !== truthImage.image) entry.predImage = predImage.image;
    if (hasHeight) entry.height = height;
    perImage.push(entry);
  });

  const pairedPred = new Set(imagePairs.filter((i) => i >= 0));
  const unpairedPredImages = pred.images.filter((_, i) => !pairedPred.has(i));
  for (const im of unpairedPredImages) predictedWithoutTruth += im.points.filter(isPlaced).length;

  const successRatesAll = [...(withMm ? successRates(points, missing.length, radiiMm, 'mm') : []), ...successRates(points, missing.length, radiiPx, 'px')];
  const overall = groupErrors(points, missing.length, withMm, heightFraction);
  const evaluation: LandmarkEvaluation = {
    spacingMm: spacingMm ?? null,
    counts: {
      truthImages: truth.images.length,
      predImages: pred.images.length,
      pairedImages: pairedPred.size,
      truthPoints,
      evaluated: points.length,
      missing: missing.length,
      predictedWithoutTruth,
    },
    errorPx: overall.px,
    successRates: successRatesAll,
    perLandmark: truth.landmarks.map((landmark, l) => ({ landmark, ...groupErrors(pointsOfLandmark[l], missingOfLandmark[l], withMm, heightFraction) })),
    perImage,
    confidence: confidenceRanking(points, withMm),
    missing,
    unpaired: {
      truthImages: truth.images.filter((_, t) => imagePairs[t] < 0).map((im) => im.image),
      predImages: unpairedPredImages.map((im) => im.image),
      predLandmarks: pred.landmarks.filter((_, k) => !truthLandmarkOfPred.has(k)),
      imagesWithoutHeight,
    },
    notes,
    points,
  };
  if (overall.mm) evaluation.errorMm = overall.mm;
  if (overall.heightFraction) evaluation.errorHeightFraction = overall.heightFraction;
  return evaluation;
}
