/**
 * Inference preprocessing (main/engine/infer/preprocess.ts), the .npy writer and the PCA picture:
 * pure JavaScript, no tfjs and no model.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { normalise } from '../../../main/engine/data/augment';
import { prepareImage } from '../../../main/engine/data/prepare';
import { decodeNpy, encodeNpy } from '../../../main/engine/infer/npy';
import { chwToHwc, hwcToChw, networkSize, preprocessForNetwork, toNetwork, toOriginal } from '../../../main/engine/infer/preprocess';
import { embeddingToRgba, principalComponents, symmetricEigen } from '../../../main/engine/infer/visualise';
import type { ImageRecord } from '../../../main/io';

function record(width: number, height: number, channels: 1 | 3, f: (x: number, y: number, c: number) => number): ImageRecord {
  const pixels = new Float32Array(width * height * channels);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) for (let c = 0; c < channels; c++) pixels[(y * width + x) * channels + c] = f(x, y, c);
  let min = Infinity;
  let max = -Infinity;
  for (const v of pixels) {
    min = Math.min(min, v);
    max = Math.max(max, v);
  }
  return { id: 'synthetic', path: '/synthetic.png', format: 'png', width, height, channels, frames: 1, pixels, range: { min, max }, bitsStored: 16, inverted: false };
}

describe('network input size: long side = size, both sides multiples of 16, aspect kept', () => {
  test.each([
    [1600, 2350, 512, 512, 352], // hand radiograph, portrait: 1600·512/2350 = 348.6 → 352
    [2350, 1600, 512, 352, 512],
    [1600, 2350, 256, 256, 176], // 174.3 → 176
    [1935, 2400, 512, 512, 416], // cephalogram: 412.8 → 416
    [100, 100, 512, 512, 512],
    [4000, 100, 512, 16, 512], // very thin: at least 16
    [640, 480, 500, 368, 496], // size 500 → 496; 480·496/640 = 372 → 368
  ])('%i×%i (w×h) at %i → %i×%i (h×w)', (w, h, size, eh, ew) => {
    const got = networkSize(w, h, size);
    expect(got).toEqual({ width: ew, height: eh });
    expect(got.width % 16).toBe(0);
    expect(got.height % 16).toBe(0);
  });

  test('bad sizes are refused', () => {
    expect(() => networkSize(0, 10)).toThrow(/bad image size/);
    expect(() => networkSize(10, 10, 8)).toThrow(/at least 16/);
  });
});

describe('preprocessForNetwork', () => {
  test('a square grey image gives exactly the training preparation (prepareImage + normalise), NCHW', () => {
    const r = record(300, 300, 1, (x, y) => 1000 + 3 * x - 2 * y + ((x * y) % 17));
    const got = preprocessForNetwork(r, { channels: 1, size: 128 });
    expect([got.height, got.width, got.channels]).toEqual([128, 128, 1]);
    const ref = prepareImage(r, { baseSize: 128, channels: 1 }).data;
    normalise(ref, 1);
    expect(got.data.length).toBe(ref.length);
    for (let i = 0; i < ref.length; i++) expect(got.data[i]).toBeCloseTo(ref[i], 6);
    expect(Math.min(...got.data)).toBeGreaterThanOrEqual(-1);
    expect(Math.max(...got.data)).toBeLessThanOrEqual(1);
  });

  test('RGB → 3-channel model: ImageNet normalisation per plane, CHW layout', () => {
    const r = record(64, 32, 3, (x, y, c) => (c === 0 ? x * 4 : c === 1 ? y * 8 : 128));
    const got = preprocessForNetwork(r, { channels: 3, size: 64 });
    expect([got.channels, got.height, got.width]).toEqual([3, 32, 64]);
    const n = 32 * 64;
    // pixel (x=10, y=5): R = 40/252, G = 40/252, B = 128/252 (range over all channels: 0..252)
    const i = 5 * 64 + 10;
    expect(got.data[i]).toBeCloseTo((40 / 252 - 0.485) / 0.229, 5);
    expect(got.data[n + i]).toBeCloseTo((40 / 252 - 0.456) / 0.224, 5);
    expect(got.data[2 * n + i]).toBeCloseTo((128 / 252 - 0.406) / 0.225, 5);
    // round trip of the layout helpers
    expect(Array.from(hwcToChw(chwToHwc(got.data, 3, 32, 64), 32, 64, 3))).toEqual(Array.from(got.data));
  });

  test('RGB → 1-channel model uses luma; grey → 3-channel model copies the plane', () => {
    const rgb = record(32, 16, 3, (x, _y, c) => [200, 100, 0][c] * (x % 2));
    const grey = preprocessForNetwork(rgb, { channels: 1, size: 32 });
    const luma = (0.299 * 200 + 0.587 * 100) / 200; // range 0..200
    expect(grey.data[1]).toBeCloseTo((luma - 0.5) / 0.5, 5);
    expect(grey.data[0]).toBeCloseTo(-1, 6);
    const g = record(32, 16, 1, (x) => x);
    const three = preprocessForNetwork(g, { channels: 3, size: 32 });
    const n = 16 * 32;
    for (let c = 0; c < 3; c++) expect(three.data[c * n + 31]).toBeCloseTo((1 - [0.485, 0.456, 0.406][c]) / [0.229, 0.224, 0.225][c], 5);
  });

  test('a constant image becomes all −1 (grey), not NaN', () => {
    const got = preprocessForNetwork(record(40, 40, 1, () => 7), { channels: 1, size: 32 });
    expect(got.data.every((v) => v === -1)).toBe(true);
  });

  test('scale factors map coordinates back to the original image', () => {
    const r = record(1600, 2350, 1, (x, y) => x + y);
    const got = preprocessForNetwork(r, { channels: 1, size: 256 });
    expect(got.source).toEqual({ width: 1600, height: 2350 });
    expect(got.scale.x).toBeCloseTo(176 / 1600, 12);
    expect(got.scale.y).toBeCloseTo(256 / 2350, 12);
    const p = { x: 812.25, y: 1999.5 };
    const q = toOriginal(toNetwork(p, got), got);
    expect(q.x).toBeCloseTo(p.x, 9);
    expect(q.y).toBeCloseTo(p.y, 9);
    // the centre of the network's last pixel is inside the original's last pixel-width
    const last = toOriginal({ x: 175, y: 255 }, got);
    expect(last.x).toBeGreaterThan(1600 - 1 - 1600 / 176);
    expect(last.y).toBeGreaterThan(2350 - 1 - 2350 / 256);
    // the linear ramp survives the area-averaging resize: value at a network pixel ≈ ramp at its original centre
    const v = (got.data[100 * 176 + 50] + 1) / 2; // back to [0, 1]
    const o = toOriginal({ x: 50, y: 100 }, got);
    expect(v * (1599 + 2349)).toBeCloseTo(o.x + o.y, 0);
  });
});

describe('.npy', () => {
  test('header is NumPy 1.0, 64-byte aligned, and the data round-trips', () => {
    const data = Float32Array.from({ length: 2 * 3 * 5 }, (_, i) => i * 0.5 - 3);
    const bytes = Buffer.concat(encodeNpy(data, [2, 3, 5]));
    expect(bytes.subarray(0, 8)).toEqual(Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]));
    const back = decodeNpy(bytes);
    expect(back.headerLength % 64).toBe(0);
    expect(back.shape).toEqual([2, 3, 5]);
    expect(Array.from(back.data)).toEqual(Array.from(data));
    expect(bytes.toString('latin1', 10, back.headerLength)).toMatch(/^\{'descr': '<f4', 'fortran_order': False, 'shape': \(2, 3, 5\), \} *\n$/);
    expect(() => encodeNpy(data, [4, 4])).toThrow(/30 values/);
  });

  const hasNumpy = spawnSync('/usr/bin/python3', ['-c', 'import numpy'], { encoding: 'utf8' }).status === 0;
  test.skipIf(!hasNumpy)('numpy.load reads it (skipped when /usr/bin/python3 has no numpy)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ld-npy-'));
    const file = join(dir, 'a.npy');
    writeFileSync(file, Buffer.concat(encodeNpy(Float32Array.from([1.5, -2, 3, 4, 5, 6]), [3, 2])));
    const res = spawnSync('/usr/bin/python3', ['-c', 'import sys, numpy as np; a = np.load(sys.argv[1]); print(a.dtype, a.shape, a.sum())', file], { encoding: 'utf8' });
    expect(res.stdout.trim()).toBe('float32 (3, 2) 17.5');
  });
});

describe('PCA picture', () => {
  test('Jacobi eigen-decomposition of a symmetric matrix', () => {
    const a = Float64Array.from([4, 1, 2, 1, 3, 0, 2, 0, 5]);
    const { values, vectors } = symmetricEigen(a, 3);
    for (let k = 0; k < 3; k++) {
      for (let i = 0; i < 3; i++) {
        let av = 0;
        for (let j = 0; j < 3; j++) av += a[i * 3 + j] * vectors[j * 3 + k];
        expect(av).toBeCloseTo(values[k] * vectors[i * 3 + k], 10);
      }
    }
    expect([...values].reduce((s, v) => s + v, 0)).toBeCloseTo(12, 10);
  });

  test('the first component follows the direction of largest variance; the image spans 0..255', () => {
    const d = 4;
    const h = 8;
    const w = 16;
    const n = h * w;
    const chw = new Float32Array(d * n);
    for (let i = 0; i < n; i++) {
      const t = (i % w) / w - 0.5; // varies along x: large
      const s = Math.floor(i / w) / h - 0.5; // along y: smaller
      chw[0 * n + i] = 2 * t;
      chw[1 * n + i] = 2 * t;
      chw[2 * n + i] = 0.5 * s;
      chw[3 * n + i] = 0.01;
    }
    const { components, variances } = principalComponents(chw, d, n, 3);
    expect(Math.abs(components[0][0])).toBeCloseTo(Math.SQRT1_2, 6);
    expect(Math.abs(components[1][2])).toBeCloseTo(1, 6);
    expect(variances[0]).toBeGreaterThan(variances[1]);
    const rgba = embeddingToRgba(chw, d, h, w);
    expect(rgba.length).toBe(n * 4);
    const red = Array.from({ length: n }, (_, i) => rgba[i * 4]);
    expect(Math.min(...red)).toBe(0);
    expect(Math.max(...red)).toBe(255);
    expect(rgba[3]).toBe(255);
    // red increases along x (deterministic sign: the largest-magnitude entry is positive)
    expect(rgba[(w - 1) * 4]).toBeGreaterThan(rgba[0]);
  });
});
