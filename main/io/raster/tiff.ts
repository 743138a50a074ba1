/** TIFF via utif2: first page, 8/16-bit grey (BlackIsZero / WhiteIsZero) or RGB, extra alpha dropped. */
import { createRequire } from 'node:module';
import { DecodeFailure, describeThrown } from '../errors';
import type { DecodedImage } from '../decodedImage';
import { pixelRange } from '../pixelRange';

type Utif = typeof import('utif2');
type Ifd = import('utif2').IFD;

// utif2 assigns module.exports at run time, which ESM named imports cannot see
const UTIF = createRequire(__filename)('utif2') as Utif;

const first = (ifd: Ifd, t: string, fallback: number): number => {
  const v = ifd[t] as number[] | undefined;
  return Array.isArray(v) && typeof v[0] === 'number' ? v[0] : fallback;
};

const MULTI_PAGE_NOTE = ' (only the first page of a multi-page TIFF is read; multi-page TIFF is not supported — save each page as its own file)';

export function readTiff(bytes: Uint8Array): DecodedImage {
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  let pages: Ifd[];
  try {
    pages = (UTIF.decode(buffer) as Ifd[]).filter((ifd) => ifd.t256 !== undefined);
  } catch (err) {
    throw new DecodeFailure(`TIFF structure cannot be read (${describeThrown(err)}); the file is damaged or truncated`, 'corrupt');
  }
  if (pages.length === 0) throw new DecodeFailure('TIFF without any image page', 'not-an-image');
  const note = pages.length > 1 ? MULTI_PAGE_NOTE : '';
  const ifd = pages[0];

  const bits = first(ifd, 't258', 1);
  const spp = first(ifd, 't277', 1);
  const photometric = first(ifd, 't262', 1);
  const sampleFormat = first(ifd, 't339', 1);
  const planar = first(ifd, 't284', 1);
  const compression = first(ifd, 't259', 1);
  const grey = photometric === 0 || photometric === 1;
  const supported =
    (bits === 8 || bits === 16) &&
    (sampleFormat === 1 || sampleFormat === 2) &&
    planar === 1 &&
    ((grey && (spp === 1 || spp === 2)) || (photometric === 2 && (spp === 3 || spp === 4)));
  if (!supported) {
    throw new DecodeFailure(
      `TIFF kind not supported: ${bits}-bit, ${spp} sample(s), photometric ${photometric}, sample format ${sampleFormat}, ` +
        `planar configuration ${planar} (8/16-bit integer grey or RGB, interleaved, are)${note}`,
      'unsupported-format',
    );
  }
  if (compression === 1) {
    // utif2 silently zero-fills strips that lie beyond the end of the file
    const offsets = (ifd.t273 ?? ifd.t324) as number[] | undefined;
    const counts = (ifd.t279 ?? ifd.t325) as number[] | undefined;
    if (offsets && counts && offsets.some((o, i) => o + (counts[i] ?? 0) > bytes.length)) {
      throw new DecodeFailure(`TIFF image data runs past the end of the file; it is truncated${note}`, 'truncated');
    }
  }
  try {
    // the typing omits the third argument, the pages, which JPEG-in-TIFF needs for shared tables
    (UTIF.decodeImage as (buffer: ArrayBuffer, ifd: Ifd, ifds: Ifd[]) => void)(buffer, ifd, pages);
  } catch (err) {
    throw new DecodeFailure(`TIFF page 1 cannot be decoded (${describeThrown(err)})${note}`, 'corrupt');
  }
  const { width, height } = ifd;
  const data = ifd.data;
  const bytesPerSample = bits / 8;
  if (!data || data.length < width * height * spp * bytesPerSample) {
    throw new DecodeFailure(`TIFF page 1 decoded to too few bytes; the file is damaged or truncated${note}`, 'corrupt');
  }
  const channels = grey ? 1 : 3;
  const pixels = new Float32Array(width * height * channels);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  // utif2 swaps 16-bit samples of big-endian files to little endian while decoding
  const littleEndian = true;
  const signed = sampleFormat === 2;
  const read =
    bits === 8
      ? (p: number) => (signed ? view.getInt8(p) : data[p])
      : (p: number) => (signed ? view.getInt16(p, littleEndian) : view.getUint16(p, littleEndian));
  const max = 2 ** bits - 1;
  const whiteIsZero = photometric === 0;
  for (let i = 0, o = 0; i < width * height; i++) {
    const p = i * spp * bytesPerSample;
    for (let c = 0; c < channels; c++) {
      const v = read(p + c * bytesPerSample);
      pixels[o++] = whiteIsZero ? max - v : v;
    }
  }
  return {
    format: 'tiff',
    width,
    height,
    channels,
    frames: 1,
    pixels,
    range: pixelRange(pixels),
    bitsStored: bits,
    inverted: whiteIsZero,
  };
}
