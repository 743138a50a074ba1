/** The one type every reader returns: decoded pixels plus what later stages need to know. */

import type { ImageFormat } from '../../common/names';
import type { PixelImage } from '../engine/image';

export type { ImageFormat };

/** Source metadata kept from a DICOM file, enough to write a derived SEG or SR later. */
export interface DicomSource {
  transferSyntaxUID: string;
  sopClassUID: string;
  sopInstanceUID: string;
  studyInstanceUID: string;
  seriesInstanceUID: string;
  frameOfReferenceUID?: string;
  modality?: string;
  photometricInterpretation: string;
  bitsAllocated: number;
  bitsStored: number;
  pixelRepresentation: number;
  rescaleSlope: number;
  rescaleIntercept: number;
  /** The file's first Window Center / Width (modality units), for the initial display. */
  window?: { center: number; width: number };
  /** Patient / study / equipment attributes to copy into derived objects (DICOM keyword → value). */
  context: Record<string, unknown>;
  /** Per-frame geometry, present when the source has a Frame of Reference. */
  imagePositionPatient?: number[][];
  imageOrientationPatient?: number[];
}

export interface ImageRecord extends PixelImage {
  /** Stable id within a folder: the file's path relative to the folder it was read from, or its name. */
  id: string;
  /** Absolute path of the file it came from. */
  path: string;
  format: ImageFormat;
  width: number;
  height: number;
  /** 1 (grey) or 3 (RGB, interleaved). */
  channels: 1 | 3;
  /** Number of frames (multi-frame DICOM); 1 otherwise. */
  frames: number;
  /**
   * Pixel values, frame-major then row-major, channels interleaved: index = ((f·H + y)·W + x)·C + c.
   * DICOM: modality values after Rescale Slope/Intercept; MONOCHROME1 is inverted so that larger
   * always means brighter (see `inverted`).
   */
  pixels: Float32Array;
  /** Min and max of `pixels`, for windowing and normalisation. */
  range: { min: number; max: number };
  /** Bits per sample of the stored data (8, 12, 16 …). */
  bitsStored: number;
  /** True when the source was MONOCHROME1 and values were inverted on read. */
  inverted: boolean;
  /** Pixel spacing in mm (row spacing, column spacing) when the file states it. */
  spacing?: {
    row: number;
    column: number;
    /**
     * Which attribute it came from: PixelSpacing is in the patient plane; ImagerPixelSpacing (projection
     * radiographs) is at the detector, not corrected for geometric magnification.
     */
    source?: 'PixelSpacing' | 'ImagerPixelSpacing';
  };
  dicom?: DicomSource;
  /** Doubts about the decode (main/io/decodeChecks.ts): the pixels are used, but may be wrong. */
  warnings?: string[];
}

/** Every read failure carries the file and a reason a person can act on. */
export class ImageReadError extends Error {
  constructor(
    readonly file: string,
    readonly reason: string,
    readonly code:
      | 'missing'
      | 'truncated'
      | 'unsupported-transfer-syntax'
      | 'not-an-image'
      | 'unsupported-format'
      | 'corrupt',
  ) {
    super(`${file}: ${reason}`);
    this.name = 'ImageReadError';
  }
}
