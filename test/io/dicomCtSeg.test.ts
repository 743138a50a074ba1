/**
 * Real GE CT slices (Implicit VR, signed 16-bit, rescaled to HU) and the two DICOM-SEG objects made on
 * them (1-bit BINARY multi-frame), plus every file of the shared DICOM folder in one pass.
 */
import { readFile } from 'node:fs/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import { listImageFiles, readImage, readImageFolder, type ImageRecord } from '../../main/io';
import { dataPath, hasSharedData, sharedDataSkipReason } from '../helpers/sharedData';
import { parse, popcount, rawUint16, type DataSet } from './helpers/dicomBytes';

const skipNote = hasSharedData ? '' : ` [skipped: ${sharedDataSkipReason}]`;
const ctDir = (name: string) => dataPath('dicom', 'ct-3slice-seg', name);
const FRAME_OF_REFERENCE = '1.2.392.200103.20080913.113635.3.2009.6.22.21.44.34.23882.1';

describe.skipIf(!hasSharedData)(`CT slices${skipNote}`, () => {
  const slices: Record<string, { record: ImageRecord; raw: DataSet }> = {};

  beforeAll(async () => {
    for (const name of ['01.dcm', '02.dcm', '03.dcm']) {
      slices[name] = { record: await readImage(ctDir(name)), raw: parse(await readFile(ctDir(name))) };
    }
  });

  it.each(['01.dcm', '02.dcm', '03.dcm'])('%s is 512×512 at 0.8105 mm with its geometry', (name) => {
    const { record } = slices[name];
    expect(record).toMatchObject({ format: 'dicom', width: 512, height: 512, channels: 1, frames: 1, bitsStored: 16, inverted: false });
    expect(record.spacing?.row).toBeCloseTo(0.8105, 4);
    expect(record.spacing?.column).toBeCloseTo(0.8105, 4);
    expect(record.dicom).toMatchObject({
      transferSyntaxUID: '1.2.840.10008.1.2',
      frameOfReferenceUID: FRAME_OF_REFERENCE,
      pixelRepresentation: 1,
      rescaleSlope: 1,
      rescaleIntercept: -1024,
      imageOrientationPatient: [1, 0, 0, 0, 1, 0],
    });
    expect(record.dicom?.imagePositionPatient).toHaveLength(1);
    expect(record.dicom?.imagePositionPatient?.[0]).toHaveLength(3);
    expect(record.dicom?.context).toMatchObject({ Modality: 'CT', Manufacturer: 'GE MEDICAL SYSTEMS', PatientID: '99000', StudyID: '1' });
  });

  it('orders the slices 1 mm apart along z, as the SEGs reference them', () => {
    const z = ['01.dcm', '02.dcm', '03.dcm'].map((n) => slices[n].record.dicom?.imagePositionPatient?.[0][2]);
    expect(z[0]).toBeCloseTo(-126.69, 3);
    expect(z[1]).toBeCloseTo(-127.69, 3);
    expect(z[2]).toBeCloseTo(-128.69, 3);
  });

  it('gives Hounsfield units: stored value (signed) × slope + intercept, with air near −1000', () => {
    const { record, raw } = slices['01.dcm'];
    for (const index of [0, 512 * 256 + 256, 512 * 100 + 40, 512 * 400 + 300, 512 * 512 - 1]) {
      const stored = (rawUint16(raw, index) << 16) >> 16; // two's complement
      expect(record.pixels[index]).toBe(stored * 1 - 1024);
    }
    let air = 0;
    for (const v of record.pixels) if (v > -1050 && v < -950) air++;
    expect(air / record.pixels.length).toBeGreaterThan(0.1); // air around the body inside the field of view
    expect(record.range.min).toBeLessThan(-1000);
    expect(record.range.max).toBeGreaterThan(500); // bone
  });
});

describe.skipIf(!hasSharedData)(`DICOM-SEG objects (1-bit BINARY, multi-frame)${skipNote}`, () => {
  it.each([
    ['liver.dcm', 3],
    ['partial_overlaps.dcm', 7],
  ])('%s unpacks to %i frames of 0/1 with per-frame positions', async (name, frames) => {
    const record = await readImage(ctDir(name));
    const raw = parse(await readFile(ctDir(name)));
    expect(record).toMatchObject({ width: 512, height: 512, channels: 1, frames, bitsStored: 1, inverted: false });
    expect(record.pixels).toHaveLength(512 * 512 * frames);
    expect(record.range).toEqual({ min: 0, max: 1 });
    expect(record.dicom).toMatchObject({ bitsAllocated: 1, modality: 'SEG', frameOfReferenceUID: FRAME_OF_REFERENCE });
    expect(record.spacing?.row).toBeCloseTo(0.8105, 4);

    // every set bit of Pixel Data is one foreground pixel (the frames fill whole bytes: 512·512/8)
    const el = raw.elements.x7fe00010;
    const bits = raw.byteArray.subarray(el.dataOffset, el.dataOffset + (512 * 512 * frames) / 8);
    let ones = 0;
    for (const v of record.pixels) ones += v;
    expect(ones).toBe(popcount(bits));
    expect(ones).toBeGreaterThan(0);

    // positions come from the Per-frame Functional Groups, one per frame, on the CT's slices
    const positions = record.dicom?.imagePositionPatient ?? [];
    expect(positions).toHaveLength(frames);
    for (const p of positions) expect([-126.69, -127.69, -128.69].some((z) => Math.abs(p[2] - z) < 1e-3)).toBe(true);
    expect(record.dicom?.imageOrientationPatient).toEqual([1, 0, 0, 0, 1, 0]);
  });

  it('liver.dcm frame k lies on slice z = −128.69 + k', async () => {
    const record = await readImage(ctDir('liver.dcm'));
    expect(record.dicom?.imagePositionPatient?.map((p) => p[2])).toEqual([-128.69, -127.69, -126.69]);
  });
});

describe.skipIf(!hasSharedData)(`every file of the shared DICOM folder${skipNote}`, () => {
  it('reads without a crash, a failure or a stray exit code', async () => {
    const dir = dataPath('dicom');
    const files = await listImageFiles(dir, { recursive: true });
    expect(files.length).toBe(11); // 6 CR + 3 CT + 2 SEG; LICENSE.txt is not listed
    const seen: string[] = [];
    const { records, failures } = await readImageFolder(dir, { recursive: true, onProgress: (p) => seen.push(p.file) });
    expect(failures).toEqual([]);
    expect(records.map((r) => r.path)).toEqual(files);
    expect(seen).toEqual(files);
    expect(records.map((r) => r.id)).toContain('ct-3slice-seg/liver.dcm');
    for (const r of records) {
      expect(r.pixels.length).toBe(r.width * r.height * r.channels * r.frames);
      expect(Number.isFinite(r.range.min) && Number.isFinite(r.range.max)).toBe(true);
    }
    expect(process.exitCode ?? 0).toBe(0);
  });
});
