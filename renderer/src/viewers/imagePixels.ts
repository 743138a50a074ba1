/**
 * Fetch an image's decoded pixels from the main process and cache them as a Cornerstone local image.
 * World coordinates equal pixel-centre image coordinates (origin 0, spacing 1): Cornerstone puts
 * imagePositionPatient at the centre of the first pixel, which is exactly the app's convention.
 */
import { cache, Enums, imageLoader, utilities } from '@cornerstonejs/core';
import { pixelsHeaderName, type PixelsHeader } from '../../../common/api';
import { useApi } from '../api/client';

export interface LoadedImage {
  imageId: string;
  header: PixelsHeader;
}

const arrays = { uint8: Uint8Array, uint16: Uint16Array, int16: Int16Array, float32: Float32Array } as const;

/** `version` changes the cache key when the same project image id may hold new pixels (relinked file). */
export async function loadProjectImage(projectImageId: string, version = ''): Promise<LoadedImage> {
  const imageId = `ldstudio:${projectImageId}${version ? `@${version}` : ''}`;
  const cached = cache.getImage(imageId);
  const known = headers.get(imageId);
  if (cached && known) return { imageId, header: known };

  const res = await fetch(useApi().pixelsUrl(projectImageId), { credentials: 'same-origin' });
  if (!res.ok) throw new Error(`could not load the image's pixels (${res.status}: ${(await res.text()).slice(0, 200)})`);
  const raw = res.headers.get(pixelsHeaderName);
  if (!raw) throw new Error(`the pixels response has no ${pixelsHeaderName} header`);
  const header = JSON.parse(raw) as PixelsHeader;
  const body = await res.arrayBuffer();
  const ArrayType = arrays[header.dtype];
  const scalarData = new ArrayType(body);
  if (scalarData.length !== header.width * header.height) {
    throw new Error(`pixel data has ${scalarData.length} values for a ${header.width}×${header.height} image`);
  }
  // The stack viewport also reads the series module (modality) and the LUT modules; local images
  // only get the plane and pixel modules from createAndCacheLocalImage.
  const add = (type: string, metadata: Record<string, unknown>) => utilities.genericMetadataProvider.add(imageId, { type, metadata });
  add(Enums.MetadataModules.GENERAL_SERIES, { modality: header.modality ?? 'OT' });
  add(Enums.MetadataModules.MODALITY_LUT, { rescaleSlope: 1, rescaleIntercept: 0 });
  add(Enums.MetadataModules.VOI_LUT, { windowCenter: [header.windowCenter], windowWidth: [header.windowWidth] });
  // A frame of reference per image: annotations are grouped by it, and two radiographs never share one.
  const image = imageLoader.createAndCacheLocalImage(imageId, {
    scalarData,
    dimensions: [header.width, header.height],
    spacing: [1, 1],
    origin: [0, 0, 0],
    frameOfReferenceUID: `ldstudio-frame:${imageId}`,
  });
  // A local image starts with window width 0, from which the stack viewport builds its first grey
  // ramp upside down (lower 0, upper −1); later window changes only rescale that ramp, so every image
  // showed inverted. Its own window gives a ramp the right way up.
  image.windowCenter = header.windowCenter;
  image.windowWidth = header.windowWidth;
  headers.set(imageId, header);
  values.set(imageId, scalarData);
  return { imageId, header };
}

const headers = new Map<string, PixelsHeader>();
const values = new Map<string, ArrayLike<number>>();

/** The values of a loaded image as main sent them (the status line's probe reads them). */
export function pixelValues(imageId: string): ArrayLike<number> | undefined {
  return values.get(imageId);
}
