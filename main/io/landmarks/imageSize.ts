/**
 * Image width and height from the file header alone (PNG, JPEG, BMP): de-normalising the spine
 * set's coordinates needs the sizes of hundreds of multi-megabyte JPEGs, not their pixels.
 */
import { openInputFile } from '../inputFile';
import { readJpegHeader } from '../raster/jpegHeader';
import { sniffFormat } from '../sniffFormat';
import { fileSystemError, LandmarkFileError } from './formats/fileError';

export interface ImageSize {
  width: number;
  height: number;
}

/** Reads `length` bytes at `offset` (fewer at the end of the data). */
export type ByteReader = (offset: number, length: number) => Promise<Uint8Array>;

export async function readImageSize(path: string): Promise<ImageSize> {
  const handle = await openInputFile(path).catch((err: unknown) => {
    throw fileSystemError(err, path);
  });
  try {
    return await imageSizeFrom(async (offset, length) => {
      const buffer = new Uint8Array(length);
      const { bytesRead } = await handle.read(buffer, 0, length, offset);
      return buffer.subarray(0, bytesRead);
    }, path);
  } finally {
    await handle.close();
  }
}

export function imageSizeFromBytes(bytes: Uint8Array, file?: string): Promise<ImageSize> {
  return imageSizeFrom(async (offset, length) => bytes.subarray(offset, offset + length), file);
}

export async function imageSizeFrom(read: ByteReader, file?: string): Promise<ImageSize> {
  const head = await read(0, 32);
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const format = sniffFormat(head);
  if (format === 'png' && head.length >= 24) return { width: view.getUint32(16), height: view.getUint32(20) };
  if (format === 'jpeg') return jpegSize(read, file);
  if (head[0] === 0x42 && head[1] === 0x4d && head.length >= 26) {
    // BMP (the ISBI images): BITMAPCOREHEADER (12 bytes) has 16-bit sizes, later headers 32-bit;
    // a negative height means rows stored top-down
    if (view.getUint32(14, true) === 12) return { width: view.getUint16(18, true), height: view.getUint16(20, true) };
    return { width: view.getInt32(18, true), height: Math.abs(view.getInt32(22, true)) };
  }
  throw new LandmarkFileError(`cannot tell the image size: ${format ?? 'unknown format'} (PNG, JPEG and BMP headers are read)`, { file });
}

/**
 * The frame header of a JPEG, read with main/io's marker walk on a growing prefix of the file (64 KiB
 * covers all but files with very large EXIF/ICC segments before the frame header).
 */
async function jpegSize(read: ByteReader, file?: string): Promise<ImageSize> {
  for (let n = 1 << 16; ; n *= 4) {
    const bytes = await read(0, n);
    const header = readJpegHeader(bytes);
    if (header) {
      if (!header.width || !header.height) throw new LandmarkFileError('JPEG header: the frame header gives no size', { file });
      return { width: header.width, height: header.height };
    }
    if (bytes.length < n) throw new LandmarkFileError('JPEG header: no frame header before the image data (the file is cut or damaged)', { file });
  }
}
