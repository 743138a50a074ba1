/**
 * Issue 15, "converted once at each edge": a DICOM is decoded at import, and exports work from what
 * import stored plus the file's header. Shown by damaging the Pixel Data of imported files (the header
 * intact) so that any decode fails: .mrk.json (in patient mm), SR and DICOM-SEG are still written,
 * and no decode is even tried. A project written before geometry was stored reads the header only
 * and writes the .mrk.json files it wrote before, byte for byte.
 */
import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { encodeMaskRle } from '../../common/api';
import { readImage } from '../../main/io';
import { readSourceImage } from '../../main/io/exporters';
import { readSlicerMarkupsFile, schemeFromNames, writeLandmarkFile } from '../../main/io/landmarks';
import { imageGeometryOf, pixelToPatient, PIXEL_GEOMETRY, type ImageGeometry } from '../../main/io/landmarks/formats/dicomGeometry';
import { PROJECT_FILE_NAME } from '../../main/project/projectFile';
import { dataPath, hasSharedData, sharedDataSkipReason } from '../helpers/sharedData';
import { harness, type Harness } from './harness';

/** Every DICOM decode in this process, whoever asks (import, export, thumbnails). */
const decodes = vi.hoisted(() => ({ count: 0 }));
vi.mock('../../main/io/dicom/readDicom', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../main/io/dicom/readDicom')>();
  return {
    ...original,
    readDicom: (bytes: Uint8Array) => {
      decodes.count++;
      return original.readDicom(bytes);
    },
  };
});

const CT = 'dicom/ct-3slice-seg/01.dcm'; // CT slice: Frame of Reference, position, orientation
const CR = 'dicom/cr/RG2_UNC.dcm'; // projection radiograph: Imager Pixel Spacing only
const HAND = 'landmarks/hand/3167.png';
const CODES = {
  label: 'Region',
  category: { scheme: 'SCT', value: '123037004', meaning: 'Anatomical Structure' },
  type: { scheme: 'SCT', value: '71341001', meaning: 'Femur' },
};
const CT_POINTS = { a: { x: 100, y: 50 }, b: { x: 300.5, y: 200.25 } };
const CR_POINT = { x: 800, y: 1000.5 };

/** Cuts the file inside its Pixel Data (the last element): the header stays whole, a decode fails. */
function cutPixelData(file: string, pixelBytes: number): void {
  const bytes = readFileSync(file);
  writeFileSync(file, bytes.subarray(0, bytes.length - Math.floor(pixelBytes / 2)));
}

interface Imported {
  id: string;
  name: string;
  width: number;
  height: number;
}

async function importWithLandmarks(h: Harness, files: string[]): Promise<Imported[]> {
  await h.invoke('project:create', { dir: join(h.root, 'project') });
  const { imported, failed } = await h.invoke('images:import', { jobId: 'import', paths: files });
  expect(failed).toEqual([]);
  const [ct, cr] = imported;
  await h.invoke('landmarks:setTemplate', { imageId: ct.id, names: ['a', 'b'] });
  for (const [name, point] of Object.entries(CT_POINTS)) await h.invoke('landmarks:setTemplatePoint', { name, point });
  for (const image of imported.slice(1)) await h.invoke('landmarks:setPoint', { imageId: image.id, name: 'b', point: image === cr ? CR_POINT : { x: 20, y: 30 } });
  return imported;
}

const storedImages = (h: Harness) => h.table.session.requireProject().data.images;

describe.skipIf(!hasSharedData)(`exports after import decode nothing${hasSharedData ? '' : ` (skipped: ${sharedDataSkipReason})`}`, () => {
  let h: Harness;
  let images: Imported[];
  let files: string[];
  const reference = new Map<string, ImageGeometry>();

  beforeAll(async () => {
    h = harness();
    const folder = join(h.root, 'images');
    mkdirSync(folder);
    files = [CT, CR].map((f) => {
      const copy = join(folder, f.split('/').pop()!);
      copyFileSync(dataPath(f), copy);
      return copy;
    });
    for (const f of files) reference.set(f, imageGeometryOf(await readImage(f)));
    decodes.count = 0;
    images = await importWithLandmarks(h, files);
    for (const image of images) {
      const mask = new Uint8Array(image.width * image.height);
      mask.fill(1, 10 * image.width, 20 * image.width);
      const rle = encodeMaskRle(mask, image.width, image.height);
      await h.invoke('segment:saveMask', { imageId: image.id, mask: { width: rle.width, height: rle.height, runs: [...rle.runs] } });
    }
  });
  afterAll(() => h?.dispose());

  it('import decodes each file once and stores its geometry', () => {
    expect(decodes.count).toBe(2);
    const [ct, cr] = storedImages(h);
    expect(ct.geometry).toEqual(reference.get(files[0]));
    expect(cr.geometry).toEqual({ origin: [0, 0, 0], spacing: [0.2, 0.2], rowDirection: [1, 0, 0], columnDirection: [0, 1, 0] });
  });

  it('with the Pixel Data damaged, .mrk.json (patient mm), SR and DICOM-SEG are still written, without a decode', async () => {
    images.forEach((image, i) => cutPixelData(files[i], image.width * image.height * 2));
    for (const f of files) await expect(readImage(f), `${f} no longer decodes`).rejects.toThrow(/truncated/);
    for (const [i, f] of files.entries()) await expect(readSourceImage(f, { decodedAs: images[i] })).resolves.toMatchObject({ rows: images[i].height });
    decodes.count = 0;

    const out = join(h.root, 'out');
    const mrk = await h.invoke('export:landmarks', { format: 'mrk.json', dir: out });
    expect(mrk.files).toEqual([join(out, '01.mrk.json'), join(out, 'RG2_UNC.mrk.json')]);
    const ctJson = JSON.parse(readFileSync(mrk.files[0], 'utf8'));
    expect(ctJson.markups[0].name).toBe('01.dcm'); // millimetres, not "(pixel coordinates)"
    const ctGeometry = reference.get(files[0])!;
    for (const [i, p] of Object.values(CT_POINTS).entries()) {
      const expected = pixelToPatient(p, ctGeometry);
      ctJson.markups[0].controlPoints[i].position.forEach((c: number, k: number) => expect(c).toBeCloseTo(expected[k], 6));
    }
    expect(ctJson.markups[0].controlPoints[0].position[2]).toBeCloseTo(-126.690002, 6); // the slice's z
    const crTable = await readSlicerMarkupsFile(mrk.files[1], { geometry: reference.get(files[1]) });
    expect(crTable.images[0].points[1]).toMatchObject({ x: expect.closeTo(CR_POINT.x, 6), y: expect.closeTo(CR_POINT.y, 6) });
    const crPosition = JSON.parse(readFileSync(mrk.files[1], 'utf8')).markups[0].controlPoints[1].position;
    [160, 200.1, 0].forEach((c, k) => expect(crPosition[k]).toBeCloseTo(c, 9)); // 0.2 mm per pixel

    const sr = await h.invoke('export:sr', { dir: join(h.root, 'sr') });
    expect(sr.skipped).toEqual([]);
    expect(sr.files).toHaveLength(2);

    const segDir = join(h.root, 'seg');
    mkdirSync(segDir);
    const seg = await h.invoke('export:seg', { file: segDir, ...CODES });
    expect(seg.files).toHaveLength(2); // one for the CT series, one for the radiograph
    expect(readdirSync(segDir).sort()).toEqual(['01.seg.dcm', 'RG2_UNC.seg.dcm']);

    expect(decodes.count).toBe(0);
  });
});

describe.skipIf(!hasSharedData)(`a project written before geometry was stored${hasSharedData ? '' : ` (skipped: ${sharedDataSkipReason})`}`, () => {
  let h: Harness;
  const sources = hasSharedData ? [dataPath(CT), dataPath(CR), dataPath(HAND)] : [];

  beforeAll(async () => {
    h = harness();
    await importWithLandmarks(h, sources);
  });
  afterAll(() => h?.dispose());

  it('exports the .mrk.json files it exported before, reading DICOM headers only, and then stores the geometry', async () => {
    const dir = join(h.root, 'project');
    const stored = await h.invoke('export:landmarks', { format: 'mrk.json', dir: join(h.root, 'stored') });

    // what the export wrote before geometry was stored: each DICOM decoded for its geometry
    const before = join(h.root, 'before');
    mkdirSync(before);
    const scheme = schemeFromNames(['a', 'b'], { id: 'custom-1' });
    const points = [Object.values(CT_POINTS), [null, CR_POINT], [null, { x: 20, y: 30 }]];
    for (const [i, source] of sources.entries()) {
      const record = await readImage(source);
      const name = source.split('/').pop()!;
      const table = { landmarks: ['a', 'b'], images: [{ image: name, width: record.width, height: record.height, points: points[i] }] };
      const geometry = record.format === 'dicom' ? imageGeometryOf(record) : PIXEL_GEOMETRY;
      await writeLandmarkFile(join(before, `${name.replace(/\.\w+$/, '')}.mrk.json`), table, { scheme, geometry });
    }

    // the same project as an older version wrote it: no geometry on its images
    await h.invoke('project:close');
    const file = join(dir, PROJECT_FILE_NAME);
    const json = JSON.parse(readFileSync(file, 'utf8'));
    for (const image of json.images) delete image.geometry;
    writeFileSync(file, JSON.stringify(json, null, 2));
    await h.invoke('project:open', { dir });
    expect(storedImages(h).map((im) => im.geometry)).toEqual([undefined, undefined, undefined]);

    decodes.count = 0;
    const old = await h.invoke('export:landmarks', { format: 'mrk.json', dir: join(h.root, 'old') });
    expect(decodes.count).toBe(0);
    expect(old.files.map((f) => f.split('/').pop())).toEqual(['01.mrk.json', 'RG2_UNC.mrk.json', '3167.mrk.json']);
    for (const [i, f] of old.files.entries()) {
      const name = f.split('/').pop()!;
      expect(readFileSync(f, 'utf8'), name).toBe(readFileSync(join(before, name), 'utf8'));
      expect(readFileSync(f, 'utf8'), name).toBe(readFileSync(stored.files[i], 'utf8'));
    }

    // remembered: the next export needs no file at all
    const [ct, cr, png] = storedImages(h);
    expect(ct.geometry).toEqual(imageGeometryOf(await readImage(dataPath(CT))));
    expect(cr.geometry).toMatchObject({ spacing: [0.2, 0.2] });
    expect(png.geometry).toBeUndefined();
    await h.invoke('project:close');
    expect(JSON.parse(readFileSync(file, 'utf8')).images[0].geometry).toEqual(ct.geometry);
  });
});
