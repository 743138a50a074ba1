/**
 * Mask files: the one place where a Mask (common/mask.ts) becomes file bytes and back, for the
 * project's masks (main/project/masks.ts) and `ld-studio segment` alike. The mask is an 8-bit grey
 * PNG, 0 outside and 255 inside; its probability map a grey PNG of 8 bits (p·255, as an 8-bit
 * FRACTIONAL DICOM-SEG stores it) or 16 bits (p·65535). Files are written atomically.
 *
 * Reading takes any single-channel image: non-zero is inside, and a probability is the sample over
 * the largest value of its bit depth.
 */
import { maskProblem, type Mask } from '../../../common/mask';
import { writeFileAtomic } from '../atomicWrite';
import { ImageReadError } from '../imageRecord';
import { readImage } from '../readImage';
import { encodePng } from './pngEncode';

export type ProbabilityBits = 8 | 16;

/** Where a mask goes: the mask file, and its probability map's file when it is written or read. */
export interface MaskFiles {
  mask: string;
  probability?: string;
}

/** Probabilities in [0, 1] → the levels of a `bits`-bit file (out of range and NaN are clamped). */
export function probabilityLevels(probability: Float32Array, bits: 8): Uint8Array;
export function probabilityLevels(probability: Float32Array, bits: 16): Uint16Array;
export function probabilityLevels(probability: Float32Array, bits: ProbabilityBits): Uint8Array | Uint16Array;
export function probabilityLevels(probability: Float32Array, bits: ProbabilityBits): Uint8Array | Uint16Array {
  const max = bits === 8 ? 255 : 65535;
  const out = bits === 8 ? new Uint8Array(probability.length) : new Uint16Array(probability.length);
  for (let i = 0; i < probability.length; i++) {
    const p = probability[i];
    out[i] = p >= 1 ? max : p > 0 ? Math.round(p * max) : 0;
  }
  return out;
}

/**
 * Writes the mask and, when `files.probability` is named, its probability map (which the mask must
 * then have). Both are encoded before either is written.
 */
export async function writeMaskFiles(mask: Mask, files: MaskFiles, probabilityBits: ProbabilityBits = 8): Promise<void> {
  const problem = maskProblem(mask);
  if (problem) throw new Error(problem);
  const { width, height, inside, probability } = mask;
  if (files.probability && !probability) throw new Error(`${files.probability}: the mask has no probability map to write`);
  const grey = new Uint8Array(inside.length);
  for (let i = 0; i < inside.length; i++) grey[i] = inside[i] ? 255 : 0;
  const maskPng = await encodePng({ width, height, data: grey });
  // smooth levels: the sub filter makes a 16-bit map about a quarter of its unfiltered size
  const probPng = files.probability ? await encodePng({ width, height, data: probabilityLevels(probability!, probabilityBits), filter: 'sub' }) : undefined;
  writeFileAtomic(files.mask, maskPng);
  if (probPng) writeFileAtomic(files.probability!, probPng);
}

/** A mask file that cannot serve: unreadable, or not a one-channel image of the expected size. */
export class MaskFileError extends Error {
  constructor(
    readonly file: string,
    readonly kind: 'unreadable' | 'size',
    readonly reason: string,
  ) {
    super(`${file} ${kind === 'unreadable' ? `cannot be read (${reason})` : reason}`);
    this.name = 'MaskFileError';
  }
}

async function readGrey(path: string, width: number, height: number): Promise<{ samples: Float32Array; bits: number }> {
  let record;
  try {
    record = await readImage(path);
  } catch (err) {
    throw new MaskFileError(path, 'unreadable', err instanceof ImageReadError ? err.reason : (err as Error).message);
  }
  if (record.width !== width || record.height !== height || record.channels !== 1) {
    throw new MaskFileError(path, 'size', `is ${record.width}×${record.height}${record.channels === 1 ? '' : ' colour'}, but the image is ${width}×${height}`);
  }
  return { samples: record.pixels, bits: record.bitsStored };
}

/** The probability map of a file, at width × height. */
export async function readProbabilityFile(path: string, width: number, height: number): Promise<Float32Array> {
  const { samples, bits } = await readGrey(path, width, height);
  const max = 2 ** Math.min(16, Math.max(1, bits)) - 1;
  const probability = new Float32Array(samples.length);
  for (let i = 0; i < samples.length; i++) probability[i] = Math.max(0, Math.min(1, samples[i] / max));
  return probability;
}

/** The mask of `files.mask` and, when named, the probability map of `files.probability`, at width × height. */
export async function readMaskFiles(files: MaskFiles, width: number, height: number): Promise<Mask> {
  const grey = (await readGrey(files.mask, width, height)).samples;
  const inside = new Uint8Array(grey.length);
  for (let i = 0; i < grey.length; i++) inside[i] = grey[i] > 0 ? 1 : 0;
  const mask: Mask = { width, height, inside };
  if (files.probability) mask.probability = await readProbabilityFile(files.probability, width, height);
  return mask;
}
