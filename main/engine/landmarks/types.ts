/**
 * Landmark data shared by propagation, evaluation, the file formats and the app.
 *
 * Coordinates are continuous pixel coordinates of the ORIGINAL image: x to the right, y down, the
 * centre of the top-left pixel at (0, 0) (ISBI .txt, the team's CSV files and OpenCV agree on this).
 */

export interface Point {
  x: number;
  y: number;
}

/** A placed landmark; `confidence` in [0, 1] (higher = more trustworthy) when it was predicted. */
export interface PlacedPoint extends Point {
  confidence?: number;
}

/** A named landmark set (a template's definition): names in a fixed order. */
export interface LandmarkScheme {
  /** Short identifier, e.g. "isbi-ceph-19", "hand-37", "spine-68". */
  id: string;
  title: string;
  landmarks: Array<{ name: string; description?: string }>;
  /** Optional pairs of landmark indices to draw as lines (COCO `skeleton`, 0-based here). */
  skeleton?: Array<[number, number]>;
}

/** The landmarks of one image, aligned with the scheme's order; null = not placed. */
export interface ImageLandmarks {
  /** Image identifier as written in files: a file name relative to the image folder (or its stem). */
  image: string;
  /** Original image size in pixels, when known (needed by COCO, normalised CSVs, mrk.json). */
  width?: number;
  height?: number;
  points: Array<PlacedPoint | null>;
}

/** Landmarks of many images under one scheme. */
export interface LandmarkTable {
  landmarks: string[];
  images: ImageLandmarks[];
}

export type Vec3 = [number, number, number];

/** Pixel → patient (LPS, mm) mapping of a 2-D image (main/io/landmarks/formats/dicomGeometry.ts). */
export interface ImageGeometry {
  /** ImagePositionPatient: LPS position (mm) of the centre of the top-left pixel. */
  origin: Vec3;
  /** PixelSpacing in DICOM order: [row spacing (between rows, vertical), column spacing (between columns, horizontal)] in mm. */
  spacing: [number, number];
  /** ImageOrientationPatient[0..2]: LPS direction of increasing x (along a row). */
  rowDirection: Vec3;
  /** ImageOrientationPatient[3..5]: LPS direction of increasing y (down a column). */
  columnDirection: Vec3;
}
