/** The team's real landmark files (../shared/data/landmarks), read in place. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readImage } from '../../../main/io';
import {
  landmarkNames,
  loadBuiltinScheme,
  readImageSize,
  readLandmarkFile,
  readSpineCsvFiles,
  readWideCsvFile,
  writeSpineCsv,
  writeWideCsv,
  type ImageSize,
  type LandmarkTable,
} from '../../../main/io/landmarks';
import { dataPath, hasSharedData, sharedDataSkipReason } from '../../helpers/sharedData';

const skipNote = hasSharedData ? '' : ` [skipped: ${sharedDataSkipReason}]`;

describe.skipIf(!hasSharedData)(`hand set: landmarks/hand/landmarks.csv${skipNote}`, () => {
  const csvPath = dataPath('landmarks/hand/landmarks.csv');
  const scheme = loadBuiltinScheme('hand-37');

  it('reads 9 images × 37 points whose values equal the file text', async () => {
    const table = await readWideCsvFile(csvPath, { landmarks: landmarkNames(scheme) });
    const rows = readFileSync(csvPath, 'utf8').trim().split('\n').slice(1).map((l) => l.split(','));
    expect(table.landmarks).toHaveLength(37);
    expect(table.images).toHaveLength(9);
    expect(table.images.map((im) => im.image)).toEqual(rows.map((r) => r[0]));
    table.images.forEach((im, r) => {
      expect(im.points).toHaveLength(37);
      im.points.forEach((p, i) => {
        expect(String(p?.x)).toBe(rows[r][1 + 2 * i]);
        expect(String(p?.y)).toBe(rows[r][2 + 2 * i]);
      });
    });
    // the writer reproduces the team's file byte for byte
    expect(writeWideCsv(table)).toBe(readFileSync(csvPath, 'utf8'));
  });

  it('dispatches by extension and header, and every point lies inside its PNG', async () => {
    const table = await readLandmarkFile(csvPath, { scheme });
    for (const im of table.images) {
      const { width, height } = await readImageSize(dataPath('landmarks/hand', `${im.image}.png`));
      for (const p of im.points) {
        expect(p && p.x >= 0 && p.x <= width - 1 && p.y >= 0 && p.y <= height - 1).toBe(true);
      }
    }
  });
});

describe.skipIf(!hasSharedData)(`spine set: landmarks/spine/labels/<split>${skipNote}`, () => {
  const scheme = loadBuiltinScheme('spine-68');
  const sizes = new Map<string, ImageSize>();
  const readSplit = (split: 'test' | 'training', onWarning?: (m: string) => void): Promise<LandmarkTable> =>
    readSpineCsvFiles(
      dataPath('landmarks/spine/labels', split, 'landmarks.csv'),
      dataPath('landmarks/spine/labels', split, 'filenames.csv'),
      async (name) => {
        const size = await readImageSize(dataPath('landmarks/spine/images', split, name));
        sizes.set(name, size);
        return size;
      },
      { landmarks: landmarkNames(scheme), onWarning },
    );

  it('test split: 128 images × 68 points, de-normalised by the JPEG sizes, all inside the image', async () => {
    const warnings: string[] = [];
    const table = await readSplit('test', (m) => warnings.push(m));
    expect(warnings).toEqual([]);
    expect(table.images).toHaveLength(128);
    expect(table.landmarks).toEqual(landmarkNames(scheme));
    expect(table.landmarks.slice(0, 5)).toEqual(['T1 top-left', 'T1 top-right', 'T1 bottom-left', 'T1 bottom-right', 'T2 top-left']);
    expect(table.landmarks[67]).toBe('L5 bottom-right');
    const text = readFileSync(dataPath('landmarks/spine/labels/test/landmarks.csv'), 'utf8').trim().split('\n');
    table.images.forEach((im, r) => {
      const size = sizes.get(im.image);
      expect(size && im.width === size.width && im.height === size.height).toBe(true);
      expect(im.width! >= 355 && im.width! <= 1427 && im.height! >= 973 && im.height! <= 3755).toBe(true);
      const cells = text[r].split(',').map(Number);
      expect(im.points).toHaveLength(68);
      im.points.forEach((p, i) => {
        expect(p?.x).toBe(cells[i] * im.width!);
        expect(p?.y).toBe(cells[68 + i] * im.height!);
        expect(p!.x >= 0 && p!.x <= im.width! && p!.y >= 0 && p!.y <= im.height!).toBe(true);
      });
    });
    expect(table.images[0].image).toBe('sunhl-1th-01-Mar-2017-310 C AP.jpg');
  });

  it('the header sizes agree with decoding the JPEG', async () => {
    for (const name of ['sunhl-1th-01-Mar-2017-310 C AP.jpg', 'sunhl-1th-28-Feb-2017-310 B AP.jpg']) {
      const path = dataPath('landmarks/spine/images/test', name);
      const decoded = await readImage(path);
      expect(await readImageSize(path)).toEqual({ width: decoded.width, height: decoded.height });
    }
  });

  it('training split: 481 images, the one coordinate beyond the image edge is kept and reported', async () => {
    const warnings: string[] = [];
    const table = await readSplit('training', (m) => warnings.push(m));
    expect(table.images).toHaveLength(481);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/labels\/training\/landmarks\.csv: 1 point\(s\) lie outside the image \(first on line 395\)/);
    const writtenBack = writeSpineCsv(table);
    expect(writtenBack.filenames).toBe(readFileSync(dataPath('landmarks/spine/labels/training/filenames.csv'), 'utf8'));
  });
});
