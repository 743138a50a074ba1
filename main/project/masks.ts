/**
 * Segmentation masks of a project's images, on disk: `<project>/masks/<imageId>.png` holds the mask
 * (8-bit grey, 0 outside, 255 inside) at the image's original size, and `<imageId>.prob.png` the
 * probability map of a predicted mask (8-bit grey, probability × 255). The bytes are
 * main/io/raster/maskPng.ts's; files are written atomically (temp file + rename), so a reader sees
 * the old mask or the new one, never half of one. The project file records each mask
 * (projectFile.ts `masks`); this module only reads and writes the pixels, as a Mask (common/mask.ts).
 */
import { mkdirSync, rmSync } from 'node:fs';
import type { Mask } from '../../common/mask';
import { MaskFileError, probabilityLevels, readMaskFiles, readProbabilityFile, writeMaskFiles } from '../io/raster/maskPng';
import { resolveStoredPath } from './projectStore';

export const MASKS_DIR = 'masks';

/** Stored (project-relative) paths of an image's mask and probability map. */
export function maskFilesOf(imageId: string): { file: string; probFile: string } {
  // image ids are `img-<n>`; anything else is made safe for a file name
  const stem = imageId.replace(/[^A-Za-z0-9_.-]/g, '_').replace(/^\.+/, '_');
  return { file: `${MASKS_DIR}/${stem}.png`, probFile: `${MASKS_DIR}/${stem}.prob.png` };
}

/**
 * Writes an image's mask, and its probability map when it has one (8-bit); a mask without one
 * removes an older map, so the files never pair a new mask with an old map.
 */
export async function writeMask(projectDir: string, stored: { file: string; probFile: string }, mask: Mask): Promise<void> {
  mkdirSync(resolveStoredPath(projectDir, MASKS_DIR), { recursive: true });
  const probability = mask.probability ? resolveStoredPath(projectDir, stored.probFile) : undefined;
  await writeMaskFiles(mask, { mask: resolveStoredPath(projectDir, stored.file), probability }, 8);
  if (!probability) removeMaskFiles(projectDir, [stored.probFile]);
}

/** The error of a mask file, as the user reads it: which file, and what to do. */
async function explained<T>(read: Promise<T>, probabilityFile: string | undefined): Promise<T> {
  try {
    return await read;
  } catch (err) {
    if (!(err instanceof MaskFileError)) throw err;
    const what = err.file === probabilityFile ? 'the probability map' : 'the mask file';
    const fix = err.kind === 'unreadable' ? 'segment the image again or import its mask' : 'segment the image again';
    throw new Error(`${what} ${err.message}; ${fix}`);
  }
}

/** An image's mask (and its probability map when `stored.probFile` is given), checked against the image's size. */
export async function readMask(projectDir: string, stored: { file: string; probFile?: string }, width: number, height: number): Promise<Mask> {
  const probability = stored.probFile ? resolveStoredPath(projectDir, stored.probFile) : undefined;
  return explained(readMaskFiles({ mask: resolveStoredPath(projectDir, stored.file), probability }, width, height), probability);
}

/** A mask file → 0/1 values (for the DICOM-SEG exporter). */
export async function readMaskPng(projectDir: string, stored: string, width: number, height: number): Promise<Uint8Array> {
  return (await readMask(projectDir, { file: stored }, width, height)).inside;
}

/** A probability file → its stored values 0…255 (as the 8-bit FRACTIONAL DICOM-SEG exporter takes them). */
export async function readProbabilityPng(projectDir: string, stored: string, width: number, height: number): Promise<Uint8Array> {
  const path = resolveStoredPath(projectDir, stored);
  return probabilityLevels(await explained(readProbabilityFile(path, width, height), path), 8);
}

/** Removes mask files (a missing file is not an error). */
export function removeMaskFiles(projectDir: string, stored: ReadonlyArray<string | undefined>): void {
  for (const s of stored) if (s) rmSync(resolveStoredPath(projectDir, s), { force: true });
}
