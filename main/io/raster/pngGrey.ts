/**
 * A direct decoder for the commonest radiograph PNG: 8- or 16-bit greyscale, not interlaced. pngjs
 * expands every image to RGBA first; for a 1400×2100 radiograph that costs more than the network's
 * forward pass, and landmark propagation reads hundreds of them. Chunks are assumed checked (CRC,
 * lengths) by the caller; anything else goes to pngjs.
 */
import { inflateSync } from 'node:zlib';

export interface GreyPngInfo {
  width: number;
  height: number;
  bitDepth: number;
  colorType: number;
  interlace: number;
}

export function canDecodeGreyPng(h: GreyPngInfo): boolean {
  return h.colorType === 0 && (h.bitDepth === 8 || h.bitDepth === 16) && h.interlace === 0;
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/** Grey samples as float32 (16-bit big-endian samples as their value), row-major. */
export function decodeGreyPng(bytes: Uint8Array, h: GreyPngInfo): Float32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const idat: Uint8Array[] = [];
  for (let p = 8; p + 8 <= bytes.length; ) {
    const length = view.getUint32(p);
    const type = String.fromCharCode(bytes[p + 4], bytes[p + 5], bytes[p + 6], bytes[p + 7]);
    if (type === 'IDAT') idat.push(bytes.subarray(p + 8, p + 8 + length));
    if (type === 'IEND') break;
    p += 12 + length;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const bpp = h.bitDepth / 8;
  const stride = h.width * bpp;
  if (raw.length < h.height * (stride + 1)) throw new Error(`PNG image data holds ${raw.length} bytes, ${h.height * (stride + 1)} needed`);
  const out = new Float32Array(h.width * h.height);
  let prev = new Uint8Array(stride);
  let row = new Uint8Array(stride);
  for (let y = 0; y < h.height; y++) {
    const filter = raw[y * (stride + 1)];
    const src = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let i = 0; i < stride; i++) {
      const left = i >= bpp ? row[i - bpp] : 0;
      const up = prev[i];
      const upLeft = i >= bpp ? prev[i - bpp] : 0;
      let v = src[i];
      if (filter === 1) v += left;
      else if (filter === 2) v += up;
      else if (filter === 3) v += (left + up) >> 1;
      else if (filter === 4) v += paeth(left, up, upLeft);
      else if (filter !== 0) throw new Error(`PNG row ${y} has an unknown filter type ${filter}`);
      row[i] = v & 0xff;
    }
    const o = y * h.width;
    if (bpp === 1) for (let x = 0; x < h.width; x++) out[o + x] = row[x];
    else for (let x = 0; x < h.width; x++) out[o + x] = (row[2 * x] << 8) | row[2 * x + 1];
    [prev, row] = [row, prev];
  }
  return out;
}
