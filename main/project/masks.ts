/**
 * Segmentation masks of a project's images, on disk: `<project>/masks/<imageId>.png` holds the mask
 * (8-bit grey, 0 outside, 255 inside) at the image's original size, and `<imageId>.prob.png` the
 * probability map of a predicted mask (8-bit grey, probability × 255). Files are written atomically
 * (temp file + rename), so a reader sees the old mask or the new one, never half of one. The project
 * file records each mask (projectFile.ts `masks`); this module only reads and writes the pixels.
 *
 * In memory a mask is a Uint8Array of 0/1 values, row-major; a probability map a Uint8Array of
 * 0…255 (the stored value, as an 8-bit FRACTIONAL DICOM-SEG stores it).
 */
import { mkdirSync, rmSync } from 'node:fs';
import { ImageReadError, readImage } from '../io';
import { writeFileAtomic } from '../io/atomicWrite';
import { encodePng } from '../io/raster/pngEncode';
import { resolveStoredPath } from './projectStore';

export const MASKS_DIR = 'masks';

/** Stored (project-relative) paths of an image's mask and probability map. */
export function maskFilesOf(imageId: string): { file: string; probFile: string } {
  // image ids are `img-<n>`; anything else is made safe for a file name
  const stem = imageId.replace(/[^A-Za-z0-9_.-]/g, '_').replace(/^\.+/, '_');
  return { file: `${MASKS_DIR}/${stem}.png`, probFile: `${MASKS_DIR}/${stem}.prob.png` };
}

/** Fraction of the pixels inside (non-zero). */
export function foregroundOf(mask: Uint8Array): number {
  if (mask.length === 0) return 0;
  let on = 0;
  for (let i = 0; i < mask.length; i++) if (mask[i]) on++;
  return on / mask.length;
}

async function writeGrey(projectDir: string, stored: string, data: Uint8Array, width: number, height: number): Promise<void> {
  const png = await encodePng({ width, height, data }, 6);
  const path = resolveStoredPath(projectDir, stored);
  mkdirSync(resolveStoredPath(projectDir, MASKS_DIR), { recursive: true });
  writeFileAtomic(path, png);
}

/** Writes a 0/1 (or 0/non-zero) mask as a 0/255 PNG. */
export async function writeMaskPng(projectDir: string, stored: string, mask: Uint8Array, width: number, height: number): Promise<void> {
  if (mask.length !== width * height) throw new Error(`a ${width}×${height} mask needs ${width * height} values, got ${mask.length}`);
  const grey = new Uint8Array(mask.length);
  for (let i = 0; i < mask.length; i++) grey[i] = mask[i] ? 255 : 0;
  await writeGrey(projectDir, stored, grey, width, height);
}

/** Writes a probability map given as stored values 0…255. */
export async function writeProbabilityPng(projectDir: string, stored: string, values: Uint8Array, width: number, height: number): Promise<void> {
  if (values.length !== width * height) throw new Error(`a ${width}×${height} probability map needs ${width * height} values, got ${values.length}`);
  await writeGrey(projectDir, stored, values, width, height);
}

/** Probabilities in [0, 1] → stored values 0…255. */
export function probabilityBytes(prob: Float32Array): Uint8Array {
  const out = new Uint8Array(prob.length);
  for (let i = 0; i < prob.length; i++) {
    const p = prob[i];
    out[i] = p >= 1 ? 255 : p > 0 ? Math.round(p * 255) : 0;
  }
  return out;
}

/** The grey values of a mask file, checked against the expected size. */
async function readGrey(projectDir: string, stored: string, width: number, height: number, what: string): Promise<Float32Array> {
  const path = resolveStoredPath(projectDir, stored);
  let record;
  try {
    record = await readImage(path);
  } catch (err) {
    const reason = err instanceof ImageReadError ? err.reason : (err as Error).message;
    throw new Error(`${what} ${path} cannot be read (${reason}); segment the image again or import its mask`);
  }
  if (record.width !== width || record.height !== height || record.channels !== 1) {
    throw new Error(`${what} ${path} is ${record.width}×${record.height}${record.channels === 1 ? '' : ' colour'}, but the image is ${width}×${height}; segment the image again`);
  }
  return record.pixels;
}

/** A mask file → 0/1 values. */
export async function readMaskPng(projectDir: string, stored: string, width: number, height: number): Promise<Uint8Array> {
  const grey = await readGrey(projectDir, stored, width, height, 'the mask file');
  const out = new Uint8Array(grey.length);
  for (let i = 0; i < grey.length; i++) out[i] = grey[i] > 0 ? 1 : 0;
  return out;
}

/** A probability file → stored values 0…255. */
export async function readProbabilityPng(projectDir: string, stored: string, width: number, height: number): Promise<Uint8Array> {
  const grey = await readGrey(projectDir, stored, width, height, 'the probability map');
  const out = new Uint8Array(grey.length);
  for (let i = 0; i < grey.length; i++) out[i] = Math.max(0, Math.min(255, Math.round(grey[i])));
  return out;
}

/** Removes mask files (a missing file is not an error). */
export function removeMaskFiles(projectDir: string, stored: ReadonlyArray<string | undefined>): void {
  for (const s of stored) if (s) rmSync(resolveStoredPath(projectDir, s), { force: true });
}
