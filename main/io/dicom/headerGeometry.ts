/**
 * A DICOM file's pixel → patient geometry from its header, without decoding Pixel Data: for a project
 * image imported before its geometry was stored (import stores it now; main/project/imageGeometry.ts).
 */
import { asImageReadError } from '../errors';
import { readInputFile } from '../inputFile';
import { imageGeometryOf, type ImageGeometry } from '../landmarks/formats/dicomGeometry';
import { readHeaderGeometry } from './metadata';
import { parseDataSet } from './parseDataSet';

/** The geometry imageGeometryOf(readImage(file)) gives; a read or parse failure is an ImageReadError naming the file. */
export async function readDicomGeometry(file: string): Promise<ImageGeometry> {
  try {
    const { dataSet } = parseDataSet(await readInputFile(file));
    return imageGeometryOf(readHeaderGeometry(dataSet));
  } catch (err) {
    throw asImageReadError(file, err, 'cannot read the DICOM header');
  }
}
