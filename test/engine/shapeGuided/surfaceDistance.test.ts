/** HD95 (the segmentation benchmark's boundary metric): hand-computed cases, the empty-mask rules, and a brute-force check. */
import { describe, expect, test } from 'vitest';
import { hausdorffDistance, hd95, maskBoundary, percentile, squaredDistanceTransform } from '../../../main/engine/shapeGuided/surfaceDistance';

/** A width × height mask with the rectangle [x0, x1] × [y0, y1] (inclusive) set. */
function rect(width: number, height: number, x0: number, y0: number, x1: number, y1: number, into?: Uint8Array): Uint8Array {
  const m = into ?? new Uint8Array(width * height);
  for (let y = y0; y <= y1; y++) for (let x = x0; x <= x1; x++) m[y * width + x] = 1;
  return m;
}

/** The same definition, by brute force over every pair of boundary pixels. */
function bruteForce(a: Uint8Array, b: Uint8Array, width: number, height: number, p: number): number {
  const pts = (m: Uint8Array) => {
    const bd = maskBoundary(m, width, height);
    const out: Array<[number, number]> = [];
    for (let i = 0; i < bd.length; i++) if (bd[i]) out.push([i % width, Math.floor(i / width)]);
    return out;
  };
  const pa = pts(a);
  const pb = pts(b);
  const dir = (from: Array<[number, number]>, to: Array<[number, number]>) => from.map(([x, y]) => Math.min(...to.map(([u, v]) => Math.hypot(x - u, y - v))));
  return Math.max(percentile(dir(pa, pb), p), percentile(dir(pb, pa), p));
}

describe('HD95', () => {
  test('identical masks: 0', () => {
    const m = rect(20, 20, 3, 4, 12, 15);
    expect(hd95(m, m, 20, 20)).toBe(0);
  });

  test('two single pixels (3, 4) apart: 5', () => {
    expect(hd95(rect(10, 10, 1, 1, 1, 1), rect(10, 10, 4, 5, 4, 5), 10, 10)).toBeCloseTo(5, 12);
  });

  test('two 10 × 10 squares, one shifted 3 px to the right: 3', () => {
    // A's 36 boundary pixels to B's boundary: 14 at 0 (top/bottom rows from x = 3), 4 at 1, 4 at 2,
    // 14 at 3 (the left column and the right column's middle rows); B → A is the mirror image.
    // The 95th percentile of 36 sorted values sits at index 33.25, among the 3s.
    const a = rect(20, 12, 0, 1, 9, 10);
    const b = rect(20, 12, 3, 1, 12, 10);
    expect(hd95(a, b, 20, 12)).toBeCloseTo(3, 12);
    expect(hd95(b, a, 20, 12)).toBeCloseTo(3, 12);
    // the shift along y gives the same
    expect(hd95(rect(12, 20, 1, 0, 10, 9), rect(12, 20, 1, 3, 10, 12), 12, 20)).toBeCloseTo(3, 12);
  });

  test('a concentric 10 × 10 and 6 × 6 square: √8 (the outer corners), and the 95th percentile sees them', () => {
    // outer → inner: 24 sides at 2, 8 beside the corners at √5, 4 corners at √8; inner → outer: all 2.
    const outer = rect(14, 14, 2, 2, 11, 11);
    const inner = rect(14, 14, 4, 4, 9, 9);
    expect(hd95(outer, inner, 14, 14)).toBeCloseTo(Math.SQRT2 * 2, 12);
    // the median sees only the sides
    expect(hausdorffDistance(outer, inner, 14, 14, 50)).toBeCloseTo(2, 12);
  });

  test('one stray pixel far away: the Hausdorff distance jumps, HD95 does not', () => {
    const square = rect(40, 12, 0, 0, 9, 9);
    const withStray = rect(40, 12, 39, 0, 39, 0, square.slice());
    // 36 boundary pixels at 0 plus the stray one at 30 (from (39, 0) to (9, 0)): index 0.95 · 36 = 34.2 → 0
    expect(hd95(withStray, square, 40, 12)).toBe(0);
    expect(hausdorffDistance(withStray, square, 40, 12, 100)).toBeCloseTo(30, 12);
  });

  test('a pixel on the image edge is boundary: a full-image mask is its frame', () => {
    const full = rect(5, 4, 0, 0, 4, 3);
    const b = maskBoundary(full, 5, 4);
    expect(Array.from(b).filter(Boolean).length).toBe(5 * 4 - 3 * 2);
    expect(b[1 * 5 + 1]).toBe(0);
  });

  test('empty masks: both → NaN, one → Infinity', () => {
    const empty = new Uint8Array(64);
    expect(hd95(empty, empty, 8, 8)).toBeNaN();
    expect(hd95(empty, rect(8, 8, 2, 2, 4, 4), 8, 8)).toBe(Infinity);
    expect(hd95(rect(8, 8, 2, 2, 4, 4), empty, 8, 8)).toBe(Infinity);
  });

  test('refuses masks of the wrong size', () => {
    expect(() => hd95(new Uint8Array(10), new Uint8Array(12), 3, 4)).toThrow(/10 and 12 pixels for 3×4/);
  });

  test('agrees with brute force on random blobs (and 0/255 masks read as 0/1)', () => {
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let trial = 0; trial < 20; trial++) {
      const w = 8 + Math.floor(rand() * 25);
      const h = 8 + Math.floor(rand() * 25);
      const blob = () => {
        const m = new Uint8Array(w * h);
        for (let r = 0; r < 1 + Math.floor(rand() * 3); r++) {
          const x0 = Math.floor(rand() * w);
          const y0 = Math.floor(rand() * h);
          rect(w, h, x0, y0, Math.min(w - 1, x0 + Math.floor(rand() * 8)), Math.min(h - 1, y0 + Math.floor(rand() * 8)), m);
        }
        return m;
      };
      const a = blob();
      const b = blob().map((v) => v * 255);
      for (const p of [95, 100, 50]) expect(hausdorffDistance(a, b, w, h, p)).toBeCloseTo(bruteForce(a, b, w, h, p), 9);
    }
  });

  test('the distance transform is exact', () => {
    const set = new Uint8Array(7 * 5);
    set[1 * 7 + 1] = 1;
    set[4 * 7 + 6] = 1;
    const d = squaredDistanceTransform(set, 7, 5);
    for (let y = 0; y < 5; y++) {
      for (let x = 0; x < 7; x++) expect(d[y * 7 + x]).toBe(Math.min((x - 1) ** 2 + (y - 1) ** 2, (x - 6) ** 2 + (y - 4) ** 2));
    }
    expect(squaredDistanceTransform(new Uint8Array(4), 2, 2)[0]).toBeGreaterThan(1e19);
  });

  test('percentile interpolates as numpy does', () => {
    expect(percentile([1, 2, 3, 4], 95)).toBeCloseTo(3.85, 12);
    expect(percentile([5], 95)).toBe(5);
    expect(percentile([], 95)).toBeNaN();
  });
});
