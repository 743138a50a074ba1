/**
 * Reads a folder of images (or an explicit list of image files, e.g. a project's) and prepares each
 * one for training right away (the full-resolution pixels are dropped), so hundreds of large
 * radiographs fit in memory. Unreadable files are listed, not fatal; no usable image at all is.
 */
import { basename, isAbsolute, relative, resolve, sep } from 'node:path';
import { baseSizeFor, prepareImage, type PreparedImage } from '../engine/data';
import { readImage } from '../io';
import { ImageReadError } from '../io/imageRecord';
import { scanFolder, type ImageFile } from '../io/listImageFiles';

export interface ImageFailure {
  file: string;
  reason: string;
}

export interface LoadedImages {
  images: PreparedImage[];
  failures: ImageFailure[];
}

export interface TrainingImageOptions {
  cropSize: number;
  channels: 1 | 3;
  recursive?: boolean;
  /**
   * Train on exactly these image files instead of scanning `dir` (ids: the path relative to `dir`
   * when inside it, else the file name).
   */
  files?: readonly string[];
}

/** Image files given by path → ids as a folder scan would give them. */
export function imageFilesOf(dir: string, files: readonly string[]): ImageFile[] {
  const root = resolve(dir);
  return files.map((file) => {
    const path = resolve(file);
    const rel = relative(root, path);
    const inside = rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
    return { path, id: inside ? rel.split(sep).join('/') : basename(path) };
  });
}

export async function loadTrainingImages(
  dir: string,
  opts: TrainingImageOptions,
  onProgress?: (done: number, total: number, file: string) => void,
): Promise<LoadedImages> {
  const scan = opts.files ? { files: imageFilesOf(dir, opts.files) } : await scanFolder(dir, { recursive: opts.recursive });
  if (scan.files.length === 0) {
    const what = opts.files ? 'no image files were given to train on; import images first' : 'no DICOM, PNG, JPEG or TIFF images found in this folder; choose the folder that holds the images';
    throw new ImageReadError(dir, what, 'not-an-image');
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
