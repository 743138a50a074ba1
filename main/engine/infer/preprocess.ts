/**
 * An image record → the LD network's inference input, prepared the way training prepares images
 * (main/engine/data/prepare.ts, augment.ts `normalise`) except that the aspect ratio is kept:
 *
 * 1. first frame, min-max scaled with `record.range` to [0, 1] (clamped; a constant image gives 0);
 * 2. channels: RGB → grey by luma (ITU-R 601) for 1-channel models, grey → 3 copies for 3-channel;
 * 3. resized so that the LONG side is `size` and both sides are multiples of 16 (each rounded to the
 *    nearest multiple of 16, at least 16): area averaging on an axis shrunk by more than 2×, bilinear
 *    otherwise (resample.ts);
 * 4. normalised: grey (x − 0.5)/0.5, RGB ImageNet mean/std;
 * 5. laid out NCHW (N = 1).
 *
 * Coordinates: pixel centres map linearly, x_net + 0.5 = (x_orig + 0.5)·scale.x (same for y), which is
 * the convention the resampler uses; `toOriginal` / `toNetwork` apply it.
 */
import type { PixelImage } from '../image';
import { normalise } from '../data/augment';
import { resampleToUnit } from '../data/prepare';

export const DEFAULT_INFER_SIZE = 512;

export interface NetworkInput {
  /** 1·C·H·W float32, NCHW, normalised like training. */
  data: Float32Array;
  channels: 1 | 3;
  /** Network input height and width (multiples of 16). */
  height: number;
  width: number;
  /** The source image's size. */
  source: { width: number; height: number };
  /** Network pixels per original pixel, per axis (they differ slightly after rounding to 16). */
  scale: { x: number; y: number };
}

const roundTo16 = (v: number) => Math.max(16, Math.round(v / 16) * 16);

/** Network input size for a source image: long side `size` (rounded to a multiple of 16), aspect kept. */
export function networkSize(srcWidth: number, srcHeight: number, size = DEFAULT_INFER_SIZE): { width: number; height: number } {
  if (!(srcWidth > 0 && srcHeight > 0)) throw new Error(`bad image size ${srcWidth}×${srcHeight}`);
  if (!Number.isFinite(size) || size < 16) throw new Error(`size must be at least 16, got ${size}`);
  const long = roundTo16(size);
  if (srcWidth >= srcHeight) return { width: long, height: Math.min(long, roundTo16((srcHeight * long) / srcWidth)) };
  return { width: Math.min(long, roundTo16((srcWidth * long) / srcHeight)), height: long };
}

/** HWC (interleaved) → CHW planes. */
export function hwcToChw(src: Float32Array, h: number, w: number, c: number, out = new Float32Array(h * w * c)): Float32Array {
  const n = h * w;
  for (let i = 0; i < n; i++) for (let k = 0; k < c; k++) out[k * n + i] = src[i * c + k];
  return out;
}

/** CHW planes → HWC (interleaved). */
export function chwToHwc(src: Float32Array, c: number, h: number, w: number, out = new Float32Array(h * w * c)): Float32Array {
  const n = h * w;
  for (let i = 0; i < n; i++) for (let k = 0; k < c; k++) out[i * c + k] = src[k * n + i];
  return out;
}

/**
 * How the image is fitted to the network input: `long-side` keeps the aspect ratio; `square`
 * stretches it to size×size as training does (main/engine/data/prepare.ts), so features of images
 * with different aspect ratios live in the same frame (one-shot landmarks use this).
 */
export type InputFit = 'long-side' | 'square';

export function preprocessForNetwork(
  record: PixelImage,
  /** `shape`: exactly this width × height (multiples of 16), e.g. the size a segmentation head was trained at; overrides size and fit. */
  opts: { channels: number; size?: number; fit?: InputFit; shape?: { width: number; height: number } },
): NetworkInput {
  const channels = opts.channels;
  if (channels !== 1 && channels !== 3) throw new Error(`the model expects ${channels} input channels; only 1 and 3 are supported`);
  const W = record.width;
  const H = record.height;
  const size = opts.size ?? DEFAULT_INFER_SIZE;
  if (opts.shape && (opts.shape.width % 16 !== 0 || opts.shape.height % 16 !== 0 || opts.shape.width <= 0 || opts.shape.height <= 0)) {
    throw new Error(`network input ${opts.shape.width}×${opts.shape.height}: both sides must be positive multiples of 16`);
  }
  const { width: w, height: h } = opts.shape ?? (opts.fit === 'square' ? { width: roundTo16(size), height: roundTo16(size) } : networkSize(W, H, size));
  const hwc = resampleToUnit(record, { width: w, height: h, channels });
  normalise(hwc, channels);
  return {
    data: channels === 1 ? hwc : hwcToChw(hwc, h, w, 3),
    channels,
    height: h,
    width: w,
    source: { width: W, height: H },
    scale: { x: w / W, y: h / H },
  };
}

/** A network-input pixel coordinate (x right, y down, pixel centres at integers) → the original image's. */
export function toOriginal(p: { x: number; y: number }, input: Pick<NetworkInput, 'scale'>): { x: number; y: number } {
  return { x: (p.x + 0.5) / input.scale.x - 0.5, y: (p.y + 0.5) / input.scale.y - 0.5 };
}

/** An original-image pixel coordinate → the network input's. */
export function toNetwork(p: { x: number; y: number }, input: Pick<NetworkInput, 'scale'>): { x: number; y: number } {
  return { x: (p.x + 0.5) * input.scale.x - 0.5, y: (p.y + 0.5) * input.scale.y - 0.5 };
}
