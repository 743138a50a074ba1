/**
 * Bits Stored below Bits Allocated: bits above High Bit (old overlay planes, noise) must be dropped,
 * and signed data sign-extended at Bits Stored. Made by patching a real 10-bit radiograph; plus the
 * RLE decoder on hand-made segments.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeRle } from '../../main/io/dicom/codecs/rle';
import { DecodeFailure } from '../../main/io/errors';
import { readImage } from '../../main/io';
import { dataPath, hasSharedData, sharedDataSkipReason } from '../helpers/sharedData';
import { parse, rawUint16 } from './helpers/dicomBytes';

const skipNote = hasSharedData ? '' : ` [skipped: ${sharedDataSkipReason}]`;

describe.skipIf(!hasSharedData)(`10-bit data in 16-bit words (RG3_UNC, patched)${skipNote}`, () => {
  const dir = mkdtempSync(join(tmpdir(), 'ld-bits-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  let original: Buffer;
  let pixelStart: number;
  let pixelRepresentationAt: number;
  let photometricAt: number;
  // background (0), and values below and above the 10-bit sign bit (306, 178, 970, 840)
  const SAMPLE = [0, 1760 * 880 + 880, 1760 * 400 + 900, 1760 * 1200 + 600, 1760 * 1500 + 1000];

  beforeAll(async () => {
    original = await readFile(dataPath('dicom', 'cr', 'RG3_UNC.dcm'));
    const ds = parse(original);
    pixelStart = ds.elements.x7fe00010.dataOffset;
    pixelRepresentationAt = ds.elements.x00280103.dataOffset;
    photometricAt = ds.elements.x00280004.dataOffset;
  });

  it('ignores bits above High Bit 9', async () => {
    const patched = Buffer.from(original);
    for (const i of SAMPLE) patched[pixelStart + 2 * i + 1] |= 0xfc; // set bits 10-15
    patched.write('MONOCHROME2', photometricAt, 'latin1'); // same length as MONOCHROME1: no inversion here
    await writeFile(join(dir, 'overlay bits.dcm'), patched);
    const record = await readImage(join(dir, 'overlay bits.dcm'));
    const ds = parse(original);
    for (const i of SAMPLE) expect(record.pixels[i]).toBe(rawUint16(ds, i) & 0x3ff);
    expect(record.range.max).toBeLessThanOrEqual(1023);
  });

  it('sign-extends at Bits Stored when Pixel Representation is 1', async () => {
    const patched = Buffer.from(original);
    patched.writeUInt16LE(1, pixelRepresentationAt);
    patched.write('MONOCHROME2', photometricAt, 'latin1');
    await writeFile(join(dir, 'signed.dcm'), patched);
    const record = await readImage(join(dir, 'signed.dcm'));
    const ds = parse(original);
    expect(SAMPLE.map((i) => rawUint16(ds, i))).toEqual([0, 306, 178, 970, 840]);
    for (const i of SAMPLE) {
      const v = rawUint16(ds, i) & 0x3ff;
      expect(record.pixels[i]).toBe(v >= 512 ? v - 1024 : v);
    }
    expect(record.range.min).toBeGreaterThanOrEqual(-512);
    expect(record.range.max).toBeLessThanOrEqual(511);
  });

  it('inverts signed MONOCHROME1 over the signed range (−512 + 511 − v)', async () => {
    const patched = Buffer.from(original);
    patched.writeUInt16LE(1, pixelRepresentationAt);
    await writeFile(join(dir, 'signed mono1.dcm'), patched);
    const record = await readImage(join(dir, 'signed mono1.dcm'));
    const ds = parse(original);
    expect(record.inverted).toBe(true);
    for (const i of SAMPLE) {
      const v = rawUint16(ds, i) & 0x3ff;
      expect(record.pixels[i]).toBe(-1 - (v >= 512 ? v - 1024 : v));
    }
  });
});

describe('RLE Lossless decoder (PS3.5 Annex G)', () => {
  /** RLE frame: 64-byte header with the segment offsets, then the segments. */
  function rleFrame(segments: number[][]): Uint8Array {
    const header = new Uint8Array(64);
    const view = new DataView(header.buffer);
    view.setUint32(0, segments.length, true);
    let offset = 64;
    segments.forEach((s, i) => {
      view.setUint32(4 + 4 * i, offset, true);
      offset += s.length;
    });
    return Uint8Array.from([...header, ...segments.flat()]);
  }

  it('reads literal runs, replicate runs and skips the −128 no-op', () => {
    // 2×3 pixels, 8-bit: literal [1,2], no-op, replicate 7 ×3, literal [9]
    const frame = rleFrame([[1, 1, 2, 0x80, 0xfe, 7, 0, 9]]);
    expect(Array.from(decodeRle(frame, 2, 3, 1, 8))).toEqual([1, 2, 7, 7, 7, 9]);
  });

  it('puts the most significant byte segment first and interleaves colour samples', () => {
    // one pixel, 16-bit, 3 samples: segments R-hi, R-lo, G-hi, G-lo, B-hi, B-lo
    const frame = rleFrame([[0, 0x12], [0, 0x34], [0, 0x56], [0, 0x78], [0, 0xab], [0, 0xcd]]);
    expect(Array.from(decodeRle(frame, 1, 1, 3, 16))).toEqual([0x1234, 0x5678, 0xabcd]);
  });

  it('refuses a wrong segment count and a short segment', () => {
    expect(() => decodeRle(rleFrame([[0, 1]]), 1, 1, 1, 16)).toThrow(DecodeFailure);
    expect(() => decodeRle(rleFrame([[1, 1, 2]]), 2, 2, 1, 8)).toThrow(/decodes to 2 of 4 bytes/);
  });
});
