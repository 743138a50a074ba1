/**
 * Wide CSV in pixels, the hand set's layout: header `image,x1,y1,…,xN,yN`, one row per image. The
 * file names no landmarks, so names come from a scheme (default L1..LN); an unplaced landmark has
 * both cells empty.
 */
import type { LandmarkTable, PlacedPoint } from '../../../engine/landmarks/types';
import { assertValidTable, checkLandmarkNames, genericNames } from '../table';
import { csvRecord, parseCsv } from './csvText';
import { LandmarkFileError, readTextFile, writeTextFile } from './fileError';
import { formatNumber, parseDecimal } from './numbers';

export interface WideCsvReadOptions {
  file?: string;
  /** Names of the N landmarks (a scheme's); their count must match the header's. */
  landmarks?: readonly string[];
}

/** True when the first record looks like `image,x1,y1,…`. */
export function isWideCsvHeader(fields: readonly string[]): boolean {
  const names = fields.map((f) => f.trim().toLowerCase());
  return names[0] === 'image' && names[1] === 'x1' && names[2] === 'y1';
}

export function wideCsvHeader(count: number): string[] {
  return ['image', ...Array.from({ length: count }, (_, i) => [`x${i + 1}`, `y${i + 1}`]).flat()];
}

export function writeWideCsv(table: LandmarkTable): string {
  assertValidTable(table);
  const rows = [csvRecord(wideCsvHeader(table.landmarks.length))];
  for (const image of table.images) {
    rows.push(csvRecord([image.image, ...image.points.flatMap((p) => (p ? [formatNumber(p.x), formatNumber(p.y)] : ['', '']))]));
  }
  return rows.join('');
}

export function readWideCsv(text: string, options: WideCsvReadOptions = {}): LandmarkTable {
  const { file } = options;
  const [header, ...records] = parseCsv(text, file);
  if (!header) throw new LandmarkFileError('empty file (expected the header image,x1,y1,…)', { file });
  const count = (header.fields.length - 1) / 2;
  const expected = wideCsvHeader(Math.max(1, Math.floor(count)));
  const bad = header.fields.findIndex((f, i) => f.trim().toLowerCase() !== expected[i]);
  if (!Number.isInteger(count) || count < 1 || bad >= 0) {
    const found = bad >= 0 ? `column ${bad + 1} is '${header.fields[bad]}', expected '${expected[bad] ?? 'nothing'}'` : 'an odd number of coordinate columns';
    throw new LandmarkFileError(`header must be image,x1,y1,…,xN,yN: ${found}`, { file, line: header.line });
  }
  const landmarks = options.landmarks ? [...options.landmarks] : genericNames(count);
  checkLandmarkNames(landmarks, { file });
  if (landmarks.length !== count) {
    throw new LandmarkFileError(`the header has ${count} landmarks, the scheme ${landmarks.length}`, { file, line: header.line });
  }
  const seen = new Set<string>();
  const images = records.map(({ fields, line }) => {
    const place = { file, line };
    if (fields.length !== header.fields.length) throw new LandmarkFileError(`expected ${header.fields.length} columns as in the header, found ${fields.length}`, place);
    const [image, ...cells] = fields;
    if (image === '') throw new LandmarkFileError('the image name is empty', place);
    if (seen.has(image)) throw new LandmarkFileError(`image '${image}' appears twice`, place);
    seen.add(image);
    const points = landmarks.map((name, i): PlacedPoint | null => {
      const [x, y] = [cells[2 * i], cells[2 * i + 1]];
      if (x.trim() === '' && y.trim() === '') return null;
      return { x: parseDecimal(x, `x${i + 1} ('${name}')`, place), y: parseDecimal(y, `y${i + 1} ('${name}')`, place) };
    });
    return { image, points };
  });
  return { landmarks, images };
}

export async function readWideCsvFile(path: string, options: Omit<WideCsvReadOptions, 'file'> = {}): Promise<LandmarkTable> {
  return readWideCsv(await readTextFile(path), { ...options, file: path });
}

export async function writeWideCsvFile(path: string, table: LandmarkTable): Promise<void> {
  await writeTextFile(path, writeWideCsv(table));
}
