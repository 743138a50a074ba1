/**
 * ISBI 2015 cephalometric annotation (.txt), one image per file: the first N lines are `x,y` integer
 * pixel coordinates; lines after them (the challenge files carry more) are ignored. Written verbatim
 * as the benchmark expects: exactly N lines of rounded integers.
 */
import type { ImageLandmarks, LandmarkTable, PlacedPoint } from '../../../engine/landmarks/types';
import { landmarkNames, loadBuiltinScheme } from '../schemes';
import { checkLandmarkNames, singleImage, stemOf } from '../table';
import { LandmarkFileError, readTextFile, writeTextFile } from './fileError';
import { parseDecimal } from './numbers';

export interface IsbiReadOptions {
  file?: string;
  /** Names of the N landmarks; default the 19 ISBI ones (resources/landmarks/isbi-ceph-19.json). */
  landmarks?: readonly string[];
  /** Image name; default the file's stem ("001" for 001.txt), else "". */
  image?: string;
}

const defaultNames = () => landmarkNames(loadBuiltinScheme('isbi-ceph-19'));

export function readIsbiTxt(text: string, options: IsbiReadOptions = {}): LandmarkTable {
  const { file } = options;
  const landmarks = options.landmarks ? [...options.landmarks] : defaultNames();
  checkLandmarkNames(landmarks, { file });
  const lines = text.split(/\r\n|\n|\r/);
  const points: PlacedPoint[] = landmarks.map((name, i) => {
    const line = lines[i];
    const place = { file, line: i + 1 };
    if (line === undefined || line.trim() === '') {
      throw new LandmarkFileError(`expected ${landmarks.length} lines of x,y coordinates, the file ends after ${i}`, place);
    }
    const parts = line.split(',');
    if (parts.length !== 2) throw new LandmarkFileError(`expected "x,y" (two numbers separated by a comma), found '${line.trim().slice(0, 40)}'`, place);
    return { x: parseDecimal(parts[0], `x of '${name}'`, place), y: parseDecimal(parts[1], `y of '${name}'`, place) };
  });
  const image = options.image ?? (file ? stemOf(file, '.txt') : '');
  return { landmarks, images: [{ image, points }] };
}

/** Exactly N lines `x,y`, rounded to whole pixels; every landmark must be placed. */
export function writeIsbiTxt(landmarks: readonly string[], image: ImageLandmarks): string {
  if (image.points.length !== landmarks.length) throw new Error(`image '${image.image}' has ${image.points.length} points for ${landmarks.length} landmarks`);
  return image.points
    .map((p, i) => {
      if (!p) throw new Error(`ISBI .txt cannot hold an unplaced landmark ('${landmarks[i]}' of image '${image.image}')`);
      if (!Number.isFinite(p.x) || !Number.isFinite(p.y)) throw new Error(`landmark '${landmarks[i]}' of image '${image.image}' has no finite position`);
      return `${Math.round(p.x)},${Math.round(p.y)}\n`;
    })
    .join('');
}

export async function readIsbiTxtFile(path: string, options: Omit<IsbiReadOptions, 'file'> = {}): Promise<LandmarkTable> {
  return readIsbiTxt(await readTextFile(path), { ...options, file: path });
}

export async function writeIsbiTxtFile(path: string, table: LandmarkTable): Promise<void> {
  await writeTextFile(path, writeIsbiTxt(table.landmarks, singleImage(table, 'An ISBI .txt file')));
}
