/**
 * Prepared training images handed to the PyTorch engine as one raw float32 file plus an index
 * (resources/torch/PROTOCOL.md): Node keeps all image decoding, Python reads plain arrays.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { PreparedImage } from '../../engine/data';
import { writeFileAtomic } from '../../io/atomicWrite';

export interface PreparedImagesFile {
  file: string;
  index: Array<{ id: string; size: number; channels: number; offset: number }>;
}

export function writePreparedImages(dir: string, images: PreparedImage[], cropSize: number, channels: number): PreparedImagesFile {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `prepared-${cropSize}-${channels}.f32`);
  let offset = 0;
  const index = images.map((im) => {
    const entry = { id: im.id, size: im.size, channels: im.channels, offset };
    offset += im.data.length;
    return entry;
  });
  writeFileAtomic(file, images.map((im) => new Uint8Array(im.data.buffer, im.data.byteOffset, im.data.byteLength)));
  return { file, index };
}
