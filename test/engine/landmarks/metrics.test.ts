/** Landmark metrics on small tables whose errors are known by construction. */
import { describe, expect, it } from 'vitest';
import { averageRanks, errorStats, evaluateLandmarks, imageStem, pairImages, spearmanRho } from '../../../main/engine/landmarks/metrics';
import type { LandmarkTable, PlacedPoint } from '../../../main/engine/landmarks/types';

const p = (x: number, y: number, confidence?: number): PlacedPoint => (confidence === undefined ? { x, y } : { x, y, confidence });

/** Two images, three landmarks; predictions off by 3-4-5 triangles and simple offsets. */
const truth: LandmarkTable = {
  landmarks: ['A', 'B', 'C'],
  images: [
    { image: '3167.png', height: 200, points: [p(10, 10), p(20, 20), p(30, 30)] },
    { image: 'b.png', height: 100, points: [p(0, 0), p(50, 50), null] },
  ],
};
const pred: LandmarkTable = {
  landmarks: ['A', 'B', 'C'],
  images: [
    // errors 5, 10, 0
    { image: '3167', points: [p(13, 14, 0.5), p(26, 28, 0.1), p(30, 30, 0.9)] },
    // errors 1, missing B; C predicted but has no truth
    { image: 'b.png', points: [p(1, 0, 0.8), null, p(5, 5, 0.2)] },
    { image: 'extra.png', points: [p(1, 1), null, null] },
  ],
};

describe('pairing', () => {
  it('takes stems without folders and image extensions, keeping numeric dotted names', () => {
    expect(imageStem('3167.png')).toBe('3167');
    expect(imageStem('dir/sub\\x 1.jpeg')).toBe('x 1');
    expect(imageStem('1.2.840.113619')).toBe('1.2.840.113619');
    expect(imageStem('1.2.840.113619.dcm')).toBe('1.2.840.113619');
  });

  it('pairs exact names first, then stems, and leaves ambiguous stems unpaired', () => {
    const notes: string[] = [];
    expect(pairImages(['a.png', 'b', 'c', 'd.png'], ['b.png', 'a.png', 'c.png', 'c.jpg', 'd'], notes)).toEqual([1, 0, -1, 4]);
    expect(notes.join('\n')).toMatch(/'c' matches several predicted images by stem/);
    expect(notes.join('\n')).toMatch(/2 image\(s\) paired by file stem/);
  });

  it('refuses a table listing an image twice', () => {
    expect(() => pairImages(['a', 'a'], [])).toThrow(/truth landmarks list image 'a' twice/);
  });
});

describe('statistics', () => {
  it('mean, population SD, median and max', () => {
    expect(errorStats([1, 2, 3, 4])).toEqual({ n: 4, mean: 2.5, sd: Math.sqrt(1.25), median: 2.5, max: 4 });
    expect(errorStats([])).toEqual({ n: 0, mean: null, sd: null, median: null, max: null });
  });

  it('average ranks for ties', () => {
    expect(averageRanks([10, 20, 20, 5, 20])).toEqual([2, 4, 4, 1, 4]);
  });

  it("Spearman's rho: ±1 for monotone, scipy's value with ties, null for a constant side", () => {
    expect(spearmanRho([1, 2, 3, 4], [10, 20, 30, 1000])).toBeCloseTo(1, 12);
    expect(spearmanRho([1, 2, 3, 4], [4, 3, 2, 1])).toBeCloseTo(-1, 12);
    // scipy.stats.spearmanr([1, 2, 2, 3, 4], [2, 1, 3, 3, 5]).statistic = 0.7631578947368421 (= 7.25 / 9.5)
    expect(spearmanRho([1, 2, 2, 3, 4], [2, 1, 3, 3, 5])).toBeCloseTo(0.7631578947368421, 12);
    expect(spearmanRho([1, 1, 1], [1, 2, 3])).toBeNull();
    expect(spearmanRho([1], [1])).toBeNull();
  });
});

describe('evaluateLandmarks', () => {
  it('errors per point, landmark and image; missing points listed and counted', () => {
    const e = evaluateLandmarks(pred, truth);
    expect(e.points.map((q) => [q.image, q.landmark, q.errorPx])).toEqual([
      ['3167.png', 'A', 5],
      ['3167.png', 'B', 10],
      ['3167.png', 'C', 0],
      ['b.png', 'A', 1],
    ]);
    expect(e.counts).toEqual({ truthImages: 2, predImages: 3, pairedImages: 2, truthPoints: 5, evaluated: 4, missing: 1, predictedWithoutTruth: 2 });
    expect(e.missing).toEqual([{ image: 'b.png', landmark: 'B', reason: 'point-not-placed' }]);
    expect(e.errorPx.mean).toBe(4);
    expect(e.errorPx.sd).toBeCloseTo(Math.sqrt((1 + 36 + 16 + 9) / 4), 12);
    expect(e.perLandmark.map((l) => [l.landmark, l.n, l.missing, l.px.mean])).toEqual([
      ['A', 2, 0, 3],
      ['B', 1, 1, 10],
      ['C', 1, 0, 0],
    ]);
    expect(e.perImage.map((i) => [i.image, i.predImage, i.n, i.missing, i.px.mean])).toEqual([
      ['3167.png', '3167', 3, 0, 5],
      ['b.png', undefined, 1, 1, 1],
    ]);
    expect(e.unpaired).toEqual({ truthImages: [], predImages: ['extra.png'], predLandmarks: [], imagesWithoutHeight: [] });
    expect(e.errorMm).toBeUndefined();
  });

  it('success rates at pixel radii count missing points as failures', () => {
    const e = evaluateLandmarks(pred, truth, { radiiPx: [1, 5, 9.99, 10] });
    expect(e.successRates.map((s) => [s.radius, s.unit, s.hits, s.total])).toEqual([
      [1, 'px', 2, 5],
      [5, 'px', 3, 5],
      [9.99, 'px', 3, 5],
      [10, 'px', 4, 5],
    ]);
    expect(e.successRates[3].rate).toBe(0.8);
    expect(evaluateLandmarks(pred, truth).successRates.map((s) => s.radius)).toEqual([10, 20, 40, 80]);
  });

  it('with a spacing: errors in mm and success rates at mm radii (px radii only when asked)', () => {
    const e = evaluateLandmarks(pred, truth, { spacingMm: 0.5 });
    expect(e.errorMm?.mean).toBe(2);
    expect(e.perLandmark[1].mm?.mean).toBe(5);
    expect(e.successRates.map((s) => [s.radius, s.unit, s.hits])).toEqual([
      [2, 'mm', 2],
      [2.5, 'mm', 3],
      [3, 'mm', 3],
      [4, 'mm', 3],
    ]);
    const both = evaluateLandmarks(pred, truth, { spacingMm: 0.5, radiiMm: [5], radiiPx: [1] });
    expect(both.successRates.map((s) => `${s.radius}${s.unit}:${s.hits}`)).toEqual(['5mm:4', '1px:2']);
    expect(() => evaluateLandmarks(pred, truth, { spacingMm: 0 })).toThrow(/positive/);
  });

  it('errors as a fraction of the image height, heights from the truth or given', () => {
    const e = evaluateLandmarks(pred, truth, { heightFraction: true });
    expect(e.points.map((q) => q.errorHeightFraction)).toEqual([5 / 200, 10 / 200, 0, 1 / 100]);
    expect(e.perImage[1].heightFraction?.mean).toBe(0.01);
    const noHeights: LandmarkTable = { ...truth, images: truth.images.map(({ height: _, ...im }) => im) };
    const partial = evaluateLandmarks(pred, noHeights, { heightFraction: true, heights: new Map([['b.png', 50]]) });
    expect(partial.unpaired.imagesWithoutHeight).toEqual(['3167.png']);
    expect(partial.errorHeightFraction).toEqual({ n: 1, mean: 1 / 50, sd: 0, median: 1 / 50, max: 1 / 50 });
  });

  it('confidence ranking: rho over points with a confidence, and the MRE of each half', () => {
    // errors 5, 10, 0, 1 with confidences 0.5, 0.1, 0.9, 0.8: perfectly inverse ranks
    const e = evaluateLandmarks(pred, truth);
    expect(e.confidence.spearmanRho).toBeCloseTo(-1, 12);
    expect(e.confidence.n).toBe(4);
    expect(e.confidence.mostConfidentHalf).toEqual({ n: 2, mrePx: 0.5 });
    expect(e.confidence.leastConfidentHalf).toEqual({ n: 2, mrePx: 7.5 });
    const unrated: LandmarkTable = { ...pred, images: pred.images.map((im) => ({ ...im, points: im.points.map((q) => q && p(q.x, q.y)) })) };
    expect(evaluateLandmarks(unrated, truth).confidence).toMatchObject({ n: 0, withoutConfidence: 4, spearmanRho: null });
  });

  it('a truth image with no prediction, and a landmark the prediction lacks, are missing with their reason', () => {
    const partialPred: LandmarkTable = { landmarks: ['C', 'A'], images: [{ image: '3167.png', points: [p(30, 30), p(10, 10)] }] };
    const e = evaluateLandmarks(partialPred, truth);
    expect(e.counts).toMatchObject({ evaluated: 2, missing: 3 });
    expect(e.missing).toEqual([
      { image: '3167.png', landmark: 'B', reason: 'landmark-not-predicted' },
      { image: 'b.png', landmark: 'A', reason: 'image-not-predicted' },
      { image: 'b.png', landmark: 'B', reason: 'image-not-predicted' },
    ]);
    expect(e.unpaired.truthImages).toEqual(['b.png']);
    expect(e.perLandmark.map((l) => l.missing)).toEqual([1, 2, 0]);
  });

  it('pairs landmarks by position, with a note, when no name is shared', () => {
    const renamed: LandmarkTable = { ...pred, landmarks: ['1', '2', '3'] };
    const e = evaluateLandmarks(renamed, truth);
    expect(e.counts.evaluated).toBe(4);
    expect(e.notes.join('\n')).toMatch(/paired by position/);
    const fewer: LandmarkTable = { landmarks: ['x'], images: [{ image: 'b.png', points: [p(0, 0)] }] };
    expect(evaluateLandmarks(fewer, truth)).toMatchObject({ counts: { evaluated: 0, missing: 5 }, unpaired: { predLandmarks: ['x'] } });
  });

  it('an empty comparison gives nulls, not NaN', () => {
    const e = evaluateLandmarks({ landmarks: ['A'], images: [] }, { landmarks: ['A'], images: [] });
    expect(e.errorPx.mean).toBeNull();
    expect(e.successRates.every((s) => s.rate === null)).toBe(true);
    expect(JSON.stringify(e)).not.toMatch(/NaN/);
  });
});
