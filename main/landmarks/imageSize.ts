/**
 * Image width and height from the file header alone (PNG, JPEG, BMP): de-normalising the spine
 * set's coordinates needs the sizes of hundreds of multi-megabyte JPEGs, not their pixels.
 */
import { open } from 'node:fs/promises';
import { sniffFormat } from '../io/sniffFormat';
import { fileSystemError, LandmarkFileError } from './formats/fileError';

export interface ImageSize {
  width: number;
  height: number;
}

/** Reads `length` bytes at `offset` (fewer at the end of the data). */
export type ByteReader = (offset: number, length: number) => Promise<Uint8Array>;

export async function readImageSize(path: string): Promise<ImageSize> {
  const handle = await open(path, 'r').catch((err: unknown) => {
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

// SOFn markers hold the frame size; C4 (DHT), C8 (JPG) and CC (DAC) share the range but do not
const isFrameHeader = (m: number) => m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc;

async function jpegSize(read: ByteReader, file?: string): Promise<ImageSize> {
  const fail = (reason: string): never => {
    throw new LandmarkFileError(`JPEG header: ${reason}`, { file });
  };
  let offset = 2;
  for (;;) {
    const segment = await read(offset, 9);
    if (segment.length < 2) fail('ends before the frame header');
    if (segment[0] !== 0xff) fail(`no marker at byte ${offset}`);
    const marker = segment[1];
    if (marker === 0xff) {
      offset += 1; // fill byte
      continue;
    }
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd8)) {
      offset += 2; // markers without a length
      continue;
    }
    if (marker === 0xd9 || marker === 0xda) fail('no frame header before the image data');
    if (segment.length < 4) fail('ends inside a segment header');
    const view = new DataView(segment.buffer, segment.byteOffset, segment.byteLength);
    if (isFrameHeader(marker)) {
      if (segment.length < 9) fail('ends inside the frame header');
      const size = { height: view.getUint16(5), width: view.getUint16(7) };
      if (size.height === 0 || size.width === 0) fail('the frame header gives no size');
      return size;
    }
    offset += 2 + view.getUint16(2);
  }
}
