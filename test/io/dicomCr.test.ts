/**
 * NEMA WG04 computed radiographs: every lossless transfer syntax of RG2 must decode to exactly the
 * pixels of the uncompressed file, and RG3 (MONOCHROME1) must come out inverted.
 */
import { readFile } from 'node:fs/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import { readImage, type ImageRecord } from '../../main/io';
import { dataPath, hasSharedData, sharedDataSkipReason } from '../helpers/sharedData';
import { maxAbsDiff } from './helpers/compare';
import { parse, rawUint16, type DataSet } from './helpers/dicomBytes';

const skipNote = hasSharedData ? '' : ` [skipped: ${sharedDataSkipReason}]`;
const cr = (name: string) => dataPath('dicom', 'cr', name);

const VARIANTS: [file: string, transferSyntaxUID: string][] = [
  ['RG2_J2KR.dcm', '1.2.840.10008.1.2.4.90'],
  ['RG2_JLSL.dcm', '1.2.840.10008.1.2.4.80'],
  ['RG2_JPLL.dcm', '1.2.840.10008.1.2.4.70'],
  ['RG2_RLE.dcm', '1.2.840.10008.1.2.5'],
];

describe.skipIf(!hasSharedData)(`CR radiographs, lossless variants of RG2${skipNote}`, () => {
  let reference: ImageRecord;
  let raw: DataSet;

  beforeAll(async () => {
    reference = await readImage(cr('RG2_UNC.dcm'));
    raw = parse(await readFile(cr('RG2_UNC.dcm')));
  });

  it('reads RG2_UNC with Rows as height and Columns as width, 0.2 mm spacing, 10 bits stored', () => {
    // README says 2140×1760; the file says Rows 2140, Columns 1760: a portrait hip
    expect(raw.uint16('x00280010')).toBe(2140);
    expect(raw.uint16('x00280011')).toBe(1760);
    expect(reference).toMatchObject({ format: 'dicom', width: 1760, height: 2140, channels: 1, frames: 1, bitsStored: 10, inverted: false });
    expect(reference.pixels).toHaveLength(1760 * 2140);
    expect(reference.spacing).toEqual({ row: 0.2, column: 0.2, source: 'PixelSpacing' });
    expect(reference.range.min).toBeGreaterThanOrEqual(0);
    expect(reference.range.max).toBeLessThanOrEqual(1023);
    expect(reference.dicom).toMatchObject({
      transferSyntaxUID: '1.2.840.10008.1.2.1',
      photometricInterpretation: 'MONOCHROME2',
      bitsAllocated: 16,
      bitsStored: 10,
      pixelRepresentation: 0,
      rescaleSlope: 1,
      rescaleIntercept: 0,
      modality: 'CR',
    });
    // a projection radiograph: no Frame of Reference, so no patient geometry
    expect(reference.dicom?.frameOfReferenceUID).toBeUndefined();
    expect(reference.dicom?.imagePositionPatient).toBeUndefined();
    expect(reference.dicom?.context.Modality).toBe('CR');
    expect(reference.dicom?.sopInstanceUID).toMatch(/^[0-9.]+$/);
  });

  it('matches the stored values of the file pixel by pixel', () => {
    for (const index of [0, 12_345, 1760 * 1070 + 880, 1760 * 2140 - 1]) {
      expect(reference.pixels[index]).toBe(rawUint16(raw, index) & 0x3ff);
    }
  });

  it.each(VARIANTS)('%s decodes to exactly the pixels of RG2_UNC', async (file, uid) => {
    const record = await readImage(cr(file));
    expect(record.dicom?.transferSyntaxUID).toBe(uid);
    expect(record).toMatchObject({ width: 1760, height: 2140, channels: 1, frames: 1, bitsStored: 10 });
    expect(record.spacing).toEqual(reference.spacing);
    expect(maxAbsDiff(record.pixels, reference.pixels)).toBe(0);
    expect(record.range).toEqual(reference.range);
  });
});

describe.skipIf(!hasSharedData)(`CR radiograph RG3, MONOCHROME1${skipNote}`, () => {
  let record: ImageRecord;
  let raw: DataSet;

  beforeAll(async () => {
    record = await readImage(cr('RG3_UNC.dcm'));
    raw = parse(await readFile(cr('RG3_UNC.dcm')));
  });

  it('is flagged inverted, 1760×1760, without spacing (the file states none)', () => {
    expect(raw.string('x00280004')).toBe('MONOCHROME1');
    expect(record).toMatchObject({ width: 1760, height: 1760, inverted: true, bitsStored: 10 });
    expect(record.dicom?.photometricInterpretation).toBe('MONOCHROME1');
    expect(raw.elements.x00280030).toBeUndefined();
    expect(raw.elements.x00181164).toBeUndefined();
    expect(record.spacing).toBeUndefined();
  });

  it('maps each stored value v to 0 + 1023 − v (the 10-bit stored range, no rescale)', () => {
    expect(raw.elements.x00281053).toBeUndefined();
    for (const index of [0, 777, 1760 * 880 + 880, 1760 * 1000 + 123, 1760 * 1760 - 1]) {
      const stored = rawUint16(raw, index) & 0x3ff;
      expect(record.pixels[index]).toBe(1023 - stored);
    }
    // so the record's range is the stored range turned around
    let min = Infinity;
    let max = -Infinity;
    for (let i = 0; i < raw.elements.x7fe00010.length / 2; i++) {
      const v = rawUint16(raw, i) & 0x3ff;
      if (v < min) min = v;
      if (v > max) max = v;
    }
    expect(record.range).toEqual({ min: 1023 - max, max: 1023 - min });
  });
});
