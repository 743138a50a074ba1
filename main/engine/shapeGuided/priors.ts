/**
 * Prior masks and their augmentation (ld-method.md §5.2), pure TypeScript (no tfjs, no fs).
 *
 * Per sampled pair, two masks are drawn at random and each is augmented twice, independently, giving
 * four real masks per pair and 4B per step (as many as the 4B fake maps of the LD batch). One
 * augmentation, like the reference's `augment_seriesLabel`:
 *   1. left-right flip with p = 0.5; 2. top-bottom flip with p = 0.5;
 *   3. rotation by U[0°, 360°) about the centre, bilinear, same canvas, black fill;
 *   4. crop box [U{0..w/10}, U{0..h/10}, w − U{0..w/10}, h − U{0..h/10}] (integer division, inclusive);
 *   5. resize to size × size (bilinear; area averaging when shrinking more than 2×), binarise at > 0.1.
 * Exact draw order per augmentation: bernoulli(.5), bernoulli(.5), uniform(0, 360), int(w/10 + 1),
 * int(h/10 + 1), int(w/10 + 1), int(h/10 + 1).
 */
import type { RandomSource } from '../data/augment';
import { resizeHWC } from '../data/resample';
import { PRIOR_THRESHOLD } from './config';

/** One prior mask, grey, 8-bit like the reference's PIL masks: 0 = background, 255 = foreground. */
export interface PriorMask {
  id: string;
  width: number;
  height: number;
  /** width·height values in 0..255, row-major. */
  data: Uint8Array;
}

export interface PriorAugmentParams {
  hflip: boolean;
  vflip: boolean;
  /** Degrees, counter-clockwise on screen (Pillow's rotate). */
  angle: number;
  /** Crop box [left, top, right, bottom) in pixels of the (rotated) mask. */
  box: [number, number, number, number];
}

export function drawPriorAugment(rng: RandomSource, width: number, height: number): PriorAugmentParams {
  const hflip = rng.bernoulli(0.5);
  const vflip = rng.bernoulli(0.5);
  const angle = rng.uniform(0, 360);
  const dw = Math.floor(width / 10);
  const dh = Math.floor(height / 10);
  const left = rng.int(dw + 1);
  const top = rng.int(dh + 1);
  const right = width - rng.int(dw + 1);
  const bottom = height - rng.int(dh + 1);
  return { hflip, vflip, angle, box: [left, top, right, bottom] };
}

/**
 * Bilinear rotation by `angleDeg` (counter-clockwise on screen) about the image centre, same canvas,
 * black outside (Pillow's `rotate(angle, BILINEAR)` geometry: output pixel centre (x + 0.5, y + 0.5)
 * maps back through the inverse rotation about (W/2, H/2)). Flips are applied to the source first.
 */
export function rotateBilinear(
  src: ArrayLike<number>,
  width: number,
  height: number,
  angleDeg: number,
  flips: { hflip?: boolean; vflip?: boolean } = {},
  out?: Float32Array,
): Float32Array {
  const W = width;
  const H = height;
  const dst = out ?? new Float32Array(W * H);
  const rad = (-angleDeg * Math.PI) / 180;
  const cos = Math.cos(rad);
  const sin = Math.sin(rad);
  const cx = W / 2;
  const cy = H / 2;
  const hflip = !!flips.hflip;
  const vflip = !!flips.vflip;
  const at = (xi: number, yi: number) => {
    if (xi < 0 || yi < 0 || xi >= W || yi >= H) return 0;
    return src[(vflip ? H - 1 - yi : yi) * W + (hflip ? W - 1 - xi : xi)];
  };
  for (let y = 0; y < H; y++) {
    const dy = y + 0.5 - cy;
    for (let x = 0; x < W; x++) {
      const dx = x + 0.5 - cx;
      // inverse map (output → input), then to pixel-index coordinates (centres at integers)
      const xs = cos * dx + sin * dy + cx - 0.5;
      const ys = -sin * dx + cos * dy + cy - 0.5;
      const x0 = Math.floor(xs);
      const y0 = Math.floor(ys);
      const fx = xs - x0;
      const fy = ys - y0;
      if (x0 < -1 || y0 < -1 || x0 >= W || y0 >= H) {
        dst[y * W + x] = 0;
        continue;
      }
      const top = at(x0, y0) * (1 - fx) + at(x0 + 1, y0) * fx;
      const bottom = at(x0, y0 + 1) * (1 - fx) + at(x0 + 1, y0 + 1) * fx;
      dst[y * W + x] = top * (1 - fy) + bottom * fy;
    }
  }
  return dst;
}

/** One augmented, binarised size × size mask (values 0/1) written into `out`. */
export function applyPriorAugment(mask: PriorMask, p: PriorAugmentParams, size: number, out: Float32Array = new Float32Array(size * size), scratch?: Float32Array): Float32Array {
  const rotated = rotateBilinear(mask.data, mask.width, mask.height, p.angle, { hflip: p.hflip, vflip: p.vflip }, scratch && scratch.length >= mask.data.length ? scratch.subarray(0, mask.data.length) : undefined);
  const [left, top, right, bottom] = p.box;
  const region = { left, top, width: Math.max(1, right - left), height: Math.max(1, bottom - top) };
  resizeHWC(rotated, mask.width, mask.height, 1, size, size, out, region);
  const threshold = PRIOR_THRESHOLD * 255; // ToTensor() scales 8-bit by 1/255, then > 0.1
  for (let i = 0; i < size * size; i++) out[i] = out[i] > threshold ? 1 : 0;
  return out;
}

export function augmentPrior(mask: PriorMask, rng: RandomSource, size: number, out?: Float32Array, scratch?: Float32Array): Float32Array {
  return applyPriorAugment(mask, drawPriorAugment(rng, mask.width, mask.height), size, out, scratch);
}

/**
 * The 4B real masks of one step, NHWC (4B, size, size, 1), values 0/1. Row order follows the
 * reference's cat(label1_1, label1_2, label2_1, label2_2): row q·B + p is augmentation q of pair p
 * (q = 0, 1: the first drawn mask twice; q = 2, 3: the second).
 * Draws per pair: int(n) and int(n) (the two masks), then the four augmentations in row order.
 */
export function drawPriorBatch(priors: readonly PriorMask[], rng: RandomSource, pairs: number, size: number): Float32Array {
  if (priors.length === 0) throw new Error('no prior masks');
  const px = size * size;
  const out = new Float32Array(4 * pairs * px);
  let maxPx = 0;
  for (const m of priors) maxPx = Math.max(maxPx, m.width * m.height);
  const scratch = new Float32Array(maxPx);
  for (let p = 0; p < pairs; p++) {
    const a = priors[rng.int(priors.length)];
    const b = priors[rng.int(priors.length)];
    [a, a, b, b].forEach((mask, q) => {
      augmentPrior(mask, rng, size, out.subarray((q * pairs + p) * px, (q * pairs + p + 1) * px), scratch);
    });
  }
  return out;
}

/** Foreground fraction of a 0/1 (or soft) mask. */
export function foregroundFraction(mask: ArrayLike<number>, threshold = 0.5): number {
  let n = 0;
  for (let i = 0; i < mask.length; i++) if (mask[i] > threshold) n++;
  return mask.length ? n / mask.length : 0;
}
