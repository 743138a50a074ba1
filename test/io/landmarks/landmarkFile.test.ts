/** readLandmarkFile / writeLandmarkFile: the extension picks the format; every format round trips. */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  geometryFromDicom,
  landmarkFileFormat,
  loadBuiltinScheme,
  readLandmarkFile,
  schemeFromNames,
  writeLandmarkFile,
  type LandmarkTable,
} from '../../../main/io/landmarks';
import { positionsOnly, tempDir, trickyTable, TRICKY_LANDMARKS, withoutSizes } from './helpers/sampleTables';

const { dir, cleanup } = tempDir('ld-landmark-files-');
afterAll(cleanup);

const firstImage = (t: LandmarkTable): LandmarkTable => ({ landmarks: t.landmarks, images: [t.images[0]] });

describe('format by extension', () => {
  it.each([
    ['case.mrk.json', 'slicer-markups'],
    ['CASE.MRK.JSON', 'slicer-markups'],
    ['train.json', 'coco-keypoints'],
    ['all.csv', 'csv'],
    ['001.txt', 'isbi-txt'],
  ])('%s → %s', (name, format) => expect(landmarkFileFormat(name)).toBe(format));
});

describe('round trip through files', () => {
  it.each([
    ['Slicer', 'one.mrk.json', firstImage(trickyTable()), withoutSizes(firstImage(trickyTable()))],
    ['COCO', 'all.json', trickyTable(), trickyTable()],
    ['long CSV', 'all.csv', trickyTable(), withoutSizes(trickyTable())],
  ])('%s', async (_, name, table, expected) => {
    const path = join(dir, name);
    await writeLandmarkFile(path, table);
    expect(await readLandmarkFile(path)).toEqual(expected);
  });

  it('wide CSV needs the scheme for its names', async () => {
    const path = join(dir, 'wide.csv');
    const scheme = schemeFromNames(TRICKY_LANDMARKS);
    await writeLandmarkFile(path, trickyTable(), { csvLayout: 'wide' });
    expect(readFileSync(path, 'utf8').startsWith('image,x1,y1,')).toBe(true);
    expect(await readLandmarkFile(path, { scheme })).toEqual(positionsOnly(trickyTable()));
  });

  it('ISBI .txt defaults to the ISBI names and takes the image from the file name', async () => {
    const names = loadBuiltinScheme('isbi-ceph-19').landmarks.map((l) => l.name);
    const table: LandmarkTable = { landmarks: names, images: [{ image: '126', points: names.map((_, i) => ({ x: 800 + i, y: 900 + 2 * i })) }] };
    const path = join(dir, '126.txt');
    await writeLandmarkFile(path, table);
    expect(await readLandmarkFile(path)).toEqual(table);
  });

  it('a scheme given on writing fixes the order; one given on reading reorders', async () => {
    const path = join(dir, 'ordered.csv');
    const table: LandmarkTable = { landmarks: ['B', 'A'], images: [{ image: 'i', points: [{ x: 2, y: 2 }, { x: 1, y: 1 }] }] };
    await writeLandmarkFile(path, table, { scheme: schemeFromNames(['A', 'B']) });
    expect((await readLandmarkFile(path)).landmarks).toEqual(['A', 'B']);
    expect(await readLandmarkFile(path, { scheme: schemeFromNames(['B', 'C', 'A']) })).toEqual({
      landmarks: ['B', 'C', 'A'],
      images: [{ image: 'i', points: [{ x: 2, y: 2 }, null, { x: 1, y: 1 }] }],
    });
  });

  it('Slicer with DICOM geometry and the scheme descriptions', async () => {
    const path = join(dir, 'dicom.mrk.json');
    const geometry = geometryFromDicom([10, -20, 5], [0.5, 0.25], [0, 1, 0, 0, 0, -1]);
    const scheme = schemeFromNames(['A', 'B'], { descriptions: ['first', undefined] });
    const table: LandmarkTable = { landmarks: ['A', 'B'], images: [{ image: 'cr.dcm', points: [{ x: 8, y: 4, confidence: 0.25 }, null] }] };
    await writeLandmarkFile(path, table, { scheme, geometry });
    const written = JSON.parse(readFileSync(path, 'utf8')) as { markups: Array<{ controlPoints: Array<{ position: number[]; description: string }> }> };
    expect(written.markups[0].controlPoints[0]).toMatchObject({ position: [10, -18, 3], description: 'first; confidence 0.25' });
    expect(await readLandmarkFile(path, { geometry })).toEqual(table);
  });

  it('Slicer markups saved as plain .json are read as markups', async () => {
    const path = join(dir, 'slicer.json');
    const table = firstImage(trickyTable());
    await writeLandmarkFile(join(dir, 'slicer.mrk.json'), table);
    writeFileSync(path, readFileSync(join(dir, 'slicer.mrk.json')));
    expect(await readLandmarkFile(path)).toEqual(withoutSizes(table));
  });

  it('one-image formats refuse a table of several images', async () => {
    await expect(writeLandmarkFile(join(dir, 'many.mrk.json'), trickyTable())).rejects.toThrow(/holds the landmarks of one image; this table has 2/);
    await expect(writeLandmarkFile(join(dir, 'many.txt'), trickyTable())).rejects.toThrow(/one image/);
  });
});
