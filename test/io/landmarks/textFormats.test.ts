/** Round trips of the long CSV, wide CSV, ISBI .txt and COCO formats. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  readCocoKeypoints,
  readCocoScheme,
  readIsbiTxt,
  readIsbiTxtFile,
  readLongCsv,
  readWideCsv,
  writeCocoKeypoints,
  writeIsbiTxt,
  writeIsbiTxtFile,
  writeLongCsv,
  writeLongCsvFile,
  writeWideCsv,
  type LandmarkTable,
} from '../../../main/io/landmarks';
import { parseCsv } from '../../../main/io/landmarks/formats/csvText';
import { positionsOnly, tempDir, trickyTable, TRICKY_LANDMARKS, withoutSizes } from './helpers/sampleTables';

describe('CSV text', () => {
  it('reads quoted fields with commas, quotes, line breaks and CRLF', () => {
    const text = 'a,b\r\n"x, ""y""","line1\nline2"\r\n\r\nlast,\n';
    expect(parseCsv(text)).toEqual([
      { fields: ['a', 'b'], line: 1 },
      { fields: ['x, "y"', 'line1\nline2'], line: 2 },
      { fields: ['last', ''], line: 5 },
    ]);
  });

  it('names the line of an unclosed quote and of text after a closing quote', () => {
    expect(() => parseCsv('a,b\n"open,1\n2,3\n', 'f.csv')).toThrow('f.csv, line 2: a quoted field is never closed');
    expect(() => parseCsv('a,b\n"x"y,1\n', 'f.csv')).toThrow(/^f\.csv, line 2: unexpected text after a closing quote/);
  });
});

describe('CSV cells a spreadsheet would run', () => {
  it('writes a formula-like name with a leading apostrophe, keeps negative numbers, and reads the name back', () => {
    const evil = '=HYPERLINK("http://evil.example","x")';
    const table: LandmarkTable = {
      landmarks: [evil, '+tip', '@ref', '-apex', 'Sella'],
      images: [{ image: '-1.png', points: [{ x: -0.5, y: 2 }, { x: 1e-7, y: 3 }, null, { x: 4, y: -3.25 }, { x: 5, y: 6 }] }],
    };
    const text = writeLongCsv(table);
    expect(text).toContain(`-1.png,"'=HYPERLINK(""http://evil.example"",""x"")",-0.5,2,\n`);
    expect(text).toContain("-1.png,'+tip,");
    expect(text).toContain("-1.png,'@ref,,,\n");
    expect(text).toContain("-1.png,'-apex,4,-3.25,\n");
    expect(readLongCsv(text)).toEqual(table);
    // wide CSV carries image names in cells too
    expect(writeWideCsv({ landmarks: ['A'], images: [{ image: '=cmd|x', points: [{ x: 1, y: 2 }] }] })).toContain("'=cmd|x,1,2");
    expect(readWideCsv(writeWideCsv({ landmarks: ['A'], images: [{ image: '=cmd|x', points: [{ x: 1, y: 2 }] }] })).images[0].image).toBe('=cmd|x');
  });
});

describe('long CSV image,landmark,x,y,confidence', () => {
  it('round trips names with spaces, commas, quotes, non-ASCII; unplaced points; confidences', () => {
    const table = trickyTable();
    const text = writeLongCsv(table);
    expect(text.split('\n')[0]).toBe('image,landmark,x,y,confidence');
    expect(text).toContain('"patient 01, ""AP"" view.png","Nasion, soft ""tissue""",1473.123456789,1029.0000001,1\n');
    expect(text).toContain('Müller – seitlich.jpg,Sella,,,\n');
    expect(readLongCsv(text)).toEqual(withoutSizes(table));
  });

  it('follows a scheme order and names the line of an unknown landmark', () => {
    const text = 'image,landmark,x,y,confidence\nim,B,1,2,\nim,A,3,4,0.25\nim,Z,5,6,\n';
    expect(() => readLongCsv(text, { file: 'l.csv', landmarks: ['A', 'B'] })).toThrow("l.csv, line 4: landmark 'Z' is not in the scheme");
    const read = readLongCsv(text.split('\n').slice(0, 3).join('\n'), { landmarks: ['A', 'B', 'C'] });
    expect(read).toEqual({ landmarks: ['A', 'B', 'C'], images: [{ image: 'im', points: [{ x: 3, y: 4, confidence: 0.25 }, { x: 1, y: 2 }, null] }] });
  });

  it('takes the landmark order from first sight without a scheme; accepts a missing confidence column', () => {
    const read = readLongCsv('landmark,image,y,x\nB,i1,2,1\nA,i2,4,3\n');
    expect(read).toEqual({
      landmarks: ['B', 'A'],
      images: [
        { image: 'i1', points: [{ x: 1, y: 2 }, null] },
        { image: 'i2', points: [null, { x: 3, y: 4 }] },
      ],
    });
  });

  it('writes through the file helper atomically', async () => {
    const { dir, cleanup } = tempDir('ld-long-');
    try {
      const path = join(dir, 'all landmarks.csv');
      await writeLongCsvFile(path, trickyTable());
      expect(readLongCsv(readFileSync(path, 'utf8'))).toEqual(withoutSizes(trickyTable()));
    } finally {
      cleanup();
    }
  });
});

describe('wide CSV image,x1,y1,…', () => {
  it('round trips positions, unplaced points and image names that need quoting', () => {
    const table = positionsOnly(trickyTable());
    const text = writeWideCsv(table);
    expect(text.split('\n')[0]).toBe('image,x1,y1,x2,y2,x3,y3,x4,y4,x5,y5');
    expect(readWideCsv(text, { landmarks: TRICKY_LANDMARKS })).toEqual(table);
    expect(readWideCsv(text).landmarks).toEqual(['L1', 'L2', 'L3', 'L4', 'L5']);
  });

  it('refuses a scheme of another size and a malformed header', () => {
    expect(() => readWideCsv('image,x1,y1\na,1,2\n', { file: 'w.csv', landmarks: ['A', 'B'] })).toThrow('w.csv, line 1: the header has 1 landmarks, the scheme 2');
    expect(() => readWideCsv('image,x1,y2\na,1,2\n', { file: 'w.csv' })).toThrow("w.csv, line 1: header must be image,x1,y1,…,xN,yN: column 3 is 'y2', expected 'y1'");
  });
});

describe('ISBI 2015 .txt', () => {
  const names = Array.from({ length: 19 }, (_, i) => `P${i}`);
  const points = names.map((_, i) => ({ x: 100 + i * 10.4, y: 2000 - i * 7.6 }));

  it('writes exactly N lines of rounded integers', () => {
    const text = writeIsbiTxt(names, { image: '001', points });
    const lines = text.split('\n');
    expect(lines).toHaveLength(20);
    expect(lines[19]).toBe('');
    expect(lines[0]).toBe('100,2000');
    expect(lines[1]).toBe('110,1992');
    expect(lines.slice(0, 19).every((l) => /^\d+,\d+$/.test(l))).toBe(true);
  });

  it('reads the first N lines (CRLF too) and ignores the rest; defaults to the ISBI names', () => {
    const text = `${points.map((p) => `${Math.round(p.x)},${Math.round(p.y)}`).join('\r\n')}\r\n1\r\n2\r\nextra text\r\n`;
    const read = readIsbiTxt(text, { file: 'dir/151.txt' });
    expect(read.images[0].image).toBe('151');
    expect(read.landmarks[0]).toBe('Sella');
    expect(read.landmarks[18]).toBe('Articulare');
    expect(read.images[0].points).toEqual(points.map((p) => ({ x: Math.round(p.x), y: Math.round(p.y) })));
  });

  it('round trips integer positions through the file helpers', async () => {
    const { dir, cleanup } = tempDir('ld-isbi-');
    try {
      const table: LandmarkTable = { landmarks: names, images: [{ image: '126', points: points.map((p) => ({ x: Math.round(p.x), y: Math.round(p.y) })) }] };
      const path = join(dir, '126.txt');
      await writeIsbiTxtFile(path, table);
      expect(await readIsbiTxtFile(path, { landmarks: names })).toEqual(table);
    } finally {
      cleanup();
    }
  });

  it('cannot write an unplaced landmark, and names the line of a short file', () => {
    expect(() => writeIsbiTxt(['A', 'B'], { image: 'x', points: [{ x: 1, y: 1 }, null] })).toThrow(/unplaced landmark \('B' of image 'x'\)/);
    expect(() => readIsbiTxt('1,2\n3,4\n', { file: '007.txt' })).toThrow('007.txt, line 3: expected 19 lines of x,y coordinates, the file ends after 2');
  });
});

describe('COCO keypoints', () => {
  const table = trickyTable();
  const skeleton: Array<[number, number]> = [
    [0, 1],
    [1, 4],
  ];
  const text = writeCocoKeypoints(table, { category: 'ceph', skeleton });
  const coco = JSON.parse(text) as {
    images: Array<{ id: number; file_name: string; width: number; height: number }>;
    annotations: Array<{ image_id: number; category_id: number; keypoints: number[]; num_keypoints: number; bbox: number[]; area: number; iscrowd: number }>;
    categories: Array<{ id: number; name: string; keypoints: string[]; skeleton: number[][] }>;
  };

  it('writes images, one annotation per image with [x, y, v] triplets, and the category', () => {
    expect(coco.images[1]).toEqual({ id: 2, file_name: 'Müller – seitlich.jpg', width: 800, height: 600 });
    const second = coco.annotations[1];
    expect(second).toMatchObject({ image_id: 2, category_id: 1, num_keypoints: 2, iscrowd: 0 });
    expect(second.keypoints).toEqual([0, 0, 0, 400, 300, 2, 0, 0, 0, 0, 0, 0, 1, 2, 2]);
    expect(second.bbox).toEqual([1, 2, 399, 298]);
    expect(second.area).toBe(399 * 298);
    expect(coco.categories).toEqual([{ id: 1, name: 'ceph', supercategory: 'ceph', keypoints: TRICKY_LANDMARKS, skeleton: [[1, 2], [2, 5]] }]);
  });

  it('round trips positions, unplaced points, confidences and sizes', () => {
    expect(readCocoKeypoints(text)).toEqual(table);
  });

  it('reads the scheme back with a 0-based skeleton', () => {
    expect(readCocoScheme(text)).toEqual({ id: 'ceph', title: 'ceph', landmarks: TRICKY_LANDMARKS.map((name) => ({ name })), skeleton });
  });

  it('an image without placed points has no annotation and reads back as unplaced', () => {
    const empty: LandmarkTable = { landmarks: ['A'], images: [{ image: 'blank.png', width: 10, height: 10, points: [null] }] };
    const written = writeCocoKeypoints(empty);
    expect((JSON.parse(written) as { annotations: unknown[] }).annotations).toEqual([]);
    expect(readCocoKeypoints(written)).toEqual(empty);
  });

  it('needs image sizes to write, and names the annotation whose keypoints do not fit', () => {
    expect(() => writeCocoKeypoints(withoutSizes(table))).toThrow(/COCO needs the size of every image; image 'patient 01/);
    const bad = JSON.parse(text) as typeof coco;
    bad.annotations[1].keypoints.pop();
    expect(() => readCocoKeypoints(JSON.stringify(bad), { file: 'k.json' })).toThrow('k.json: annotations[1].keypoints has 14 numbers; 5 keypoints need 15');
  });
});
