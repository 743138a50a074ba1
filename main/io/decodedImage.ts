import type { ImageRecord } from './imageRecord';

/** What a format reader produces: a record without the id and path, which readImage adds. */
export type DecodedImage = Omit<ImageRecord, 'id' | 'path'>;
