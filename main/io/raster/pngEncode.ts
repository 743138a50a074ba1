/**
 * Small PNG writer for previews: 8-bit grey (thumbnails) and 8-bit palette with per-entry alpha
 * (cluster overlays: one byte per pixel, so a 2000×2400 overlay compresses in tens of milliseconds).
 * Compression runs on libuv's thread pool (zlib.deflate), not on the caller's event loop.
 */
import { promisify } from 'node:util';
import { deflate } from 'node:zlib';

const deflateAsync = promisify(deflate);

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  out.set(data, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

export interface PngImage {
  width: number;
  height: number;
  /** One byte per pixel, row-major: a grey level, or a palette index. */
  data: Uint8Array;
  /** RGBA entries (4 bytes each) → a palette PNG; absent → 8-bit grey. */
  palette?: Uint8Array;
}

export async function encodePng(image: PngImage, level = 6): Promise<Buffer> {
  const { width, height, data, palette } = image;
  if (!(width > 0 && height > 0) || data.length !== width * height) throw new Error(`PNG: ${data.length} bytes for a ${width}×${height} image`);
  const raw = Buffer.alloc((width + 1) * height);
  for (let y = 0; y < height; y++) {
    raw[y * (width + 1)] = 0; // filter: none
    raw.set(data.subarray(y * width, (y + 1) * width), y * (width + 1) + 1);
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = palette ? 3 : 0; // colour type: palette or grey
  const parts = [SIGNATURE, chunk('IHDR', ihdr)];
  if (palette) {
    const entries = palette.length / 4;
    if (!Number.isInteger(entries) || entries < 1 || entries > 256) throw new Error('PNG: the palette needs 1–256 RGBA entries');
    const rgb = new Uint8Array(entries * 3);
    const alpha = new Uint8Array(entries);
    for (let i = 0; i < entries; i++) {
      rgb.set(palette.subarray(i * 4, i * 4 + 3), i * 3);
      alpha[i] = palette[i * 4 + 3];
    }
    parts.push(chunk('PLTE', rgb), chunk('tRNS', alpha));
  }
  parts.push(chunk('IDAT', await deflateAsync(raw, { level })), chunk('IEND', new Uint8Array(0)));
  return Buffer.concat(parts);
}

export const pngDataUrl = (png: Buffer): string => `data:image/png;base64,${png.toString('base64')}`;
