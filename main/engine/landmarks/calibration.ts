/**
 * What a confidence score means, learnt from the images the user reviewed: each reviewed point pairs
 * the confidence it was predicted with and how far the user moved it (0 when accepted as it was).
 * Isotonic regression (pool-adjacent-violators) of "off by more than the tolerance" against
 * confidence gives a non-increasing curve P(off | confidence); the app reads it as "points under this
 * value are off by more than N px in about X % of cases" and colours its legend with it.
 */
import { spearmanRho } from './metrics';

export interface ReviewedPoint {
  confidence: number;
  /** Distance from the prediction to where the user left the point, in pixels. */
  error: number;
}

export interface CalibrationStep {
  /** The step covers confidences from `from` (inclusive) to the next step's `from`. */
  from: number;
  /** Fitted probability that a point with this confidence is off by more than the tolerance. */
  offRate: number;
  /** Reviewed points the step pools. */
  count: number;
}

export interface Calibration {
  tolerancePx: number;
  points: number;
  /** Non-increasing in confidence; empty without reviewed points. */
  steps: CalibrationStep[];
  /** Spearman's ρ of confidence against error (negative = the score ranks errors); null below 3 points. */
  rho: number | null;
}

/**
 * Weighted least-squares fit of `y` non-increasing in `x` (PAVA). Returns blocks of consecutive x
 * (ascending) with their pooled mean; equal x always share a block.
 */
export function isotonicNonIncreasing(x: readonly number[], y: readonly number[]): Array<{ from: number; mean: number; weight: number }> {
  if (x.length !== y.length) throw new Error(`isotonic fit: ${x.length} x values but ${y.length} y values`);
  const order = x.map((_, i) => i).sort((a, b) => x[a] - x[b]);
  const blocks: Array<{ from: number; sum: number; weight: number }> = [];
  for (const i of order) {
    const last = blocks[blocks.length - 1];
    if (last && last.from === x[i]) {
      last.sum += y[i];
      last.weight += 1;
    } else blocks.push({ from: x[i], sum: y[i], weight: 1 });
    // pool while a later block's mean is not below the earlier one's (equal means pool too: fewer steps)
    while (blocks.length > 1) {
      const b = blocks[blocks.length - 1];
      const a = blocks[blocks.length - 2];
      if (b.sum / b.weight < a.sum / a.weight) break;
      a.sum += b.sum;
      a.weight += b.weight;
      blocks.pop();
    }
  }
  return blocks.map((b) => ({ from: b.from, mean: b.sum / b.weight, weight: b.weight }));
}

export function calibrate(points: readonly ReviewedPoint[], tolerancePx: number): Calibration {
  if (!(tolerancePx > 0)) throw new Error(`calibration tolerance must be a positive number of pixels, got ${tolerancePx}`);
  const usable = points.filter((p) => Number.isFinite(p.confidence) && Number.isFinite(p.error));
  const blocks = isotonicNonIncreasing(
    usable.map((p) => p.confidence),
    usable.map((p) => (p.error > tolerancePx ? 1 : 0)),
  );
  const rho = usable.length >= 3 ? spearmanRho(usable.map((p) => p.confidence), usable.map((p) => p.error)) : null;
  return { tolerancePx, points: usable.length, steps: blocks.map((b) => ({ from: b.from, offRate: b.mean, count: b.weight })), rho };
}

/** P(off | confidence) from the fitted steps (the first step also covers confidences below it). */
export function offRateAt(calibration: Pick<Calibration, 'steps'>, confidence: number): number | null {
  const steps = calibration.steps;
  if (!steps.length) return null;
  let rate = steps[0].offRate;
  for (const s of steps) {
    if (s.from > confidence) break;
    rate = s.offRate;
  }
  return rate;
}

/**
 * The expected share of `confidences` (points not reviewed yet) under `threshold` that are off by
 * more than the tolerance: the mean fitted rate over them. Null when none is under it or nothing was reviewed.
 */
export function expectedOffRateBelow(calibration: Pick<Calibration, 'steps'>, confidences: readonly number[], threshold: number): { rate: number; count: number } | null {
  const under = confidences.filter((c) => c < threshold);
  if (!under.length || !calibration.steps.length) return null;
  const total = under.reduce((s, c) => s + (offRateAt(calibration, c) ?? 0), 0);
  return { rate: total / under.length, count: under.length };
}

/** The default tolerance: 1 % of the median image height (about 2 mm on a cephalogram), at least 2 px. */
export function defaultTolerancePx(heights: readonly number[]): number {
  if (!heights.length) return 10;
  const sorted = [...heights].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)];
  return Math.max(2, Math.round(median / 100));
}
