/**
 * Bad input to the SEG export: every refusal names the file and says what to do, and nothing is
 * written (no output, no temporary file left behind).
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildSegmentation, ExportError, exportSegmentationFiles, readSourceImage, type SourceImage } from '../../../main/io/exporters';
import { dataPath, hasSharedData, sharedDataSkipReason } from '../../helpers/sharedData';
import { grey16Png, rgbPng } from '../helpers/makeImages';
import { ellipseMask, writeGreyPng } from './helpers/masks';
import { FEMUR } from './helpers/segments';

const skipNote = hasSharedData ? '' : ` [skipped: ${sharedDataSkipReason}]`;
const tmp = mkdtempSync(join(tmpdir(), 'ld-seg-errors-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A fresh folder for one case, with a masks subfolder. */
function caseDir(name: string): { dir: string; masks: string; out: string } {
  const dir = join(tmp, name);
  mkdirSync(join(dir, 'masks'), { recursive: true });
  return { dir, masks: join(dir, 'masks'), out: join(dir, 'seg.dcm') };
}

async function refusal(request: Parameters<typeof exportSegmentationFiles>[0]): Promise<ExportError> {
  const error = await exportSegmentationFiles(request).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ExportError);
  return error as ExportError;
}

/** Nothing at the output path and no temporary file (seg.dcm.tmp-…) beside it. */
function expectNothingWritten(out: string, dir: string): void {
  expect(existsSync(out)).toBe(false);
  expect(readdirSync(dir).filter((n) => n.startsWith('seg.dcm'))).toEqual([]);
}

describe('DICOM-SEG refuses sources that are not DICOM', () => {
  it.each([
    ['png', 'PNG', () => rgbPng(4, 3, new Uint8Array(36))],
    ['jpg', 'JPEG', () => Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 16, 0x4a, 0x46, 0x49, 0x46, 0, 1])],
    ['tif', 'TIFF', () => Buffer.from([0x49, 0x49, 0x2a, 0, 8, 0, 0, 0])],
  ])('a .%s source is refused, saying a SEG needs DICOM UIDs and what to do instead', async (ext, format, bytes) => {
    const { dir, masks, out } = caseDir(`source-${ext}`);
    const source = join(dir, `image.${ext}`);
    writeFileSync(source, bytes());
    writeGreyPng(join(masks, 'image.png'), 4, 3, new Uint8Array(12));
    const error = await refusal({ source, masks, out, segments: [FEMUR] });
    expect(error.file).toBe(source);
    expect(error.message).toContain(source);
    expect(error.message).toContain(`DICOM-SEG needs a DICOM source image, but this is a ${format} file`);
    expect(error.message).toMatch(/Study, Series and SOP Instance UIDs/);
    expect(error.message).toMatch(/Export the masks as PNG instead, or import the DICOM originals/);
    expectNothingWritten(out, dir);
  });

  it('a missing source and a missing output folder are named', async () => {
    const { dir, masks, out } = caseDir('missing');
    expect((await refusal({ source: join(dir, 'nope.dcm'), masks, out, segments: [FEMUR] })).message).toMatch(/nope\.dcm: source not found/);
    expect((await refusal({ source: join(dir, 'nope.dcm'), masks, out: join(dir, 'no-folder', 'seg.dcm'), segments: [FEMUR] })).message).toMatch(
      /no-folder: the output folder does not exist/,
    );
  });

  it('a file that is not DICOM at all is refused as unreadable, naming it', async () => {
    const { dir, masks, out } = caseDir('garbage');
    const source = join(dir, 'scan.dcm');
    writeFileSync(source, Buffer.from('this is not a DICOM file, just text that happens to end in .dcm'));
    const error = await refusal({ source, masks, out, segments: [FEMUR] });
    expect(error.message).toContain(`${source}: the source image cannot be read`);
    expectNothingWritten(out, dir);
  });
});

describe.skipIf(!hasSharedData)(`DICOM-SEG refuses inconsistent input${skipNote}`, () => {
  const rg3 = dataPath('dicom', 'cr', 'RG3_UNC.dcm');
  const ct = ['01.dcm', '02.dcm', '03.dcm'].map((n) => dataPath('dicom', 'ct-3slice-seg', n));
  let rg3Source: SourceImage;
  let ctSources: SourceImage[];
  beforeAll(async () => {
    rg3Source = await readSourceImage(rg3);
    ctSources = await Promise.all(ct.map((f) => readSourceImage(f)));
  });

  it('a mask of another size: names the mask, both sizes, and writes nothing', async () => {
    const { dir, masks, out } = caseDir('size');
    writeGreyPng(join(masks, 'RG3_UNC.png'), 100, 80, ellipseMask(100, 80));
    const error = await refusal({ source: rg3, masks, out, segments: [FEMUR] });
    expect(error.file).toBe(join(masks, 'RG3_UNC.png'));
    expect(error.message).toMatch(/RG3_UNC\.png: the mask is 100×80 pixels but its source image .*RG3_UNC\.dcm is 1760×1760; masks must be drawn on the source image at its full size/);
    expectNothingWritten(out, dir);
  });

  it('a missing mask for one source of a series: names the source and the mask it looked for', async () => {
    const { dir, masks, out } = caseDir('missing-mask');
    writeGreyPng(join(masks, '01.png'), 512, 512, ellipseMask(512, 512));
    writeGreyPng(join(masks, '02.png'), 512, 512, ellipseMask(512, 512));
    const error = await refusal({ source: dataPath('dicom', 'ct-3slice-seg'), masks, out, segments: [FEMUR] });
    expect(error.file).toBe(ct[2]);
    expect(error.message).toContain(`${ct[2]}: no mask for this source image: expected ${join(masks, '03.png')}`);
    expectNothingWritten(out, dir);
  });

  it('a colour mask, and a 16-bit mask for FRACTIONAL, are refused', async () => {
    const { dir, masks, out } = caseDir('mask-kind');
    writeFileSync(join(masks, 'RG3_UNC.png'), rgbPng(1760, 1760, new Uint8Array(1760 * 1760 * 3)));
    expect((await refusal({ source: rg3, masks, out, segments: [FEMUR] })).message).toMatch(/single greyscale image/);
    writeFileSync(join(masks, 'RG3_UNC.png'), grey16Png(1760, 1760, new Uint16Array(1760 * 1760)));
    expect((await refusal({ source: rg3, masks, out, segments: [FEMUR], type: 'FRACTIONAL' })).message).toMatch(/has 16 bits; save it as 8-bit/);
    expectNothingWritten(out, dir);
  });

  it('a truncated source is refused as damaged, naming it', async () => {
    const { dir, masks, out } = caseDir('truncated');
    const source = join(dir, '01.dcm');
    const bytes = readFileSync(ct[0]);
    writeFileSync(source, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
    writeGreyPng(join(masks, '01.png'), 512, 512, ellipseMask(512, 512));
    const error = await refusal({ source, masks, out, segments: [FEMUR] });
    expect(error.message).toMatch(new RegExp(`${source.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: the source image cannot be read: .*truncated`));
    expectNothingWritten(out, dir);
  });

  it('a SEG given as source is refused; in a source folder it is skipped', async () => {
    const { dir, masks, out } = caseDir('seg-source');
    const liver = dataPath('dicom', 'ct-3slice-seg', 'liver.dcm');
    writeGreyPng(join(masks, 'liver.png'), 512, 512, ellipseMask(512, 512));
    expect((await refusal({ source: liver, masks, out, segments: [FEMUR] })).message).toContain(`${liver}: this is a Segmentation (SEG), not an image a DICOM-SEG can be derived from`);
    expectNothingWritten(out, dir);
  });

  it('two radiographs without a Frame of Reference in one SEG are refused: one SEG per image', async () => {
    const { dir, masks, out } = caseDir('two-cr');
    const sources = join(dir, 'sources');
    mkdirSync(sources);
    for (const name of ['RG2_UNC.dcm', 'RG3_UNC.dcm']) symlinkSync(dataPath('dicom', 'cr', name), join(sources, name));
    writeGreyPng(join(masks, 'RG2_UNC.png'), 1760, 2140, new Uint8Array(1760 * 2140));
    writeGreyPng(join(masks, 'RG3_UNC.png'), 1760, 1760, new Uint8Array(1760 * 1760));
    const error = await refusal({ source: sources, masks, out, segments: [FEMUR] });
    expect(error.message).toMatch(/study|one frame size|one SEG per image/);
    expectNothingWritten(out, dir);
  });

  it('a radiograph SEG referencing two images of the same size is refused too', () => {
    const twin: SourceImage = { ...rg3Source, sopInstanceUID: `${rg3Source.sopInstanceUID}.9`, path: '/elsewhere/RG3_copy.dcm' };
    const masks = new Map([
      [rg3Source.sopInstanceUID, new Uint8Array(1760 * 1760)],
      [twin.sopInstanceUID, new Uint8Array(1760 * 1760)],
    ]);
    expect(() => buildSegmentation([rg3Source, twin], [{ ...FEMUR, masks }])).toThrow(/2 source images without a Frame of Reference .* export one SEG per image/);
  });

  it('a code whose meaning does not match its value is refused (the classic copy-paste error)', () => {
    const masks = new Map([[rg3Source.sopInstanceUID, new Uint8Array(1760 * 1760)]]);
    const heart = { ...FEMUR, type: { CodeValue: '85756007', CodingSchemeDesignator: 'SCT', CodeMeaning: 'Heart' } };
    expect(() => buildSegmentation([rg3Source], [{ ...heart, masks }])).toThrow(/SCT 85756007 means "Tissue", not "Heart"/);
  });

  it('masks keyed by an unknown SOP Instance UID, or missing for a slice, are refused', () => {
    const size = 512 * 512;
    const unknown = new Map(ctSources.map((s) => [s.sopInstanceUID, new Uint8Array(size)]));
    unknown.set('1.2.3.4', new Uint8Array(size));
    expect(() => buildSegmentation(ctSources, [{ ...FEMUR, masks: unknown }])).toThrow(/mask for SOP Instance UID 1\.2\.3\.4, which is none of the source images/);
    const missing = new Map(ctSources.slice(0, 2).map((s) => [s.sopInstanceUID, new Uint8Array(size)]));
    expect(() => buildSegmentation(ctSources, [{ ...FEMUR, masks: missing }])).toThrow(/03\.dcm: segment 1 \('Femur'\) has no mask for this source image/);
    const short = new Map(ctSources.map((s) => [s.sopInstanceUID, new Uint8Array(size - 1)]));
    expect(() => buildSegmentation(ctSources, [{ ...FEMUR, masks: short }])).toThrow(/holds 262143 pixels, but the image is 512×512/);
  });

  it('FRACTIONAL takes one segment per mask folder; probabilities outside [0, 1] are refused', async () => {
    const { dir, masks, out } = caseDir('fractional');
    writeGreyPng(join(masks, 'RG3_UNC.png'), 1760, 1760, new Uint8Array(1760 * 1760));
    const error = await refusal({ source: rg3, masks, out, segments: [FEMUR, { ...FEMUR, label: 'Other' }], type: 'FRACTIONAL' });
    expect(error.message).toMatch(/FRACTIONAL export takes one segment per mask folder/);
    expectNothingWritten(out, dir);
    const bad = new Map([[rg3Source.sopInstanceUID, new Float32Array(1760 * 1760).fill(1.5)]]);
    expect(() => buildSegmentation([rg3Source], [{ ...FEMUR, masks: bad }], { type: 'FRACTIONAL' })).toThrow(/probability 1\.5 at pixel 0 is outside \[0, 1\]/);
  });
});
