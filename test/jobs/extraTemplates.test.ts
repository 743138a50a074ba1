import { describe, expect, test } from 'vitest';
import { globalDescriptor, nearestTemplates } from '../../main/jobs/extraTemplates';

const coarse = (pixels: number[][]) => ({ factor: 1, width: pixels.length, height: 1, channels: pixels[0].length, data: Float32Array.from(pixels.flat()) });

describe('extra templates: which ones vote', () => {
  test('the global descriptor is the unit mean of the coarse embedding', () => {
    const d = globalDescriptor({ coarse: coarse([[1, 0], [0, 1], [1, 1]]) });
    expect(Array.from(d)).toEqual([Math.SQRT1_2, Math.SQRT1_2].map((v) => expect.closeTo(v, 6)));
  });

  test('with more templates than the limit, the most similar images vote, ties in order', () => {
    const t = (name: string, v: number[]) => ({ name, descriptor: Float32Array.from(v) });
    const templates = [t('a', [1, 0]), t('b', [0, 1]), t('c', [0.8, 0.6]), t('d', [0.6, 0.8]), t('e', [0.8, 0.6])];
    expect(nearestTemplates(templates, Float32Array.from([1, 0]), 3).map((x) => x.name)).toEqual(['a', 'c', 'e']);
    expect(nearestTemplates(templates, Float32Array.from([0, 1]), 2).map((x) => x.name)).toEqual(['b', 'd']);
    expect(nearestTemplates(templates, Float32Array.from([0, 1]), 9)).toBe(templates);
  });
});
