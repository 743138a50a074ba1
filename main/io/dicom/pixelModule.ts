/** The Image Pixel Module attributes that say how to read Pixel Data, checked for consistency. */
import { DecodeFailure } from '../errors';
import { number, tag, text, uint16 } from './attributes';
import type { DataSet } from './dicomParser';

export interface PixelModule {
  rows: number;
  columns: number;
  samplesPerPixel: number;
  bitsAllocated: number;
  bitsStored: number;
  highBit: number;
  /** 0 unsigned, 1 two's complement. */
  pixelRepresentation: number;
  photometric: string;
  /** 0 colour-by-pixel (RGBRGB…), 1 colour-by-plane (RR…GG…BB…). */
  planarConfiguration: number;
  frames: number;
}

export const PIXEL_DATA = tag(0x7fe0, 0x0010);
const FLOAT_PIXEL_DATA = tag(0x7fe0, 0x0008);
const DOUBLE_PIXEL_DATA = tag(0x7fe0, 0x0009);

const SUPPORTED_PHOTOMETRIC = new Set([
  'MONOCHROME1',
  'MONOCHROME2',
  'RGB',
  'YBR_FULL',
  'YBR_FULL_422',
  'YBR_RCT',
  'YBR_ICT',
]);

export function hasFloatPixelData(ds: DataSet): boolean {
  return Boolean(ds.elements[FLOAT_PIXEL_DATA] || ds.elements[DOUBLE_PIXEL_DATA]);
}

export function readPixelModule(ds: DataSet): PixelModule {
  const rows = uint16(ds, tag(0x0028, 0x0010)) ?? 0;
  const columns = uint16(ds, tag(0x0028, 0x0011)) ?? 0;
  const samplesPerPixel = uint16(ds, tag(0x0028, 0x0002)) ?? 1;
  const bitsAllocated = uint16(ds, tag(0x0028, 0x0100)) ?? 0;
  const bitsStored = uint16(ds, tag(0x0028, 0x0101)) ?? bitsAllocated;
  const highBit = uint16(ds, tag(0x0028, 0x0102)) ?? bitsStored - 1;
  const pixelRepresentation = uint16(ds, tag(0x0028, 0x0103)) ?? 0;
  const photometric = (text(ds, tag(0x0028, 0x0004)) ?? (samplesPerPixel === 3 ? 'RGB' : 'MONOCHROME2')).toUpperCase();
  const planarConfiguration = uint16(ds, tag(0x0028, 0x0006)) ?? 0;
  const frames = Math.max(1, Math.round(number(ds, tag(0x0028, 0x0008)) ?? 1));

  if (rows <= 0 || columns <= 0) {
    throw new DecodeFailure(`Rows (0028,0010) / Columns (0028,0011) are missing or zero (${rows}×${columns})`, 'corrupt');
  }
  if (![1, 8, 16, 32].includes(bitsAllocated)) {
    throw new DecodeFailure(`Bits Allocated ${bitsAllocated} is not supported (1, 8, 16 or 32 are)`, 'unsupported-format');
  }
  if (bitsStored < 1 || bitsStored > bitsAllocated || highBit < bitsStored - 1 || highBit >= bitsAllocated) {
    throw new DecodeFailure(
      `inconsistent bit depths: Bits Allocated ${bitsAllocated}, Bits Stored ${bitsStored}, High Bit ${highBit}`,
      'corrupt',
    );
  }
  if (photometric === 'PALETTE COLOR') {
    throw new DecodeFailure(
      'PALETTE COLOR images are not supported; render them to RGB first, e.g. `dcmj2pnm +on in.dcm out.png` (DCMTK)',
      'unsupported-format',
    );
  }
  if (!SUPPORTED_PHOTOMETRIC.has(photometric)) {
    throw new DecodeFailure(`Photometric Interpretation ${photometric} is not supported`, 'unsupported-format');
  }
  const colour = photometric !== 'MONOCHROME1' && photometric !== 'MONOCHROME2';
  if ((colour ? 3 : 1) !== samplesPerPixel) {
    throw new DecodeFailure(`Samples per Pixel ${samplesPerPixel} does not fit Photometric Interpretation ${photometric}`, 'corrupt');
  }
  return {
    rows,
    columns,
    samplesPerPixel,
    bitsAllocated,
    bitsStored,
    highBit,
    pixelRepresentation,
    photometric,
    planarConfiguration,
    frames,
  };
}
