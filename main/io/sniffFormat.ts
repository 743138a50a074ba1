import { extname } from 'node:path';
import type { ImageFormat } from './imageRecord';

/** Extensions that name a supported format; DICOM files often have none at all. */
const EXTENSION_FORMATS: Record<string, ImageFormat> = {
  '.dcm': 'dicom',
  '.dicom': 'dicom',
  '.dic': 'dicom',
  '.ima': 'dicom',
  '.png': 'png',
  '.jpg': 'jpeg',
  '.jpeg': 'jpeg',
  '.tif': 'tiff',
  '.tiff': 'tiff',
};

export const SUPPORTED_EXTENSIONS = Object.keys(EXTENSION_FORMATS);

/** Format named by the file's extension, if any. */
export function formatFromExtension(file: string): ImageFormat | undefined {
  return EXTENSION_FORMATS[extname(file).toLowerCase()];
}

/** True when the name has no extension (common for DICOM written by scanners: IM0001, 1.2.840…). */
export function hasNoExtension(file: string): boolean {
  const ext = extname(file);
  // "1.2.840.113619.2.55" has an "extension" of digits: treat it as none
  return ext === '' || /^\.\d+$/.test(ext);
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** Format told by the first bytes of the content (the DICOM preamble needs 132 bytes). */
export function sniffFormat(bytes: Uint8Array): ImageFormat | undefined {
  if (bytes.length >= 132 && bytes[128] === 0x44 && bytes[129] === 0x49 && bytes[130] === 0x43 && bytes[131] === 0x4d) {
    return 'dicom';
  }
  if (bytes.length >= 8 && PNG_SIGNATURE.every((b, i) => bytes[i] === b)) return 'png';
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  if (bytes.length >= 4) {
    const ii = bytes[0] === 0x49 && bytes[1] === 0x49 && bytes[2] === 0x2a && bytes[3] === 0x00;
    const mm = bytes[0] === 0x4d && bytes[1] === 0x4d && bytes[2] === 0x00 && bytes[3] === 0x2a;
    if (ii || mm) return 'tiff';
  }
  return undefined;
}
