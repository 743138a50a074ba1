/**
 * Read or write a landmark file in the format its extension names: .mrk.json (Slicer, one image),
 * .json (COCO keypoints; Slicer markups saved as .json are recognised on read), .csv (long `image,landmark,x,y,confidence`, or wide `image,x1,y1,…` on
 * read), .txt (ISBI 2015, one image). The spine set's header-less CSV needs its file-name list and
 * image sizes: use readSpineCsvFiles.
 */
import type { LandmarkScheme, LandmarkTable } from '../../engine/landmarks/types';
import { readCocoKeypoints, writeCocoKeypointsFile } from './formats/cocoKeypoints';
import { parseCsv } from './formats/csvText';
import type { ImageGeometry } from './formats/dicomGeometry';
import { LandmarkFileError, readTextFile } from './formats/fileError';
import { readIsbiTxt, writeIsbiTxtFile } from './formats/isbiTxt';
import { isLongCsvHeader, readLongCsv, writeLongCsvFile } from './formats/longCsv';
import { readSlicerMarkups, writeSlicerMarkupsFile } from './formats/slicerMarkups';
import { isWideCsvHeader, readWideCsv, writeWideCsvFile } from './formats/wideCsv';
import { landmarkNames } from './schemes';
import { alignToLandmarks } from './table';

export type LandmarkFileFormat = 'slicer-markups' | 'coco-keypoints' | 'csv' | 'isbi-txt';

export interface LandmarkFileReadOptions {
  /** Landmark names and order; the names of .txt and wide CSV files (default: ISBI's 19 for .txt). */
  scheme?: LandmarkScheme;
  /** DICOM geometry of the image of a .mrk.json file. */
  geometry?: ImageGeometry;
  /** Image name for one-image formats (.mrk.json, .txt); default from the file. */
  image?: string;
  onWarning?: (message: string) => void;
}

export interface LandmarkFileWriteOptions {
  /** Descriptions (.mrk.json), category name and skeleton (COCO). */
  scheme?: LandmarkScheme;
  geometry?: ImageGeometry;
  /** .csv layout; default long. */
  csvLayout?: 'long' | 'wide';
}

const FORMATS: Array<[string, LandmarkFileFormat]> = [
  ['.mrk.json', 'slicer-markups'],
  ['.json', 'coco-keypoints'],
  ['.csv', 'csv'],
  ['.txt', 'isbi-txt'],
];

export function landmarkFileFormat(path: string): LandmarkFileFormat {
  const lower = path.toLowerCase();
  const match = FORMATS.find(([ext]) => lower.endsWith(ext));
  if (!match) {
    throw new LandmarkFileError(`unsupported landmark file type (expected ${FORMATS.map(([ext]) => ext).join(', ')})`, { file: path });
  }
  return match[1];
}

export async function readLandmarkFile(path: string, options: LandmarkFileReadOptions = {}): Promise<LandmarkTable> {
  const format = landmarkFileFormat(path);
  const text = await readTextFile(path);
  const landmarks = options.scheme ? landmarkNames(options.scheme) : undefined;
  const file = path;
  const readMarkups = () => readSlicerMarkups(text, { file, landmarks, geometry: options.geometry, image: options.image, onWarning: options.onWarning });
  switch (format) {
    case 'slicer-markups':
      return readMarkups();
    case 'coco-keypoints':
      // Slicer also saves markups as plain .json
      return /"@schema"\s*:\s*"[^"]*markups-schema-v1\./i.test(text) ? readMarkups() : readCocoKeypoints(text, { file, landmarks });
    case 'isbi-txt':
      return readIsbiTxt(text, { file, landmarks, image: options.image });
    case 'csv': {
      const header = parseCsv(text, file)[0];
      if (header && isLongCsvHeader(header.fields)) return readLongCsv(text, { file, landmarks });
      if (header && isWideCsvHeader(header.fields)) return readWideCsv(text, { file, landmarks });
      throw new LandmarkFileError(
        'unrecognised CSV layout: expected the header image,landmark,x,y,confidence or image,x1,y1,…,xN,yN (the spine set’s header-less files need readSpineCsvFiles)',
        { file, line: header?.line ?? 1 },
      );
    }
  }
}

export async function writeLandmarkFile(path: string, table: LandmarkTable, options: LandmarkFileWriteOptions = {}): Promise<void> {
  const { scheme } = options;
  // a scheme given for writing fixes the landmark order of the file too
  const ordered = scheme ? alignToLandmarks(table, landmarkNames(scheme)) : table;
  switch (landmarkFileFormat(path)) {
    case 'slicer-markups':
      return writeSlicerMarkupsFile(path, ordered, { geometry: options.geometry, descriptions: scheme?.landmarks.map((l) => l.description) });
    case 'coco-keypoints':
      return writeCocoKeypointsFile(path, ordered, { category: scheme?.id, skeleton: scheme?.skeleton });
    case 'isbi-txt':
      return writeIsbiTxtFile(path, ordered);
    case 'csv':
      return options.csvLayout === 'wide' ? writeWideCsvFile(path, ordered) : writeLongCsvFile(path, ordered);
  }
}
