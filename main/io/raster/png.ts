/** PNG: 8/16-bit grey directly (pngGrey.ts); via pngjs 1-16-bit grey, grey+alpha, RGB, RGBA and palette; alpha is dropped. */
import { crc32 } from 'node:zlib';
import { PNG } from 'pngjs';
import { DecodeFailure, describeThrown } from '../errors';
import type { DecodedImage } from '../decodedImage';
import { pixelRange } from '../pixelRange';
import { canDecodeGreyPng, decodeGreyPng } from './pngGrey';

export interface PngHeader {
  width: number;
  height: number;
  bitDepth: number;
  /** 0 grey, 2 RGB, 3 palette, 4 grey+alpha, 6 RGBA. */
  colorType: number;
}

/** The IHDR chunk, which the PNG format puts first. */
export function readPngHeader(bytes: Uint8Array): PngHeader | undefined {
  if (bytes.length < 33 || bytes[12] !== 0x49 || bytes[13] !== 0x48 || bytes[14] !== 0x44 || bytes[15] !== 0x52) return undefined;
  const u32 = (p: number) => ((bytes[p] << 24) | (bytes[p + 1] << 16) | (bytes[p + 2] << 8) | bytes[p + 3]) >>> 0;
  return { width: u32(16), height: u32(20), bitDepth: bytes[24], colorType: bytes[25] };
}

/**
 * Walks the chunks to IEND checking lengths and CRCs: pngjs reports a cut or damaged file as a
 * zlib or stream error that does not say which.
 */
function checkChunks(bytes: Uint8Array): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let p = 8;
  while (p + 8 <= bytes.length) {
    const length = view.getUint32(p);
    const type = String.fromCharCode(...bytes.subarray(p + 4, p + 8));
    if (p + 12 + length > bytes.length) {
      throw new DecodeFailure(`PNG chunk ${type} runs past the end of the file; it is truncated — copy it again from the source`, 'truncated');
    }
    if (crc32(bytes.subarray(p + 4, p + 8 + length)) !== view.getUint32(p + 8 + length)) {
      throw new DecodeFailure(`PNG chunk ${type} fails its CRC check; the file is damaged`, 'corrupt');
    }
    if (type === 'IEND') return;
    p += 12 + length;
  }
  throw new DecodeFailure('PNG ends before its IEND chunk; the file is truncated — copy it again from the source', 'truncated');
}

export function readPng(bytes: Uint8Array): DecodedImage {
  const header = readPngHeader(bytes);
  if (!header) throw new DecodeFailure('PNG without an IHDR chunk at its start; the file is damaged', 'corrupt');
  checkChunks(bytes);
  const sixteen = header.bitDepth === 16;
  const info = { ...header, interlace: bytes[28] };
  if (canDecodeGreyPng(info)) {
    let pixels: Float32Array;
    try {
      pixels = decodeGreyPng(bytes, info);
    } catch (err) {
      throw new DecodeFailure(`PNG cannot be decoded (${describeThrown(err)}); the file is damaged`, 'corrupt');
    }
    return { format: 'png', width: header.width, height: header.height, channels: 1, frames: 1, pixels, range: pixelRange(pixels), bitsStored: header.bitDepth, inverted: false };
  }
  let png: { width: number; height: number; data: Uint8Array | Uint16Array };
  try {
    // 16-bit samples are kept as they are; lower depths are scaled to 8 bits by pngjs. CRCs were
    // checked above (with a clearer message), so pngjs need not check them again.
    png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), { skipRescale: sixteen, checkCRC: false }) as unknown as typeof png;
  } catch (err) {
    const message = describeThrown(err);
    // pngjs says 'There are some read requests waitng on finished stream' when the data stops early
    const truncated = /read requests|unexpected end|truncat|end of (input|file)|too short/i.test(message);
    throw new DecodeFailure(`PNG cannot be decoded (${message}); the file is ${truncated ? 'truncated' : 'damaged'}`, truncated ? 'truncated' : 'corrupt');
  }
  const { width, height, data } = png;
  const grey = header.colorType === 0 || header.colorType === 4;
  const channels = grey ? 1 : 3;
  const pixels = new Float32Array(width * height * channels);
  // pngjs always hands back RGBA
  for (let i = 0, o = 0; i < width * height; i++) {
    const p = i * 4;
    pixels[o++] = data[p];
    if (!grey) {
      pixels[o++] = data[p + 1];
      pixels[o++] = data[p + 2];
    }
  }
  return {
    format: 'png',
    width,
    height,
    channels,
    frames: 1,
    pixels,
    range: pixelRange(pixels),
    bitsStored: sixteen ? 16 : 8,
    inverted: false,
  };
}
