/**
 * readSegmentation on SEG files written by other tools: liver.dcm (dcmqi, 1 segment) and
 * partial_overlaps.dcm (3D Slicer, 5 overlapping segments) on the three CT slices.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeSegments, formatSegmentDescriptionJson, parseSegmentDescriptionJson, readSourceImage, type SourceImage } from '../../../main/io/exporters';
import { readImage } from '../../../main/io';
import { readSegmentation, segmentMask, SegmentationReadError, type Segmentation } from '../../../main/io/seg';
import { dataPath, hasSharedData, sharedDataSkipReason } from '../../helpers/sharedData';
import { countNonZero } from './helpers/masks';
import { hasPydicomNumpy, pydicomReadSeg, pydicomSkipReason } from './helpers/validators';

const skipNote = hasSharedData ? '' : ` [skipped: ${sharedDataSkipReason}]`;
const pydicomNote = hasPydicomNumpy ? '' : ` [skipped: ${pydicomSkipReason}]`;
const ctDir = (name: string) => dataPath('dicom', 'ct-3slice-seg', name);
const sha256 = (a: Uint8Array) => createHash('sha256').update(a).digest('hex');
const tmp = mkdtempSync(join(tmpdir(), 'ld-seg-reader-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe.skipIf(!hasSharedData)(`readSegmentation on SEGs written by other tools${skipNote}`, () => {
  let slices: SourceImage[];
  const segs: Record<string, Segmentation> = {};
  beforeAll(async () => {
    slices = await Promise.all(['01.dcm', '02.dcm', '03.dcm'].map((n) => readSourceImage(ctDir(n))));
    for (const name of ['liver.dcm', 'partial_overlaps.dcm']) segs[name] = await readSegmentation(ctDir(name));
  });

  it('liver.dcm: one BINARY segment with its codes and colour, one frame per CT slice keyed by SOP Instance UID', () => {
    const seg = segs['liver.dcm'];
    expect(seg).toMatchObject({ type: 'BINARY', rows: 512, columns: 512, frameOfReferenceUID: slices[0].frameOfReferenceUID, studyInstanceUID: slices[0].studyInstanceUID });
    expect(seg.imageOrientationPatient).toEqual([1, 0, 0, 0, 1, 0]);
    expect(seg.pixelSpacing?.[0]).toBeCloseTo(0.8105, 4);
    expect(seg.segments).toEqual([
      {
        number: 1,
        label: 'Liver',
        algorithmType: 'SEMIAUTOMATIC',
        algorithmName: 'SlicerEditor',
        category: { CodeValue: 'T-D0050', CodingSchemeDesignator: 'SRT', CodeMeaning: 'Tissue' },
        type: { CodeValue: 'T-62000', CodingSchemeDesignator: 'SRT', CodeMeaning: 'Liver' },
        recommendedDisplayCIELab: [41661, 41167, 40792],
      },
    ]);
    expect(seg.frames).toHaveLength(3);
    expect([...seg.framesBySource.keys()].sort()).toEqual(slices.map((s) => s.sopInstanceUID).sort());
    for (const s of slices) {
      const mask = segmentMask(seg, s.sopInstanceUID, 1)!;
      expect(mask).toHaveLength(512 * 512);
      expect(countNonZero(mask)).toBeGreaterThan(30_000);
      // the frame of a slice lies on that slice
      const frame = seg.framesBySource.get(s.sopInstanceUID)![0];
      expect(frame.imagePositionPatient?.[2]).toBeCloseTo(s.geometry!.imagePositionPatient[2], 3);
      expect(frame.sources[0]).toEqual({ sopInstanceUID: s.sopInstanceUID, sopClassUID: s.sopClassUID });
    }
  });

  it('partial_overlaps.dcm: five segments, seven frames, a segment on all three slices and others on one', () => {
    const seg = segs['partial_overlaps.dcm'];
    expect(seg.segments.map((s) => [s.number, s.label, s.type?.CodeMeaning])).toEqual([
      [1, 'GREEN', 'Tissue'],
      [2, 'ORANGE', 'Artery'],
      [3, 'PURPLE', 'Capillary'],
      [4, 'LIGHT_BLUE', 'Edema'],
      [5, 'DARK_BLUE', 'Vein'],
    ]);
    expect(seg.frames.map((f) => f.segmentNumber)).toEqual([1, 2, 3, 3, 3, 4, 5]);
    const onSlice = (n: number) => slices.filter((s) => segmentMask(seg, s.sopInstanceUID, n)).length;
    expect([1, 2, 3, 4, 5].map(onSlice)).toEqual([1, 1, 3, 1, 1]);
  });

  it.each(['liver.dcm', 'partial_overlaps.dcm'])('%s: masks equal the frames main/io decodes, bit for bit', async (name) => {
    const record = await readImage(ctDir(name));
    const seg = segs[name];
    expect(record.frames).toBe(seg.frames.length);
    for (const frame of seg.frames) {
      const decoded = record.pixels.subarray(frame.index * 512 * 512, (frame.index + 1) * 512 * 512);
      expect(sha256(Uint8Array.from(decoded))).toBe(sha256(frame.pixels));
    }
  });

  it.skipIf(!hasPydicomNumpy).each(['liver.dcm', 'partial_overlaps.dcm'])(`%s: masks equal what pydicom reads${pydicomNote}`, (name) => {
    const reference = pydicomReadSeg(ctDir(name));
    const seg = segs[name];
    expect(reference.frames.map((f) => [f.segment, f.source, f.sha256])).toEqual(seg.frames.map((f) => [f.segmentNumber, f.sources[0].sopInstanceUID, sha256(f.pixels)]));
  });

  it('describes the segments as dcmqi JSON (colours back to RGB), e.g. to reuse Slicer\'s codes', () => {
    const described = describeSegments(segs['partial_overlaps.dcm']);
    expect(described.map((d) => [d.labelId, d.label, d.type.CodeMeaning])).toEqual([
      [1, 'GREEN', 'Tissue'],
      [2, 'ORANGE', 'Artery'],
      [3, 'PURPLE', 'Capillary'],
      [4, 'LIGHT_BLUE', 'Edema'],
      [5, 'DARK_BLUE', 'Vein'],
    ]);
    // dcmqi wrote Slicer's liver colour (221, 130, 101); CIELab conversions differ a little between
    // implementations (white point handling), so the colour comes back close, not equal
    const rgb = describeSegments(segs['liver.dcm'])[0].recommendedDisplayRGB!;
    [221, 130, 101].forEach((c, i) => expect(Math.abs(rgb[i] - c)).toBeLessThanOrEqual(6));
    const back = parseSegmentDescriptionJson(formatSegmentDescriptionJson(described));
    expect(back.segments).toEqual(described);
  });

  it('refuses an image that is not a SEG, a truncated SEG and a missing file, naming each', async () => {
    await expect(readSegmentation(ctDir('01.dcm'))).rejects.toThrow(/01\.dcm: not a DICOM Segmentation: SOP Class UID 1\.2\.840\.10008\.5\.1\.4\.1\.1\.2/);
    const cut = join(tmp, 'cut.dcm');
    const bytes = readFileSync(ctDir('liver.dcm'));
    writeFileSync(cut, bytes.subarray(0, bytes.length - 20_000));
    const error = await readSegmentation(cut).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(SegmentationReadError);
    expect((error as Error).message).toMatch(/cut\.dcm: .*truncated/);
    await expect(readSegmentation(join(tmp, 'none.dcm'))).rejects.toThrow(/none\.dcm: file not found/);
  });
});
