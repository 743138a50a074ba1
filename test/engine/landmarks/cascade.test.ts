/**
 * The multi-scale cascade on synthetic images with known shifts and scales. The "network" here is an
 * ideal one: the embedding at a pixel is a smooth code of the anatomical position it shows, so every
 * error is the cascade's (region geometry, level scales, coordinate maps, sub-pixel peaks). The
 * target is the template scaled by s and shifted by t: anatomy u sits at s·u + t.
 */
import { describe, expect, test } from 'vitest';
import { cascadeLevelsFor, levelSampling, refineInCascade, templateLevelQueries, type CascadeSettings, type RegionEmbedder } from '../../../main/engine/landmarks/cascade';
import { fullMapFromHwc } from '../../../main/engine/landmarks/features';
import { fromRegion, regionAround, sampleRegion, toRegion, wholeImage } from '../../../main/engine/landmarks/regions';
import type { Point } from '../../../main/engine/landmarks/types';

const D = 16;
/** Wavelengths of 40–250 anatomical px in several directions: a smooth code of the position. */
const waves = Array.from({ length: D / 2 }, (_, k) => {
  const angle = (k * Math.PI * 0.61) % Math.PI;
  const length = 40 * Math.pow(250 / 40, k / (D / 2 - 1));
  return { fx: (Math.cos(angle) * 2 * Math.PI) / length, fy: (Math.sin(angle) * 2 * Math.PI) / length, phase: k * 0.7 };
});

function code(u: Point, out: Float32Array, o: number): void {
  let norm = 0;
  waves.forEach((w, k) => {
    const a = w.fx * u.x + w.fy * u.y + w.phase;
    out[o + 2 * k] = Math.cos(a);
    out[o + 2 * k + 1] = Math.sin(a);
    norm += 1;
  });
  const inv = 1 / Math.sqrt(norm);
  for (let c = 0; c < D; c++) out[o + c] *= inv;
}

/** An ideal embedder for an image whose pixel (x, y) shows anatomy ((x, y) − t)/s. */
function idealEmbedder(s: number, t: Point, calls: number[] = []): RegionEmbedder {
  return async (samplings) => {
    calls.push(samplings.length);
    return samplings.map((sampling) => {
      const data = new Float32Array(sampling.width * sampling.height * D);
      for (let j = 0; j < sampling.height; j++) {
        for (let i = 0; i < sampling.width; i++) {
          const p = fromRegion({ x: i, y: j }, sampling);
          code({ x: (p.x - t.x) / s, y: (p.y - t.y) / s }, data, (j * sampling.width + i) * D);
        }
      }
      return fullMapFromHwc(data, sampling.width, sampling.height, D);
    });
  };
}

describe('regions', () => {
  test('network pixels and original pixels map both ways; the whole image maps pixel centres onto themselves', () => {
    const s = { region: wholeImage({ width: 200, height: 100 }), width: 200, height: 100 };
    expect(toRegion({ x: 12, y: 7 }, s)).toEqual({ x: 12, y: 7 });
    const r = { region: { left: 10.25, top: -3.5, width: 64, height: 32 }, width: 16, height: 16 };
    const p = { x: 33.3, y: 11.1 };
    const back = fromRegion(toRegion(p, r), r);
    expect(back.x).toBeCloseTo(p.x, 10);
    expect(back.y).toBeCloseTo(p.y, 10);
  });

  test('a region is moved inside the image where it fits, centred where it does not', () => {
    expect(regionAround({ x: 2, y: 50 }, 20, 20, { width: 100, height: 100 })).toEqual({ left: -0.5, top: 40, width: 20, height: 20 });
    expect(regionAround({ x: 98, y: 50 }, 20, 20, { width: 100, height: 100 }).left).toBe(79.5);
    expect(regionAround({ x: 10, y: 10 }, 140, 20, { width: 100, height: 100 }).left).toBe(-20.5);
  });

  test('sampling: area average when shrinking, linear when enlarging, 0 outside the image', () => {
    // a horizontal ramp v = x: any box average and any linear sample of it is its centre's x
    const w = 40;
    const h = 10;
    const img = { width: w, height: h, data: Float32Array.from({ length: w * h }, (_, i) => (i % w) / w) };
    const shrink = { region: { left: 3.5, top: -0.5, width: 24, height: 10 }, width: 6, height: 2 };
    const a = sampleRegion(img, shrink);
    for (let i = 0; i < 6; i++) expect(a[i]).toBeCloseTo(fromRegion({ x: i, y: 0 }, shrink).x / w, 6);
    const grow = { region: { left: 9.5, top: 2.5, width: 4, height: 4 }, width: 16, height: 16 };
    const b = sampleRegion(img, grow);
    for (let i = 2; i < 14; i++) expect(b[i]).toBeCloseTo(fromRegion({ x: i, y: 0 }, grow).x / w, 6);
    const outside = sampleRegion(img, { region: { left: -20.5, top: -0.5, width: 10, height: 10 }, width: 5, height: 5 });
    expect(Math.max(...outside)).toBe(0);
  });
});

describe('cascade on known shifts and scales', () => {
  const template = { width: 1000, height: 800 };
  const points: Point[] = [{ x: 210.4, y: 180.7 }, { x: 640.2, y: 300.9 }, { x: 480.6, y: 610.3 }, { x: 820.1, y: 655.5 }];

  test.each([
    { s: 1, t: { x: 23.7, y: -11.2 }, wholeUpTo: 0 },
    { s: 1.1, t: { x: -37.3, y: 21.6 }, wholeUpTo: 0 },
    { s: 0.85, t: { x: 61.9, y: 40.4 }, wholeUpTo: 0 },
    { s: 1.1, t: { x: -37.3, y: 21.6 }, wholeUpTo: 640 },
    { s: 0.85, t: { x: 61.9, y: 40.4 }, wholeUpTo: 640 },
  ])('scale $s, shift ($t.x, $t.y), whole levels up to $wholeUpTo px: every level gets closer, the last to a fraction of a pixel', async ({ s, t, wholeUpTo }) => {
    const target = { width: Math.round(template.width * s), height: Math.round(template.height * s) };
    const settings: CascadeSettings = { baseSize: 128, sigma: 2, wholeUpTo, levels: cascadeLevelsFor(128, template, { inputSize: 64, radius: 8 }) };
    // 1000 px at 128: ~7.8 px a global pixel; levels 2×, 4×, 8× reach ≤ 1 original px
    expect(settings.levels.map((l) => l.magnification)).toEqual([2, 4, 8]);
    const queries = await templateLevelQueries(idealEmbedder(1, { x: 0, y: 0 }), template, points, settings);
    const truth = points.map((p) => ({ x: s * p.x + t.x, y: s * p.y + t.y }));
    // start where a global search on a ~8 px grid would leave it: 2–3 global pixels off
    const starts = truth.map((p, i) => ({ x: p.x + [14, -17, 9, -12][i], y: p.y + [-11, 8, 16, -15][i] }));
    const scale = { x: s, y: s }; // what the global affine fit would say
    const result = await refineInCascade(idealEmbedder(s, t), target, starts, queries, settings, points.map(() => scale));
    result.forEach((r, i) => {
      const errors = r!.steps.map((step) => Math.hypot(step.point.x - truth[i].x, step.point.y - truth[i].y));
      const pixel = (l: number) => (s * Math.max(template.width, template.height)) / (settings.baseSize * settings.levels[l].magnification);
      errors.forEach((e, l) => expect(e, `landmark ${i}, level ${l}: ${e.toFixed(3)} px`).toBeLessThan(0.5 * pixel(l)));
      expect(errors[errors.length - 1]).toBeLessThan(0.5);
      r!.steps.forEach((step) => expect(step.score).toBeGreaterThan(0.9));
    });
  });

  test('regions are cut at the same anatomical scale on both sides when the scale is known', () => {
    const level = { magnification: 4, inputSize: 64, radius: 8 };
    const t = levelSampling({ x: 500, y: 400 }, template, 128, level);
    const x = levelSampling({ x: 550, y: 440 }, { width: 1100, height: 880 }, 128, level, { x: 1.1, y: 1.1 });
    // template region side ∝ its own size; the target's additionally by the anatomy's scale (1.1)
    expect(t.region.width).toBeCloseTo((64 * 1000) / (4 * 128), 10);
    expect(x.region.width / t.region.width).toBeCloseTo(1.1 * 1.1, 10);
  });

  test('regions: one batched network call per level and search for all landmarks, none for an unplaced point', async () => {
    const calls: number[] = [];
    const settings: CascadeSettings = { baseSize: 128, sigma: 2, wholeUpTo: 0, iterations: 1, levels: cascadeLevelsFor(128, template, { inputSize: 64, radius: 8, maxLevels: 2 }) };
    const queries = await templateLevelQueries(idealEmbedder(1, { x: 0, y: 0 }, calls), template, [points[0], null, points[2]], settings);
    expect(calls).toEqual([2, 2]);
    expect(queries[0][1]).toBeNull();
    calls.length = 0;
    const out = await refineInCascade(idealEmbedder(1, { x: 0, y: 0 }, calls), template, [points[0], null, points[2]], queries, settings);
    expect(calls).toEqual([2, 2]);
    expect(out[1]).toBeNull();
  });

  test('whole levels: one network input per level for every landmark, whatever their number', async () => {
    const calls: number[] = [];
    const settings: CascadeSettings = { baseSize: 128, sigma: 2, levels: cascadeLevelsFor(128, template, { inputSize: 64, radius: 8, maxLevels: 2 }) };
    const queries = await templateLevelQueries(idealEmbedder(1, { x: 0, y: 0 }, calls), template, points, settings);
    await refineInCascade(idealEmbedder(1, { x: 0, y: 0 }, calls), template, points, queries, settings);
    expect(calls).toEqual([1, 1, 1, 1]);
  });
});
