/**
 * Review that remembers: a correction keeps the point's prediction (undo gives its confidence back),
 * and `landmarks:calibration` learns from the accepted images what a confidence means.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImageEntry } from '../../common/api';
import { harness, type Harness } from './harness';

function grey(path: string, width: number, height: number, seed: number): void {
  const png = new PNG({ width, height });
  for (let i = 0; i < width * height; i++) {
    const v = (i * 31 + seed * 97) % 251;
    png.data.set([v, v, v, 255], i * 4);
  }
  writeFileSync(path, PNG.sync.write(png));
}

describe('review corrections and calibration', () => {
  let h: Harness;
  let images: ImageEntry[];
  const names = ['a', 'b', 'c', 'd'];
  beforeAll(async () => {
    h = harness();
    const files = [0, 1, 2, 3].map((k) => join(h.root, `img${k}.png`));
    files.forEach((f, k) => grey(f, 200, 300, k));
    await h.invoke('project:create', { dir: join(h.root, 'project'), name: 'Review' });
    images = (await h.invoke('images:import', { jobId: 'import', paths: files })).imported;
    await h.invoke('landmarks:setTemplate', { imageId: images[0].id, names });
    for (const n of names) await h.invoke('landmarks:setTemplatePoint', { name: n, point: { x: 50, y: 50 } });
    // what a propagation leaves: predicted points with scores on the other images
    const store = h.table.session.project!;
    store.change('predictions (test)', (d) => {
      for (const [k, im] of images.slice(1).entries()) {
        d.landmarks.push({
          imageId: im.id,
          accepted: false,
          updatedAt: new Date().toISOString(),
          points: names.map((name, i) => ({ name, x: 100, y: 100 + i * 10, confidence: [0.1, 0.3, 0.6, 0.9][i] - k * 0.02, status: 'predicted' as const })),
        });
      }
    });
  });
  afterAll(() => h.dispose());

  it('keeps the prediction of a corrected point, and undo (status predicted) restores its confidence', async () => {
    const b = images[1].id;
    let res = await h.invoke('landmarks:setPoint', { imageId: b, name: 'a', point: { x: 130, y: 140 } });
    expect(res.points[0]).toEqual({ name: 'a', x: 130, y: 140, status: 'corrected', prediction: { x: 100, y: 100, confidence: 0.1 } });
    // a second drag keeps the first prediction, not the first correction
    res = await h.invoke('landmarks:setPoint', { imageId: b, name: 'a', point: { x: 131, y: 141 } });
    expect(res.points[0].prediction).toEqual({ x: 100, y: 100, confidence: 0.1 });
    res = await h.invoke('landmarks:setPoint', { imageId: b, name: 'a', point: { x: 100, y: 100 }, status: 'predicted' });
    expect(res.points[0]).toEqual({ name: 'a', x: 100, y: 100, status: 'predicted', confidence: 0.1 });
  });

  it('calibrates on accepted images only: low scores that were moved far are "off", accepted-as-is points are not', async () => {
    const empty = await h.invoke('landmarks:calibration', {});
    expect(empty).toMatchObject({ points: 0, steps: [], rho: null, tolerancePx: 3 }); // 1 % of 300 px
    expect(empty.expected.find((e) => e.threshold === 0.5)).toEqual({ threshold: 0.5, count: 6, offRate: null });

    // image b: the two least confident points were 40 px off; image c: the least confident one 50 px off
    const [b, c] = [images[1].id, images[2].id];
    await h.invoke('landmarks:setPoint', { imageId: b, name: 'a', point: { x: 140, y: 100 } });
    await h.invoke('landmarks:setPoint', { imageId: b, name: 'b', point: { x: 100, y: 150 } });
    await h.invoke('landmarks:setPoint', { imageId: c, name: 'a', point: { x: 150, y: 100 } });
    await h.invoke('landmarks:accept', { imageId: b, accepted: true });
    await h.invoke('landmarks:accept', { imageId: c, accepted: true });

    const cal = await h.invoke('landmarks:calibration', { tolerancePx: 20 });
    expect(cal.tolerancePx).toBe(20);
    expect(cal.points).toBe(8);
    // off: b.a 0.10, c.a 0.08, b.b 0.30; not off: c.b 0.28, c.c 0.58, b.c 0.60, c.d 0.88, b.d 0.90
    expect(cal.steps.map((s) => [Number(s.from.toFixed(3)), Number(s.offRate.toFixed(3)), s.count])).toEqual([
      [0.08, 1, 2],
      [0.28, 0.5, 2],
      [0.58, 0, 4],
    ]);
    expect(cal.rho).toBeLessThan(-0.5);
    // the open image d (scores 0.06, 0.26, 0.56, 0.86): under 0.5 → 0.06 (rate 1) and 0.26 (rate 1, below the 0.28 step)
    expect(cal.expected.find((e) => e.threshold === 0.5)).toEqual({ threshold: 0.5, count: 2, offRate: 1 });
    // under 1: all four → (1 + 1 + 0.5 + 0) / 4
    expect(cal.expected.find((e) => e.threshold === 1)).toEqual({ threshold: 1, count: 4, offRate: 0.625 });
  });
});
