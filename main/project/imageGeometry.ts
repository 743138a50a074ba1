/**
 * An image's geometry between the project file and the landmark writers. The writers tell pixel
 * coordinates from millimetres by the PIXEL_GEOMETRY object itself (a DICOM with spacing 1 mm and no
 * Frame of Reference has the same numbers but is in mm), so the file says 'pixels' for it instead.
 */
import type { ImageGeometry } from '../engine/landmarks/types';
import { PIXEL_GEOMETRY } from '../io/landmarks/formats/dicomGeometry';
import type { StoredGeometry, StoredImage } from './projectFile';

const copyOf = (g: ImageGeometry): ImageGeometry => ({
  origin: [...g.origin],
  spacing: [...g.spacing],
  rowDirection: [...g.rowDirection],
  columnDirection: [...g.columnDirection],
});

export function storedGeometryOf(geometry: ImageGeometry): StoredGeometry {
  return geometry === PIXEL_GEOMETRY ? 'pixels' : copyOf(geometry);
}

export function geometryFromStored(stored: StoredGeometry): ImageGeometry {
  return stored === 'pixels' ? PIXEL_GEOMETRY : copyOf(stored);
}

/**
 * The geometry of an image as stored: PNG/JPEG/TIFF are in pixels; undefined for a DICOM imported
 * before geometry was stored (its header has to be read).
 */
export function storedImageGeometry(image: Pick<StoredImage, 'format' | 'geometry'>): ImageGeometry | undefined {
  if (image.format !== 'dicom') return PIXEL_GEOMETRY;
  return image.geometry && geometryFromStored(image.geometry);
}
