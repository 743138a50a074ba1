/** The direct grey PNG decoder against pngjs: every filter type, 8 and 16 bit, and the real hand PNGs. */
import { readdirSync, readFileSync } from 'node:fs';
import { PNG } from 'pngjs';
import { describe, expect, test } from 'vitest';
import { canDecodeGreyPng, decodeGreyPng } from '../../main/io/raster/pngGrey';
import { readPngHeader } from '../../main/io/raster/png';
import { Rng } from '../../main/engine/rng';
import { dataPath, hasSharedData, sharedDataSkipReason } from '../helpers/sharedData';

function viaPngjs(bytes: Buffer, sixteen: boolean): number[] {
  const png = PNG.sync.read(bytes, { skipRescale: sixteen }) as unknown as { data: Uint8Array | Uint16Array; width: number; height: number };
  return Array.from({ length: png.width * png.height }, (_, i) => png.data[i * 4]);
}

const info = (bytes: Uint8Array) => ({ ...readPngHeader(bytes)!, interlace: bytes[28] });

describe('decodeGreyPng', () => {
  test.each([
    [8, 0], [8, 1], [8, 2], [8, 3], [8, 4], [16, 1], [16, 4], [16, -1],
  ])('%i-bit, filter type %i: the same samples as pngjs', (bitDepth, filterType) => {
    const [w, h] = [37, 23];
    const rng = new Rng(bitDepth * 10 + filterType);
    const png = new PNG({ width: w, height: h, colorType: 0, inputColorType: 0, bitDepth: bitDepth as 8 | 16, inputHasAlpha: false });
    const max = bitDepth === 16 ? 65535 : 255;
    const values = Array.from({ length: w * h }, (_, i) => Math.floor(((i % w) / w) * max * 0.5 + rng.next() * max * 0.5));
    if (bitDepth === 16) {
      const data = Buffer.alloc(w * h * 2);
      values.forEach((v, i) => data.writeUInt16BE(v, 2 * i));
      png.data = data;
    } else png.data = Buffer.from(values);
    const bytes = PNG.sync.write(png, { colorType: 0, inputColorType: 0, bitDepth: bitDepth as 8 | 16, inputHasAlpha: false, filterType });
    expect(canDecodeGreyPng(info(bytes))).toBe(true);
    expect(Array.from(decodeGreyPng(bytes, info(bytes)))).toEqual(viaPngjs(bytes, bitDepth === 16));
    if (bitDepth === 8) expect(Array.from(decodeGreyPng(bytes, info(bytes)))).toEqual(values);
  });

  test('colour, palette and interlaced images are left to pngjs', () => {
    expect(canDecodeGreyPng({ width: 1, height: 1, bitDepth: 8, colorType: 2, interlace: 0 })).toBe(false);
    expect(canDecodeGreyPng({ width: 1, height: 1, bitDepth: 8, colorType: 0, interlace: 1 })).toBe(false);
    expect(canDecodeGreyPng({ width: 1, height: 1, bitDepth: 4, colorType: 0, interlace: 0 })).toBe(false);
  });

  test.skipIf(!hasSharedData)(`the real hand radiographs decode exactly as pngjs decodes them${hasSharedData ? '' : ` (skipped: ${sharedDataSkipReason})`}`, () => {
    const dir = dataPath('landmarks/hand');
    const files = readdirSync(dir).filter((f) => f.endsWith('.png'));
    expect(files.length).toBe(9);
    for (const f of files.slice(0, 3)) {
      const bytes = readFileSync(`${dir}/${f}`);
      const i = info(bytes);
      expect(canDecodeGreyPng(i), f).toBe(true);
      const ours = decodeGreyPng(bytes, i);
      const theirs = viaPngjs(bytes, i.bitDepth === 16);
      expect(ours.length).toBe(theirs.length);
      let diff = 0;
      for (let k = 0; k < ours.length; k++) if (ours[k] !== theirs[k]) diff++;
      expect(diff, f).toBe(0);
    }
  });
});
