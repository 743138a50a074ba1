/**
 * Fingerprints that find the same image imported twice under another name: the file's bytes
 * (SHA-256, streamed, so a 2 GiB file is never held whole for it) and the decoded pixels (a DICOM
 * copy with a new SOP Instance UID, or a re-saved PNG, has other bytes but the same pixels).
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { PixelImage } from '../engine/image';

export async function sha256OfFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** SHA-256 of the size and the decoded values: equal for the same picture in any container. */
export function sha256OfPixels(image: Pick<PixelImage, 'width' | 'height' | 'channels' | 'pixels'> & { frames?: number }): string {
  const hash = createHash('sha256');
  hash.update(`${image.width}x${image.height}x${image.channels}x${image.frames ?? 1}\0`);
  hash.update(Buffer.from(image.pixels.buffer, image.pixels.byteOffset, image.pixels.byteLength));
  return hash.digest('hex');
}
