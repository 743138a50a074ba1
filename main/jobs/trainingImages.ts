/**
 * Reads a folder of images and prepares each one for training right away (the full-resolution
 * pixels are dropped), so hundreds of large radiographs fit in memory. Unreadable files are listed,
 * not fatal; a folder with no usable image is.
 */
import { baseSizeFor, prepareImage, type PreparedImage } from '../engine/data';
import { readImage } from '../io';
import { ImageReadError } from '../io/imageRecord';
import { scanFolder } from '../io/listImageFiles';

export interface ImageFailure {
  file: string;
  reason: string;
}

export interface LoadedImages {
  images: PreparedImage[];
  failures: ImageFailure[];
}

export async function loadTrainingImages(
  dir: string,
  opts: { cropSize: number; channels: 1 | 3; recursive?: boolean },
  onProgress?: (done: number, total: number, file: string) => void,
): Promise<LoadedImages> {
  const scan = await scanFolder(dir, { recursive: opts.recursive });
  if (scan.files.length === 0) {
    throw new ImageReadError(dir, 'no DICOM, PNG, JPEG or TIFF images found in this folder; choose the folder that holds the images', 'not-an-image');
  }
  const baseSize = baseSizeFor(opts.cropSize);
  const out: LoadedImages = { images: [], failures: [] };
  for (const [i, file] of scan.files.entries()) {
    onProgress?.(i, scan.files.length, file.path);
    try {
      const record = await readImage(file.path, { id: file.id });
      out.images.push(prepareImage(record, { baseSize, channels: opts.channels }));
    } catch (err) {
      out.failures.push({ file: file.path, reason: err instanceof ImageReadError ? err.reason : (err as Error).message });
    }
  }
  onProgress?.(scan.files.length, scan.files.length, '');
  if (out.images.length === 0) {
    throw new ImageReadError(dir, `none of the ${scan.files.length} image file(s) could be read (first error: ${out.failures[0]?.reason})`, 'not-an-image');
  }
  return out;
}
