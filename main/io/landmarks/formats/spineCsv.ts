/**
 * The spine set's layout (AASCE 2019 / SpineWeb 16): `labels/<split>/landmarks.csv` has no header and
 * one row per image, in the order of `labels/<split>/filenames.csv`; each row holds x1..xN then
 * y1..yN, normalised to [0, 1] by the image's width and height. Reading needs the image sizes.
 */
import type { LandmarkTable, PlacedPoint } from '../../../engine/landmarks/types';
import type { ImageSize } from '../imageSize';
import { landmarkNames, loadBuiltinScheme } from '../schemes';
import { assertValidTable, checkLandmarkNames } from '../table';
import { csvRecord, parseCsv } from './csvText';
import { LandmarkFileError, readTextFile, writeTextFile } from './fileError';
import { formatNumber, parseDecimal } from './numbers';

export type ImageSizeOf = (image: string) => ImageSize;

export interface SpineCsvReadOptions {
  /** Names the landmarks file in messages. */
  file?: string;
  /** Names the file-names file in messages. */
  filenamesFile?: string;
  /** Names of the N landmarks; default the 68 of resources/landmarks/spine-68.json. */
  landmarks?: readonly string[];
  /** Told about coordinates outside [0, 1] (the training split has one), which are kept as they are. */
  onWarning?: (message: string) => void;
}

const defaultNames = () => landmarkNames(loadBuiltinScheme('spine-68'));

/** The image names of filenames.csv, one a line. */
export function readSpineFilenames(text: string, file?: string): string[] {
  return parseCsv(text, file).map(({ fields, line }) => {
    if (fields.length !== 1) throw new LandmarkFileError(`expected one file name, found ${fields.length} fields`, { file, line });
    return fields[0];
  });
}

export function readSpineCsv(landmarksText: string, filenamesText: string, sizeOf: ImageSizeOf, options: SpineCsvReadOptions = {}): LandmarkTable {
  const { file } = options;
  const landmarks = options.landmarks ? [...options.landmarks] : defaultNames();
  checkLandmarkNames(landmarks, { file });
  const n = landmarks.length;
  const names = readSpineFilenames(filenamesText, options.filenamesFile);
  const records = parseCsv(landmarksText, file);
  if (records.length !== names.length) {
    const filenames = options.filenamesFile ?? 'the file-name list';
    throw new LandmarkFileError(`${records.length} rows of landmarks but ${names.length} image names in ${filenames}`, { file });
  }
  let outside = 0;
  let firstOutside = 0;
  const images = records.map(({ fields, line }, r) => {
    const place = { file, line };
    if (fields.length !== 2 * n) throw new LandmarkFileError(`expected ${2 * n} numbers (x1..x${n} then y1..y${n}), found ${fields.length}`, place);
    const image = names[r];
    const { width, height } = sizeOf(image);
    if (!(width > 0 && height > 0)) throw new LandmarkFileError(`image '${image}' has no valid size (${width}×${height})`, place);
    const points = landmarks.map((name, i): PlacedPoint => {
      const nx = parseDecimal(fields[i], `x${i + 1} ('${name}')`, place);
      const ny = parseDecimal(fields[n + i], `y${i + 1} ('${name}')`, place);
      if (nx < 0 || nx > 1 || ny < 0 || ny > 1) {
        outside += 1;
        firstOutside ||= line;
      }
      return { x: nx * width, y: ny * height };
    });
    return { image, width, height, points };
  });
  if (outside) options.onWarning?.(`${file ?? 'spine landmarks'}: ${outside} point(s) lie outside the image (first on line ${firstOutside}); kept as they are`);
  return { landmarks, images };
}

/**
 * Read a split given its two files; `sizeOf` may be async (e.g. reading each image's header) and is
 * asked once per image, in file order.
 */
export async function readSpineCsvFiles(
  landmarksPath: string,
  filenamesPath: string,
  sizeOf: (image: string) => ImageSize | Promise<ImageSize>,
  options: Omit<SpineCsvReadOptions, 'file' | 'filenamesFile'> = {},
): Promise<LandmarkTable> {
  const [landmarksText, filenamesText] = [await readTextFile(landmarksPath), await readTextFile(filenamesPath)];
  const sizes = new Map<string, ImageSize>();
  for (const name of readSpineFilenames(filenamesText, filenamesPath)) sizes.set(name, await sizeOf(name));
  return readSpineCsv(landmarksText, filenamesText, (name) => sizes.get(name) as ImageSize, {
    ...options,
    file: landmarksPath,
    filenamesFile: filenamesPath,
  });
}

/** The two files' text; every image needs its size and all its landmarks placed. */
export function writeSpineCsv(table: LandmarkTable): { landmarks: string; filenames: string } {
  assertValidTable(table);
  const rows = table.images.map((im) => {
    const { width, height } = im;
    if (width === undefined || height === undefined) throw new Error(`the spine layout needs the size of image '${im.image}'`);
    const placed = im.points.map((p, i) => {
      if (!p) throw new Error(`the spine layout cannot hold an unplaced landmark ('${table.landmarks[i]}' of image '${im.image}')`);
      return p;
    });
    return csvRecord([...placed.map((p) => formatNumber(p.x / width)), ...placed.map((p) => formatNumber(p.y / height))]);
  });
  return { landmarks: rows.join(''), filenames: table.images.map((im) => csvRecord([im.image])).join('') };
}

export async function writeSpineCsvFiles(landmarksPath: string, filenamesPath: string, table: LandmarkTable): Promise<void> {
  const { landmarks, filenames } = writeSpineCsv(table);
  await writeTextFile(landmarksPath, landmarks);
  await writeTextFile(filenamesPath, filenames);
}
