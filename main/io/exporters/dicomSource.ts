/**
 * The DICOM images a SEG or SR is derived from: read with main/io (so a damaged file fails here, with
 * the same messages as everywhere else in the app) and with dcmjs for the attributes to copy.
 */
import { stat } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { readDicom } from '../dicom/readDicom';
import { asImageReadError } from '../errors';
import { InputFileError, readInputFile } from '../inputFile';
import { scanFolder } from '../listImageFiles';
import { formatFromExtension, hasNoExtension, sniffFormat } from '../sniffFormat';
import type { ImageFormat } from '../imageRecord';
import { readNaturalDataset, type NaturalDataset } from './dcmjs';
import { ExportError } from './exportError';

/** Plane geometry of a source that has a Frame of Reference (CT, MR, …). */
export interface SourceGeometry {
  imagePositionPatient: number[];
  imageOrientationPatient: number[];
  /** [row spacing, column spacing] in mm. */
  pixelSpacing: number[];
  sliceThickness?: number;
}

export interface SourceImage {
  path: string;
  rows: number;
  columns: number;
  sopClassUID: string;
  sopInstanceUID: string;
  studyInstanceUID: string;
  seriesInstanceUID: string;
  modality?: string;
  frameOfReferenceUID?: string;
  /** Present when the source has a Frame of Reference and full plane geometry. */
  geometry?: SourceGeometry;
  /** The header as read by dcmjs (no Pixel Data), to copy Patient/Study and other attributes from. */
  dataset: NaturalDataset;
}

/** Objects found among images that are not images to derive from (a SEG or SR of the same series). */
const DERIVED_OBJECT_CLASSES: Record<string, string> = {
  '1.2.840.10008.5.1.4.1.1.66.4': 'a Segmentation (SEG)',
  '1.2.840.10008.5.1.4.1.1.66.7': 'a Label Map Segmentation',
  '1.2.840.10008.5.1.4.1.1.88.22': 'an Enhanced Structured Report',
  '1.2.840.10008.5.1.4.1.1.88.33': 'a Comprehensive Structured Report',
  '1.2.840.10008.5.1.4.1.1.88.34': 'a Comprehensive 3D Structured Report',
  '1.2.840.10008.5.1.4.1.1.11.1': 'a Grayscale Softcopy Presentation State',
};

/** A file that is DICOM but no image to derive from: refused when named, skipped in a folder. */
export class NotASourceError extends ExportError {}

/** Why a PNG/JPEG/TIFF cannot be the source of a DICOM object, and what to do instead. */
export function nonDicomSourceReason(format: ImageFormat, what = 'DICOM-SEG'): string {
  return (
    `${what} needs a DICOM source image, but this is a ${format.toUpperCase()} file: a ${what} object references its source ` +
    `by the source's Study, Series and SOP Instance UIDs and copies its patient and study, which a ${format.toUpperCase()} does not have. ` +
    (what === 'DICOM-SEG'
      ? 'Export the masks as PNG instead, or import the DICOM originals into the project and export from those.'
      : 'Export the landmarks as CSV or Slicer .mrk.json instead, or import the DICOM originals into the project and export from those.')
  );
}

const numbersOf = (value: unknown): number[] | undefined => {
  const list = Array.isArray(value) ? value : value === undefined || value === null || value === '' ? [] : [value];
  const numbers = list.map((v) => (typeof v === 'number' ? v : Number(v)));
  return numbers.length && numbers.every(Number.isFinite) ? numbers : undefined;
};

const textOf = (value: unknown): string | undefined => (typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined);

async function readSourceBytes(file: string): Promise<Uint8Array> {
  try {
    return await readInputFile(file);
  } catch (err) {
    if (err instanceof InputFileError) throw new ExportError(err.kind === 'folder' ? 'this is a folder; give a DICOM file' : err.reason, file);
    const code = (err as NodeJS.ErrnoException).code;
    throw new ExportError(code === 'ENOENT' ? 'source image not found' : `cannot read the source image (${(err as Error).message})`, file);
  }
}

const hasPart10Header = (bytes: Uint8Array) =>
  bytes.length >= 132 && bytes[128] === 0x44 && bytes[129] === 0x49 && bytes[130] === 0x43 && bytes[131] === 0x4d;

/** Decodes the pixels (which proves the file whole) and refuses multi-frame images. */
async function decodeSource(bytes: Uint8Array, file: string): Promise<{ width: number; height: number }> {
  let decoded: Awaited<ReturnType<typeof readDicom>>;
  try {
    decoded = await readDicom(bytes);
  } catch (err) {
    const failure = asImageReadError(file, err, 'cannot decode DICOM');
    const reason = `the source image cannot be read: ${failure.reason}`;
    throw failure.code === 'not-an-image' ? new NotASourceError(reason, file) : new ExportError(reason, file);
  }
  if (decoded.frames !== 1) {
    throw new ExportError(`multi-frame source images (${decoded.frames} frames) are not supported; export from single-frame images`, file);
  }
  return decoded;
}

/** Plane geometry, when the source has a Frame of Reference and all of position, orientation and spacing. */
function geometryOf(dataset: NaturalDataset): SourceGeometry | undefined {
  const ipp = numbersOf(dataset.ImagePositionPatient);
  const iop = numbersOf(dataset.ImageOrientationPatient);
  const spacing = numbersOf(dataset.PixelSpacing);
  if (!(ipp?.length === 3 && iop?.length === 6 && spacing?.length === 2 && spacing.every((s) => s > 0))) return undefined;
  const geometry: SourceGeometry = { imagePositionPatient: ipp, imageOrientationPatient: iop, pixelSpacing: spacing };
  const thickness = numbersOf(dataset.SliceThickness)?.[0];
  if (thickness !== undefined && thickness > 0) geometry.sliceThickness = thickness;
  return geometry;
}

/**
 * The size a derived object needs, from the header alone, for a file a caller has decoded before (a
 * project's image, decoded at import): no fourth decode of the pixels at export.
 */
function sizeFromHeader(dataset: NaturalDataset, file: string, expected: { width: number; height: number }): { width: number; height: number } {
  const rows = numbersOf(dataset.Rows)?.[0];
  const columns = numbersOf(dataset.Columns)?.[0];
  const frames = numbersOf(dataset.NumberOfFrames)?.[0] ?? 1;
  if (frames !== 1) throw new ExportError(`multi-frame source images (${frames} frames) are not supported; export from single-frame images`, file);
  if (rows !== expected.height || columns !== expected.width) {
    throw new ExportError(`the file is now ${columns ?? '?'}×${rows ?? '?'}, but it was ${expected.width}×${expected.height} when imported; remove the image and import it again`, file);
  }
  return expected;
}

export interface SourceReadOptions {
  /** What the derived object is, for messages (default DICOM-SEG). */
  what?: string;
  /**
   * The size the caller decoded this file at before: the pixels are then not decoded again, only the
   * header is read and checked against it. Without it the pixels are decoded, which proves the file whole.
   */
  decodedAs?: { width: number; height: number };
}

/** Reads one source image; every problem is an ExportError naming the file. */
export async function readSourceImage(path: string, options: string | SourceReadOptions = {}): Promise<SourceImage> {
  const { what = 'DICOM-SEG', decodedAs } = typeof options === 'string' ? { what: options } : options;
  const file = resolve(path);
  const bytes = await readSourceBytes(file);
  const format = sniffFormat(bytes) ?? formatFromExtension(file) ?? (hasNoExtension(file) ? 'dicom' : undefined);
  if (format && format !== 'dicom') throw new ExportError(nonDicomSourceReason(format, what), file);

  let dataset: NaturalDataset | undefined;
  let headerError: unknown;
  try {
    dataset = readNaturalDataset(bytes, { withoutPixelData: true });
  } catch (err) {
    headerError = err;
  }
  // a SEG or SR among the images is named as such before its pixels (if any) are looked at
  const sopClass = textOf(dataset?.SOPClassUID);
  if (sopClass && DERIVED_OBJECT_CLASSES[sopClass]) {
    throw new NotASourceError(`this is ${DERIVED_OBJECT_CLASSES[sopClass]}, not an image a ${what} can be derived from`, file);
  }
  const { width, height } = decodedAs && dataset ? sizeFromHeader(dataset, file, decodedAs) : await decodeSource(bytes, file);
  if (!dataset) {
    throw new ExportError(
      hasPart10Header(bytes)
        ? `cannot read the DICOM attributes (${(headerError as Error)?.message ?? String(headerError)})`
        : 'the file has no DICOM Part 10 header (128-byte preamble and "DICM"); re-save it first, e.g. `dcmconv in.dcm out.dcm` (DCMTK)',
      file,
    );
  }
  const header = dataset;
  const uid = (keyword: string) => {
    const value = textOf(header[keyword]);
    if (!value) throw new ExportError(`the source image has no ${keyword}, which the derived object must reference`, file);
    return value;
  };
  const source: SourceImage = {
    path: file,
    rows: height,
    columns: width,
    sopClassUID: uid('SOPClassUID'),
    sopInstanceUID: uid('SOPInstanceUID'),
    studyInstanceUID: uid('StudyInstanceUID'),
    seriesInstanceUID: uid('SeriesInstanceUID'),
    dataset,
  };
  const modality = textOf(dataset.Modality);
  if (modality) source.modality = modality;
  const frameOfReferenceUID = textOf(dataset.FrameOfReferenceUID);
  if (frameOfReferenceUID) {
    source.frameOfReferenceUID = frameOfReferenceUID;
    const geometry = geometryOf(dataset);
    if (geometry) source.geometry = geometry;
  }
  return source;
}

/**
 * The files a --source argument names: the file itself, or the images of a folder (not its
 * subfolders), in natural name order. Reading them with readSources skips SEG/SR files in a folder.
 */
export async function sourceFiles(path: string): Promise<string[]> {
  const target = resolve(path);
  let isDirectory: boolean;
  try {
    isDirectory = (await stat(target)).isDirectory();
  } catch {
    throw new ExportError('source not found; give a DICOM file or a folder of DICOM files', target);
  }
  if (!isDirectory) return [target];
  const scan = await scanFolder(target);
  if (scan.files.length === 0) throw new ExportError('the source folder holds no DICOM images', target);
  return scan.files.map((f) => f.path);
}

/** File name without a DICOM extension: the stem masks are named after ("01.dcm" → "01"). */
export function sourceStem(path: string): string {
  const name = basename(path);
  const format = formatFromExtension(name);
  return format === 'dicom' ? name.replace(/\.[^.]+$/, '') : name;
}

export interface SourceSet {
  sources: SourceImage[];
  /** Files of a source folder that are DICOM but not images (an earlier SEG, an SR), left out. */
  skipped: Array<{ file: string; reason: string }>;
}

/** The source images a --source argument names; a folder's SEG/SR files are skipped, not fatal. */
export async function readSources(path: string, what = 'DICOM-SEG'): Promise<SourceSet> {
  const files = await sourceFiles(path);
  const folder = files.length !== 1 || files[0] !== resolve(path);
  const set: SourceSet = { sources: [], skipped: [] };
  for (const file of files) {
    try {
      set.sources.push(await readSourceImage(file, what));
    } catch (err) {
      if (!(folder && err instanceof NotASourceError)) throw err;
      set.skipped.push({ file, reason: err.reason });
    }
  }
  if (set.sources.length === 0) throw new ExportError(`the source folder holds no DICOM images (only ${set.skipped.length} other DICOM object(s))`, resolve(path));
  return set;
}
