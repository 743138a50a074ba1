/** Checks and small transformations of LandmarkTable shared by the file formats. */
import type { ImageLandmarks, LandmarkTable, PlacedPoint } from '../../engine/landmarks/types';
import { LandmarkFileError, type TextPlace } from './formats/fileError';

/** Generic names "L1".."Ln" for formats that carry no names (ISBI .txt, wide CSV). */
export function genericNames(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `L${i + 1}`);
}

/** Landmark names must be non-empty and unique: files refer to landmarks by name. */
export function checkLandmarkNames(names: readonly string[], place: TextPlace = {}): void {
  const seen = new Set<string>();
  for (const name of names) {
    if (name.trim() === '') throw new LandmarkFileError('a landmark has an empty name', place);
    if (seen.has(name)) throw new LandmarkFileError(`landmark '${name}' appears twice`, place);
    seen.add(name);
  }
}

/**
 * A table is written only when it is consistent: one point slot per landmark, finite coordinates,
 * confidences in [0, 1], unique image names (files key rows by image name).
 */
export function assertValidTable(table: LandmarkTable): void {
  checkLandmarkNames(table.landmarks);
  const images = new Set<string>();
  for (const image of table.images) {
    const where = `image '${image.image}'`;
    if (images.has(image.image)) throw new Error(`${where} appears twice in the landmark table`);
    images.add(image.image);
    if (image.points.length !== table.landmarks.length) {
      throw new Error(`${where} has ${image.points.length} points for ${table.landmarks.length} landmarks`);
    }
    image.points.forEach((p, i) => {
      if (!p) return;
      if (!Number.isFinite(p.x) || !Number.isFinite(p.y)) throw new Error(`${where}, landmark '${table.landmarks[i]}': coordinates must be finite numbers`);
      if (p.confidence !== undefined && !(p.confidence >= 0 && p.confidence <= 1)) {
        throw new Error(`${where}, landmark '${table.landmarks[i]}': confidence must lie between 0 and 1`);
      }
    });
  }
}

/** The one image of a table, for formats that hold one image per file. */
export function singleImage(table: LandmarkTable, format: string): ImageLandmarks {
  if (table.images.length !== 1) {
    throw new Error(`${format} holds the landmarks of one image; this table has ${table.images.length} (write one file per image)`);
  }
  return table.images[0];
}

/**
 * Reorder a table read from a file that names its landmarks to the order of `names` (a scheme's);
 * landmarks the scheme lacks are errors, landmarks the file lacks are unplaced.
 */
export function alignToLandmarks(table: LandmarkTable, names: readonly string[], place: TextPlace = {}): LandmarkTable {
  const index = new Map(names.map((n, i) => [n, i]));
  const unknown = table.landmarks.filter((n) => !index.has(n));
  if (unknown.length) {
    throw new LandmarkFileError(`landmark${unknown.length > 1 ? 's' : ''} ${unknown.map((n) => `'${n}'`).join(', ')} not in the scheme`, place);
  }
  const from = names.map((n) => table.landmarks.indexOf(n));
  return {
    landmarks: [...names],
    images: table.images.map((im) => ({ ...im, points: from.map((j): PlacedPoint | null => (j >= 0 ? im.points[j] : null)) })),
  };
}

/** File name without folders and without the given extension (case-insensitive), e.g. the image of a .txt file. */
export function stemOf(path: string, extension: string): string {
  const base = path.split(/[\\/]/).pop() ?? path;
  return base.toLowerCase().endsWith(extension.toLowerCase()) ? base.slice(0, base.length - extension.length) : base;
}
