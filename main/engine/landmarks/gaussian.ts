/**
 * Gaussian smoothing of multi-channel maps, the "centre-sensitive averaging" W_c of ld-method.md §6.2
 * (a depthwise Gaussian with zero padding). Maps are HWC (channels interleaved) so that one pixel's
 * vector is contiguous: similarity search reads whole vectors.
 */

/** Half-width of the kernel: the spec's 57×57 window at σ = 16 is a radius of 28 ≈ 3.5σ. */
export const kernelRadius = (sigma: number) => Math.max(1, Math.ceil(3.5 * sigma));

/** 1-D Gaussian taps for offsets −r..r, normalised to sum 1. */
export function gaussianTaps(sigma: number, radius = kernelRadius(sigma)): Float32Array {
  const taps = new Float32Array(2 * radius + 1);
  let sum = 0;
  for (let k = -radius; k <= radius; k++) {
    const v = Math.exp(-(k * k) / (2 * sigma * sigma));
    taps[k + radius] = v;
    sum += v;
  }
  for (let i = 0; i < taps.length; i++) taps[i] /= sum;
  return taps;
}

/** Separable Gaussian blur of an HWC map with zero padding ("same" size). */
export function blurHwc(src: Float32Array, h: number, w: number, c: number, sigma: number): Float32Array {
  const taps = gaussianTaps(sigma);
  const r = (taps.length - 1) / 2;
  const tmp = new Float32Array(src.length);
  for (let y = 0; y < h; y++) {
    const row = y * w;
    for (let x = 0; x < w; x++) {
      const out = (row + x) * c;
      const k0 = Math.max(-r, -x);
      const k1 = Math.min(r, w - 1 - x);
      for (let k = k0; k <= k1; k++) {
        const t = taps[k + r];
        const inp = (row + x + k) * c;
        for (let ch = 0; ch < c; ch++) tmp[out + ch] += t * src[inp + ch];
      }
    }
  }
  const dst = new Float32Array(src.length);
  for (let y = 0; y < h; y++) {
    const k0 = Math.max(-r, -y);
    const k1 = Math.min(r, h - 1 - y);
    for (let k = k0; k <= k1; k++) {
      const t = taps[k + r];
      const inRow = (y + k) * w * c;
      const outRow = y * w * c;
      for (let i = 0; i < w * c; i++) dst[outRow + i] += t * tmp[inRow + i];
    }
  }
  return dst;
}

/** L2-normalise every pixel's vector in place (a zero vector stays zero). */
export function normalisePixels(map: Float32Array, c: number): Float32Array {
  for (let p = 0; p < map.length; p += c) {
    let s = 0;
    for (let ch = 0; ch < c; ch++) s += map[p + ch] * map[p + ch];
    if (s > 0) {
      const inv = 1 / Math.sqrt(s);
      for (let ch = 0; ch < c; ch++) map[p + ch] *= inv;
    }
  }
  return map;
}

/** Average-pool an HWC map by an integer factor (sizes must divide). */
export function poolHwc(src: Float32Array, h: number, w: number, c: number, factor: number): Float32Array {
  if (h % factor || w % factor) throw new Error(`a ${w}×${h} map cannot be pooled by ${factor}`);
  const ph = h / factor;
  const pw = w / factor;
  const dst = new Float32Array(ph * pw * c);
  const inv = 1 / (factor * factor);
  for (let y = 0; y < h; y++) {
    const py = Math.floor(y / factor);
    for (let x = 0; x < w; x++) {
      const out = (py * pw + Math.floor(x / factor)) * c;
      const inp = (y * w + x) * c;
      for (let ch = 0; ch < c; ch++) dst[out + ch] += src[inp + ch] * inv;
    }
  }
  return dst;
}
