/**
 * The decoded image the algorithm works on: pixels and their range, nothing about files. main/io's
 * ImageRecord is one (it adds the path, format and DICOM attributes), so readers' output goes in as is.
 */
export interface PixelImage {
  /** Names the image in messages and results. */
  id: string;
  width: number;
  height: number;
  /** 1 (grey) or 3 (RGB, interleaved). */
  channels: 1 | 3;
  /** Row-major, channels interleaved (first frame first). */
  pixels: Float32Array;
  /** Min and max of `pixels`, for normalisation. */
  range: { min: number; max: number };
}
