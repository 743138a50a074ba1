/**
 * Offline-style preparation of one decoded image for pre-training (ld-method.md §1.1): the paper resizes
 * every image once to 512×512 (aspect ratio NOT preserved) and the online augmentation crops 448 from it.
 * We do the same at a configurable base size, keeping the paper's 512/448 ratio (see `baseSizeFor`).
 */
import type { PixelImage } from '../image';
import { resizeHWC } from './resample';

/** One image ready for augmentation: square, HWC interleaved, values in [0, 1]. */
export interface PreparedImage {
  id: string;
  /** Width = height. */
  size: number;
  channels: 1 | 3;
  /** size·size·channels values, HWC interleaved, in [0, 1]. */
  data: Float32Array;
}

export interface PrepareOptions {
  /** Output width and height (the paper: 512). */
  baseSize: number;
  /** 1 = grey (X-ray), 3 = RGB (fundus). */
  channels: 1 | 3;
}

/** Luma weights (ITU-R 601, as PIL's 'L' conversion). */
export const LUMA_R = 0.299;
export const LUMA_G = 0.587;
export const LUMA_B = 0.114;

/** Base (pre-crop) size for a crop size, with the paper's ratio 512/448, rounded to the nearest integer. */
export function baseSizeFor(cropSize: number): number {
  if (!(cropSize > 0)) throw new Error(`baseSizeFor: bad crop size ${cropSize}`);
  return Math.round((cropSize * 512) / 448);
}

/**
 * First frame only → min-max scale with `record.range` to [0, 1] (a constant image, max == min, gives all
 * zeros) → channel conversion (RGB → grey by luma, grey → 3 copies) → resize to baseSize × baseSize.
 *
 * Resizing: area averaging (box filter) on any axis whose scale factor is < 0.5, bilinear otherwise
 * (see resample.ts). Both filters are linear and per channel, so converting channels before or after the
 * resize gives the same result; we convert RGB→grey before (less work) and grey→RGB after.
 */
export function prepareImage(record: PixelImage, opts: PrepareOptions): PreparedImage {
  const { baseSize, channels } = opts;
  if (!Number.isInteger(baseSize) || baseSize <= 0) throw new Error(`prepareImage: bad baseSize ${baseSize}`);
  const data = resampleToUnit(record, { width: baseSize, height: baseSize, channels });
  return { id: record.id, size: baseSize, channels, data };
}

/**
 * The first frame of `record`, min-max scaled to [0, 1] with `record.range`, converted to `channels`
 * and resized to width×height: HWC. Shared by training (square) and inference (aspect kept).
 */
export function resampleToUnit(record: PixelImage, opts: { width: number; height: number; channels: number }): Float32Array {
  const { width, height, channels } = opts;
  if (channels !== 1 && channels !== 3) throw new Error(`${record.id}: ${String(channels)} channels requested; only 1 and 3 are supported`);
  const W = record.width;
  const H = record.height;
  const Cin = record.channels;
  if (Cin !== 1 && Cin !== 3) throw new Error(`${record.id}: ${String(Cin)} channels are not supported`);
  const n = W * H;
  if (!(n > 0) || record.pixels.length < n * Cin) {
    throw new Error(`${record.id}: ${record.pixels.length} values for ${W}x${H}x${Cin}`);
  }
  const px = record.pixels; // the first frame is the first n·Cin values

  const lo = record.range.min;
  const span = record.range.max - record.range.min;
  const inv = span > 0 && Number.isFinite(span) ? 1 / span : 0;
  const scaled = (v: number) => {
    const t = (v - lo) * inv;
    return t < 0 ? 0 : t > 1 ? 1 : t; // clamp: guards a range that does not quite cover the pixels, and NaN → 0
  };

  // Scale to [0, 1] and reduce to the working channel count (grey if either side is grey).
  const Cw: 1 | 3 = Cin === 3 && channels === 3 ? 3 : 1;
  const work = new Float32Array(n * Cw);
  if (Cw === 3 || Cin === 1) {
    for (let i = 0; i < n * Cw; i++) work[i] = scaled(px[i]);
  } else {
    for (let i = 0, j = 0; i < n; i++, j += 3) {
      work[i] = LUMA_R * scaled(px[j]) + LUMA_G * scaled(px[j + 1]) + LUMA_B * scaled(px[j + 2]);
    }
  }

  const resized = W === width && H === height ? work : resizeHWC(work, W, H, Cw, width, height);
  let data: Float32Array;
  if (Cw === channels) {
    data = resized;
  } else {
    // grey → 3 identical channels
    const m = width * height;
    data = new Float32Array(m * 3);
    for (let i = 0, j = 0; i < m; i++, j += 3) {
      const v = resized[i];
      data[j] = v;
      data[j + 1] = v;
      data[j + 2] = v;
    }
  }
  // Bilinear/area weights are convex, so values stay in [0, 1] up to float rounding; clamp that away.
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (v < 0) data[i] = 0;
    else if (v > 1) data[i] = 1;
  }
  return data;
}
