/**
 * Small PNG writer: 8-bit grey (thumbnails, masks), 16-bit grey (probability maps) and 8-bit palette
 * with per-entry alpha (cluster overlays: one byte per pixel, so a 2000×2400 overlay compresses in
 * tens of milliseconds). Compression runs on libuv's thread pool (zlib.deflate), not on the caller's
 * event loop.
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
  /** One sample per pixel, row-major: a grey level (16-bit grey when a Uint16Array), or a palette index. */
  data: Uint8Array | Uint16Array;
  /** RGBA entries (4 bytes each) → a palette PNG; absent → grey. */
  palette?: Uint8Array;
  /**
   * The row filter: 'sub' (each sample less the one to its left) for smooth grey levels, where it
   * shrinks a 16-bit probability map to about a quarter; 'none' (default) for masks, palettes and previews.
   */
  filter?: 'none' | 'sub';
}

export async function encodePng(image: PngImage, level = 6): Promise<Buffer> {
  const { width, height, data, palette } = image;
  if (!(width > 0 && height > 0) || data.length !== width * height) throw new Error(`PNG: ${data.length} samples for a ${width}×${height} image`);
  const sixteen = data instanceof Uint16Array;
  if (sixteen && palette) throw new Error('PNG: a palette image has 8-bit indices');
  const bpp = sixteen ? 2 : 1;
  const stride = width * bpp;
  const raw = Buffer.alloc((stride + 1) * height);
  const sub = image.filter === 'sub';
  for (let y = 0; y < height; y++) {
    const at = y * (stride + 1);
    raw[at] = sub ? 1 : 0;
    if (!sixteen) raw.set(data.subarray(y * width, (y + 1) * width), at + 1);
    else {
      for (let x = 0, o = at + 1; x < width; x++, o += 2) {
        const v = data[y * width + x];
        raw[o] = v >> 8; // PNG samples are big-endian
        raw[o + 1] = v & 0xff;
      }
    }
    // right to left, so each byte's left neighbour is still the sample itself
    if (sub) for (let i = at + stride; i > at + bpp; i--) raw[i] = (raw[i] - raw[i - bpp]) & 0xff;
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = sixteen ? 16 : 8; // bit depth
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
