import { describe, expect, it } from 'vitest';
import {
  adjustBrightness,
  adjustContrast,
  adjustHue,
  adjustSaturation,
  applyT1,
  colorJitter,
  denormalise,
  mixup,
  normalise,
  toGrayscale,
  type T1Params,
} from '../../../main/engine/data/augment';

const f32 = (xs: number[]) => Float32Array.from(xs);
const close = (got: Float32Array, want: number[], digits = 6) => {
  expect(got.length).toBe(want.length);
  want.forEach((w, i) => expect(got[i]).toBeCloseTo(w, digits));
};
const params = (over: Partial<T1Params>): T1Params => ({
  angle: 0,
  order: [0, 1, 2, 3],
  brightness: 1,
  contrast: 1,
  saturation: 1,
  hue: 0,
  grayscale: false,
  ...over,
});

describe('ColorJitter ops (torchvision tensor semantics)', () => {
  it('brightness multiplies and clamps to [0, 1]', () => {
    const a = f32([0.5, 0.9, 0, 0.25]);
    adjustBrightness(a, 1.2);
    close(a, [0.6, 1, 0, 0.3]);
    const b = f32([0.5, 1]);
    adjustBrightness(b, 0.6);
    close(b, [0.3, 0.6]);
  });

  it('contrast blends with the mean of the image (grey) and clamps', () => {
    const a = f32([0, 1, 0.5, 0.5]); // mean 0.5
    adjustContrast(a, 1, 0.5);
    close(a, [0.25, 0.75, 0.5, 0.5]);
    const b = f32([0, 1, 0.5, 0.5]);
    adjustContrast(b, 1, 1.4); // 1.4x − 0.2
    close(b, [0, 1, 0.5, 0.5]);
    const c = f32([0.2, 0.4, 0.6, 0.6]); // mean 0.45; 1.4x − 0.18
    adjustContrast(c, 1, 1.4);
    close(c, [0.1, 0.38, 0.66, 0.66]);
  });

  it('contrast on RGB uses the mean of the luma image', () => {
    const a = f32([1, 0, 0, 0, 0, 0]); // luma 0.299 and 0 → mean 0.1495
    adjustContrast(a, 3, 0.5); // 0.5x + 0.07475
    close(a, [0.57475, 0.07475, 0.07475, 0.07475, 0.07475, 0.07475]);
  });

  it('saturation blends with the luma image on RGB and is the identity on grey', () => {
    const a = f32([1, 0, 0]);
    adjustSaturation(a, 3, 0);
    close(a, [0.299, 0.299, 0.299]);
    const b = f32([0.5, 0.4, 0.3]); // luma 0.4185 → 1.4x − 0.1674
    adjustSaturation(b, 3, 1.4);
    close(b, [0.5326, 0.3926, 0.2526]);
    const g = f32([0.1, 0.7]);
    adjustSaturation(g, 1, 0);
    close(g, [0.1, 0.7]);
  });

  it('hue shifts in HSV and is the identity on grey', () => {
    const red = f32([1, 0, 0]);
    adjustHue(red, 3, 1 / 3);
    close(red, [0, 1, 0], 5);
    const orange = f32([1, 0.5, 0]); // h = 1/12
    adjustHue(orange, 3, -1 / 12);
    close(orange, [1, 0, 0], 5);
    const neg = f32([0, 0, 1]); // blue, h = 2/3; a negative shift wraps around 0
    adjustHue(neg, 3, -0.7); // → h = 2/3 − 0.7 = −1/30 mod 1 = 29/30: almost red, a bit of blue
    close(neg, [1, 0, 0.2], 5);
    // zero shift: identity up to float rounding on arbitrary colours; greys stay grey
    const rnd = f32([0.1, 0.5, 0.9, 0.3, 0.3, 0.3, 0.9, 0.2, 0.4]);
    const copy = rnd.slice();
    adjustHue(rnd, 3, 0);
    close(rnd, Array.from(copy), 6);
    const grey = f32([0.2, 0.8]);
    adjustHue(grey, 1, 0.02);
    close(grey, [0.2, 0.8]);
  });

  it('random greyscale: luma to all channels; identity on grey', () => {
    const a = f32([1, 0, 0, 0.2, 0.4, 0.6]);
    toGrayscale(a, 3);
    close(a, [0.299, 0.299, 0.299, 0.363, 0.363, 0.363]);
    const g = f32([0.3]);
    toGrayscale(g, 1);
    close(g, [0.3]);
  });

  it('runs the four ops in the drawn order', () => {
    // brightness 1.4 then contrast 0.5 differs from contrast then brightness because of the clamp
    const src = [0.2, 0.9];
    const bc = f32(src);
    colorJitter(bc, 1, params({ order: [0, 1, 2, 3], brightness: 1.4, contrast: 0.5 }));
    // brightness: [0.28, 1.0 (1.26 clamped)] → mean 0.64 → 0.5x + 0.32
    close(bc, [0.46, 0.82]);
    const cb = f32(src);
    colorJitter(cb, 1, params({ order: [1, 0, 3, 2], brightness: 1.4, contrast: 0.5 }));
    // contrast: mean 0.55 → [0.375, 0.725] → ×1.4 → [0.525, 1.015 → 1]
    close(cb, [0.525, 1]);
  });

  it('applyT1 with no rotation, neutral jitter and greyscale on RGB gives the luma image', () => {
    const a = f32([1, 0, 0, 0, 1, 0, 0, 0, 1, 0.2, 0.4, 0.6]);
    const out = applyT1(a, 2, 3, params({ grayscale: true }));
    close(out, [0.299, 0.299, 0.299, 0.587, 0.587, 0.587, 0.114, 0.114, 0.114, 0.363, 0.363, 0.363]);
    expect(Array.from(a)).toEqual(Array.from(f32([1, 0, 0, 0, 1, 0, 0, 0, 1, 0.2, 0.4, 0.6]))); // input untouched
  });
});

describe('mixup and normalisation', () => {
  it('mixup is w·a + (1 − w)·b', () => {
    const a = f32([0, 1, 0.5]);
    const b = f32([1, 0, 0.25]);
    close(mixup(a, b, 0.3), [0.7, 0.3, 0.325]);
  });

  it('grey: (x − 0.5)/0.5 maps [0, 1] to [−1, 1]; RGB: ImageNet mean/std; denormalise inverts', () => {
    const g = f32([0, 0.5, 1, 0.25]);
    normalise(g, 1);
    close(g, [-1, 0, 1, -0.5]);
    denormalise(g, 1);
    close(g, [0, 0.5, 1, 0.25]);
    const c = f32([0.485, 0.456, 0.406, 1, 0, 1]);
    normalise(c, 3);
    close(c, [0, 0, 0, (1 - 0.485) / 0.229, -0.456 / 0.224, (1 - 0.406) / 0.225], 5);
    denormalise(c, 3);
    close(c, [0.485, 0.456, 0.406, 1, 0, 1], 6);
  });
});
