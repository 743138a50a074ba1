/** Reads the markers before the first scan of a JPEG stream, without decoding it. */
export interface JpegHeader {
  /** SOF marker: 0xc0 baseline, 0xc1 extended, 0xc2 progressive, 0xc3 lossless, 0xf7 JPEG-LS … */
  sof: number;
  precision: number;
  width: number;
  height: number;
  components: number;
  componentIds: number[];
  /** Horizontal × vertical sampling factors per component, as the byte holds them (0x11, 0x22 …). */
  sampling: number[];
  /** A JFIF APP0 segment is present (JFIF means YCbCr for three components). */
  jfif: boolean;
  /** Transform flag of an Adobe APP14 segment (0 none/RGB, 1 YCbCr), if present. */
  adobeTransform?: number;
  /** Offset of the first Start Of Scan marker, when the stream reaches one. */
  firstScan?: number;
}

const isSof = (m: number) => (m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc) || m === 0xf7;

const ascii = (bytes: Uint8Array, p: number, n: number) => String.fromCharCode(...bytes.subarray(p, p + n));

/** Walks the marker segments from `p` to the first SOS. */
function findFirstScan(bytes: Uint8Array, p: number): number | undefined {
  while (p + 4 <= bytes.length && bytes[p] === 0xff) {
    const marker = bytes[p + 1];
    if (marker === 0xda) return p;
    if (marker === 0xff) p += 1;
    else p += 2 + ((bytes[p + 2] << 8) | bytes[p + 3]);
  }
  return undefined;
}

/**
 * A stream cut short has no End Of Image after its first scan: entropy-coded data cannot contain
 * FF D9 (byte stuffing), while decoders silently fill the missing rows with grey.
 */
export function lacksEndOfImage(bytes: Uint8Array, header: JpegHeader): boolean {
  if (header.firstScan === undefined) return true;
  for (let p = bytes.length - 2; p > header.firstScan; p--) {
    if (bytes[p] === 0xff && bytes[p + 1] === 0xd9) return false;
  }
  return true;
}

/** Undefined when the bytes are not a JPEG stream or end before the frame header. */
export function readJpegHeader(bytes: Uint8Array): JpegHeader | undefined {
  if (bytes.length < 4 || bytes[0] !== 0xff || bytes[1] !== 0xd8) return undefined;
  let jfif = false;
  let adobeTransform: number | undefined;
  let p = 2;
  while (p + 4 <= bytes.length) {
    if (bytes[p] !== 0xff) return undefined;
    const marker = bytes[p + 1];
    if (marker === 0xff) {
      p += 1; // fill byte
      continue;
    }
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      p += 2; // markers without a length
      continue;
    }
    const length = (bytes[p + 2] << 8) | bytes[p + 3];
    if (marker === 0xe0 && ascii(bytes, p + 4, 4) === 'JFIF') jfif = true;
    if (marker === 0xee && ascii(bytes, p + 4, 5) === 'Adobe' && p + 15 < bytes.length) adobeTransform = bytes[p + 15];
    if (isSof(marker)) {
      const components = bytes[p + 9];
      if (p + 10 + 3 * components > bytes.length) return undefined;
      const ids = Array.from({ length: components }, (_, i) => bytes[p + 10 + 3 * i]);
      const sampling = Array.from({ length: components }, (_, i) => bytes[p + 11 + 3 * i]);
      return {
        firstScan: findFirstScan(bytes, p + 2 + length),
        sof: marker,
        precision: bytes[p + 4],
        height: (bytes[p + 5] << 8) | bytes[p + 6],
        width: (bytes[p + 7] << 8) | bytes[p + 8],
        components,
        componentIds: ids,
        sampling,
        jfif,
        adobeTransform,
      };
    }
    if (marker === 0xda || marker === 0xd9) return undefined; // scan or end before any frame header
    p += 2 + length;
  }
  return undefined;
}

/**
 * Whether a three-component stream holds RGB as is, judged like libjpeg does (Adobe flag, JFIF,
 * component ids 'R' 'G' 'B'), with the container's word (DICOM Photometric RGB) deciding when the
 * stream says nothing: libjpeg would then assume YCbCr. Subsampled chroma is always YCbCr.
 */
export function holdsUntransformedRgb(header: JpegHeader, containerSaysRgb: boolean): boolean {
  if (header.components !== 3) return false;
  if (header.adobeTransform !== undefined) return header.adobeTransform === 0;
  if (header.jfif) return false;
  if (header.componentIds.join() === '82,71,66') return true;
  if (header.sampling.some((s) => s !== header.sampling[0])) return false;
  return containerSaysRgb;
}
