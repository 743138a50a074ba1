/**
 * What propagation needs of one image's embedding (ld-method.md §6.2):
 * - `coarse`: the centre-sensitive embedding v̇ at 1/factor resolution for the global search
 *   (pool by `factor`, Gaussian of σ/factor, per-pixel L2 norm — the same field as the full-resolution
 *   v̇, sampled more sparsely, which is harmless because σ smooths it anyway);
 * - `full`: the network's raw embedding z at full network resolution, from which v̇ is computed
 *   exactly inside small refinement windows (`centreEmbeddingWindow`).
 * Coordinates here are network pixels (pixel centres at integers); `scale` maps original pixels to them.
 */
import type { ImageGeometry } from './types';
import { blurHwc, kernelRadius, gaussianTaps, normalisePixels, poolHwc } from './gaussian';

export interface FullResolutionMap {
  width: number;
  height: number;
  channels: number;
  /** z, HWC. */
  data: Float32Array;
  /** z over [x0, x0+w) × [y0, y0+h), HWC, zeros outside the image. */
  readWindow(x0: number, y0: number, w: number, h: number): Float32Array;
}

export interface CoarseMap {
  factor: number;
  width: number;
  height: number;
  channels: number;
  /** v̇ at 1/factor resolution, HWC, unit norm per pixel. */
  data: Float32Array;
}

export interface ImageFeatures {
  /** The original image: size, and its patient geometry when it has one (for landmark files). */
  source: { width: number; height: number; geometry?: ImageGeometry };
  /** Network pixels per original pixel, per axis. */
  scale: { x: number; y: number };
  /** Centre-sensitive σ in network pixels. */
  sigma: number;
  coarse: CoarseMap;
  full: FullResolutionMap;
  /** v̇ over the whole full-resolution map, HWC, when computed (`withDenseCentreEmbedding`). */
  dense?: Float32Array;
}

/** Coarse factor: the global search runs on a map of about 64 px on the long side, at most 4× coarser. */
export function coarseFactorFor(width: number, height: number): number {
  const long = Math.max(width, height);
  for (const f of [4, 2]) if (long / f >= 48 && width % f === 0 && height % f === 0) return f;
  return 1;
}

/** An in-memory full-resolution map over an HWC array. */
export function fullMapFromHwc(data: Float32Array, width: number, height: number, channels: number): FullResolutionMap {
  return {
    width,
    height,
    channels,
    data,
    readWindow(x0, y0, w, h) {
      const out = new Float32Array(w * h * channels);
      for (let y = Math.max(0, y0); y < Math.min(height, y0 + h); y++) {
        const xa = Math.max(0, x0);
        const xb = Math.min(width, x0 + w);
        if (xb <= xa) continue;
        out.set(data.subarray((y * width + xa) * channels, (y * width + xb) * channels), ((y - y0) * w + (xa - x0)) * channels);
      }
      return out;
    },
  };
}

export function coarseMapFromHwc(z: Float32Array, width: number, height: number, channels: number, sigma: number, factor = coarseFactorFor(width, height)): CoarseMap {
  const pooled = factor > 1 ? poolHwc(z, height, width, channels, factor) : z.slice();
  const w = width / factor;
  const h = height / factor;
  return { factor, width: w, height: h, channels, data: normalisePixels(blurHwc(pooled, h, w, channels, sigma / factor), channels) };
}

/**
 * Exact v̇ (Gaussian σ over z with zero padding, then L2 norm) for every pixel of the window
 * [x0, x0+w) × [y0, y0+h) → HWC.
 */
export function centreEmbeddingWindow(full: FullResolutionMap, x0: number, y0: number, w: number, h: number, sigma: number): Float32Array {
  const c = full.channels;
  const taps = gaussianTaps(sigma);
  const r = kernelRadius(sigma);
  const rw = w + 2 * r;
  const rh = h + 2 * r;
  const z = full.readWindow(x0 - r, y0 - r, rw, rh);
  // horizontal pass: rh rows × w output columns, accumulated per output pixel in a small buffer
  const tmp = new Float32Array(rh * w * c);
  const acc = new Float32Array(c);
  const n = taps.length;
  for (let y = 0; y < rh; y++) {
    for (let x = 0; x < w; x++) {
      acc.fill(0);
      let inp = (y * rw + x) * c;
      for (let k = 0; k < n; k++, inp += c) {
        const t = taps[k];
        for (let ch = 0; ch < c; ch++) acc[ch] += t * z[inp + ch];
      }
      tmp.set(acc, (y * w + x) * c);
    }
  }
  const dst = new Float32Array(h * w * c);
  for (let y = 0; y < h; y++) {
    for (let k = 0; k < taps.length; k++) {
      const t = taps[k];
      const inRow = (y + k) * w * c;
      const outRow = y * w * c;
      for (let i = 0; i < w * c; i++) dst[outRow + i] += t * tmp[inRow + i];
    }
  }
  return normalisePixels(dst, c);
}

/** v̇ at a sub-pixel network position: bilinear mix of the four neighbouring pixels, renormalised. */
export function centreEmbeddingAt(full: FullResolutionMap, x: number, y: number, sigma: number): Float32Array {
  const c = full.channels;
  const xi = Math.floor(x);
  const yi = Math.floor(y);
  const win = centreEmbeddingWindow(full, xi, yi, 2, 2, sigma);
  const fx = x - xi;
  const fy = y - yi;
  const weights = [(1 - fx) * (1 - fy), fx * (1 - fy), (1 - fx) * fy, fx * fy];
  const out = new Float32Array(c);
  for (let p = 0; p < 4; p++) for (let ch = 0; ch < c; ch++) out[ch] += weights[p] * win[p * c + ch];
  return normalisePixels(out, c);
}

/** Build features from the network's embedding output (D, H, W), i.e. CHW as ONNX Runtime returns it. */
export function featuresFromEmbedding(
  embeddingChw: Float32Array,
  shape: { channels: number; height: number; width: number },
  meta: { source: ImageFeatures['source']; scale: { x: number; y: number }; sigma: number; factor?: number },
): ImageFeatures {
  const { channels: c, height: h, width: w } = shape;
  if (embeddingChw.length !== c * h * w) throw new Error(`embedding holds ${embeddingChw.length} values, expected ${c}×${h}×${w}`);
  const n = h * w;
  const hwc = new Float32Array(n * c);
  for (let ch = 0; ch < c; ch++) {
    const plane = ch * n;
    for (let i = 0; i < n; i++) hwc[i * c + ch] = embeddingChw[plane + i];
  }
  return {
    source: meta.source,
    scale: meta.scale,
    sigma: meta.sigma,
    coarse: coarseMapFromHwc(hwc, w, h, c, meta.sigma, meta.factor),
    full: fullMapFromHwc(hwc, w, h, c),
  };
}

/**
 * The same features with v̇ computed once over the whole map: worth it for an image that is searched
 * many times (the template, searched back from every target for the cycle check).
 */
export function withDenseCentreEmbedding(f: ImageFeatures): ImageFeatures {
  if (f.dense) return f;
  const { full } = f;
  return { ...f, dense: normalisePixels(blurHwc(full.data, full.height, full.width, full.channels, f.sigma), full.channels) };
}

/** v̇ over [x0, x0+w) × [y0, y0+h) (inside the image), from the dense map when there is one. */
export function centreEmbeddingRegion(f: Pick<ImageFeatures, 'full' | 'sigma' | 'dense'>, x0: number, y0: number, w: number, h: number): Float32Array {
  if (!f.dense) return centreEmbeddingWindow(f.full, x0, y0, w, h, f.sigma);
  const c = f.full.channels;
  const out = new Float32Array(w * h * c);
  for (let y = 0; y < h; y++) out.set(f.dense.subarray(((y0 + y) * f.full.width + x0) * c, ((y0 + y) * f.full.width + x0 + w) * c), y * w * c);
  return out;
}
