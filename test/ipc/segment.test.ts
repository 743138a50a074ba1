/**
 * Segmentation masks through the handler table, on real data: a DICOM-SEG written by another tool
 * (dcmqi's liver.dcm, Slicer's partial_overlaps.dcm) imported onto the three CT slices it was drawn
 * on, the masks served by `GET /api/images/<id>/mask` in browser mode, reviewed with
 * `segment:saveMask` (and refused when the run lengths are garbage), and exported as DICOM-SEG
 * (dciodvfy, read back bit for bit) — also on projection radiographs (one SEG per image), and
 * refused on PNG sources. Landmarks on a CR image go out as an SR that passes dciodvfy.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeMaskRle, maskHeaderName, type ImageEntry, type MaskHeader, type MaskRle } from '../../common/api';
import { buildSegmentation, readSourceImage, segmentationToBytes, type CodedConcept as DicomCode } from '../../main/io/exporters';
import { readNaturalDataset } from '../../main/io/exporters/dcmjs';
import { readSegmentation, segmentMask, type Segmentation } from '../../main/io/seg';
import { emptyProjectFile, parseProjectFile, PROJECT_FILE_NAME, serializeProjectFile } from '../../main/project/projectFile';
import type { RunningServer } from '../../main/server';
import { dciodvfy, dicom3toolsSkipReason, hasDciodvfy } from '../io/exporters/helpers/validators';
import { dataPath, hasSharedData, sharedDataSkipReason } from '../helpers/sharedData';
import { harness, servedHarness, type Harness } from './harness';

const ct = (name: string) => dataPath('dicom/ct-3slice-seg', name);
const cr = (name: string) => dataPath('dicom/cr', name);
const CT_SLICES = ['01.dcm', '02.dcm', '03.dcm'];
const toolsNote = hasDciodvfy ? '' : ` (dciodvfy skipped: ${dicom3toolsSkipReason})`;

const countOn = (a: Uint8Array) => a.reduce((n, v) => n + (v ? 1 : 0), 0);
const binary = (a: Uint8Array) => Uint8Array.from(a, (v) => (v ? 1 : 0));
/** The segment's mask on an image as a SEG holds it: an empty frame may be left out. */
const maskIn = (seg: Segmentation, uid: string, segment: number) => binary(segmentMask(seg, uid, segment) ?? new Uint8Array(seg.rows * seg.columns));

/** A filled rectangle on a W×H image. */
function rectangle(width: number, height: number, x0: number, y0: number, x1: number, y1: number): Uint8Array {
  const m = new Uint8Array(width * height);
  for (let y = y0; y < y1; y++) m.fill(1, y * width + x0, y * width + x1);
  return m;
}

const rle = (mask: Uint8Array, image: Pick<ImageEntry, 'width' | 'height'>): MaskRle => {
  const r = encodeMaskRle(mask, image.width, image.height);
  return { width: r.width, height: r.height, runs: [...r.runs] };
};

const dicomCode = (c: { scheme: string; value: string; meaning: string }): DicomCode => ({ CodeValue: c.value, CodingSchemeDesignator: c.scheme, CodeMeaning: c.meaning });

const LIVER_CODES = {
  category: { scheme: 'SCT', value: '123037004', meaning: 'Anatomical Structure' },
  type: { scheme: 'SCT', value: '10200004', meaning: 'Liver' },
};

describe.skipIf(!hasSharedData)(`segmentation masks through the handler table${hasSharedData ? '' : ` (skipped: ${sharedDataSkipReason})`}`, () => {
  let h: Harness;
  let server: RunningServer;
  let auth: Record<string, string>;
  let slices: ImageEntry[];
  let liver: Segmentation;

  beforeAll(async () => {
    ({ h, server, auth } = await servedHarness());
    await h.invoke('project:create', { dir: join(h.root, 'ct'), name: 'CT' });
    slices = (await h.invoke('images:import', { jobId: 'import-ct', paths: CT_SLICES.map(ct) })).imported;
    expect(slices.map((s) => s.name)).toEqual(CT_SLICES);
    liver = await readSegmentation(ct('liver.dcm'));
  });
  afterAll(async () => {
    await server?.close();
    await h?.dispose();
  });

  const getMask = (imageId: string, headers = auth) => fetch(`${server.origin}/api/images/${encodeURIComponent(imageId)}/mask`, { headers });
  async function maskOverHttp(imageId: string): Promise<{ header: MaskHeader; body: Uint8Array }> {
    const res = await getMask(imageId);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/octet-stream');
    const header = JSON.parse(res.headers.get(maskHeaderName)!) as MaskHeader;
    return { header, body: new Uint8Array(await res.arrayBuffer()) };
  }

  it('no masks at first: segment:list is empty and the mask route answers 404 (401 without the token)', async () => {
    expect(await h.invoke('segment:list')).toEqual([]);
    const res = await getMask(slices[0].id);
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/01\.dcm has no mask yet/);
    expect((await getMask('img-999')).status).toBe(404);
    const anonymous = await getMask(slices[0].id, {});
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get(maskHeaderName)).toBeNull();
  });

  it('segment:importSeg liver.dcm (dcmqi): one mask per slice, matched by SOP Instance UID, served over HTTP bit for bit', async () => {
    const res = await h.invoke('segment:importSeg', { path: ct('liver.dcm') });
    expect(res.segments).toEqual([{ number: 1, label: 'Liver' }]);
    expect(res.applied).toEqual(slices.map((s) => s.id));
    expect(res.unmatched).toBe(0);
    expect(res.warnings).toEqual([]);
    const list = await h.invoke('segment:list');
    expect(list).toHaveLength(3);
    for (const image of slices) {
      const expected = maskIn(liver, image.dicom!.sopInstanceUid, 1);
      expect(countOn(expected)).toBeGreaterThan(0);
      const info = list.find((m) => m.imageId === image.id)!;
      expect(info).toMatchObject({ source: 'imported', accepted: false });
      expect(info.runId).toBeUndefined();
      expect(info.foreground).toBeCloseTo(countOn(expected) / (512 * 512), 12);
      const { header, body } = await maskOverHttp(image.id);
      expect(header).toMatchObject({ ...info, width: 512, height: 512 });
      expect(body.length).toBe(512 * 512);
      expect(Buffer.from(body).equals(Buffer.from(expected))).toBe(true);
      expect(existsSync(join(h.root, 'ct', 'masks', `${image.id}.png`))).toBe(true);
    }
    // recorded in the project file (version 1, masks added)
    const file = parseProjectFile(readFileSync(join(h.root, 'ct', PROJECT_FILE_NAME), 'utf8'), 'ld-project.json');
    expect(file.version).toBe(1);
    expect(file.masks.map((m) => [m.imageId, m.source, m.file])).toEqual(slices.map((s) => [s.id, 'imported', `masks/${s.id}.png`]));
  });

  it('segment:importSeg partial_overlaps.dcm (Slicer, 5 segments): the chosen segment; slices it leaves out get empty masks', async () => {
    const seg = await readSegmentation(ct('partial_overlaps.dcm'));
    const all = await h.invoke('segment:importSeg', { path: ct('partial_overlaps.dcm'), segmentNumber: 3 });
    expect(all.segments.map((s) => s.number)).toEqual([1, 2, 3, 4, 5]);
    expect(all.applied).toEqual(slices.map((s) => s.id));
    expect(all.warnings).toEqual([]);
    for (const image of slices) {
      const { body } = await maskOverHttp(image.id);
      expect(Buffer.from(body).equals(Buffer.from(maskIn(seg, image.dicom!.sopInstanceUid, 3)))).toBe(true);
    }

    const first = await h.invoke('segment:importSeg', { path: ct('partial_overlaps.dcm') });
    const withFrame = slices.filter((s) => segmentMask(seg, s.dicom!.sopInstanceUid, 1));
    expect(withFrame).toHaveLength(1);
    expect(first.applied).toHaveLength(3);
    expect(first.warnings.join('\n')).toMatch(/segment 1 .* has no frame on 2 image\(s\)/);
    const list = await h.invoke('segment:list');
    for (const image of slices) {
      const expected = maskIn(seg, image.dicom!.sopInstanceUid, 1);
      expect(list.find((m) => m.imageId === image.id)!.foreground).toBeCloseTo(countOn(expected) / (512 * 512), 12);
      expect(Buffer.from((await maskOverHttp(image.id)).body).equals(Buffer.from(expected))).toBe(true);
    }
    expect(countOn((await maskOverHttp(withFrame[0].id)).body)).toBeGreaterThan(0);

    await expect(h.invoke('segment:importSeg', { path: ct('partial_overlaps.dcm'), segmentNumber: 9 })).rejects.toThrow(/segment 9 is not in .*its segments: 1 /);
    await expect(h.invoke('segment:importSeg', { path: ct('01.dcm') })).rejects.toThrow(/01\.dcm/);
    await expect(h.invoke('segment:importSeg', { path: join(h.root, 'nothing.dcm') })).rejects.toThrow(/file not found/);
  });

  it('segment:saveMask refuses garbage run lengths with a validation error, and keeps the mask as it was', async () => {
    await h.invoke('segment:importSeg', { path: ct('liver.dcm') });
    const image = slices[0];
    const before = (await maskOverHttp(image.id)).body;
    const bad: Array<[unknown, RegExp]> = [
      [{ width: 512, height: 512, runs: [10, 20] }, /runs add up to 30 pixels but a 512×512 mask has 262144/],
      [{ width: 512, height: 512, runs: [262144, -1, 1] }, /run length cannot be negative/],
      [{ width: 512, height: 512, runs: [262143.5, 0.5] }, /whole number of pixels/],
      [{ width: 100, height: 100, runs: [10000] }, /the mask is 100×100 but the image is 512×512/],
      [{ width: 512, height: 512, runs: ['262144'] }, /runs\.0/],
      [{ width: 512, height: 512 }, /runs/],
      [{ width: 512, height: 512, runs: [] }, /at least one run/],
      [{ width: 512, height: 512, runs: [262144], extra: 1 }, /extra/],
      ['garbage', /mask/],
    ];
    for (const [mask, message] of bad) {
      const err = await h.invoke('segment:saveMask', { imageId: image.id, mask }).then(
        () => undefined,
        (e: unknown) => e as { code?: string; message: string },
      );
      expect(err, JSON.stringify(mask)).toBeDefined();
      expect(err!.code).toBe('validation');
      expect(err!.message).toMatch(message);
    }
    expect(Buffer.from((await maskOverHttp(image.id)).body).equals(Buffer.from(before))).toBe(true);
    await expect(h.invoke('segment:saveMask', { imageId: 'img-999', mask: { width: 1, height: 1, runs: [1] } })).rejects.toThrow(/no image 'img-999'/);
  });

  it('segment:saveMask stores a correction (on disk before answering); segment:accept; both survive reopening', async () => {
    const image = slices[1];
    const mask = rectangle(512, 512, 100, 120, 300, 260);
    const info = await h.invoke('segment:saveMask', { imageId: image.id, mask: rle(mask, image) });
    expect(info).toMatchObject({ imageId: image.id, source: 'corrected', accepted: false });
    expect(info.foreground).toBeCloseTo((200 * 140) / (512 * 512), 12);
    const onDisk = JSON.parse(readFileSync(join(h.root, 'ct', PROJECT_FILE_NAME), 'utf8')) as { masks: Array<{ imageId: string; source: string; probFile?: string }> };
    expect(onDisk.masks.find((m) => m.imageId === image.id)).toMatchObject({ source: 'corrected' });
    expect(Buffer.from((await maskOverHttp(image.id)).body).equals(Buffer.from(mask))).toBe(true);
    // a mask that starts inside: a 0-length first run
    const full = await h.invoke('segment:saveMask', { imageId: image.id, mask: { width: 512, height: 512, runs: [0, 512 * 512] } });
    expect(full.foreground).toBe(1);
    await h.invoke('segment:saveMask', { imageId: image.id, mask: rle(mask, image) });

    const accepted = await h.invoke('segment:accept', { imageId: image.id, accepted: true });
    expect(accepted).toMatchObject({ source: 'corrected', accepted: true });
    expect((await maskOverHttp(image.id)).header.accepted).toBe(true);

    const dir = join(h.root, 'ct');
    await h.invoke('project:close');
    await h.invoke('project:open', { dir });
    const list = await h.invoke('segment:list');
    expect(list.find((m) => m.imageId === image.id)).toMatchObject({ source: 'corrected', accepted: true });
    expect(list.filter((m) => m.source === 'imported')).toHaveLength(2);
  });

  it(`export:seg of the CT series: one SEG that passes dciodvfy and reads back to exactly the masks${toolsNote}`, async () => {
    const file = join(h.root, 'out', 'ct-seg.dcm'); // the folder does not exist yet: it is created
    const res = await h.invoke('export:seg', { file, label: 'Liver', ...LIVER_CODES });
    expect(res).toMatchObject({ file, files: [file], frames: 3 });
    expect(res.warnings).toEqual([]);
    if (hasDciodvfy) {
      const v = dciodvfy(file);
      expect(v.output).toMatch(/^Segmentation/m);
      expect(v.errors).toEqual([]);
    }
    const seg = await readSegmentation(file);
    expect(seg.type).toBe('BINARY');
    expect(seg.segments).toMatchObject([{ number: 1, label: 'Liver', algorithmType: 'AUTOMATIC', type: { CodeValue: '10200004', CodingSchemeDesignator: 'SCT', CodeMeaning: 'Liver' } }]);
    for (const image of slices) {
      const { body } = await maskOverHttp(image.id);
      expect(Buffer.from(maskIn(seg, image.dicom!.sopInstanceUid, 1)).equals(Buffer.from(body)), image.name).toBe(true);
    }

    // every mask reviewed → SEMIAUTOMATIC; a code whose meaning is wrong is refused; unknown codes warn
    for (const image of slices) await h.invoke('segment:accept', { imageId: image.id, accepted: true });
    const reviewed = join(h.root, 'out', 'ct-reviewed.dcm');
    const again = await h.invoke('export:seg', { file: reviewed, label: 'Liver', ...LIVER_CODES, type: { scheme: '99LOCAL', value: 'L1', meaning: 'My liver' } });
    expect(again.warnings).toEqual([]);
    expect((await readSegmentation(reviewed)).segments[0].algorithmType).toBe('SEMIAUTOMATIC');
    await expect(h.invoke('export:seg', { file: reviewed, label: 'Liver', ...LIVER_CODES, type: { scheme: 'SCT', value: '10200004', meaning: 'Heart' } })).rejects.toThrow(
      /10200004 means "Liver", not "Heart"/,
    );
    const unknown = await h.invoke('export:seg', { file: reviewed, label: 'Liver', ...LIVER_CODES, type: { scheme: 'SCT', value: '1234567', meaning: 'Something' }, overwrite: true });
    expect(unknown.warnings.join('\n')).toMatch(/not in LD Studio's code list/);
  });

  it(`export:seg FRACTIONAL: masks without a probability map go out as 0/1, with a warning${toolsNote}`, async () => {
    const file = join(h.root, 'out', 'ct-fractional.dcm');
    const res = await h.invoke('export:seg', { file, label: 'Liver', ...LIVER_CODES, fractional: true });
    expect(res.warnings.join('\n')).toMatch(/3 mask\(s\) have no probability map \(01\.dcm, 02\.dcm, 03\.dcm\): .* written as probability 1 inside and 0 outside/);
    if (hasDciodvfy) expect(dciodvfy(file).errors).toEqual([]);
    const seg = await readSegmentation(file);
    expect(seg).toMatchObject({ type: 'FRACTIONAL', maximumFractionalValue: 255 });
    for (const image of slices) {
      const stored = segmentMask(seg, image.dicom!.sopInstanceUid, 1)!;
      expect(new Set(stored)).toEqual(new Set([0, 255]));
      expect(Buffer.from(binary(stored)).equals(Buffer.from((await maskOverHttp(image.id)).body))).toBe(true);
    }
  });

  it(`a FRACTIONAL SEG imported (mask: over half the maximum) keeps its probabilities for a FRACTIONAL export${toolsNote}`, async () => {
    // a probability ramp over x on every slice, written by the exporter itself
    const sources = await Promise.all(CT_SLICES.map((f) => readSourceImage(ct(f))));
    const ramp = new Float32Array(512 * 512);
    for (let i = 0; i < ramp.length; i++) ramp[i] = (i % 512) / 511;
    const masks = new Map(sources.map((s) => [s.sopInstanceUID, ramp]));
    const built = buildSegmentation(sources, [{ label: 'Ramp', category: dicomCode(LIVER_CODES.category), type: dicomCode(LIVER_CODES.type), algorithmType: 'AUTOMATIC', masks }], { type: 'FRACTIONAL' });
    const input = join(h.root, 'ramp.dcm');
    writeFileSync(input, segmentationToBytes(built));
    const stored = Uint8Array.from(ramp, (p) => Math.round(p * 255));

    const res = await h.invoke('segment:importSeg', { path: input });
    expect(res.applied).toEqual(slices.map((s) => s.id));
    expect(res.warnings.join('\n')).toMatch(/FRACTIONAL SEG: the mask is where the probability exceeds half its maximum \(127\.5 of 255\)/);
    const expectedMask = Uint8Array.from(stored, (v) => (v > 127.5 ? 1 : 0));
    for (const image of slices) expect(Buffer.from((await maskOverHttp(image.id)).body).equals(Buffer.from(expectedMask))).toBe(true);

    const file = join(h.root, 'out', 'ct-ramp.dcm');
    const out = await h.invoke('export:seg', { file, label: 'Ramp', ...LIVER_CODES, fractional: true });
    expect(out.warnings).toEqual([]);
    if (hasDciodvfy) expect(dciodvfy(file).errors).toEqual([]);
    const seg = await readSegmentation(file);
    for (const image of slices) expect(Buffer.from(segmentMask(seg, image.dicom!.sopInstanceUid, 1)!).equals(Buffer.from(stored))).toBe(true);
    // back to the liver for what follows
    await h.invoke('segment:importSeg', { path: ct('liver.dcm') });
  });

  it('export:seg: imageIds without a mask and a folder as the output are handled', async () => {
    await expect(h.invoke('export:seg', { file: join(h.root, 'x.dcm'), label: 'Liver', ...LIVER_CODES, imageIds: ['img-999'] })).rejects.toThrow(/no image 'img-999'/);
    const folder = join(h.root, 'out');
    const res = await h.invoke('export:seg', { file: folder, label: 'Liver', ...LIVER_CODES, imageIds: [slices[0].id] });
    expect(res.file).toBe(join(folder, '01.seg.dcm'));
    expect(res.frames).toBe(1);
  });

  it('images:remove drops the image\'s mask and its files', async () => {
    const image = slices[2];
    await h.invoke('images:remove', { imageIds: [image.id] });
    expect((await h.invoke('segment:list')).some((m) => m.imageId === image.id)).toBe(false);
    expect(readdirSync(join(h.root, 'ct', 'masks')).filter((f) => f.startsWith(`${image.id}.`))).toEqual([]);
    expect((await getMask(image.id)).status).toBe(404);
  });
});

describe.skipIf(!hasSharedData)(`DICOM exports of radiograph and PNG projects${hasSharedData ? '' : ` (skipped: ${sharedDataSkipReason})`}`, () => {
  let h: Harness;
  beforeAll(() => {
    h = harness();
  });
  afterAll(() => h?.dispose());

  it('export:seg on PNG images is refused with the exporter\'s reason; export:sr lists them as skipped', async () => {
    await h.invoke('project:create', { dir: join(h.root, 'hands') });
    const [png] = (await h.invoke('images:import', { jobId: 'import-png', paths: [dataPath('landmarks/hand/3167.png')] })).imported;
    await h.invoke('segment:saveMask', { imageId: png.id, mask: rle(rectangle(png.width, png.height, 10, 10, 50, 60), png) });
    const request = { file: join(h.root, 'hands-seg.dcm'), label: 'Hand', category: LIVER_CODES.category, type: LIVER_CODES.type };
    await expect(h.invoke('export:seg', request)).rejects.toThrow(/DICOM-SEG needs a DICOM source image, but this is a PNG file.*Export the masks as PNG instead/);
    await expect(h.invoke('export:seg', { ...request, imageIds: [png.id] })).rejects.toThrow(/3167\.png: DICOM-SEG needs a DICOM source image/);
    expect(existsSync(request.file)).toBe(false);
    await h.invoke('landmarks:setTemplate', { imageId: png.id, names: ['a', 'b'] });
    await h.invoke('landmarks:setTemplatePoint', { name: 'a', point: { x: 10, y: 20 } });
    const sr = await h.invoke('export:sr', { dir: join(h.root, 'hands-sr') });
    expect(sr.files).toEqual([]);
    expect(sr.skipped).toEqual([{ path: dataPath('landmarks/hand/3167.png'), reason: expect.stringMatching(/DICOM SR needs a DICOM source image, but this is a PNG file/) }]);
  });

  it(`two radiographs (CR, no Frame of Reference): one SEG per image beside the file, each valid and read back${toolsNote}`, async () => {
    await h.invoke('project:create', { dir: join(h.root, 'cr') });
    const images = (await h.invoke('images:import', { jobId: 'import-cr', paths: [cr('RG2_UNC.dcm'), cr('RG3_UNC.dcm')] })).imported;
    expect(images).toHaveLength(2);
    const masks = images.map((im, i) => rectangle(im.width, im.height, 50 + 10 * i, 80, Math.floor(im.width / 2), Math.floor(im.height / 3)));
    for (const [i, im] of images.entries()) await h.invoke('segment:saveMask', { imageId: im.id, mask: rle(masks[i], im) });
    const file = join(h.root, 'cr-out', 'femur.dcm');
    const codes = { category: LIVER_CODES.category, type: { scheme: 'SCT', value: '71341001', meaning: 'Femur' } };
    const res = await h.invoke('export:seg', { file, label: 'Femur', ...codes });
    const expected = [join(h.root, 'cr-out', 'femur-RG2_UNC.dcm'), join(h.root, 'cr-out', 'femur-RG3_UNC.dcm')];
    expect(res).toMatchObject({ file: join(h.root, 'cr-out'), files: expected, frames: 2 });
    for (const [i, out] of expected.entries()) {
      if (hasDciodvfy) expect(dciodvfy(out).errors, out).toEqual([]);
      const seg = await readSegmentation(out);
      expect(seg.frameOfReferenceUID).toBeUndefined();
      expect(seg.segments[0]).toMatchObject({ label: 'Femur', algorithmType: 'SEMIAUTOMATIC' });
      expect(Buffer.from(maskIn(seg, images[i].dicom!.sopInstanceUid, 1)).equals(Buffer.from(masks[i]))).toBe(true);
      expect([...seg.framesBySource.keys()]).toEqual([images[i].dicom!.sopInstanceUid]);
    }
    // one radiograph: exactly the file asked for
    const single = await h.invoke('export:seg', { file, label: 'Femur', ...codes, imageIds: [images[1].id] });
    expect(single).toMatchObject({ file, files: [file], frames: 1 });
    if (hasDciodvfy) expect(dciodvfy(file).errors).toEqual([]);
  });

  it(`export:sr: landmarks on a CR image → an Enhanced SR that passes dciodvfy${toolsNote}`, async () => {
    const images = (await h.invoke('project:get'))!.images;
    const rg2 = images.find((im) => im.name === 'RG2_UNC.dcm')!;
    await h.invoke('landmarks:setTemplate', { imageId: rg2.id, names: ['Femoral head centre', 'Greater trochanter', 'Knee centre'] });
    await h.invoke('landmarks:setTemplatePoint', { name: 'Femoral head centre', point: { x: 812, y: 903.5 } });
    await h.invoke('landmarks:setTemplatePoint', { name: 'Greater trochanter', point: { x: 1210.25, y: 1004 } });
    const dir = join(h.root, 'cr-sr');
    const res = await h.invoke('export:sr', { dir });
    expect(res).toEqual({ files: [join(dir, 'RG2_UNC.sr.dcm')], skipped: [] });
    if (hasDciodvfy) {
      const v = dciodvfy(res.files[0]);
      expect(v.output).toMatch(/^EnhancedSR/m);
      expect(v.errors).toEqual([]);
    }
    const ds = readNaturalDataset(readFileSync(res.files[0]));
    expect(ds.SOPClassUID).toBe('1.2.840.10008.5.1.4.1.1.88.22');
    expect(JSON.stringify(ds.ContentSequence)).toContain(rg2.dicom!.sopInstanceUid);
  });
});

describe('segment:codes', () => {
  it('searches the SNOMED CT list; matched names a keyword when the meaning does not show why', async () => {
    const h = harness();
    try {
      const femur = await h.invoke('segment:codes', { query: 'femur', limit: 5 });
      expect(femur[0]).toMatchObject({ type: { scheme: 'SCT', value: '71341001', meaning: 'Femur' }, category: { scheme: 'SCT' } });
      expect(femur[0].matched).toBeUndefined();
      const thigh = await h.invoke('segment:codes', { query: 'thigh bone' });
      expect(thigh[0]).toMatchObject({ type: { meaning: 'Femur' }, matched: expect.stringMatching(/thigh bone/i) });
      expect((await h.invoke('segment:codes', { query: '', limit: 3 })).length).toBe(3);
      await expect(h.invoke('segment:codes', { query: 'x', limit: 0 })).rejects.toMatchObject({ code: 'validation' });
    } finally {
      await h.dispose();
    }
  });
});

describe('masks in the project file (format version 1)', () => {
  const image = { id: 'img-1', name: 'a.png', path: 'a.png', format: 'png', width: 4, height: 3, addedAt: '2024-01-01T00:00:00.000Z' };
  const mask = { imageId: 'img-1', source: 'predicted', runId: 'run-1', threshold: 0.5, accepted: false, foreground: 0.25, updatedAt: '2024-01-01T00:00:00.000Z', file: 'masks/img-1.png' };

  it('a file written before masks existed reads with none, and writes them once there are some', () => {
    const old = JSON.parse(serializeProjectFile(emptyProjectFile('Old'))) as Record<string, unknown>;
    delete old.masks;
    const parsed = parseProjectFile(JSON.stringify({ ...old, images: [image] }), 'old.json');
    expect(parsed.version).toBe(1);
    expect(parsed.masks).toEqual([]);
    const withMask = parseProjectFile(serializeProjectFile({ ...parsed, masks: [{ ...mask, source: 'predicted' as const }] }), 'new.json');
    expect(withMask.masks).toEqual([mask]);
  });

  it('refuses a mask of an unknown image, two masks of one image, and an unknown source', () => {
    const base = { ...(JSON.parse(serializeProjectFile(emptyProjectFile('P'))) as Record<string, unknown>), images: [image] };
    expect(() => parseProjectFile(JSON.stringify({ ...base, masks: [{ ...mask, imageId: 'img-9' }] }), 'p.json')).toThrow(/masks\[0\]\.imageId: image 'img-9' is not among the project's images/);
    expect(() => parseProjectFile(JSON.stringify({ ...base, masks: [mask, mask] }), 'p.json')).toThrow(/image 'img-1' has two masks/);
    expect(() => parseProjectFile(JSON.stringify({ ...base, masks: [{ ...mask, source: 'guessed' }] }), 'p.json')).toThrow(/masks\[0\]\.source/);
  });
});
