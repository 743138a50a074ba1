/**
 * Stored sample values → modality values in the record's Float32Array: keep the Bits Stored (dropping
 * overlay bits above High Bit), sign-extend, apply Rescale Slope/Intercept, invert MONOCHROME1, and
 * lay colour out as RGB by pixel.
 */
import type { DecodedFrame } from './decodeFrame';

export interface ValueMapping {
  bitsStored: number;
  /** Bits to shift right first: High Bit + 1 − Bits Stored for native data, 0 after a codec. */
  shift: number;
  signed: boolean;
  slope: number;
  intercept: number;
  /** MONOCHROME1: map v to (lowest + highest possible modality value) − v. */
  invert: boolean;
  /** YBR_FULL samples to convert to RGB. */
  ybrToRgb: boolean;
}

/** Lowest and highest stored value that Bits Stored and Pixel Representation allow. */
function storedValueLimits(bitsStored: number, signed: boolean): { lo: number; hi: number } {
  return signed ? { lo: -(2 ** (bitsStored - 1)), hi: 2 ** (bitsStored - 1) - 1 } : { lo: 0, hi: 2 ** bitsStored - 1 };
}

/** PS3.3 C.7.6.3.1.2 YBR_FULL → RGB, rounded and clipped like pydicom's convert_color_space. */
function ybrToRgb(out: Float32Array, offset: number, pixels: number, maxValue: number): void {
  const half = (maxValue + 1) / 2;
  const clip = (v: number) => Math.min(maxValue, Math.max(0, Math.floor(v + 0.5)));
  for (let i = 0, p = offset; i < pixels; i++, p += 3) {
    const y = out[p];
    const cb = out[p + 1] - half;
    const cr = out[p + 2] - half;
    out[p] = clip(y + 1.402 * cr);
    out[p + 1] = clip(y - ((0.114 * 1.772) / 0.587) * cb - ((0.299 * 1.402) / 0.587) * cr);
    out[p + 2] = clip(y + 1.772 * cb);
  }
}

/** Writes one frame of `channels` samples per pixel into `out` starting at `offset`. */
export function writeModalityValues(frame: DecodedFrame, pixels: number, channels: number, map: ValueMapping, out: Float32Array, offset: number): void {
  const { samples, planar } = frame;
  const { bitsStored, shift, signed, slope, intercept } = map;
  const full = 2 ** bitsStored;
  const half = full / 2;
  const mask = bitsStored >= 32 ? 0xffffffff : full - 1;
  const { lo, hi } = storedValueLimits(bitsStored, signed);
  // inversion folded into the linear map: v' = (lo·s + b) + (hi·s + b) − (v·s + b) = (lo + hi − v)·s + b
  const flip = map.invert ? lo + hi : 0;
  const sign = map.invert ? -1 : 1;
  const n = pixels * channels;
  for (let i = 0; i < n; i++) {
    // colour by plane: sample c of pixel p sits at c·pixels + p
    const src = planar ? (i % channels) * pixels + Math.floor(i / channels) : i;
    let v = bitsStored >= 32 ? samples[src] >>> shift : (samples[src] >>> shift) & mask;
    if (signed && v >= half) v -= full;
    out[offset + i] = (flip + sign * v) * slope + intercept;
  }
  if (map.ybrToRgb && channels === 3) ybrToRgb(out, offset, pixels, full - 1);
}
