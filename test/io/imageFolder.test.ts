/** Listing and reading folders: order, names with spaces, subfolders, and failures collected, not thrown. */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImageReadError, listImageFiles, readImageFolder, type FolderProgress } from '../../main/io';
import { dataPath, hasSharedData, sharedDataSkipReason } from '../helpers/sharedData';
import { grey16Png, rgbPng } from './helpers/makeImages';

const skipNote = hasSharedData ? '' : ` [skipped: ${sharedDataSkipReason}]`;

async function folderError(promise: Promise<unknown>): Promise<ImageReadError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ImageReadError);
  return error as ImageReadError;
}

describe('a folder of good and bad files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ld-folder-'));
  const png = rgbPng(4, 3, new Uint8Array(36).fill(50));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  beforeAll(async () => {
    await writeFile(join(dir, 'img 10.png'), png);
    await writeFile(join(dir, 'img 2.png'), png);
    await writeFile(join(dir, 'img 1.png'), grey16Png(2, 2, Uint16Array.of(1, 2, 3, 4)));
    await writeFile(join(dir, 'broken.png'), png.subarray(0, 40));
    await writeFile(join(dir, 'empty.dcm'), new Uint8Array());
    await writeFile(join(dir, 'notes.dcm'), 'not dicom at all, just text that is long enough to pass a preamble '.repeat(4));
    await writeFile(join(dir, 'readme.txt'), 'ignored by name');
    await writeFile(join(dir, '.DS_Store'), 'hidden');
    await writeFile(join(dir, 'LICENSE'), 'no extension, no image magic: ignored');
    mkdirSync(join(dir, 'sub folder'));
    await writeFile(join(dir, 'sub folder', 'deep.png'), png);
  });

  it('lists image files by extension in natural name order, not subfolders unless asked', async () => {
    const files = await listImageFiles(dir);
    expect(files.map((f) => f.slice(dir.length + 1))).toEqual(['broken.png', 'empty.dcm', 'img 1.png', 'img 2.png', 'img 10.png', 'notes.dcm']);
    const all = await listImageFiles(dir, { recursive: true });
    expect(all.map((f) => f.slice(dir.length + 1))).toContain(join('sub folder', 'deep.png'));
  });

  it('returns the good records and the failures with reasons, reporting progress', async () => {
    const progress: FolderProgress[] = [];
    const { records, failures } = await readImageFolder(dir, { onProgress: (p) => progress.push(p) });
    expect(records.map((r) => r.id)).toEqual(['img 1.png', 'img 2.png', 'img 10.png']);
    expect(records[0]).toMatchObject({ width: 2, height: 2, bitsStored: 16 });
    expect(failures.map((f) => [f.file.slice(dir.length + 1), f.code])).toEqual([
      ['broken.png', 'truncated'],
      ['empty.dcm', 'truncated'],
      ['notes.dcm', 'unsupported-format'],
    ]);
    for (const f of failures) expect(f.reason.length).toBeGreaterThan(10);
    expect(progress.map((p) => [p.done, p.total, p.ok])).toEqual([
      [1, 6, false],
      [2, 6, false],
      [3, 6, true],
      [4, 6, true],
      [5, 6, true],
      [6, 6, false],
    ]);
  });

  it('with subfolders, ids are paths relative to the folder with / separators', async () => {
    const { records } = await readImageFolder(dir, { recursive: true });
    expect(records.map((r) => r.id)).toContain('sub folder/deep.png');
    expect(records.find((r) => r.id === 'sub folder/deep.png')?.path).toBe(join(dir, 'sub folder', 'deep.png'));
  });
});

describe('folders that cannot be read', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ld-folder-bad-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('a missing folder → missing, naming the folder', async () => {
    const missing = join(dir, 'nowhere');
    const e = await folderError(readImageFolder(missing));
    expect(e.code).toBe('missing');
    expect(e.file).toBe(missing);
    expect(e.message).toMatch(/folder not found; check the path/);
    expect((await folderError(listImageFiles(missing))).code).toBe('missing');
  });

  it('a file given as the folder → unsupported-format', async () => {
    await writeFile(join(dir, 'a.png'), 'x');
    const e = await folderError(readImageFolder(join(dir, 'a.png')));
    expect(e.code).toBe('unsupported-format');
    expect(e.reason).toMatch(/not a folder/);
  });

  it('a folder without images → not-an-image, saying what was there and what to do', async () => {
    const empty = join(dir, 'no images');
    mkdirSync(join(empty, 'scans'), { recursive: true });
    await writeFile(join(empty, 'report.pdf'), 'x');
    const e = await folderError(readImageFolder(empty));
    expect(e.code).toBe('not-an-image');
    expect(e.message).toContain(empty);
    expect(e.reason).toMatch(/no DICOM, PNG, JPEG or TIFF images found \(1 other file\(s\) ignored, 1 subfolder\(s\) not searched\)/);
    expect(e.reason).toMatch(/include subfolders/);
  });
});

describe.skipIf(!hasSharedData)(`DICOM files without an extension${skipNote}`, () => {
  const dir = mkdtempSync(join(tmpdir(), 'ld-folder-noext-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('are listed by their DICM preamble (scanner exports name files IM0001, 1.2.840…)', async () => {
    const ct = await readFile(dataPath('dicom', 'ct-3slice-seg', '01.dcm'));
    await writeFile(join(dir, 'IM0001'), ct);
    await writeFile(join(dir, '1.2.840.113619.2.55.3'), ct);
    await writeFile(join(dir, 'DICOMDIR'), ct); // an index file, never an image
    await writeFile(join(dir, 'NOTES'), 'plain text');
    expect((await listImageFiles(dir)).map((f) => f.slice(dir.length + 1))).toEqual(['1.2.840.113619.2.55.3', 'IM0001']);
    const { records, failures } = await readImageFolder(dir);
    expect(failures).toEqual([]);
    expect(records.map((r) => [r.id, r.width, r.format])).toEqual([
      ['1.2.840.113619.2.55.3', 512, 'dicom'],
      ['IM0001', 512, 'dicom'],
    ]);
  });
});
