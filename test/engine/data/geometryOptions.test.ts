/**
 * The augmentation options of `--preset landmarks` (TrainConfig.augment), against the paper's draws:
 * the same random numbers are consumed whatever the settings, so with one seed each option's draw is
 * the paper's draw with the range changed — a relation that can be computed by hand. The PyTorch
 * engine's test/torch/test_data.py (GeometryOptions) checks the same relations on its own stream.
 */
import { describe, expect, it } from 'vitest';
import { drawT0, drawView2, PAPER_GEOMETRY, type GeometrySettings } from '../../../main/engine/data/augment';
import { makeBatch } from '../../../main/engine/data/batch';
import { baseSizeFor } from '../../../main/engine/data/prepare';
import { Rng } from '../../../main/engine/rng';
import { synthImage } from './fixtures';

const landmark: GeometrySettings = { hflipP: 0, vflipP: 0, rotationDeg: 10, cropScale: [0.05, 1], view2Turns: false };

describe('geometry options: the same draws as the paper, other ranges', () => {
  it('rotation ±r is the paper angle scaled by r/180; flips with p = 0 never happen; p = 1 always', () => {
    for (let seed = 1; seed <= 200; seed++) {
      const paper = drawT0(new Rng(seed), 146, PAPER_GEOMETRY);
      const ours = drawT0(new Rng(seed), 146, { ...PAPER_GEOMETRY, hflipP: 0, vflipP: 1, rotationDeg: 10 });
      expect(ours.angle).toBeCloseTo((paper.angle * 10) / 180, 12);
      expect(ours.hflip).toBe(false);
      expect(ours.vflip).toBe(true);
    }
  });

  it('the crop area is a fraction in [min, max] of the image, drawn from the same uniform as the paper', () => {
    for (let seed = 1; seed <= 200; seed++) {
      const s = 146;
      const c = drawT0(new Rng(seed), s, landmark).crop;
      if (c.tries === 0) continue; // the fallback (no draw fitted): the whole image
      const area = (c.width * c.height) / (s * s);
      // rounding w and h to whole pixels moves the area by at most (w + h + 1)/s²
      expect(area).toBeGreaterThanOrEqual(0.05 - (c.width + c.height + 1) / (s * s));
      expect(area).toBeLessThanOrEqual(1);
    }
    // a fixed area fraction of 1/4: every crop is (about) half the side
    const quarter = drawT0(new Rng(7), 200, { ...landmark, cropScale: [0.25, 0.25] }).crop;
    expect(Math.abs(Math.sqrt(quarter.width * quarter.height) - 100)).toBeLessThanOrEqual(1);
  });

  it('without view-2 turns (f, k) are drawn and set to 0; the stream goes on as the paper’s', () => {
    for (let seed = 1; seed <= 50; seed++) {
      const a = new Rng(seed);
      const b = new Rng(seed);
      drawView2(a, true);
      expect(drawView2(b, false)).toEqual({ f: 0, k: 0 });
      expect(b.state()).toEqual(a.state());
    }
  });

  it('flips, rotation and turns consume the same draws whatever their settings (the crop’s retries depend on its range, as torchvision’s)', () => {
    const images = Array.from({ length: 4 }, (_, i) => synthImage(`g${i}`, baseSizeFor(32), 1, 50 + i));
    const a = new Rng(11);
    const b = new Rng(11);
    makeBatch(images, a, { pairs: 2, cropSize: 32, channels: 1 });
    const batch = makeBatch(images, b, { pairs: 2, cropSize: 32, channels: 1, geometry: { ...landmark, cropScale: PAPER_GEOMETRY.cropScale }, debug: true });
    expect(b.state()).toEqual(a.state());
    expect(Array.from(batch.f)).toEqual([0, 0, 0, 0]);
    expect(Array.from(batch.k)).toEqual([0, 0, 0, 0]);
    for (const d of batch.debug!) for (const t0 of d.t0) expect(Math.abs(t0.angle)).toBeLessThanOrEqual(10);
  });

  it('with no rotation, no flips and whole-image crops, both views of an image are the same picture up to colour', () => {
    const images = [synthImage('only', baseSizeFor(32), 1, 5)];
    const still: GeometrySettings = { hflipP: 0, vflipP: 0, rotationDeg: 0, cropScale: [1, 1], view2Turns: false };
    const batch = makeBatch(images, new Rng(3), { pairs: 1, cropSize: 32, channels: 1, geometry: still, normalize: false, debug: true });
    const px = 32 * 32;
    const view1 = batch.x.subarray(0, px);
    const view2 = batch.x.subarray(2 * px, 3 * px);
    // T1: a ±2° turn and brightness/contrast: the two views correlate almost perfectly
    const mean = (v: Float32Array) => v.reduce((s, x) => s + x, 0) / v.length;
    const m1 = mean(view1);
    const m2 = mean(view2);
    let sxy = 0, sxx = 0, syy = 0;
    for (let i = 0; i < px; i++) {
      sxy += (view1[i] - m1) * (view2[i] - m2);
      sxx += (view1[i] - m1) ** 2;
      syy += (view2[i] - m2) ** 2;
    }
    expect(sxy / Math.sqrt(sxx * syy)).toBeGreaterThan(0.9);
    const t0 = batch.debug![0].t0[0];
    expect(t0).toMatchObject({ hflip: false, vflip: false });
    expect(Math.abs(t0.angle)).toBe(0);
    expect([t0.crop.width, t0.crop.height]).toEqual([baseSizeFor(32), baseSizeFor(32)]);
  });
});
