/** Confidence calibration: PAVA against hand-computed fits, and the "under this value" figure. */
import { describe, expect, it } from 'vitest';
import { calibrate, defaultTolerancePx, expectedOffRateBelow, isotonicNonIncreasing, offRateAt } from '../../../main/engine/landmarks/calibration';

describe('isotonic regression (non-increasing)', () => {
  it('pools the violators: y = 1 0 1 0 at x = .1 .2 .3 .4 → 1, ½, ½, 0', () => {
    expect(isotonicNonIncreasing([0.3, 0.1, 0.4, 0.2], [1, 1, 0, 0])).toEqual([
      { from: 0.1, mean: 1, weight: 1 },
      { from: 0.2, mean: 0.5, weight: 2 },
      { from: 0.4, mean: 0, weight: 1 },
    ]);
  });

  it('pools back across several blocks: 3 1 2 4 → 3, 7/3, 7/3, 7/3', () => {
    expect(isotonicNonIncreasing([1, 2, 3, 4], [3, 1, 2, 4])).toEqual([
      { from: 1, mean: 3, weight: 1 },
      { from: 2, mean: 7 / 3, weight: 3 },
    ]);
  });

  it('pools equal neighbours into one step', () => {
    expect(isotonicNonIncreasing([1, 2, 3], [1, 1, 0])).toEqual([
      { from: 1, mean: 1, weight: 2 },
      { from: 3, mean: 0, weight: 1 },
    ]);
  });

  it('keeps a curve that already falls, one block per x; equal x share a block', () => {
    expect(isotonicNonIncreasing([1, 2, 2, 3], [5, 4, 2, 1])).toEqual([
      { from: 1, mean: 5, weight: 1 },
      { from: 2, mean: 3, weight: 2 },
      { from: 3, mean: 1, weight: 1 },
    ]);
  });

  it('refuses mismatched lengths', () => {
    expect(() => isotonicNonIncreasing([1], [])).toThrow(/1 x values but 0 y values/);
  });
});

describe('calibrate', () => {
  // low scores were moved far, high scores hardly: a score that ranks errors
  const reviewed = [
    { confidence: 0.05, error: 40 },
    { confidence: 0.1, error: 25 },
    { confidence: 0.2, error: 5 },
    { confidence: 0.3, error: 30 },
    { confidence: 0.6, error: 3 },
    { confidence: 0.8, error: 0 },
    { confidence: 0.9, error: 12 },
    { confidence: 0.95, error: 0 },
  ];
  const fit = calibrate(reviewed, 10);

  it('fits P(off by > tolerance | confidence), non-increasing, with counts', () => {
    // off: 1 1 0 1 0 0 1 0 → PAVA: {1 1}, {0 1} = ½, {0 0 1} = ⅓, {0}
    expect(fit.steps.map((s) => [s.from, Number(s.offRate.toFixed(4)), s.count])).toEqual([
      [0.05, 1, 2],
      [0.2, 0.5, 2],
      [0.6, 0.3333, 3],
      [0.95, 0, 1],
    ]);
    expect(fit.points).toBe(8);
    expect(fit.rho).toBeLessThan(-0.4);
  });

  it('reads the curve at a confidence, below the first step included', () => {
    expect(offRateAt(fit, 0)).toBe(1);
    expect(offRateAt(fit, 0.25)).toBe(0.5);
    expect(offRateAt(fit, 0.9)).toBeCloseTo(1 / 3);
    expect(offRateAt(fit, 1)).toBe(0);
    expect(offRateAt({ steps: [] }, 0.5)).toBeNull();
  });

  it('says what share of the open points under a threshold are expected off', () => {
    expect(expectedOffRateBelow(fit, [0.1, 0.3, 0.7, 0.9], 0.5)).toEqual({ rate: 0.75, count: 2 });
    expect(expectedOffRateBelow(fit, [0.7], 0.5)).toBeNull();
  });

  it('has no curve without reviewed points, and refuses a tolerance that is not positive', () => {
    expect(calibrate([], 10)).toEqual({ tolerancePx: 10, points: 0, steps: [], rho: null });
    expect(() => calibrate(reviewed, 0)).toThrow(/positive number of pixels/);
  });

  it('defaults the tolerance to 1 % of the median image height', () => {
    expect(defaultTolerancePx([1935, 2400, 1800])).toBe(19);
    expect(defaultTolerancePx([100])).toBe(2);
  });
});
