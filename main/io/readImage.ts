/** Reads one image file, or every image in a folder, into ImageRecords. */
import { basename, resolve } from 'node:path';
import type { DecodedImage } from './decodedImage';
import { flatImageWarning } from './decodeChecks';
import { readDicom } from './dicom/readDicom';
import { asImageReadError, DecodeFailure } from './errors';
import { ImageReadError, type ImageFormat, type ImageRecord } from './imageRecord';
import { InputFileError, readInputFile } from './inputFile';
import { scanFolder, type ListOptions } from './listImageFiles';
import { readJpeg } from './raster/jpeg';
import { readPng } from './raster/png';
import { readTiff } from './raster/tiff';
import { formatFromExtension, hasNoExtension, sniffFormat } from './sniffFormat';

export interface ReadImageOptions {
  /** Record id; defaults to the file name. */
  id?: string;
}

function fileError(file: string, err: unknown): ImageReadError {
  if (err instanceof InputFileError && err.kind !== 'folder') return new ImageReadError(file, err.reason, 'not-an-image');
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT') return new ImageReadError(file, 'file not found; it may have been moved or deleted', 'missing');
  if (code === 'EISDIR' || (err instanceof InputFileError && err.kind === 'folder')) return new ImageReadError(file, 'this is a folder, not an image file; open it as a folder instead', 'unsupported-format');
  if (code === 'EACCES' || code === 'EPERM') return new ImageReadError(file, 'file cannot be read (permission denied)', 'missing');
  return new ImageReadError(file, `file cannot be read (${(err as Error)?.message ?? String(err)})`, 'missing');
}

/** The format to decode with: content first, then the extension (DICOM without a preamble exists). */
function chooseFormat(bytes: Uint8Array, file: string): ImageFormat {
  if (bytes.length === 0) throw new DecodeFailure('the file is empty (0 bytes); it was not copied completely', 'truncated');
  const sniffed = sniffFormat(bytes);
  if (sniffed) return sniffed;
  const named = formatFromExtension(file);
  if (named === 'dicom' || (named === undefined && hasNoExtension(file))) return 'dicom';
  if (named) {
    throw new DecodeFailure(`the file is named as ${named.toUpperCase()} but its content is not ${named.toUpperCase()}; it is damaged or misnamed`, 'corrupt');
  }
  throw new DecodeFailure('not a DICOM, PNG, JPEG or TIFF file (neither its content nor its extension is one of these)', 'unsupported-format');
}

async function decode(bytes: Uint8Array, format: ImageFormat): Promise<DecodedImage> {
  switch (format) {
    case 'dicom':
      return readDicom(bytes);
    case 'png':
      return readPng(bytes);
    case 'jpeg':
      return readJpeg(bytes);
    case 'tiff':
      return readTiff(bytes);
  }
}

/** Reads and decodes one image; every failure is an ImageReadError naming the file. */
export async function readImage(path: string, opts: ReadImageOptions = {}): Promise<ImageRecord> {
  const file = resolve(path);
  let bytes: Buffer;
  try {
    bytes = await readInputFile(file);
  } catch (err) {
    throw fileError(file, err);
  }
  let format: ImageFormat | undefined;
  try {
    format = chooseFormat(bytes, file);
    const image = await decode(bytes, format);
    const flat = flatImageWarning(image);
    if (flat) image.warnings = [...(image.warnings ?? []), flat];
    return { id: opts.id ?? basename(file), path: file, ...image };
  } catch (err) {
    throw asImageReadError(file, err, `cannot decode ${format ?? 'the file'}`);
  }
}

export interface FolderProgress {
  done: number;
  total: number;
  /** Absolute path of the file just read. */
  file: string;
  ok: boolean;
}

export interface ReadFolderOptions extends ListOptions {
  onProgress?: (progress: FolderProgress) => void;
}

export interface ReadFailure {
  file: string;
  reason: string;
  code: ImageReadError['code'];
}

export interface FolderRead {
  records: ImageRecord[];
  failures: ReadFailure[];
}

/**
 * Reads every image in a folder in name order. Files that fail are reported in `failures`; only a
 * missing or unreadable folder, or one without any image file, throws.
 */
export async function readImageFolder(dir: string, options: ReadFolderOptions = {}): Promise<FolderRead> {
  const root = resolve(dir);
  const scan = await scanFolder(root, options);
  if (scan.files.length === 0) {
    const seen = [
      scan.ignored ? `${scan.ignored} other file(s) ignored` : 'the folder is empty',
      scan.subfolders ? `${scan.subfolders} subfolder(s) not searched` : '',
    ].filter(Boolean);
    const hint = scan.subfolders && !options.recursive ? 'choose the folder that holds the images, or include subfolders' : 'choose the folder that holds the images';
    throw new ImageReadError(root, `no DICOM, PNG, JPEG or TIFF images found (${seen.join(', ')}); ${hint}`, 'not-an-image');
  }
  const result: FolderRead = { records: [], failures: [] };
  for (const [i, { path, id }] of scan.files.entries()) {
    let ok = true;
    try {
      result.records.push(await readImage(path, { id }));
    } catch (err) {
      ok = false;
      const e = asImageReadError(path, err, 'cannot read');
      result.failures.push({ file: path, reason: e.reason, code: e.code });
    }
    options.onProgress?.({ done: i + 1, total: scan.files.length, file: path, ok });
  }
  return result;
}
