/** dcmqi's segment-description JSON (itkimage2segimage meta.json) read and written. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  DCMQI_SEG_SCHEMA,
  ExportError,
  formatSegmentDescriptionJson,
  parseSegmentDescriptionJson,
  readSegmentDescriptionFile,
  writeSegmentDescriptionFile,
} from '../../../main/io/exporters';
import { FEMUR, LIVER } from './helpers/segments';

const tmp = mkdtempSync(join(tmpdir(), 'ld-seg-json-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Shaped like dcmqi's doc/examples/seg-example.json, with SNOMED CT codes as Slicer writes them now. */
const DCMQI_EXAMPLE = {
  '@schema': DCMQI_SEG_SCHEMA,
  ContentCreatorName: 'Doe^John',
  ClinicalTrialSeriesID: 'Session1',
  ClinicalTrialTimePointID: '1',
  ClinicalTrialCoordinatingCenterName: 'BWH',
  SeriesDescription: 'Segmentation',
  SeriesNumber: '300',
  InstanceNumber: '1',
  segmentAttributes: [
    [
      {
        labelID: 1,
        SegmentDescription: 'Liver Segmentation',
        SegmentedPropertyCategoryCodeSequence: { CodeValue: '123037004', CodingSchemeDesignator: 'SCT', CodeMeaning: 'Anatomical Structure' },
        SegmentedPropertyTypeCodeSequence: { CodeValue: '10200004', CodingSchemeDesignator: 'SCT', CodeMeaning: 'Liver' },
        SegmentAlgorithmType: 'SEMIAUTOMATIC',
        SegmentAlgorithmName: 'SlicerEditor',
        recommendedDisplayRGBValue: [221, 130, 101],
      },
      {
        LabelID: 2, // dcmqi's own multi-segment example spells it so
        SegmentLabel: 'Left kidney',
        SegmentedPropertyCategoryCodeSequence: { CodeValue: '123037004', CodingSchemeDesignator: 'SCT', CodeMeaning: 'Anatomical Structure' },
        SegmentedPropertyTypeCodeSequence: { CodeValue: '64033007', CodingSchemeDesignator: 'SCT', CodeMeaning: 'Kidney' },
        SegmentedPropertyTypeModifierCodeSequence: { CodeValue: '7771000', CodingSchemeDesignator: 'SCT', CodeMeaning: 'Left' },
        SegmentAlgorithmType: 'MANUAL',
      },
    ],
  ],
};

describe('parseSegmentDescriptionJson', () => {
  it('reads dcmqi metadata and segments: label from SegmentLabel or SegmentDescription, labelIDs, modifiers, colours', () => {
    const { metadata, segments, warnings } = parseSegmentDescriptionJson(JSON.stringify(DCMQI_EXAMPLE));
    expect(warnings).toEqual([]);
    expect(metadata).toEqual({
      ContentCreatorName: 'Doe^John',
      ClinicalTrialSeriesID: 'Session1',
      ClinicalTrialTimePointID: '1',
      ClinicalTrialCoordinatingCenterName: 'BWH',
      SeriesDescription: 'Segmentation',
      SeriesNumber: 300,
      InstanceNumber: 1,
    });
    expect(segments).toEqual([
      {
        label: 'Liver Segmentation',
        description: 'Liver Segmentation',
        category: LIVER.category,
        type: LIVER.type,
        algorithmType: 'SEMIAUTOMATIC',
        algorithmName: 'SlicerEditor',
        recommendedDisplayRGB: [221, 130, 101],
        labelId: 1,
      },
      {
        label: 'Left kidney',
        category: LIVER.category,
        type: { CodeValue: '64033007', CodingSchemeDesignator: 'SCT', CodeMeaning: 'Kidney' },
        typeModifier: { CodeValue: '7771000', CodingSchemeDesignator: 'SCT', CodeMeaning: 'Left' },
        algorithmType: 'MANUAL',
        labelId: 2,
      },
    ]);
  });

  it('accepts legacy SRT codes with a warning (old Slicer/dcmqi files)', () => {
    const legacy = structuredClone(DCMQI_EXAMPLE);
    legacy.segmentAttributes[0][0].SegmentedPropertyCategoryCodeSequence = { CodeValue: 'T-D0050', CodingSchemeDesignator: 'SRT', CodeMeaning: 'Tissue' };
    const { warnings } = parseSegmentDescriptionJson(JSON.stringify(legacy));
    expect(warnings).toEqual([expect.stringMatching(/segmentAttributes\[0\]\[0\] SegmentedPropertyCategoryCodeSequence .* retired SNOMED-RT/)]);
  });

  it('refuses a list per input file, a mislabelled code, duplicate labelIDs and non-dcmqi JSON, naming the file', () => {
    const perFile = { ...DCMQI_EXAMPLE, segmentAttributes: [[DCMQI_EXAMPLE.segmentAttributes[0][0]], [DCMQI_EXAMPLE.segmentAttributes[0][1]]] };
    expect(() => parseSegmentDescriptionJson(JSON.stringify(perFile), 'meta.json')).toThrow(/^meta\.json: segmentAttributes holds 2 lists, one per input label file in dcmqi/);
    const wrong = structuredClone(DCMQI_EXAMPLE);
    wrong.segmentAttributes[0][0].SegmentedPropertyTypeCodeSequence.CodeMeaning = 'Heart';
    expect(() => parseSegmentDescriptionJson(JSON.stringify(wrong), 'meta.json')).toThrow(/meta\.json: .*SCT 10200004 means "Liver", not "Heart"/);
    const twice = structuredClone(DCMQI_EXAMPLE);
    (twice.segmentAttributes[0][1] as { LabelID?: number }).LabelID = 1;
    expect(() => parseSegmentDescriptionJson(JSON.stringify(twice))).toThrow(/labelID 1 is used by two segments/);
    expect(() => parseSegmentDescriptionJson('{"segmentAttributes": [[{"labelID": 1}]]}', 'x.json')).toThrow(ExportError);
    expect(() => parseSegmentDescriptionJson('{"segmentAttributes": [[{"labelID": 1}]]}', 'x.json')).toThrow(/x\.json: not a dcmqi segment description .*SegmentedPropertyCategoryCodeSequence/);
    expect(() => parseSegmentDescriptionJson('{ nope', 'x.json')).toThrow(/x\.json: not valid JSON/);
  });
});

describe('formatSegmentDescriptionJson / files', () => {
  it('writes JSON that dcmqi reads (schema, labelIDs, IS as strings) and that reads back the same', async () => {
    const path = join(tmp, 'meta.json');
    const segments = [FEMUR, { ...LIVER, trackingId: 'liver-1', trackingUid: '2.25.1' }];
    writeSegmentDescriptionFile(path, segments, { SeriesNumber: 42, ContentCreatorName: 'Doe^Jane' });
    const json = JSON.parse(readFileSync(path, 'utf8'));
    expect(json).toMatchObject({ '@schema': DCMQI_SEG_SCHEMA, SeriesNumber: '42', ContentCreatorName: 'Doe^Jane' });
    expect(json.segmentAttributes).toHaveLength(1);
    expect(json.segmentAttributes[0].map((s: { labelID: number }) => s.labelID)).toEqual([1, 2]);
    expect(json.segmentAttributes[0][0]).toMatchObject({ SegmentLabel: 'Femur', SegmentAlgorithmType: 'SEMIAUTOMATIC', recommendedDisplayRGBValue: [241, 214, 145] });
    const back = await readSegmentDescriptionFile(path);
    expect(back.segments).toEqual(segments.map((s, i) => ({ ...s, labelId: i + 1 })));
    expect(back.metadata).toEqual({ SeriesNumber: 42, ContentCreatorName: 'Doe^Jane' });
    expect(formatSegmentDescriptionJson([FEMUR])).toContain('"SegmentedPropertyTypeCodeSequence"');
  });

  it('names a missing file', async () => {
    await expect(readSegmentDescriptionFile(join(tmp, 'none.json'))).rejects.toThrow(/none\.json: segment description file not found/);
  });
});
