/**
 * Broken landmark files: each must give a LandmarkFileError whose message starts with the file (and
 * the line, for text) and says what is wrong.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LandmarkFileError, loadSchemeFile, readLandmarkFile, readSpineCsvFiles, writeCocoKeypoints, writeLandmarkFile, writeSlicerMarkups } from '../../../main/io/landmarks';
import { tempDir, trickyTable } from './helpers/sampleTables';

const { dir, cleanup } = tempDir('ld-bad-landmarks-');
afterAll(cleanup);

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

async function readError(path: string, read: (p: string) => Promise<unknown> = (p) => readLandmarkFile(p)): Promise<LandmarkFileError> {
  const error = await read(path).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(LandmarkFileError);
  const e = error as LandmarkFileError;
  expect(e.file).toBe(path);
  expect(e.message.startsWith(path)).toBe(true);
  return e;
}

const sizes = { width: 100, height: 100 };

describe('truncated JSON', () => {
  it('Slicer markups cut in the middle: the last line, "ends too early"', async () => {
    const full = writeSlicerMarkups(['A', 'B'], { image: 'x', points: [{ x: 1, y: 2 }, null] });
    const cut = full.slice(0, Math.floor(full.length / 2));
    const e = await readError(file('cut.mrk.json', cut));
    expect(e.line).toBe(cut.trimEnd().split('\n').length);
    expect(e.message).toMatch(new RegExp(`^${escape(e.file!)}, line ${e.line}, column \\d+: the JSON text ends too early`));
  });

  it('COCO with a syntax error: line and column of the bad character', async () => {
    const e = await readError(file('coco.json', '{\n  "images": [],\n  "annotations": [,]\n}\n'));
    expect([e.line, e.column]).toEqual([3, 19]);
    expect(e.reason).toMatch(/^invalid JSON/);
  });

  it('a user scheme with a trailing comma', async () => {
    const path = file('scheme.json', '{"id": "x", "title": "x",\n "landmarks": [{"name": "A"},]\n}');
    const e = await readError(path, loadSchemeFile);
    expect(e.line).toBe(2);
  });

  it('an empty JSON file', async () => {
    const e = await readError(file('empty.json', ''));
    expect(e.message).toBe(`${e.file}, line 1, column 1: the JSON text ends too early (truncated file?)`);
  });

  it("says where, never quoting the content (V8's message would)", async () => {
    const e = await readError(file('passwd.mrk.json', 'root:x:0:0:root:/root:/bin/bash\n'));
    expect(e.message).toBe(`${e.file}, line 1, column 1: invalid JSON`);
  });
});

describe('wrong column count', () => {
  it('long CSV: the line of the short row', async () => {
    const e = await readError(file('long.csv', 'image,landmark,x,y,confidence\na.png,A,1,2,\na.png,B,1,2\n'));
    expect(e.message).toBe(`${e.file}, line 3: expected 5 columns as in the header, found 4`);
  });

  it('wide CSV: the line of the long row, after a quoted field spanning lines', async () => {
    const e = await readError(file('wide.csv', 'image,x1,y1\n"two\nlines",1,2\nb,1,2,3\n'));
    expect(e.message).toBe(`${e.file}, line 4: expected 3 columns as in the header, found 4`);
  });

  it('ISBI .txt: a line with three numbers', async () => {
    const e = await readError(file('001.txt', '1,2\n3,4,5\n'));
    expect(e.message).toBe(`${e.file}, line 2: expected "x,y" (two numbers separated by a comma), found '3,4,5'`);
  });

  it('spine CSV: a row with too few numbers', async () => {
    const landmarks = file('spine-landmarks.csv', `${Array(136).fill('0.5').join(',')}\n${Array(135).fill('0.5').join(',')}\n`);
    const names = file('spine-filenames.csv', 'a.jpg\nb.jpg\n');
    const e = await readError(landmarks, (p) => readSpineCsvFiles(p, names, () => sizes));
    expect(e.message).toBe(`${landmarks}, line 2: expected 136 numbers (x1..x68 then y1..y68), found 135`);
  });

  it('spine CSV: more rows than file names', async () => {
    const landmarks = file('spine-rows.csv', `${Array(136).fill('0.5').join(',')}\n`.repeat(3));
    const names = file('spine-names.csv', 'a.jpg\nb.jpg\n');
    const e = await readError(landmarks, (p) => readSpineCsvFiles(p, names, () => sizes));
    expect(e.message).toBe(`${landmarks}: 3 rows of landmarks but 2 image names in ${names}`);
  });
});

describe('non-numeric coordinate', () => {
  it.each([
    ['long.csv', 'image,landmark,x,y,confidence\na,A,1,2,\na,B,abc,2,\n', "line 3: x of 'B' is not a number ('abc')"],
    ['hex.csv', 'image,landmark,x,y,confidence\na,A,0x10,2,\n', "line 2: x of 'A' is not a number ('0x10')"],
    ['conf.csv', 'image,landmark,x,y,confidence\na,A,1,2,1.5\n', "line 2: confidence of 'A' must lie between 0 and 1 (got 1.5)"],
    ['half.csv', 'image,landmark,x,y,confidence\na,A,1,,\n', "line 2: y of 'A' is not a number (empty)"],
    ['wide.csv', 'image,x1,y1,x2,y2\na,1,2,3,NaN\n', "line 2: y2 ('L2') is not a number ('NaN')"],
    ['007.txt', '1,2\n3,four\n', "line 2: y of 'Nasion' is not a number ('four')"],
  ])('%s', async (name, text, expected) => {
    const e = await readError(file(name, text));
    expect(e.message).toBe(`${e.file}, ${expected}`);
  });

  it('COCO: the JSON path of a string keypoint', async () => {
    const coco = JSON.parse(writeCocoKeypoints({ landmarks: ['A'], images: [{ image: 'a', width: 9, height: 9, points: [{ x: 1, y: 2 }] }] })) as {
      annotations: Array<{ keypoints: unknown[] }>;
    };
    coco.annotations[0].keypoints[1] = 'two';
    const e = await readError(file('k.json', JSON.stringify(coco, null, 2)));
    expect(e.message).toMatch(/: not a valid COCO keypoints file: annotations\[0\]\.keypoints\[1\]: /);
  });
});

describe('missing file', () => {
  it.each(['gone.mrk.json', 'gone.json', 'gone.csv', 'gone.txt'])('%s', async (name) => {
    const e = await readError(join(dir, name));
    expect(e.message).toBe(`${join(dir, name)}: file or folder not found`);
  });

  it('a scheme file and the spine file list', async () => {
    await readError(join(dir, 'no scheme.json'), loadSchemeFile);
    const landmarks = file('spine-one.csv', `${Array(136).fill('0.5').join(',')}\n`);
    const missing = join(dir, 'no names.csv');
    const e = await readError(missing, () => readSpineCsvFiles(landmarks, missing, () => sizes));
    expect(e.reason).toBe('file or folder not found');
  });

  it('writing into a missing folder names the file', async () => {
    const path = join(dir, 'no folder', 'out.csv');
    const e = await readError(path, (p) => writeLandmarkFile(p, trickyTable()));
    expect(e.message).toBe(`${path}: file or folder not found`);
  });
});

describe('other mistakes', () => {
  it('an unknown extension and a CSV of unknown layout', async () => {
    const e = await readError(file('points.xml', '<x/>'));
    expect(e.reason).toMatch(/unsupported landmark file type/);
    const csv = await readError(file('other.csv', 'a,b,c\n1,2,3\n'));
    expect(csv.message).toMatch(/, line 1: unrecognised CSV layout/);
  });

  it('a landmark or image given twice', async () => {
    const twice = await readError(file('twice.csv', 'image,landmark,x,y\na,A,1,2\na,A,3,4\n'));
    expect(twice.message).toBe(`${twice.file}, line 3: landmark 'A' of image 'a' appears twice`);
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
