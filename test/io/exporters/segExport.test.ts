/**
 * DICOM-SEG export on the team's real images: computed radiographs without a Frame of Reference
 * (RG2 MONOCHROME2 uncompressed and JPEG-lossless, RG3 MONOCHROME1) and three CT slices with one, each
 * as BINARY and FRACTIONAL. Every SEG must pass dciodvfy with 0 errors, agree with its sources under
 * dcentvfy, and read back (dcmjs, our reader, pydicom) to exactly the masks that went in, frame by
 * frame matched by SOP Instance UID.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildSegmentation,
  exportSegmentationFiles,
  readSourceImage,
  segmentationToBytes,
  type SegmentationExportReport,
  type SegmentationType,
  type SourceImage,
} from '../../../main/io/exporters';
import { SOFTWARE_NAME_AND_VERSION } from '../../../main/io/exporters/dicomValues';
import { readSegmentation, segmentMask } from '../../../main/io/seg';
import { writeFileAtomic } from '../../../main/io/atomicWrite';
import { dataPath, hasSharedData, sharedDataSkipReason } from '../../helpers/sharedData';
import { dcmjsReadSeg, firstItem } from './helpers/dcmjsReadback';
import { FEMUR, LIVER } from './helpers/segments';
import { ellipseMask, softMask, starMask, storedValues, union, writeGreyPng } from './helpers/masks';
import { dcentvfy, dciodvfy, dicom3toolsSkipReason, hasDcentvfy, hasDciodvfy, hasPydicomNumpy, pydicomReadSeg, pydicomSkipReason } from './helpers/validators';

const skipNote = hasSharedData ? '' : ` [skipped: ${sharedDataSkipReason}]`;
const toolsNote = hasDciodvfy ? '' : ` [skipped: ${dicom3toolsSkipReason}]`;
const pydicomNote = hasPydicomNumpy ? '' : ` [skipped: ${pydicomSkipReason}]`;

const tmp = mkdtempSync(join(tmpdir(), 'ld-seg-export-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** dciodvfy warnings that come from the source's own values, copied as they must be. */
const SOURCE_WARNINGS = [/Retired Person Name form/];
const unexplained = (warnings: string[]) => warnings.filter((w) => !SOURCE_WARNINGS.some((p) => p.test(w)));

const sha256 = (a: Uint8Array) => createHash('sha256').update(a).digest('hex');
const ctFiles = ['01.dcm', '02.dcm', '03.dcm'].map((n) => dataPath('dicom', 'ct-3slice-seg', n));

/** A mask per source that differs between slices, so a frame mix-up cannot go unnoticed. */
function maskFor(source: SourceImage, index: number, type: SegmentationType): Uint8Array {
  const { columns: w, rows: h } = source;
  if (type === 'FRACTIONAL') return softMask(w, h, 0.45 + 0.05 * index, 0.45, 0.3 - 0.04 * index, 0.25);
  return union(ellipseMask(w, h, 0.4 + 0.05 * index, 0.5, 0.25, 0.3 - 0.05 * index), starMask(w, h, 0.65, 0.35 + 0.05 * index, 0.15));
}

interface Case {
  name: string;
  /** --source: one file, or the CT folder (which also holds two SEG files to be skipped). */
  source: string;
  files: string[];
  type: SegmentationType;
  spatial: boolean;
}

const CASES: Case[] = [];
for (const type of ['BINARY', 'FRACTIONAL'] as const) {
  for (const file of ['RG2_UNC.dcm', 'RG3_UNC.dcm', 'RG2_JPLL.dcm']) {
    const path = dataPath('dicom', 'cr', file);
    CASES.push({ name: `${file} ${type}`, source: path, files: [path], type, spatial: false });
  }
  CASES.push({ name: `CT 3 slices ${type}`, source: dataPath('dicom', 'ct-3slice-seg'), files: ctFiles, type, spatial: true });
}

describe.skipIf(!hasSharedData).each(CASES)(`SEG of $name${skipNote}`, ({ name, source, files, type, spatial }) => {
  const dir = join(tmp, name.replace(/[^A-Za-z0-9]+/g, '_'));
  const out = join(dir, 'seg.dcm');
  const sources: SourceImage[] = [];
  /** Stored values expected per source SOP Instance UID. */
  const expected = new Map<string, Uint8Array>();
  let report: SegmentationExportReport;

  beforeAll(async () => {
    mkdirSync(join(dir, 'masks'), { recursive: true });
    for (const [i, file] of files.entries()) {
      const s = await readSourceImage(file);
      sources.push(s);
      const mask = maskFor(s, i, type);
      writeGreyPng(join(dir, 'masks', basename(file).replace(/\.dcm$/, '.png')), s.columns, s.rows, mask);
      expected.set(s.sopInstanceUID, storedValues(mask, type));
    }
    report = await exportSegmentationFiles({ source, masks: join(dir, 'masks'), out, type, segments: [FEMUR] });
  });

  it('writes one frame per source image, of the source size, referencing every source', () => {
    expect(report).toMatchObject({ out, type, spatial, frames: files.length, emptyFramesSkipped: 0, sources: files.length });
    expect(report.rows).toBe(sources[0].rows);
    expect(report.columns).toBe(sources[0].columns);
    expect(report.sourceFiles).toEqual(files);
    if (spatial) expect(report.skippedSources.map((s) => basename(s.file))).toEqual(['liver.dcm', 'partial_overlaps.dcm']);
  });

  it.skipIf(!hasDciodvfy)(`passes dciodvfy with 0 errors${toolsNote}`, () => {
    const v = dciodvfy(out);
    expect(v.output).toMatch(/^Segmentation/m);
    expect(v.errors).toEqual([]);
    expect(unexplained(v.warnings)).toEqual([]);
  });

  it.skipIf(!hasDcentvfy)(`agrees with its sources under dcentvfy${toolsNote}`, () => {
    const v = dcentvfy([out, ...files]);
    expect(v.errors).toEqual([]);
    expect(v.warnings).toEqual([]);
  });

  it('reads back with dcmjs to exactly the masks that went in, by SOP Instance UID', () => {
    const { dataset, frames } = dcmjsReadSeg(out);
    expect(frames).toHaveLength(files.length);
    for (const frame of frames) {
      expect(frame.segment).toBe(1);
      expect(expected.has(frame.source)).toBe(true);
      expect(sha256(frame.pixels)).toBe(sha256(expected.get(frame.source)!));
    }
    expect(new Set(frames.map((f) => f.source)).size).toBe(files.length);
    // classic Segmentation Storage, new series, Patient/Study copied from the source
    const src = sources[0].dataset;
    expect(dataset).toMatchObject({ SOPClassUID: '1.2.840.10008.5.1.4.1.1.66.4', Modality: 'SEG', SegmentationType: type, PatientID: src.PatientID, StudyInstanceUID: src.StudyInstanceUID, StudyID: src.StudyID, AccessionNumber: src.AccessionNumber });
    expect(dataset.SeriesInstanceUID).not.toBe(src.SeriesInstanceUID);
    expect(dataset.PatientName).toEqual(src.PatientName);
    if (type === 'FRACTIONAL') expect(dataset).toMatchObject({ BitsAllocated: 8, SegmentationFractionalType: 'PROBABILITY', MaximumFractionalValue: 255 });
    else expect(dataset).toMatchObject({ BitsAllocated: 1, BitsStored: 1, HighBit: 0 });
    const segment = firstItem(dataset.SegmentSequence);
    expect(segment).toMatchObject({ SegmentNumber: 1, SegmentLabel: 'Femur', SegmentAlgorithmType: 'SEMIAUTOMATIC', SegmentAlgorithmName: SOFTWARE_NAME_AND_VERSION });
    expect(firstItem(segment.SegmentedPropertyTypeCodeSequence)).toMatchObject(FEMUR.type);
    expect(firstItem(segment.SegmentedPropertyCategoryCodeSequence)).toMatchObject(FEMUR.category);
    const series = firstItem(dataset.ReferencedSeriesSequence);
    expect(series.SeriesInstanceUID).toBe(src.SeriesInstanceUID);
  });

  it(spatial ? 'shares the Frame of Reference and gives plane geometry per frame' : 'follows highdicom for a source without Frame of Reference: no FoR, no plane groups, segment number as the only dimension', () => {
    const { dataset, frames } = dcmjsReadSeg(out);
    // one item, empty for a radiograph (dcmjs then gives no object for it)
    expect(dataset.SharedFunctionalGroupsSequence).toBeDefined();
    const shared = firstItem(dataset.SharedFunctionalGroupsSequence) ?? {};
    const dimensions = dataset.DimensionIndexSequence as unknown[];
    const perFrame = dataset.PerFrameFunctionalGroupsSequence as Array<Record<string, unknown>>;
    for (const item of perFrame) {
      const derivation = firstItem(item.DerivationImageSequence);
      const sourceItem = firstItem(derivation.SourceImageSequence);
      expect(firstItem(sourceItem.PurposeOfReferenceCodeSequence)).toMatchObject({ CodeValue: '121322', CodingSchemeDesignator: 'DCM' });
      expect(firstItem(derivation.DerivationCodeSequence)).toMatchObject({ CodeValue: '113076', CodingSchemeDesignator: 'DCM' });
      expect(sourceItem.ReferencedSOPClassUID).toBe(sources[0].sopClassUID);
    }
    if (spatial) {
      expect(dataset.FrameOfReferenceUID).toBe(sources[0].frameOfReferenceUID);
      expect(shared.PlaneOrientationSequence).toBeDefined();
      expect(firstItem(shared.PixelMeasuresSequence).PixelSpacing).toEqual(sources[0].geometry!.pixelSpacing);
      expect(dimensions).toHaveLength(2);
      for (const frame of frames) {
        const s = sources.find((x) => x.sopInstanceUID === frame.source)!;
        expect(frame.position).toEqual(s.geometry!.imagePositionPatient);
      }
      // ordered along the slice normal, dimension index = position rank
      const z = frames.map((f) => f.position![2]);
      expect([...z].sort((a, b) => a - b)).toEqual(z);
    } else {
      expect(dataset.FrameOfReferenceUID).toBeUndefined();
      expect(shared.PixelMeasuresSequence).toBeUndefined();
      expect(shared.PlaneOrientationSequence).toBeUndefined();
      expect(perFrame.every((i) => i.PlanePositionSequence === undefined)).toBe(true);
      expect(dimensions).toHaveLength(1);
      expect(firstItem(dimensions)).toMatchObject({ DimensionDescriptionLabel: 'ReferencedSegmentNumber' });
      expect(firstItem(perFrame[0].FrameContentSequence).DimensionIndexValues).toBe(1);
      expect(dataset.PatientOrientation ?? '').toEqual(sources[0].dataset.PatientOrientation ?? '');
    }
  });

  it('reads back with readSegmentation (the app overlay reader) to the same masks', async () => {
    const seg = await readSegmentation(out);
    expect(seg).toMatchObject({ type, rows: sources[0].rows, columns: sources[0].columns, sopInstanceUID: report.sopInstanceUID });
    expect(seg.segments).toEqual([expect.objectContaining({ number: 1, label: 'Femur', type: FEMUR.type, category: FEMUR.category, algorithmType: 'SEMIAUTOMATIC' })]);
    if (type === 'FRACTIONAL') expect(seg).toMatchObject({ fractionalType: 'PROBABILITY', maximumFractionalValue: 255 });
    for (const s of sources) expect(sha256(segmentMask(seg, s.sopInstanceUID, 1)!)).toBe(sha256(expected.get(s.sopInstanceUID)!));
  });

  it.skipIf(!hasPydicomNumpy)(`reads back with pydicom to the same masks${pydicomNote}`, () => {
    const seg = pydicomReadSeg(out);
    expect(seg).toMatchObject({ sopClass: '1.2.840.10008.5.1.4.1.1.66.4', type, rows: sources[0].rows, columns: sources[0].columns });
    expect(seg.frames).toHaveLength(files.length);
    for (const frame of seg.frames) expect(frame.sha256).toBe(sha256(expected.get(frame.source)!));
  });
});

describe.skipIf(!hasSharedData)(`CT SEG details${skipNote}`, () => {
  let ct: SourceImage[];
  beforeAll(async () => {
    ct = await Promise.all(ctFiles.map((f) => readSourceImage(f)));
  });

  it('leaves out the empty frame of a slice the segment does not touch; the reader reports no mask there', async () => {
    const masks = new Map(ct.map((s, i) => [s.sopInstanceUID, i === 1 ? new Uint8Array(s.rows * s.columns) : ellipseMask(s.columns, s.rows)]));
    const built = buildSegmentation(ct, [{ ...LIVER, masks }]);
    expect(built.summary).toMatchObject({ frames: 2, emptyFramesSkipped: 1 });
    const out = join(tmp, 'ct-skip.dcm');
    writeFileAtomic(out, segmentationToBytes(built));
    if (hasDciodvfy) expect(dciodvfy(out).errors).toEqual([]);
    const seg = await readSegmentation(out);
    expect(segmentMask(seg, ct[1].sopInstanceUID, 1)).toBeUndefined();
    expect(sha256(segmentMask(seg, ct[0].sopInstanceUID, 1)!)).toBe(sha256(storedValues(ellipseMask(512, 512), 'BINARY')));
  });

  it('writes several overlapping segments (SegmentsOverlap YES) that read back per segment', async () => {
    const liver = new Map(ct.map((s, i) => [s.sopInstanceUID, ellipseMask(512, 512, 0.35, 0.5, 0.2 + 0.02 * i, 0.25)]));
    const bone = new Map(ct.map((s, i) => [s.sopInstanceUID, starMask(512, 512, 0.45, 0.45 + 0.03 * i, 0.2)]));
    const built = buildSegmentation(ct, [
      { ...LIVER, masks: liver },
      { ...FEMUR, label: 'Bone', type: { CodeValue: '272673000', CodingSchemeDesignator: 'SCT', CodeMeaning: 'Bone' }, category: { CodeValue: '85756007', CodingSchemeDesignator: 'SCT', CodeMeaning: 'Tissue' }, masks: bone },
    ]);
    expect(built.summary.frames).toBe(6);
    expect(built.dataset.SegmentsOverlap).toBe('YES');
    const out = join(tmp, 'ct-two.dcm');
    writeFileAtomic(out, segmentationToBytes(built));
    if (hasDciodvfy) expect(dciodvfy(out).errors).toEqual([]);
    if (hasDcentvfy) expect(dcentvfy([out, ...ctFiles]).output.trim()).toBe('');
    const seg = await readSegmentation(out);
    expect(seg.segments.map((s) => [s.number, s.label, s.algorithmType])).toEqual([
      [1, 'Liver', 'AUTOMATIC'],
      [2, 'Bone', 'SEMIAUTOMATIC'],
    ]);
    for (const s of ct) {
      expect(sha256(segmentMask(seg, s.sopInstanceUID, 1)!)).toBe(sha256(storedValues(liver.get(s.sopInstanceUID)!, 'BINARY')));
      expect(sha256(segmentMask(seg, s.sopInstanceUID, 2)!)).toBe(sha256(storedValues(bone.get(s.sopInstanceUID)!, 'BINARY')));
    }
    if (hasPydicomNumpy) expect(pydicomReadSeg(out).frames.map((f) => f.segment)).toEqual([1, 1, 1, 2, 2, 2]);
  });

  it('takes probabilities as floats for FRACTIONAL: round(p · 255)', async () => {
    const probabilities = new Map(ct.map((s) => [s.sopInstanceUID, Float32Array.from({ length: 512 * 512 }, (_, i) => (i % 512) / 511)]));
    const built = buildSegmentation(ct, [{ ...LIVER, masks: probabilities }], { type: 'FRACTIONAL' });
    const seg = await readSegmentation(segmentationToBytes(built));
    const mask = segmentMask(seg, ct[0].sopInstanceUID, 1)!;
    expect([mask[0], mask[511], mask[256]]).toEqual([0, 255, Math.round((256 / 511) * 255)]);
  });
});
