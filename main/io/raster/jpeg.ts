/**
 * 8-bit baseline and progressive JPEG. libjpeg-turbo (the wasm codec also used for DICOM) decodes
 * ~15× faster than jpeg-js (17 vs 270 ms for a 2-5 MP spine radiograph); jpeg-js decodes what it
 * refuses and the RGB streams libjpeg would wrongly take for YCbCr.
 */
import { decode as decodeJpegJs } from 'jpeg-js';
import { decodeWithWasmCodec } from '../dicom/codecs/wasmCodecs';
import type { DecodedImage } from '../decodedImage';
import { DecodeFailure, describeThrown } from '../errors';
import { pixelRange } from '../pixelRange';
import { lacksEndOfImage, readJpegHeader, type JpegHeader } from './jpegHeader';

/** RGB bytes of an 8-bit JPEG via jpeg-js; `colorTransform: false` keeps three components as stored. */
export function decodeJpegRgb(bytes: Uint8Array, colorTransform?: boolean): { width: number; height: number; rgb: Uint8Array } {
  try {
    const image = decodeJpegJs(bytes, {
      useTArray: true,
      formatAsRGBA: false,
      ...(colorTransform === undefined ? {} : { colorTransform }),
      // the default 512 MB refuses large radiographs (a 4000×4000 image needs several 16 MB planes per component)
      maxMemoryUsageInMB: 2048,
      maxResolutionInMP: 200,
    });
    return { width: image.width, height: image.height, rgb: image.data };
  } catch (err) {
    throw new DecodeFailure(`JPEG cannot be decoded (${describeThrown(err)}); the file is damaged`, 'corrupt');
  }
}

/** Grey or RGB bytes from libjpeg-turbo, or undefined to fall back to jpeg-js. */
async function decodeWithLibjpeg(bytes: Uint8Array, header: JpegHeader): Promise<Uint8Array | undefined> {
  // CMYK / YCCK (4 components) is left to jpeg-js, which converts it to RGB
  if (header.components !== 1 && header.components !== 3) return undefined;
  try {
    const image = await decodeWithWasmCodec('jpeg-baseline', bytes);
    const fits = image.width === header.width && image.height === header.height && image.components === header.components && image.bitsPerSample === 8;
    return fits ? image.bytes : undefined;
  } catch {
    return undefined;
  }
}

export async function readJpeg(bytes: Uint8Array): Promise<DecodedImage> {
  const header = readJpegHeader(bytes);
  if (!header) throw new DecodeFailure('JPEG without a frame header (SOF); the file is damaged or truncated', 'corrupt');
  if (header.sof === 0xc3 || header.sof === 0xf7 || header.precision !== 8) {
    const kind = header.sof === 0xc3 ? 'lossless JPEG' : header.sof === 0xf7 ? 'JPEG-LS' : `${header.precision}-bit JPEG`;
    throw new DecodeFailure(`${kind} files are not supported (8-bit baseline and progressive JPEG are); convert to PNG or TIFF`, 'unsupported-format');
  }
  if (lacksEndOfImage(bytes, header)) {
    throw new DecodeFailure('JPEG ends before its End Of Image marker; the file is truncated — copy it again from the source', 'truncated');
  }
  const { width, height } = header;
  const channels = header.components === 1 ? 1 : 3;
  const fast = await decodeWithLibjpeg(bytes, header);
  let pixels: Float32Array;
  if (fast) {
    pixels = Float32Array.from(fast.subarray(0, width * height * channels));
  } else {
    // jpeg-js always hands back RGB; a one-component JPEG is grey
    const { rgb } = decodeJpegRgb(bytes);
    pixels = new Float32Array(width * height * channels);
    if (channels === 1) for (let i = 0; i < pixels.length; i++) pixels[i] = rgb[i * 3];
    else pixels.set(rgb.subarray(0, pixels.length));
  }
  return { format: 'jpeg', width, height, channels, frames: 1, pixels, range: pixelRange(pixels), bitsStored: 8, inverted: false };
}
