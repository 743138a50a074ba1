/** Grey images for the landmark baselines, and moving points between sizes of the same image. */
import type { PixelImage } from '../../image';
import { resampleToUnit } from '../../data/prepare';
import { resizeHWC } from '../../data/resample';
import type { Point } from '../types';

/** One grey image, row-major, values in [0, 1]. */
export interface GreyImage {
  width: number;
  height: number;
  data: Float32Array;
}

export interface Size {
  width: number;
  height: number;
}

/** The first frame of a decoded image as grey in [0, 1] at its own size. */
export function greyFromRecord(record: PixelImage): GreyImage {
  const { width, height } = record;
  return { width, height, data: resampleToUnit(record, { width, height, channels: 1 }) };
}

/** Resized copy (area averaging when shrinking by more than 2, bilinear otherwise; see resample.ts). */
export function resizeGrey(image: GreyImage, width: number, height: number): GreyImage {
  if (width === image.width && height === image.height) return image;
  return { width, height, data: resizeHWC(image.data, image.width, image.height, 1, width, height) };
}

/** The size with the long side `longSide` and the aspect ratio of `size` (each side at least 1 px). */
export function sizeWithLongSide(size: Size, longSide: number): Size {
  const scale = longSide / Math.max(size.width, size.height);
  return { width: Math.max(1, Math.round(size.width * scale)), height: Math.max(1, Math.round(size.height * scale)) };
}

/**
 * The same physical point in the image resized from `from` to `to`. Pixel centres are the sample
 * positions (x = 0 is the centre of the first pixel), so x' = (x + 0.5)·sx − 0.5, per axis.
 */
export function mapPoint(p: Point, from: Size, to: Size): Point {
  return { x: (p.x + 0.5) * (to.width / from.width) - 0.5, y: (p.y + 0.5) * (to.height / from.height) - 0.5 };
}
