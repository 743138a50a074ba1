/**
 * Pixel ↔ patient (LPS, mm) mapping of a 2D image, from the DICOM attributes ImagePositionPatient,
 * PixelSpacing and ImageOrientationPatient. Images without them (PNG, JPEG) get the mapping Slicer
 * gives them on load: origin 0, spacing 1, identity directions, so LPS = (x, y, 0).
 */
import type { ImageGeometry, Point, Vec3 } from '../../../engine/landmarks/types';

export type { ImageGeometry, Vec3 };
import type { DicomSource, ImageRecord } from '../../imageRecord';

/** The geometry of an image without one; writers tell pixels from millimetres by this very object. */
export const PIXEL_GEOMETRY: ImageGeometry = {
  origin: [0, 0, 0],
  spacing: [1, 1],
  rowDirection: [1, 0, 0],
  columnDirection: [0, 1, 0],
};

/** LPS = origin + x·columnSpacing·rowDirection + y·rowSpacing·columnDirection. */
export function pixelToPatient(p: Point, g: ImageGeometry): Vec3 {
  const [rowSpacing, columnSpacing] = g.spacing;
  const u = p.x * columnSpacing;
  const v = p.y * rowSpacing;
  return [0, 1, 2].map((k) => g.origin[k] + u * g.rowDirection[k] + v * g.columnDirection[k]) as Vec3;
}

/**
 * The pixel whose patient position is nearest to `position` (least squares, so directions that are
 * not exactly orthonormal, as written by some scanners, still invert; a point off the plane projects).
 */
export function patientToPixel(position: Vec3, g: ImageGeometry): Point {
  const [rowSpacing, columnSpacing] = g.spacing;
  const a = g.rowDirection.map((c) => c * columnSpacing);
  const b = g.columnDirection.map((c) => c * rowSpacing);
  const d = position.map((c, k) => c - g.origin[k]);
  const dot = (p: number[], q: number[]) => p[0] * q[0] + p[1] * q[1] + p[2] * q[2];
  const aa = dot(a, a);
  const bb = dot(b, b);
  const ab = dot(a, b);
  const det = aa * bb - ab * ab;
  if (!(Math.abs(det) > 1e-12)) throw new Error('image geometry is degenerate (zero spacing or parallel directions)');
  const da = dot(d, a);
  const db = dot(d, b);
  return { x: (da * bb - db * ab) / det, y: (db * aa - da * ab) / det };
}

/** Geometry from the three DICOM attributes as read from a data set. */
export function geometryFromDicom(imagePositionPatient: number[], pixelSpacing: number[], imageOrientationPatient: number[]): ImageGeometry {
  if (imagePositionPatient.length !== 3 || pixelSpacing.length !== 2 || imageOrientationPatient.length !== 6) {
    throw new Error('DICOM geometry needs ImagePositionPatient (3 values), PixelSpacing (2) and ImageOrientationPatient (6)');
  }
  const [x, y, z] = imagePositionPatient;
  const [r0, r1, r2, c0, c1, c2] = imageOrientationPatient;
  return { origin: [x, y, z], spacing: [pixelSpacing[0], pixelSpacing[1]], rowDirection: [r0, r1, r2], columnDirection: [c0, c1, c2] };
}

/**
 * The geometry Slicer gives an image on load: from ImagePositionPatient / ImageOrientationPatient /
 * spacing when the image has a Frame of Reference; spacing only (origin 0, identity directions) for a
 * projection radiograph without one; pixels otherwise (PNG, JPEG). A decoded record, or the header
 * alone (main/io/dicom/metadata.ts readHeaderGeometry).
 */
export function imageGeometryOf(record: {
  spacing?: ImageRecord['spacing'];
  dicom?: Pick<DicomSource, 'imagePositionPatient' | 'imageOrientationPatient'>;
}): ImageGeometry {
  const spacing: [number, number] | undefined = record.spacing ? [record.spacing.row, record.spacing.column] : undefined;
  const ipp = record.dicom?.imagePositionPatient?.[0];
  const iop = record.dicom?.imageOrientationPatient;
  if (spacing && ipp?.length === 3 && iop?.length === 6) return geometryFromDicom(ipp, spacing, iop);
  if (spacing) return { ...PIXEL_GEOMETRY, spacing };
  return PIXEL_GEOMETRY;
}
