/** The review benchmark's simulated user (bench/review.ts): queue order, corrections counted, calibration bins. No network here. */
import { describe, expect, test } from 'vitest';
import { calibrationBins, review, type FoldState } from '../../bench/review';
import type { LandmarkSet } from '../../bench/landmarks';
import type { ImageLandmarks } from '../../main/engine/landmarks/types';

const truthPoints = [{ x: 10, y: 10 }, { x: 50, y: 50 }];
const set: LandmarkSet = {
  name: 'synthetic', trainImages: '', templateImage: 't.png', templatePoints: truthPoints, landmarks: ['a', 'b'], heightFraction: false,
  targets: ['p.png', 'q.png', 'r.png'].map((name) => ({ path: name, name })),
  truth: { landmarks: ['a', 'b'], images: ['p.png', 'q.png', 'r.png'].map((image) => ({ image, width: 100, height: 100, points: truthPoints })) },
};
/** Image `name` predicted with point a off by `offA` px (confidence `ca`) and point b exact (confidence `cb`). */
const predicted = (image: string, offA: number, ca: number, cb: number): ImageLandmarks => ({
  image, width: 100, height: 100, points: [{ x: 10 + offA, y: 10, confidence: ca }, { x: 50, y: 50, confidence: cb }],
});

function state(): FoldState {
  return {
    set, reviewed: [], corrected: 0, history: [],
    predictions: new Map([predicted('p.png', 30, 0.9, 0.9), predicted('q.png', 20, 0.1, 0.95), predicted('r.png', 2, 0.5, 0.6)].map((im) => [im.image, im])),
  };
}

describe('review bench: the simulated user', () => {
  test("reviews in the app's queue order (lowest point confidence first) and counts only the points off by more than the tolerance", () => {
    const s = state();
    review(s, 2, 5);
    expect(s.reviewed).toEqual(['q.png', 'r.png']);
    expect(s.corrected).toBe(1); // q's point a (20 px); r's 2 px is within tolerance
    expect(s.history).toEqual([
      { confidence: 0.1, error: 20 }, { confidence: 0.95, error: 0 },
      { confidence: 0.5, error: 2 }, { confidence: 0.6, error: 0 },
    ]);
    review(s, 1, 5);
    expect(s.reviewed).toEqual(['q.png', 'r.png', 'p.png']);
    expect(s.corrected).toBe(2);
  });

  test('calibration bins compare the rate fitted on reviewed points with the rate observed on the rest', () => {
    const history = [{ confidence: 0.1, error: 20 }, { confidence: 0.15, error: 30 }, { confidence: 0.9, error: 1 }, { confidence: 0.95, error: 0 }];
    const rest = [
      { image: 'x', landmark: 'a', truth: { x: 0, y: 0 }, predicted: { x: 9, y: 0, confidence: 0.12 }, errorPx: 9 },
      { image: 'x', landmark: 'b', truth: { x: 0, y: 0 }, predicted: { x: 1, y: 0, confidence: 0.92 }, errorPx: 1 },
      { image: 'y', landmark: 'a', truth: { x: 0, y: 0 }, predicted: { x: 1, y: 0, confidence: 0.18 }, errorPx: 1 },
    ];
    expect(calibrationBins(history, rest, 5)).toEqual([
      { from: 0, to: 0.2, points: 2, expected: 1, observed: 0.5 },
      { from: 0.8, to: 1, points: 1, expected: 0, observed: 0 },
    ]);
    expect(calibrationBins([], rest, 5)[0].expected).toBeNull();
  });
});
