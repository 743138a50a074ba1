/**
 * Long CSV: one row per image and landmark, header `image,landmark,x,y,confidence`. An unplaced
 * landmark is a row with empty x and y, so templates and partly labelled images survive a round
 * trip; confidence is empty when unknown.
 */
import type { LandmarkTable, PlacedPoint } from '../../../engine/landmarks/types';
import { assertValidTable } from '../table';
import { csvRecord, parseCsv } from './csvText';
import { LandmarkFileError, readTextFile, writeTextFile } from './fileError';
import { checkConfidence, formatNumber, parseDecimal } from './numbers';

export const LONG_CSV_COLUMNS = ['image', 'landmark', 'x', 'y', 'confidence'] as const;

export interface LongCsvReadOptions {
  file?: string;
  /** Scheme order: the result follows it and a landmark outside it is an error naming the line. */
  landmarks?: readonly string[];
}

export function writeLongCsv(table: LandmarkTable): string {
  assertValidTable(table);
  const rows = [csvRecord([...LONG_CSV_COLUMNS])];
  for (const image of table.images) {
    image.points.forEach((p, i) => {
      const confidence = p?.confidence === undefined ? '' : formatNumber(p.confidence);
      rows.push(csvRecord([image.image, table.landmarks[i], p ? formatNumber(p.x) : '', p ? formatNumber(p.y) : '', confidence]));
    });
  }
  return rows.join('');
}

/** True when the first record is a long-CSV header (used to tell long from wide CSV). */
export function isLongCsvHeader(fields: readonly string[]): boolean {
  const names = fields.map((f) => f.trim().toLowerCase());
  return names.includes('image') && names.includes('landmark');
}

export function readLongCsv(text: string, options: LongCsvReadOptions = {}): LandmarkTable {
  const { file } = options;
  const [header, ...records] = parseCsv(text, file);
  if (!header) throw new LandmarkFileError(`empty file (expected the header ${LONG_CSV_COLUMNS.join(',')})`, { file });
  const names = header.fields.map((f) => f.trim().toLowerCase());
  const column = (name: string) => names.indexOf(name);
  const missing = ['image', 'landmark', 'x', 'y'].filter((c) => column(c) < 0);
  if (missing.length) {
    throw new LandmarkFileError(`header lacks the column${missing.length > 1 ? 's' : ''} ${missing.join(', ')} (expected ${LONG_CSV_COLUMNS.join(',')})`, {
      file,
      line: header.line,
    });
  }
  const [ci, cl, cx, cy, cc] = LONG_CSV_COLUMNS.map(column);

  const fixedOrder = options.landmarks !== undefined;
  const landmarks: string[] = fixedOrder ? [...(options.landmarks ?? [])] : [];
  const landmarkIndex = new Map(landmarks.map((n, i) => [n, i]));
  const images = new Map<string, Map<number, PlacedPoint | null>>();

  for (const { fields, line } of records) {
    const place = { file, line };
    if (fields.length !== header.fields.length) {
      throw new LandmarkFileError(`expected ${header.fields.length} columns as in the header, found ${fields.length}`, place);
    }
    const image = fields[ci];
    const landmark = fields[cl];
    if (image === '') throw new LandmarkFileError('the image name is empty', place);
    if (landmark === '') throw new LandmarkFileError('the landmark name is empty', place);
    let index = landmarkIndex.get(landmark);
    if (index === undefined) {
      if (fixedOrder) throw new LandmarkFileError(`landmark '${landmark}' is not in the scheme`, place);
      index = landmarks.push(landmark) - 1;
      landmarkIndex.set(landmark, index);
    }
    const points = images.get(image) ?? new Map<number, PlacedPoint | null>();
    images.set(image, points);
    if (points.has(index)) throw new LandmarkFileError(`landmark '${landmark}' of image '${image}' appears twice`, place);
    points.set(index, readPoint(fields[cx], fields[cy], cc >= 0 ? fields[cc] : '', landmark, place));
  }
  return {
    landmarks,
    images: [...images].map(([image, points]) => ({ image, points: landmarks.map((_, i) => points.get(i) ?? null) })),
  };
}

function readPoint(x: string, y: string, confidence: string, landmark: string, place: { file?: string; line: number }): PlacedPoint | null {
  if (x.trim() === '' && y.trim() === '') {
    if (confidence.trim() !== '') throw new LandmarkFileError(`landmark '${landmark}' has a confidence but no position`, place);
    return null;
  }
  const point: PlacedPoint = { x: parseDecimal(x, `x of '${landmark}'`, place), y: parseDecimal(y, `y of '${landmark}'`, place) };
  if (confidence.trim() !== '') {
    point.confidence = checkConfidence(parseDecimal(confidence, `confidence of '${landmark}'`, place), `confidence of '${landmark}'`, place);
  }
  return point;
}

export async function readLongCsvFile(path: string, options: Omit<LongCsvReadOptions, 'file'> = {}): Promise<LandmarkTable> {
  return readLongCsv(await readTextFile(path), { ...options, file: path });
}

export async function writeLongCsvFile(path: string, table: LandmarkTable): Promise<void> {
  await writeTextFile(path, writeLongCsv(table));
}
