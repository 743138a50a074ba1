/** Landmark schemes and landmark files (Slicer .mrk.json, COCO keypoints, CSV, ISBI .txt). */
export type { ImageLandmarks, LandmarkScheme, LandmarkTable, PlacedPoint, Point } from '../../engine/landmarks/types';
export {
  BUILTIN_SCHEME_IDS,
  landmarkNames,
  landmarkResourcesDir,
  loadBuiltinScheme,
  loadSchemeFile,
  parseScheme,
  schemeFromNames,
  type BuiltinSchemeId,
} from './schemes';
export {
  landmarkFileFormat,
  readLandmarkFile,
  writeLandmarkFile,
  type LandmarkFileFormat,
  type LandmarkFileReadOptions,
  type LandmarkFileWriteOptions,
} from './landmarkFile';
export { LandmarkFileError } from './formats/fileError';
export { geometryFromDicom, imageGeometryOf, patientToPixel, pixelToPatient, PIXEL_GEOMETRY, type ImageGeometry, type Vec3 } from './formats/dicomGeometry';
export {
  MARKUPS_SCHEMA_URL,
  readSlicerMarkups,
  readSlicerMarkupsFile,
  writeSlicerMarkups,
  writeSlicerMarkupsFile,
  type MarkupsReadOptions,
  type MarkupsWriteOptions,
} from './formats/slicerMarkups';
export { LONG_CSV_COLUMNS, readLongCsv, readLongCsvFile, writeLongCsv, writeLongCsvFile, type LongCsvReadOptions } from './formats/longCsv';
export { readIsbiTxt, readIsbiTxtFile, writeIsbiTxt, writeIsbiTxtFile, type IsbiReadOptions } from './formats/isbiTxt';
export {
  readCocoKeypoints,
  readCocoKeypointsFile,
  readCocoScheme,
  writeCocoKeypoints,
  writeCocoKeypointsFile,
  type CocoReadOptions,
  type CocoWriteOptions,
} from './formats/cocoKeypoints';
export { readWideCsv, readWideCsvFile, writeWideCsv, writeWideCsvFile, type WideCsvReadOptions } from './formats/wideCsv';
export {
  readSpineCsv,
  readSpineCsvFiles,
  readSpineFilenames,
  writeSpineCsv,
  writeSpineCsvFiles,
  type ImageSizeOf,
  type SpineCsvReadOptions,
} from './formats/spineCsv';
export { imageSizeFromBytes, readImageSize, type ImageSize } from './imageSize';
export { assertValidTable } from './table';
