/** Prior masks (ld-method.md §5.2): loading a folder of masks, and their augmentation. */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { describe, expect, test } from 'vitest';
import { Rng } from '../../../main/engine/rng';
import { loadPriorMasks, PriorMaskError, writePreparedPriors } from '../../../main/io/priorMasks';
import { applyPriorAugment, drawPriorBatch, foregroundFraction, rotateBilinear, type PriorMask } from '../../../main/engine/shapeGuided/priors';

const tmp = () => mkdtempSync(join(tmpdir(), 'ld-priors-'));

function png(width: number, height: number, values: Uint8Array | Uint16Array, opts: { bits?: 8 | 16; colorType?: 0 | 2 } = {}): Buffer {
  const bits = opts.bits ?? 8;
  const colorType = opts.colorType ?? 0;
  const p = new PNG({ width, height, bitDepth: bits, colorType, inputColorType: colorType, inputHasAlpha: false });
  p.data = Buffer.from(values.buffer, values.byteOffset, values.byteLength);
  return PNG.sync.write(p, { bitDepth: bits, colorType, inputColorType: colorType, inputHasAlpha: false });
}

/** A centred disk of radius r·min(w, h)/2 with value `on`. */
function disk(width: number, height: number, r: number, on: number, Arr: typeof Uint8Array | typeof Uint16Array = Uint8Array): Uint8Array | Uint16Array {
  const a = new Arr(width * height);
  const rad = (r * Math.min(width, height)) / 2;
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) if ((x + 0.5 - width / 2) ** 2 + (y + 0.5 - height / 2) ** 2 < rad * rad) a[y * width + x] = on;
  return a;
}

const mask = (width: number, height: number, r = 0.5): PriorMask => ({ id: 'm', width, height, data: disk(width, height, r, 255) as Uint8Array });

describe('loading prior masks', () => {
  test('any size and depth: {0, 255} and {0, 1} 8-bit, 16-bit and RGB masks are all foreground where set; large ones are shrunk', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'a-255.png'), png(120, 80, disk(120, 80, 0.5, 255)));
    writeFileSync(join(dir, 'b-01.png'), png(100, 100, disk(100, 100, 0.5, 1)));
    writeFileSync(join(dir, 'c-16bit.png'), png(90, 90, disk(90, 90, 0.5, 65535, Uint16Array), { bits: 16 }));
    const rgb = new Uint8Array(64 * 64 * 3);
    disk(64, 64, 0.5, 200).forEach((v, i) => (rgb[3 * i + 1] = v)); // green label
    writeFileSync(join(dir, 'd-rgb.png'), png(64, 64, rgb, { colorType: 2 }));
    writeFileSync(join(dir, 'e-big.png'), png(1000, 500, disk(1000, 500, 0.5, 255)));
    const { priors, failures, meanForeground } = await loadPriorMasks(dir, { maxSide: 256 });
    expect(failures).toEqual([]);
    expect(priors.map((p) => p.id)).toEqual(['a-255.png', 'b-01.png', 'c-16bit.png', 'd-rgb.png', 'e-big.png']);
    const area = Math.PI / 16; // disk of diameter min(w, h) / 2
    for (const p of priors) {
      expect(Math.max(p.width, p.height)).toBeLessThanOrEqual(256);
      expect(Math.max(...p.data)).toBe(255);
      const expected = (area * Math.min(p.width, p.height) ** 2) / (p.width * p.height);
      expect(foregroundFraction(p.data, 127)).toBeCloseTo(expected, 1);
    }
    expect(priors[4]).toMatchObject({ width: 256, height: 128 });
    expect(meanForeground).toBeGreaterThan(0.1);
  });

  test('a missing folder, an empty one and one without images are refused with a message naming the folder', async () => {
    const missing = join(tmp(), 'nope');
    await expect(loadPriorMasks(missing, { maxSide: 256 })).rejects.toThrow(new RegExp(`shape prior ${missing}: folder not found`));
    const empty = tmp();
    await expect(loadPriorMasks(empty, { maxSide: 256 })).rejects.toThrow(PriorMaskError);
    await expect(loadPriorMasks(empty, { maxSide: 256 })).rejects.toThrow(new RegExp(`shape prior ${empty}: no mask images .*the folder is empty`));
    const text = tmp();
    writeFileSync(join(text, 'notes.txt'), 'not a mask');
    writeFileSync(join(text, 'labels.csv'), 'a,b\n');
    await expect(loadPriorMasks(text, { maxSide: 256 })).rejects.toThrow(/no mask images .*2 other file\(s\) ignored/);
    const broken = tmp();
    writeFileSync(join(broken, 'bad.png'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3]));
    await expect(loadPriorMasks(broken, { maxSide: 256 })).rejects.toThrow(new RegExp(`shape prior ${broken}: none of the 1 file\\(s\\) could be read as a mask \\(first error: .*bad\\.png`));
  });

  test('an unreadable file among good ones is skipped and named', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'good.png'), png(50, 50, disk(50, 50, 0.5, 255)));
    writeFileSync(join(dir, 'bad.png'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 9]));
    mkdirSync(join(dir, 'sub'));
    const { priors, failures } = await loadPriorMasks(dir, { maxSide: 64 });
    expect(priors).toHaveLength(1);
    expect(failures).toHaveLength(1);
    expect(failures[0].file).toMatch(/bad\.png$/);
  });

  test('the raw file for the PyTorch engine holds every mask at its offset', () => {
    const dir = tmp();
    const a = mask(10, 20);
    const b = mask(7, 5);
    const out = writePreparedPriors(dir, [a, b]);
    expect(out.index).toEqual([
      { id: 'm', width: 10, height: 20, offset: 0 },
      { id: 'm', width: 7, height: 5, offset: 200 },
    ]);
  });
});

describe('augmenting prior masks', () => {
  test('every augmented mask is binary and size × size', () => {
    const rng = new Rng(1);
    const m = mask(300, 200, 0.6);
    const batch = drawPriorBatch([m, mask(120, 240, 0.3)], rng, 3, 96);
    expect(batch.length).toBe(4 * 3 * 96 * 96);
    expect(batch.every((v) => v === 0 || v === 1)).toBe(true);
    for (let r = 0; r < 12; r++) expect(foregroundFraction(batch.subarray(r * 96 * 96, (r + 1) * 96 * 96))).toBeGreaterThan(0.01);
  });

  test('flips and rotations keep the foreground fraction (a disk well inside the canvas)', () => {
    const m = mask(200, 200, 0.5);
    const plain = applyPriorAugment(m, { hflip: false, vflip: false, angle: 0, box: [0, 0, 200, 200] }, 128);
    const f0 = foregroundFraction(plain);
    expect(f0).toBeCloseTo(Math.PI / 16, 1);
    for (const [hflip, vflip, angle] of [[true, false, 0], [false, true, 90], [true, true, 37], [false, false, 200]] as const) {
      const f = foregroundFraction(applyPriorAugment(m, { hflip, vflip, angle, box: [0, 0, 200, 200] }, 128));
      expect(Math.abs(f - f0) / f0).toBeLessThan(0.03);
    }
  });

  test('the crop box enlarges the foreground by at most (10/8)² and the draw is reproducible', () => {
    const m = mask(200, 200, 0.5);
    const full = foregroundFraction(applyPriorAugment(m, { hflip: false, vflip: false, angle: 0, box: [0, 0, 200, 200] }, 128));
    const cropped = foregroundFraction(applyPriorAugment(m, { hflip: false, vflip: false, angle: 0, box: [20, 20, 180, 180] }, 128));
    expect(cropped / full).toBeCloseTo(200 ** 2 / 160 ** 2, 1);
    const a = drawPriorBatch([m], new Rng(5), 2, 64);
    const b = drawPriorBatch([m], new Rng(5), 2, 64);
    expect(a).toEqual(b);
  });

  test('bilinear rotation by 90° of a square is the exact quarter turn', () => {
    const src = Float32Array.from({ length: 16 }, (_, i) => i);
    const r = rotateBilinear(src, 4, 4, 90);
    // counter-clockwise on screen: the top row becomes the left column, read bottom-up
    expect(Array.from(r.subarray(0, 4)).map((v) => Math.round(v))).toEqual([3, 7, 11, 15]);
  });
});
