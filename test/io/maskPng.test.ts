/** The one mask file writer and reader: 0/255 mask PNGs, 8- and 16-bit probability PNGs, and back. */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { describe, expect, test } from 'vitest';
import { maskFromProbability } from '../../common/mask';
import { MaskFileError, probabilityLevels, readMaskFiles, readProbabilityFile, writeMaskFiles } from '../../main/io/raster/maskPng';
import { encodePng } from '../../main/io/raster/pngEncode';

const dir = mkdtempSync(join(tmpdir(), 'ld-maskpng-'));
const W = 37;
const H = 23;
/** A smooth map with both ends, NaN and out-of-range values, as resampling can leave them. */
function probabilityMap(): Float32Array {
  const p = Float32Array.from({ length: W * H }, (_, i) => ((i % W) / (W - 1)) * 0.6 + (Math.floor(i / W) / (H - 1)) * 0.4);
  p[0] = -0.2;
  p[1] = 1.3;
  p[2] = NaN;
  return p;
}

describe('mask PNG files', () => {
  test('probabilityLevels: p·255 or p·65535 rounded, clamped to the range (NaN: 0)', () => {
    const p = Float32Array.from([-1, 0, 0.5, 0.25, 1, 2, NaN]);
    expect([...probabilityLevels(p, 8)]).toEqual([0, 0, 128, 64, 255, 255, 0]);
    expect([...probabilityLevels(p, 16)]).toEqual([0, 0, 32768, 16384, 65535, 65535, 0]);
  });

  for (const bits of [8, 16] as const) {
    test(`a mask and its ${bits}-bit probability map: what pngjs reads is 0/255 and p·${2 ** bits - 1}; read back it is the same mask`, async () => {
      const mask = maskFromProbability(W, H, probabilityMap(), 0.5);
      const files = { mask: join(dir, `m${bits}.png`), probability: join(dir, `p${bits}.png`) };
      await writeMaskFiles(mask, files, bits);

      const m = PNG.sync.read(readFileSync(files.mask));
      expect([m.width, m.height, m.depth]).toEqual([W, H, 8]);
      for (let i = 0; i < W * H; i++) expect(m.data[4 * i]).toBe(mask.inside[i] ? 255 : 0);
      const p = PNG.sync.read(readFileSync(files.probability), { skipRescale: true });
      expect(p.depth).toBe(bits);
      const levels = probabilityLevels(mask.probability, bits);
      const samples = bits === 8 ? Array.from({ length: W * H }, (_, i) => p.data[4 * i]) : Array.from({ length: W * H }, (_, i) => (p.data as unknown as Uint16Array)[4 * i]);
      expect(samples).toEqual([...levels]);

      const back = await readMaskFiles(files, W, H);
      expect(back.inside).toEqual(mask.inside);
      const max = 2 ** bits - 1;
      for (let i = 0; i < W * H; i++) expect(Math.round(back.probability![i] * max)).toBe(levels[i]);
    });
  }

  test('a mask without a probability map writes only the mask; asking for its map is an error', async () => {
    const mask = { width: 2, height: 2, inside: Uint8Array.from([0, 1, 1, 0]) };
    const files = { mask: join(dir, 'plain.png') };
    await writeMaskFiles(mask, files);
    expect(await readMaskFiles(files, 2, 2)).toEqual(mask);
    await expect(writeMaskFiles(mask, { ...files, probability: join(dir, 'none.png') })).rejects.toThrow(/none\.png: the mask has no probability map/);
    await expect(writeMaskFiles({ width: 3, height: 2, inside: new Uint8Array(5) }, files)).rejects.toThrow(/a 3×2 mask needs 6 values, got 5/);
  });

  test('reading: a missing file, a wrong size and a colour image are MaskFileErrors naming the file', async () => {
    const missing = join(dir, 'missing.png');
    await expect(readMaskFiles({ mask: missing }, 2, 2)).rejects.toMatchObject({ name: 'MaskFileError', file: missing, kind: 'unreadable' });
    const small = join(dir, 'small.png');
    writeFileSync(small, await encodePng({ width: 2, height: 1, data: Uint8Array.from([0, 255]) }));
    const err = await readMaskFiles({ mask: small }, 2, 2).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MaskFileError);
    expect((err as Error).message).toBe(`${small} is 2×1, but the image is 2×2`);
    const rgb = new PNG({ width: 2, height: 2, colorType: 2, inputColorType: 2, inputHasAlpha: false });
    rgb.data = Buffer.alloc(12, 200);
    const colour = join(dir, 'colour.png');
    writeFileSync(colour, PNG.sync.write(rgb, { colorType: 2, inputColorType: 2, inputHasAlpha: false }));
    await expect(readProbabilityFile(colour, 2, 2)).rejects.toThrow(`${colour} is 2×2 colour, but the image is 2×2`);
  });

  test('encodePng: 16-bit grey, and the sub filter, decode to the samples given (pngjs and our own reader)', async () => {
    const data = Uint16Array.from({ length: 5 * 3 }, (_, i) => (i * 4099) % 65536);
    const path = join(dir, 'sub16.png');
    writeFileSync(path, await encodePng({ width: 5, height: 3, data, filter: 'sub' }));
    const p = PNG.sync.read(readFileSync(path), { skipRescale: true });
    expect(Array.from({ length: 15 }, (_, i) => (p.data as unknown as Uint16Array)[4 * i])).toEqual([...data]);
    expect([...(await readProbabilityFile(path, 5, 3))].map((v) => Math.round(v * 65535))).toEqual([...data]);
    const bytes = Uint8Array.from({ length: 15 }, (_, i) => (i * 97) % 256);
    const p8 = PNG.sync.read(await encodePng({ width: 5, height: 3, data: bytes, filter: 'sub' }));
    expect(Array.from({ length: 15 }, (_, i) => p8.data[4 * i])).toEqual([...bytes]);
    await expect(encodePng({ width: 1, height: 1, data: new Uint16Array(1), palette: new Uint8Array(4) })).rejects.toThrow(/palette image has 8-bit indices/);
  });
});
