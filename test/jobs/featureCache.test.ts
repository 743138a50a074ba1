import { mkdtempSync, readdirSync, writeFileSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { featuresFromEmbedding } from '../../main/engine/landmarks/features';
import { Rng } from '../../main/engine/rng';
import { FeatureCache, featureKey } from '../../main/jobs/featureCache';
import { decodeHalf, encodeHalf, fromHalf, toHalf } from '../../main/io/half';

describe('half precision', () => {
  test('exact values, rounding to nearest even, overflow, subnormals', () => {
    for (const v of [0, 1, -1, 0.5, 2048, 65504, -0.25, 2 ** -24, 2 ** -14]) expect(fromHalf(toHalf(v))).toBe(v);
    expect(fromHalf(toHalf(2049))).toBe(2048); // halfway: to even
    expect(fromHalf(toHalf(2051))).toBe(2052); // halfway: to even
    expect(fromHalf(toHalf(1e6))).toBe(Infinity);
    expect(fromHalf(toHalf(1e-9))).toBe(0);
    expect(Number.isNaN(fromHalf(toHalf(NaN)))).toBe(true);
  });

  test('unit-vector components round-trip within half a unit in the last place', () => {
    const rng = new Rng(1);
    const v = Float32Array.from({ length: 10_000 }, () => rng.next() * 2 - 1);
    const back = decodeHalf(encodeHalf(v));
    v.forEach((x, i) => expect(Math.abs(back[i] - x)).toBeLessThanOrEqual(Math.max(Math.abs(x) * 2 ** -11, 2 ** -25)));
  });
});

describe('FeatureCache', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ld-features-'));
  const model = join(dir, 'model.onnx');
  const image = join(dir, 'image.png');
  writeFileSync(model, 'model bytes');
  writeFileSync(image, 'image bytes');
  const [c, h, w] = [4, 16, 24];
  const rng = new Rng(2);
  const chw = Float32Array.from({ length: c * h * w }, () => rng.next() - 0.5);
  const features = featuresFromEmbedding(chw, { channels: c, height: h, width: w }, { source: { width: 48, height: 32 }, scale: { x: 0.5, y: 0.5 }, sigma: 1.5 });

  test('put then get: the same features (full map in half precision)', () => {
    const cache = new FeatureCache(join(dir, 'cache'));
    const key = featureKey({ model, image, settings: { size: 16 } });
    expect(cache.get(key)).toBeUndefined();
    cache.put(key, features);
    const back = cache.get(key)!;
    expect(back.source).toEqual(features.source);
    expect(back.scale).toEqual(features.scale);
    expect(back.sigma).toBe(1.5);
    expect(back.coarse.data).toEqual(features.coarse.data);
    expect(back.full.width).toBe(w);
    back.full.data.forEach((v, i) => expect(Math.abs(v - features.full.data[i])).toBeLessThan(1e-3));
  });

  test('the key changes with the settings, the model file and the image file', () => {
    const a = featureKey({ model, image, settings: { size: 16 } });
    expect(featureKey({ model, image, settings: { size: 32 } })).not.toBe(a);
    utimesSync(image, new Date(), new Date(Date.now() + 5000));
    expect(featureKey({ model, image, settings: { size: 16 } })).not.toBe(a);
    writeFileSync(model, 'other model bytes');
    expect(featureKey({ model, image, settings: { size: 16 } })).not.toBe(a);
  });

  test('a damaged entry is a miss, not an error', () => {
    const cache = new FeatureCache(join(dir, 'cache2'));
    cache.put('k', features);
    const file = join(dir, 'cache2', readdirSync(join(dir, 'cache2'))[0]);
    writeFileSync(file, Buffer.from('LDF1garbage'));
    expect(cache.get('k')).toBeUndefined();
  });
});
