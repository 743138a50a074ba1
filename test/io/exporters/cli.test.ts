/** `ld-studio export-seg` and `export-sr` end to end through the built CLI (out/cli). */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSegmentation, segmentMask } from '../../../main/io/seg';
import { readSourceImage } from '../../../main/io/exporters';
import { runCli } from '../../helpers/cli';
import { dataPath, hasSharedData, sharedDataSkipReason } from '../../helpers/sharedData';
import { rgbPng } from '../helpers/makeImages';
import { ellipseMask, softMask, starMask, writeGreyPng } from './helpers/masks';
import { dciodvfy, hasDciodvfy } from './helpers/validators';

const skipNote = hasSharedData ? '' : ` [skipped: ${sharedDataSkipReason}]`;
const tmp = mkdtempSync(join(tmpdir(), 'ld-export-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const json = (stdout: string) => JSON.parse(stdout.trim().split('\n').pop()!);

describe('ld-studio export-seg / export-sr: arguments', () => {
  it('--help lists both commands', async () => {
    const r = await runCli(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/ld-studio export-seg --source <dicom file or dir> --masks <dir> --out <seg\.dcm>/);
    expect(r.stdout).toMatch(/ld-studio export-sr --source <dicom> --landmarks <landmarks\.csv> --out <sr\.dcm>/);
  });

  it('--find-code searches the code list', async () => {
    const r = await runCli(['export-seg', '--find-code', 'thigh bone']);
    expect(r.code).toBe(0);
    const report = json(r.stdout);
    expect(report.matches[0]).toMatchObject({ type: { CodeValue: '71341001', CodeMeaning: 'Femur' }, category: { CodeMeaning: 'Anatomical Structure' }, argument: 'SCT:71341001' });
  });

  it('exit 2 with usage for a missing option, an unknown type, or --type together with --segment-json', async () => {
    const missing = await runCli(['export-seg', '--source', 'a.dcm', '--masks', 'm']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/--out is required[\s\S]*Usage:/);
    const noType = await runCli(['export-seg', '--source', 'a.dcm', '--masks', 'm', '--out', join(tmp, 'x.dcm')]);
    expect(noType.code).toBe(2);
    expect(noType.stderr).toMatch(/say what was segmented: --type <name or code>/);
    const unknown = await runCli(['export-seg', '--source', 'a.dcm', '--masks', 'm', '--out', join(tmp, 'x.dcm'), '--type', 'jaw']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/segment type 'jaw' is ambiguous; did you mean "Mandible"/);
    const both = await runCli(['export-seg', '--source', 'a.dcm', '--masks', 'm', '--out', join(tmp, 'x.dcm'), '--type', 'femur', '--segment-json', 'x.json']);
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/--segment-json describes the segments; leave out --type/);
    const sr = await runCli(['export-sr', '--source', 'a.dcm', '--out', join(tmp, 'x.dcm')]);
    expect(sr.code).toBe(2);
    expect(sr.stderr).toMatch(/--landmarks is required/);
  });

  it('exit 1 for a PNG source: the reason and that nothing was written', async () => {
    const dir = join(tmp, 'png-source');
    mkdirSync(join(dir, 'masks'), { recursive: true });
    writeFileSync(join(dir, 'hand.png'), rgbPng(4, 4, new Uint8Array(48)));
    writeGreyPng(join(dir, 'masks', 'hand.png'), 4, 4, new Uint8Array(16));
    const out = join(dir, 'seg.dcm');
    const r = await runCli(['export-seg', '--source', join(dir, 'hand.png'), '--masks', join(dir, 'masks'), '--out', out, '--type', 'hand']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/hand\.png: DICOM-SEG needs a DICOM source image, but this is a PNG file/);
    expect(r.stderr).toMatch(/Nothing was written/);
    expect(existsSync(out)).toBe(false);
  });
});

describe.skipIf(!hasSharedData)(`ld-studio export-seg / export-sr on real images${skipNote}`, () => {
  const dir = join(tmp, 'real');
  beforeAll(async () => {
    mkdirSync(join(dir, 'cr-masks'), { recursive: true });
    mkdirSync(join(dir, 'ct-masks'), { recursive: true });
    mkdirSync(join(dir, 'ct-labels'), { recursive: true });
    writeGreyPng(join(dir, 'cr-masks', 'RG2_UNC.png'), 1760, 2140, ellipseMask(1760, 2140));
    for (const [i, n] of ['01', '02', '03'].entries()) {
      writeGreyPng(join(dir, 'ct-masks', `${n}.png`), 512, 512, softMask(512, 512, 0.4 + 0.05 * i));
      // a label image (dcmqi style): 1 = liver, 2 = spleen
      const labels = ellipseMask(512, 512, 0.35, 0.5, 0.2, 0.25).map((v) => (v ? 1 : 0));
      starMask(512, 512, 0.7, 0.45, 0.12 + 0.01 * i).forEach((v, k) => v && (labels[k] = 2));
      writeGreyPng(join(dir, 'ct-labels', `${n}.png`), 512, 512, labels);
    }
  });

  it('BINARY SEG of a radiograph: --type femur --reviewed', async () => {
    const out = join(dir, 'rg2.seg.dcm');
    const r = await runCli(['export-seg', '--source', dataPath('dicom', 'cr', 'RG2_UNC.dcm'), '--masks', join(dir, 'cr-masks'), '--out', out, '--type', 'femur', '--reviewed']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(json(r.stdout)).toMatchObject({ out, type: 'BINARY', spatial: false, rows: 2140, columns: 1760, frames: 1, segments: [{ number: 1, label: 'Femur', type: { CodeValue: '71341001' } }] });
    if (hasDciodvfy) expect(dciodvfy(out).errors).toEqual([]);
    const seg = await readSegmentation(out);
    expect(seg.segments[0]).toMatchObject({ label: 'Femur', algorithmType: 'SEMIAUTOMATIC', category: { CodeMeaning: 'Anatomical Structure' } });
  });

  it('FRACTIONAL SEG of the CT folder (its SEG files are skipped): --fractional --type liver --label "Liver (model)"', async () => {
    const out = join(dir, 'ct.fractional.dcm');
    const r = await runCli(['export-seg', '--source', dataPath('dicom', 'ct-3slice-seg'), '--masks', join(dir, 'ct-masks'), '--out', out, '--fractional', '--type', 'liver', '--label', 'Liver (model)']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/note: skipped .*liver\.dcm: this is a Segmentation/);
    const report = json(r.stdout);
    expect(report).toMatchObject({ type: 'FRACTIONAL', spatial: true, frames: 3, segments: [{ label: 'Liver (model)' }] });
    expect(report.skippedSources).toHaveLength(2);
    if (hasDciodvfy) expect(dciodvfy(out).errors).toEqual([]);
    const seg = await readSegmentation(out);
    expect(seg.segments[0]).toMatchObject({ algorithmType: 'AUTOMATIC', type: { CodeValue: '10200004', CodeMeaning: 'Liver' } });
    const slice = await readSourceImage(dataPath('dicom', 'ct-3slice-seg', '01.dcm'));
    expect(Buffer.compare(Buffer.from(segmentMask(seg, slice.sopInstanceUID, 1)!), Buffer.from(softMask(512, 512, 0.4)))).toBe(0);
  });

  it('two segments from label images with --segment-json, and the descriptions saved with --write-segment-json', async () => {
    const meta = join(dir, 'meta.json');
    writeFileSync(
      meta,
      JSON.stringify({
        ContentCreatorName: 'Doe^Jane',
        SeriesDescription: 'Abdomen segments',
        SeriesNumber: '77',
        segmentAttributes: [
          [
            { labelID: 1, SegmentLabel: 'Liver', SegmentedPropertyCategoryCodeSequence: { CodeValue: '123037004', CodingSchemeDesignator: 'SCT', CodeMeaning: 'Anatomical Structure' }, SegmentedPropertyTypeCodeSequence: { CodeValue: '10200004', CodingSchemeDesignator: 'SCT', CodeMeaning: 'Liver' }, SegmentAlgorithmType: 'SEMIAUTOMATIC', recommendedDisplayRGBValue: [221, 130, 101] },
            { labelID: 2, SegmentLabel: 'Spleen', SegmentedPropertyCategoryCodeSequence: { CodeValue: '123037004', CodingSchemeDesignator: 'SCT', CodeMeaning: 'Anatomical Structure' }, SegmentedPropertyTypeCodeSequence: { CodeValue: '78961009', CodingSchemeDesignator: 'SCT', CodeMeaning: 'Spleen' }, SegmentAlgorithmType: 'MANUAL' },
          ],
        ],
      }),
    );
    const out = join(dir, 'ct.labels.dcm');
    const saved = join(dir, 'saved.json');
    const r = await runCli(['export-seg', '--source', dataPath('dicom', 'ct-3slice-seg'), '--masks', join(dir, 'ct-labels'), '--out', out, '--segment-json', meta, '--write-segment-json', saved]);
    expect(r.code).toBe(0);
    expect(json(r.stdout)).toMatchObject({ frames: 6, segments: [{ label: 'Liver', frames: 3 }, { label: 'Spleen', frames: 3 }], segmentJson: saved });
    if (hasDciodvfy) expect(dciodvfy(out).errors).toEqual([]);
    const seg = await readSegmentation(out);
    expect(seg.segments.map((s) => [s.label, s.algorithmType])).toEqual([
      ['Liver', 'SEMIAUTOMATIC'],
      ['Spleen', 'MANUAL'],
    ]);
    const slice = await readSourceImage(dataPath('dicom', 'ct-3slice-seg', '02.dcm'));
    const spleen = segmentMask(seg, slice.sopInstanceUID, 2)!;
    expect(Array.from(spleen).filter(Boolean).length).toBe(Array.from(starMask(512, 512, 0.7, 0.45, 0.13)).filter(Boolean).length);
    const back = JSON.parse(readFileSync(saved, 'utf8'));
    expect(back).toMatchObject({ ContentCreatorName: 'Doe^Jane', SeriesNumber: '77' });
    expect(back.segmentAttributes[0].map((s: { SegmentLabel: string }) => s.SegmentLabel)).toEqual(['Liver', 'Spleen']);
  });

  it('a mask of the wrong size: exit 1 naming the mask, nothing written', async () => {
    const masks = join(dir, 'small-masks');
    mkdirSync(masks, { recursive: true });
    writeGreyPng(join(masks, 'RG2_UNC.png'), 176, 214, new Uint8Array(176 * 214));
    const out = join(dir, 'small.dcm');
    const r = await runCli(['export-seg', '--source', dataPath('dicom', 'cr', 'RG2_UNC.dcm'), '--masks', masks, '--out', out, '--type', 'femur']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/RG2_UNC\.png: the mask is 176×214 pixels but its source image .*RG2_UNC\.dcm is 1760×2140/);
    expect(existsSync(out)).toBe(false);
  });

  it('export-sr: the landmarks of one image as a TID 1500 SR', async () => {
    const csv = join(dir, 'landmarks.csv');
    writeFileSync(csv, 'image,landmark,x,y,confidence\nRG2_UNC,Femoral head centre,812,903.5,0.9\nRG2_UNC,Greater trochanter,1210,1004,0.8\nRG2_UNC,Knee centre,,,\n');
    const out = join(dir, 'rg2.sr.dcm');
    const r = await runCli(['export-sr', '--source', dataPath('dicom', 'cr', 'RG2_UNC.dcm'), '--landmarks', csv, '--out', out]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/not placed on this image, left out: Knee centre/);
    expect(r.stderr).toMatch(/confidences are not written to the SR/);
    expect(json(r.stdout)).toMatchObject({ out, image: 'RG2_UNC', measurementGroups: 2, unplaced: ['Knee centre'], confidence: { written: false, available: 2 } });
    if (hasDciodvfy) expect(dciodvfy(out).errors).toEqual([]);
  });
});
