/** PNG, JPEG and TIFF: the shared radiographs by size, and files written here read back exactly. */
import { mkdtempSync, rmSync } from 'node:fs';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decode as jpegJsDecode } from 'jpeg-js';
import { afterAll, describe, expect, it } from 'vitest';
import { readImage, readImageFolder } from '../../main/io';
import { dataPath, hasSharedData, sharedDataSkipReason } from '../helpers/sharedData';
import { maxAbsDiff, meanAbsDiff } from './helpers/compare';
import { grey16Png, littleEndianGreyTiff, rawPng, rgbPng, utifTiff } from './helpers/makeImages';

const skipNote = hasSharedData ? '' : ` [skipped: ${sharedDataSkipReason}]`;

/** Width and height from the PNG IHDR (bytes 16-23), read independently of main/io. */
const pngSize = (b: Buffer) => ({ width: b.readUInt32BE(16), height: b.readUInt32BE(20), depth: b[24], colorType: b[25] });

/** Width, height and components from the first SOF marker, read independently of main/io. */
function jpegSize(b: Buffer): { width: number; height: number; components: number } {
  let p = 2;
  while (p < b.length) {
    const marker = b[p + 1];
    if (marker >= 0xc0 && marker <= 0xcf && ![0xc4, 0xc8, 0xcc].includes(marker)) {
      return { height: b.readUInt16BE(p + 5), width: b.readUInt16BE(p + 7), components: b[p + 9] };
    }
    p += 2 + b.readUInt16BE(p + 2);
  }
  throw new Error('no SOF');
}

describe.skipIf(!hasSharedData)(`hand radiographs (PNG)${skipNote}`, () => {
  it('all decode as 8-bit grey with the IHDR size', async () => {
    const dir = dataPath('landmarks', 'hand');
    const { records, failures } = await readImageFolder(dir);
    expect(failures).toEqual([]);
    const names = (await readdir(dir)).filter((n) => n.endsWith('.png')).sort();
    expect(records.map((r) => r.id)).toEqual(names);
    for (const record of records) {
      const header = pngSize(await readFile(record.path));
      expect(header).toMatchObject({ depth: 8, colorType: 0 });
      expect(record).toMatchObject({ format: 'png', width: header.width, height: header.height, channels: 1, bitsStored: 8, frames: 1 });
      expect(record.range.max).toBeLessThanOrEqual(255);
      expect(record.range.max).toBeGreaterThan(record.range.min);
      expect(record.spacing).toBeUndefined();
    }
    // as `file` reports it: 3167.png: PNG image data, 1600 x 2350, 8-bit grayscale
    expect(records.find((r) => r.id === '3167.png')).toMatchObject({ width: 1600, height: 2350 });
  });
});

describe.skipIf(!hasSharedData)(`spine radiographs, test split (JPEG, names with spaces)${skipNote}`, () => {
  const dir = dataPath('landmarks', 'spine', 'images', 'test');

  it('all 128 decode with the size of their SOF header', async () => {
    const { records, failures } = await readImageFolder(dir);
    expect(failures).toEqual([]);
    expect(records).toHaveLength(128);
    expect(records.some((r) => r.id.includes(' '))).toBe(true);
    for (const record of records) {
      const sof = jpegSize(await readFile(record.path));
      expect(record).toMatchObject({ format: 'jpeg', width: sof.width, height: sof.height, channels: sof.components === 1 ? 1 : 3, bitsStored: 8 });
    }
  });

  it('libjpeg-turbo (used for speed) agrees with jpeg-js to within inverse-DCT rounding', async () => {
    const path = join(dir, 'sunhl-1th-01-Mar-2017-310 a ap.jpg');
    const record = await readImage(path);
    const reference = jpegJsDecode(await readFile(path), { useTArray: true, formatAsRGBA: false, maxMemoryUsageInMB: 2048 });
    const grey = reference.data.filter((_, i) => i % 3 === 0);
    expect(record.channels).toBe(1);
    expect(maxAbsDiff(record.pixels, grey)).toBeLessThanOrEqual(4);
    expect(meanAbsDiff(record.pixels, grey)).toBeLessThan(0.5);
  });
});

describe('images written here read back exactly', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ld-raster-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const W = 7;
  const H = 5;
  const n = W * H;

  it('16-bit grey PNG keeps all 16 bits', async () => {
    const values = Uint16Array.from({ length: n }, (_, i) => (i * 4099 + 3) % 65536);
    values[0] = 65535;
    await writeFile(join(dir, 'grey16.png'), grey16Png(W, H, values));
    const record = await readImage(join(dir, 'grey16.png'));
    expect(record).toMatchObject({ format: 'png', width: W, height: H, channels: 1, bitsStored: 16 });
    expect(Array.from(record.pixels)).toEqual(Array.from(values));
  });

  it('8-bit RGB PNG stays 3 channels, interleaved', async () => {
    const rgb = Uint8Array.from({ length: n * 3 }, (_, i) => (i * 37) % 256);
    await writeFile(join(dir, 'rgb.png'), rgbPng(W, H, rgb));
    const record = await readImage(join(dir, 'rgb.png'));
    expect(record).toMatchObject({ channels: 3, bitsStored: 8 });
    expect(Array.from(record.pixels)).toEqual(Array.from(rgb));
  });

  it('grey+alpha PNG drops the alpha', async () => {
    const rows = Array.from({ length: H }, (_, y) => Uint8Array.from({ length: W * 2 }, (_, i) => (i % 2 ? 128 : y * W + i / 2)));
    await writeFile(join(dir, 'grey-alpha.png'), rawPng(W, H, 8, 4, rows));
    const record = await readImage(join(dir, 'grey-alpha.png'));
    expect(record.channels).toBe(1);
    expect(Array.from(record.pixels)).toEqual(Array.from({ length: n }, (_, i) => i));
  });

  it('palette PNG becomes RGB', async () => {
    const palette = [
      [255, 0, 0],
      [0, 255, 0],
      [0, 0, 255],
    ];
    const rows = Array.from({ length: H }, (_, y) => Uint8Array.from({ length: W }, (_, x) => (x + y) % 3));
    await writeFile(join(dir, 'palette.png'), rawPng(W, H, 8, 3, rows, palette));
    const record = await readImage(join(dir, 'palette.png'));
    expect(record).toMatchObject({ channels: 3, bitsStored: 8 });
    const expected = rows.flatMap((r) => Array.from(r).flatMap((i) => palette[i]));
    expect(Array.from(record.pixels)).toEqual(expected);
  });

  it('16-bit grey TIFF (big endian, utif2) keeps all 16 bits', async () => {
    const values = Array.from({ length: n }, (_, i) => (i * 1877 + 11) % 65536);
    const data = Buffer.alloc(n * 2);
    values.forEach((v, i) => data.writeUInt16BE(v, 2 * i));
    await writeFile(join(dir, 'grey16.tif'), utifTiff(W, H, 16, 1, 1, data));
    const record = await readImage(join(dir, 'grey16.tif'));
    expect(record).toMatchObject({ format: 'tiff', width: W, height: H, channels: 1, bitsStored: 16, inverted: false });
    expect(Array.from(record.pixels)).toEqual(values);
  });

  it('16-bit grey TIFF (little endian) keeps all 16 bits', async () => {
    const values = Array.from({ length: n }, (_, i) => (i * 2311 + 5) % 65536);
    await writeFile(join(dir, 'grey16-le.tiff'), littleEndianGreyTiff(W, H, 16, values));
    const record = await readImage(join(dir, 'grey16-le.tiff'));
    expect(record).toMatchObject({ channels: 1, bitsStored: 16 });
    expect(Array.from(record.pixels)).toEqual(values);
  });

  it('8-bit RGB TIFF (utif2) stays RGB', async () => {
    const rgb = Uint8Array.from({ length: n * 3 }, (_, i) => (i * 53 + 7) % 256);
    await writeFile(join(dir, 'rgb.tif'), utifTiff(W, H, 8, 3, 2, rgb));
    const record = await readImage(join(dir, 'rgb.tif'));
    expect(record).toMatchObject({ format: 'tiff', channels: 3, bitsStored: 8 });
    expect(Array.from(record.pixels)).toEqual(Array.from(rgb));
  });

  it('8-bit grey WhiteIsZero TIFF is inverted to BlackIsZero', async () => {
    const values = Uint8Array.from({ length: n }, (_, i) => i * 7);
    await writeFile(join(dir, 'white-is-zero.tif'), utifTiff(W, H, 8, 1, 0, values));
    const record = await readImage(join(dir, 'white-is-zero.tif'));
    expect(record.inverted).toBe(true);
    expect(Array.from(record.pixels)).toEqual(Array.from(values, (v) => 255 - v));
  });

  it('goes by content, not by name: a PNG named .jpg is read as PNG', async () => {
    await writeFile(join(dir, 'actually-png.jpg'), rgbPng(W, H, new Uint8Array(n * 3).fill(9)));
    const record = await readImage(join(dir, 'actually-png.jpg'));
    expect(record.format).toBe('png');
  });
});
