/**
 * Similarity search of one query vector in an image's features: global on the coarse map, then a
 * window at full network resolution, then a sub-pixel peak (a parabola through the peak and its
 * neighbours on each axis).
 */
import { centreEmbeddingRegion, type CoarseMap, type ImageFeatures } from './features';

export interface Peak {
  /** Network pixel coordinates (pixel centres at integers). */
  x: number;
  y: number;
  /** Cosine similarity at the peak. */
  score: number;
}

/** Cosine similarity of `q` with every pixel of the coarse map. */
export function similarityMap(map: CoarseMap, q: Float32Array): Float32Array {
  const c = map.channels;
  const n = map.width * map.height;
  const out = new Float32Array(n);
  const data = map.data;
  for (let i = 0; i < n; i++) {
    let s = 0;
    const o = i * c;
    for (let ch = 0; ch < c; ch++) s += data[o + ch] * q[ch];
    out[i] = s;
  }
  return out;
}

/**
 * The `k` highest local maxima of a map, each at least `minDistance` pixels (Chebyshev) from a higher
 * one. Coordinates in the map's pixels.
 */
export function topPeaks(map: Float32Array, width: number, height: number, k: number, minDistance: number): Peak[] {
  const candidates: number[] = [];
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const v = map[y * width + x];
      let isMax = true;
      for (let dy = -1; dy <= 1 && isMax; dy++) {
        for (let dx = -1; dx <= 1; dx++) {
          if (!dx && !dy) continue;
          const yy = y + dy;
          const xx = x + dx;
          if (yy < 0 || yy >= height || xx < 0 || xx >= width) continue;
          if (map[yy * width + xx] > v) {
            isMax = false;
            break;
          }
        }
      }
      if (isMax) candidates.push(y * width + x);
    }
  }
  candidates.sort((a, b) => map[b] - map[a]);
  const peaks: Peak[] = [];
  for (const i of candidates) {
    const x = i % width;
    const y = Math.floor(i / width);
    if (peaks.some((p) => Math.max(Math.abs(p.x - x), Math.abs(p.y - y)) < minDistance)) continue;
    peaks.push({ x, y, score: map[i] });
    if (peaks.length === k) break;
  }
  return peaks;
}

/** Offset of a parabola's vertex through (−1, a), (0, b), (1, c), clamped to ±0.5. */
export function parabolicOffset(a: number, b: number, c: number): number {
  const denom = a - 2 * b + c;
  if (!(denom < 0)) return 0;
  return Math.max(-0.5, Math.min(0.5, (0.5 * (a - c)) / denom));
}

/** Coarse-map pixel → full-resolution network pixel (pixel centres). */
export const coarseToFull = (v: number, factor: number) => (v + 0.5) * factor - 0.5;

export interface RefinedPeak extends Peak {
  /** v̇ at the (integer) peak, for cycle checks. */
  vector: Float32Array;
}

/**
 * Best match of `q` inside the full-resolution window of ±radius around (cx, cy), clipped to the
 * image, with a sub-pixel offset.
 */
export function refinePeak(f: Pick<ImageFeatures, 'full' | 'sigma' | 'dense'>, q: Float32Array, cx: number, cy: number, radius: number): RefinedPeak {
  const { full } = f;
  const x0 = Math.max(0, Math.round(cx) - radius);
  const y0 = Math.max(0, Math.round(cy) - radius);
  const x1 = Math.min(full.width - 1, Math.round(cx) + radius);
  const y1 = Math.min(full.height - 1, Math.round(cy) + radius);
  const w = x1 - x0 + 1;
  const h = y1 - y0 + 1;
  const c = full.channels;
  const win = centreEmbeddingRegion(f, x0, y0, w, h);
  const sim = new Float32Array(w * h);
  let best = 0;
  for (let i = 0; i < w * h; i++) {
    let s = 0;
    for (let ch = 0; ch < c; ch++) s += win[i * c + ch] * q[ch];
    sim[i] = s;
    if (s > sim[best]) best = i;
  }
  const bx = best % w;
  const by = Math.floor(best / w);
  const dx = bx > 0 && bx < w - 1 ? parabolicOffset(sim[best - 1], sim[best], sim[best + 1]) : 0;
  const dy = by > 0 && by < h - 1 ? parabolicOffset(sim[best - w], sim[best], sim[best + w]) : 0;
  return { x: x0 + bx + dx, y: y0 + by + dy, score: sim[best], vector: win.slice(best * c, best * c + c) };
}
