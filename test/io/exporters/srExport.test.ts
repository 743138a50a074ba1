/**
 * Landmarks as a DICOM SR TID 1500 Measurement Report (Enhanced SR): dciodvfy with 0 errors, the
 * template tree, SCOORD points in DICOM pixel coordinates, tracking UIDs stable across images, and
 * an independent read with pydicom.
 */
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENHANCED_SR_STORAGE, ExportError, exportLandmarkSrFiles, landmarkTrackingUid, type LandmarkSrExportReport } from '../../../main/io/exporters';
import { readNaturalDataset, type NaturalDataset } from '../../../main/io/exporters/dcmjs';
import { readFileSync } from 'node:fs';
import { dataPath, hasSharedData, sharedDataSkipReason } from '../../helpers/sharedData';
import { rgbPng } from '../helpers/makeImages';
import { dcentvfy, dciodvfy, dicom3toolsSkipReason, hasDcentvfy, hasDciodvfy, hasPydicomNumpy, pydicomReadSr, pydicomSkipReason } from './helpers/validators';

const skipNote = hasSharedData ? '' : ` [skipped: ${sharedDataSkipReason}]`;
const toolsNote = hasDciodvfy ? '' : ` [skipped: ${dicom3toolsSkipReason}]`;
const pydicomNote = hasPydicomNumpy ? '' : ` [skipped: ${pydicomSkipReason}]`;
const tmp = mkdtempSync(join(tmpdir(), 'ld-sr-export-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const LANDMARKS = ['Femoral head centre', 'Greater trochanter', 'Lesser trochanter', 'Knee centre'];
const CSV = [
  'image,landmark,x,y,confidence',
  'RG2_UNC.dcm,Femoral head centre,812,903.5,0.92',
  'RG2_UNC.dcm,Greater trochanter,1210.25,1004,0.4',
  'RG2_UNC.dcm,Lesser trochanter,1105,1390,',
  'RG2_UNC.dcm,Knee centre,,,',
  'RG3_UNC,Femoral head centre,100,120,0.8',
  'RG3_UNC,Greater trochanter,0,0,0.7',
  'RG3_UNC,Lesser trochanter,1759,1759,0.6',
  'RG3_UNC,Knee centre,880,1500,0.9',
  '01.dcm,Femoral head centre,255.5,255.5,',
].join('\n');
const csv = join(tmp, 'landmarks.csv');
writeFileSync(csv, CSV);

const namespace = LANDMARKS.join('\u0000');
const cr = (name: string) => dataPath('dicom', 'cr', name);
const ct01 = dataPath('dicom', 'ct-3slice-seg', '01.dcm');

const first = (v: unknown) => (Array.isArray(v) ? v[0] : v) as NaturalDataset;
const items = (v: unknown) => (v === undefined ? [] : Array.isArray(v) ? v : [v]) as NaturalDataset[];
const named = (list: unknown, code: string) => items(list).filter((i) => first(i.ConceptNameCodeSequence)?.CodeValue === code);

describe.skipIf(!hasSharedData)(`landmark SR (TID 1500)${skipNote}`, () => {
  const reports: Record<string, LandmarkSrExportReport> = {};
  const out = (name: string) => join(tmp, `${name}.sr.dcm`);
  beforeAll(async () => {
    reports.RG2 = await exportLandmarkSrFiles({ source: cr('RG2_UNC.dcm'), landmarks: csv, out: out('RG2') });
    reports.RG3 = await exportLandmarkSrFiles({ source: cr('RG3_UNC.dcm'), landmarks: csv, out: out('RG3'), observerName: 'Doe^Jane' });
    reports.CT = await exportLandmarkSrFiles({ source: ct01, landmarks: csv, out: out('CT') });
  });

  it('reports the groups written, the landmarks left out, and that confidences are not written', () => {
    expect(reports.RG2).toMatchObject({ image: 'RG2_UNC.dcm', measurementGroups: 3, unplaced: ['Knee centre'], confidence: { written: false, available: 2 } });
    expect(reports.RG2.confidence.note).toMatch(/uncalibrated/);
    expect(reports.RG3).toMatchObject({ image: 'RG3_UNC', measurementGroups: 4, unplaced: [] });
    expect(reports.CT).toMatchObject({ image: '01.dcm', measurementGroups: 1, unplaced: LANDMARKS.slice(1) });
  });

  it.skipIf(!hasDciodvfy).each(['RG2', 'RG3', 'CT'])(`%s: passes dciodvfy with 0 errors as an Enhanced SR${toolsNote}`, (name) => {
    const v = dciodvfy(out(name));
    expect(v.output).toMatch(/^EnhancedSR/m);
    expect(v.errors).toEqual([]);
    // the only warning: the CT source's own retired-form Patient's Name, copied as it must be
    expect(v.warnings.filter((w) => !/Retired Person Name form/.test(w))).toEqual([]);
  });

  it.skipIf(!hasDcentvfy)(`agrees with its source under dcentvfy (no errors)${toolsNote}`, () => {
    for (const [name, source] of [['RG2', cr('RG2_UNC.dcm')], ['CT', ct01]]) {
      const v = dcentvfy([out(name), source]);
      expect(v.errors).toEqual([]);
      // dicom3tools files Accession Number under the Series entity for CR images but under Study for
      // SR documents: a remark about its own module tables, not about the values, which are equal
      expect(v.warnings.filter((w) => !/Different information entities for attribute - Element=<AccessionNumber>/.test(w))).toEqual([]);
    }
  });

  it('is a TID 1500 tree: language, device observer, procedure, image library, one TID 1410 group per landmark', () => {
    const ds = readNaturalDataset(readFileSync(out('RG2')));
    const source = readNaturalDataset(readFileSync(cr('RG2_UNC.dcm')), { withoutPixelData: true });
    expect(ds).toMatchObject({ SOPClassUID: ENHANCED_SR_STORAGE, Modality: 'SR', ValueType: 'CONTAINER', CompletionFlag: 'COMPLETE', VerificationFlag: 'UNVERIFIED' });
    expect(ds).toMatchObject({ PatientID: source.PatientID, StudyInstanceUID: source.StudyInstanceUID, StudyID: source.StudyID });
    expect(first(ds.ConceptNameCodeSequence)).toMatchObject({ CodeValue: '126000', CodingSchemeDesignator: 'DCM', CodeMeaning: 'Imaging Measurement Report' });
    expect(first(ds.ContentTemplateSequence)).toMatchObject({ MappingResource: 'DCMR', TemplateIdentifier: '1500' });
    const evidence = first(first(first(ds.CurrentRequestedProcedureEvidenceSequence).ReferencedSeriesSequence).ReferencedSOPSequence);
    expect(evidence.ReferencedSOPInstanceUID).toBe(source.SOPInstanceUID);

    const root = ds.ContentSequence;
    expect(first(named(root, '121049')[0].ConceptCodeSequence)).toMatchObject({ CodeValue: 'en-US', CodingSchemeDesignator: 'RFC5646' });
    expect(first(named(root, '121005')[0].ConceptCodeSequence)).toMatchObject({ CodeValue: '121007', CodeMeaning: 'Device' });
    expect(named(root, '121012')[0].UID).toMatch(/^2\.25\.\d+$/);
    expect(named(root, '121013')[0].TextValue).toBe('LD Studio');
    expect(first(named(root, '121058')[0].ConceptCodeSequence)).toMatchObject({ CodeValue: '363679005', CodingSchemeDesignator: 'SCT' });
    const library = named(named(root, '111028')[0].ContentSequence, '126200')[0];
    expect(first(first(library.ContentSequence).ReferencedSOPSequence).ReferencedSOPInstanceUID).toBe(source.SOPInstanceUID);

    const groups = named(named(root, '126010')[0].ContentSequence, '125007');
    expect(groups).toHaveLength(3);
    const expected = [
      ['Femoral head centre', 812, 903.5],
      ['Greater trochanter', 1210.25, 1004],
      ['Lesser trochanter', 1105, 1390],
    ] as const;
    groups.forEach((group, i) => {
      const [name, x, y] = expected[i];
      expect(first(group.ContentTemplateSequence)).toMatchObject({ TemplateIdentifier: '1410' });
      expect(named(group.ContentSequence, '112039')[0]).toMatchObject({ RelationshipType: 'HAS OBS CONTEXT', ValueType: 'TEXT', TextValue: name });
      expect(named(group.ContentSequence, '112040')[0].UID).toBe(landmarkTrackingUid(name, namespace));
      const region = named(group.ContentSequence, '111030')[0];
      expect(region).toMatchObject({ RelationshipType: 'CONTAINS', ValueType: 'SCOORD', GraphicType: 'POINT' });
      // DICOM pixel coordinates: (0,0) is the top-left corner of the top-left pixel, its centre (0.5, 0.5)
      expect(Array.from(region.GraphicData as number[])).toEqual([x + 0.5, y + 0.5]);
      const selected = first(region.ContentSequence);
      expect(selected).toMatchObject({ RelationshipType: 'SELECTED FROM', ValueType: 'IMAGE' });
      expect(first(selected.ReferencedSOPSequence)).toMatchObject({ ReferencedSOPClassUID: source.SOPClassUID, ReferencedSOPInstanceUID: source.SOPInstanceUID });
      // no confidence content
      expect(items(group.ContentSequence).some((c) => c.ValueType === 'NUM')).toBe(false);
    });
  });

  it('gives a landmark the same Tracking UID on every image, and each landmark its own', () => {
    const uid = (r: LandmarkSrExportReport, name: string) => r.landmarks.find((l) => l.name === name)!.trackingUid;
    expect(uid(reports.RG2, 'Greater trochanter')).toBe(uid(reports.RG3, 'Greater trochanter'));
    expect(uid(reports.RG2, 'Femoral head centre')).toBe(uid(reports.CT, 'Femoral head centre'));
    expect(new Set(reports.RG3.landmarks.map((l) => l.trackingUid)).size).toBe(4);
    expect(landmarkTrackingUid('Greater trochanter', 'another scheme')).not.toBe(uid(reports.RG2, 'Greater trochanter'));
  });

  it('names a person observer when given', () => {
    const ds = readNaturalDataset(readFileSync(out('RG3')));
    expect(first(named(ds.ContentSequence, '121005')[0].ConceptCodeSequence)).toMatchObject({ CodeValue: '121006', CodeMeaning: 'Person' });
    const person = named(ds.ContentSequence, '121008')[0];
    expect(person.ValueType).toBe('PNAME');
    expect(JSON.stringify(person.PersonName)).toContain('Doe^Jane');
  });

  it.skipIf(!hasPydicomNumpy)(`reads back with pydicom: the same groups, points and image${pydicomNote}`, () => {
    const sr = pydicomReadSr(out('RG3'));
    expect(sr).toMatchObject({ sopClass: ENHANCED_SR_STORAGE, template: '1500' });
    expect(sr.groups.map((g) => [g.id, g.graphicType, g.point])).toEqual([
      ['Femoral head centre', 'POINT', [100.5, 120.5]],
      ['Greater trochanter', 'POINT', [0.5, 0.5]],
      ['Lesser trochanter', 'POINT', [1759.5, 1759.5]],
      ['Knee centre', 'POINT', [880.5, 1500.5]],
    ]);
    expect(new Set(sr.groups.map((g) => g.image))).toEqual(new Set([reports.RG3.referencedSopInstanceUID]));
    expect(sr.groups.map((g) => g.uid)).toEqual(reports.RG3.landmarks.map((l) => l.trackingUid));
  });
});

describe('landmark SR refusals', () => {
  const refusal = (request: Parameters<typeof exportLandmarkSrFiles>[0]) =>
    exportLandmarkSrFiles(request).then(
      () => {
        throw new Error('expected a refusal');
      },
      (e: unknown) => {
        expect(e).toBeInstanceOf(ExportError);
        return e as ExportError;
      },
    );

  it('refuses a PNG source, saying what to export instead', async () => {
    const png = join(tmp, 'photo.png');
    writeFileSync(png, rgbPng(2, 2, new Uint8Array(12)));
    const error = await refusal({ source: png, landmarks: csv, out: join(tmp, 'png.sr.dcm') });
    expect(error.message).toMatch(/photo\.png: DICOM SR needs a DICOM source image, but this is a PNG file/);
    expect(error.message).toMatch(/Export the landmarks as CSV or Slicer \.mrk\.json instead/);
  });

  it.skipIf(!hasSharedData)(`refuses a CSV without rows for the image, points outside it, and a broken CSV; writes nothing${skipNote}`, async () => {
    const other = join(tmp, 'other.csv');
    writeFileSync(other, 'image,landmark,x,y,confidence\na.png,A,1,2,\nb.png,A,3,4,\n');
    expect((await refusal({ source: cr('RG2_UNC.dcm'), landmarks: other, out: join(tmp, 'x.sr.dcm') })).message).toMatch(
      /other\.csv: no landmarks for RG2_UNC\.dcm \(rows are matched by file name or stem\); the file holds 2 image\(s\): a\.png, b\.png/,
    );
    const outside = join(tmp, 'outside.csv');
    writeFileSync(outside, 'image,landmark,x,y,confidence\nRG3_UNC.dcm,A,1760,10,\n');
    expect((await refusal({ source: cr('RG3_UNC.dcm'), landmarks: outside, out: join(tmp, 'x.sr.dcm') })).message).toMatch(
      /RG3_UNC\.dcm: landmark 'A' at \(1760, 10\) lies outside the 1760×1760 image/,
    );
    const none = join(tmp, 'none.csv');
    writeFileSync(none, 'image,landmark,x,y,confidence\nRG3_UNC.dcm,A,,,\n');
    expect((await refusal({ source: cr('RG3_UNC.dcm'), landmarks: none, out: join(tmp, 'x.sr.dcm') })).message).toMatch(/no landmark is placed on this image/);
    const broken = join(tmp, 'broken.csv');
    writeFileSync(broken, 'image,landmark,x,y,confidence\nRG3_UNC.dcm,A,12,abc,\n');
    expect((await refusal({ source: cr('RG3_UNC.dcm'), landmarks: broken, out: join(tmp, 'x.sr.dcm') })).message).toMatch(/broken\.csv, line 2: y of 'A' is not a number \('abc'\)/);
    expect(readdirSync(tmp).filter((n) => n.startsWith('x.sr.dcm'))).toEqual([]);
  });
});
