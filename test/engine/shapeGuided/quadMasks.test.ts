/** Vertebral-body masks from the spine set's corner landmarks (the segmentation benchmark's reference). */
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { otsuThreshold } from '../../../main/engine/shapeGuided/segment';
import { dice, fillPolygons, vertebraMask, vertebraQuads } from '../../../main/engine/shapeGuided/quadMasks';
import { readImageSize, readSpineCsvFiles } from '../../../main/io/landmarks';
import { dataPath, hasSharedData, sharedDataSkipReason } from '../../helpers/sharedData';

const count = (m: Uint8Array) => m.reduce((s, v) => s + (v ? 1 : 0), 0);

describe('quadrilateral masks', () => {
  test('an axis-aligned square fills exactly the pixel centres inside it', () => {
    const m = fillPolygons([[{ x: 2, y: 3 }, { x: 6, y: 3 }, { x: 6, y: 7 }, { x: 2, y: 7 }]], 10, 10);
    // y = 3..6 (half-open on y), x = 2..6
    expect(count(m)).toBe(4 * 5);
    expect(m[3 * 10 + 2]).toBe(255);
    expect(m[2 * 10 + 2]).toBe(0);
  });

  test('corners come as TL, TR, BL, BR and are filled as the quad TL → TR → BR → BL (not a bow tie)', () => {
    const corners = [{ x: 10, y: 10 }, { x: 30, y: 10 }, { x: 10, y: 20 }, { x: 30, y: 20 }];
    const quads = vertebraQuads(corners);
    expect(quads).toHaveLength(1);
    expect(quads[0].map((p) => [p.x, p.y])).toEqual([[10, 10], [30, 10], [30, 20], [10, 20]]);
    const { mask } = vertebraMask(corners, 40, 30);
    expect(count(mask)).toBe(21 * 10); // a bow tie would fill about half
    // a rotated quad keeps its area
    const t = (Math.PI / 180) * 25;
    const rot = corners.map(({ x, y }) => ({ x: 20 + (x - 20) * Math.cos(t) - (y - 15) * Math.sin(t), y: 15 + (x - 20) * Math.sin(t) + (y - 15) * Math.cos(t) }));
    expect(count(vertebraMask(rot, 40, 30).mask)).toBeGreaterThan(180);
    expect(count(vertebraMask(rot, 40, 30).mask)).toBeLessThan(230);
  });

  test('rendering at a smaller scale keeps the foreground fraction; unplaced corners drop their vertebra', () => {
    const corners = [{ x: 100, y: 100 }, { x: 300, y: 110 }, { x: 95, y: 200 }, { x: 305, y: 210 }, null, { x: 1, y: 1 }, { x: 2, y: 2 }, { x: 3, y: 3 }];
    const full = vertebraMask(corners, 400, 400);
    const small = vertebraMask(corners, 400, 400, 0.25);
    expect(small).toMatchObject({ width: 100, height: 100 });
    expect(count(small.mask) / 1e4).toBeCloseTo(count(full.mask) / 16e4, 2);
    expect(() => vertebraQuads(corners.slice(0, 5))).toThrow(/multiple of 4/);
  });

  test('Dice: identical 1, disjoint 0, both empty NaN', () => {
    const a = Uint8Array.from([1, 1, 0, 0]);
    expect(dice(a, a)).toBe(1);
    expect(dice(a, Uint8Array.from([0, 0, 1, 1]))).toBe(0);
    expect(dice(a, Uint8Array.from([1, 0, 0, 0]))).toBeCloseTo(2 / 3);
    expect(dice(new Uint8Array(4), new Uint8Array(4))).toBeNaN();
  });

  test('Otsu separates two clusters of grey values', () => {
    const values = Float32Array.from({ length: 1000 }, (_, i) => (i < 700 ? 0.2 + (i % 7) * 0.01 : 0.8 + (i % 5) * 0.01));
    const t = otsuThreshold(values);
    expect(t).toBeGreaterThan(0.26);
    expect(t).toBeLessThanOrEqual(0.8);
  });
});

describe.skipIf(!hasSharedData)(`on the real spine labels${hasSharedData ? '' : ` (skipped: ${sharedDataSkipReason})`}`, () => {
  test('17 vertebrae per image; the bodies cover a plausible part of the image', async () => {
    const dir = dataPath('landmarks/spine');
    const table = await readSpineCsvFiles(join(dir, 'labels/test/landmarks.csv'), join(dir, 'labels/test/filenames.csv'), (name) => readImageSize(join(dir, 'images/test', name)));
    for (const im of table.images.slice(0, 5)) {
      expect(vertebraQuads(im.points)).toHaveLength(17);
      const { mask, width, height } = vertebraMask(im.points, im.width!, im.height!, 0.25);
      const fraction = count(mask) / (width * height);
      expect(fraction).toBeGreaterThan(0.02);
      expect(fraction).toBeLessThan(0.4);
    }
  });
});
