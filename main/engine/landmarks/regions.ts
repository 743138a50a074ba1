/**
 * Rectangular regions of an image and their network inputs, for the fine levels of the landmark
 * cascade: a region is cut from the original grey image and resampled to a small network input, and
 * points move between the region's network pixels and the original image's.
 *
 * Coordinates: original pixel centres at integers (types.ts). A region is given by its edges in that
 * frame: `left` = −0.5 is the left edge of pixel column 0. Network pixel j of a region sampled to
 * `width` pixels has its centre at x = left + (j + 0.5)·region.width/width.
 */
import type { GreyImage } from './baselines/greyImage';
import type { Point } from './types';

export interface Region {
  /** Edge coordinates (pixel 0 spans [−0.5, 0.5]). */
  left: number;
  top: number;
  width: number;
  height: number;
}

export interface RegionSampling {
  region: Region;
  /** Network input size in pixels. */
  width: number;
  height: number;
}

/** The whole image as a region. */
export const wholeImage = (size: { width: number; height: number }): Region => ({ left: -0.5, top: -0.5, width: size.width, height: size.height });

/**
 * A region of `width`×`height` original pixels centred on `centre`, moved (not shrunk) to lie inside
 * the image where it fits, so the network sees image content rather than padding. Where it is larger
 * than the image along an axis it stays centred on the image along that axis.
 */
export function regionAround(centre: Point, width: number, height: number, image: { width: number; height: number }): Region {
  const place = (c: number, side: number, extent: number) => {
    const lo = c + 0.5 - side / 2; // edge coordinate of the region's start, measured from the image edge
    if (side >= extent) return (extent - side) / 2 - 0.5;
    return Math.min(Math.max(lo, 0), extent - side) - 0.5;
  };
  return { left: place(centre.x, width, image.width), top: place(centre.y, height, image.height), width, height };
}

/** Original-image point → the region's network pixels. */
export function toRegion(p: Point, s: RegionSampling): Point {
  return { x: ((p.x - s.region.left) * s.width) / s.region.width - 0.5, y: ((p.y - s.region.top) * s.height) / s.region.height - 0.5 };
}

/** The region's network pixels → original-image point. */
export function fromRegion(p: Point, s: RegionSampling): Point {
  return { x: s.region.left + ((p.x + 0.5) * s.region.width) / s.width, y: s.region.top + ((p.y + 0.5) * s.region.height) / s.height };
}

/** 1-D sampling weights of one axis: for output i, source pixels start[i]..start[i]+count[i]−1 with weights. */
interface AxisTaps {
  start: Int32Array;
  count: Int32Array;
  weights: Float64Array;
  maxTaps: number;
}

/**
 * Weights for sampling `out` pixels over the source interval [lo, lo + length) (edge coordinates
 * measured from the image's first edge, i.e. pixel k spans [k, k+1)). An output pixel covering one or
 * more source pixels averages them by covered area (antialiasing, like resample.ts's INTER_AREA); a
 * smaller one interpolates linearly between the two nearest pixel centres. Outside the image the
 * weights fall on nothing, which reads as 0 (black, as the training rotations fill).
 */
function axisTaps(lo: number, length: number, out: number, extent: number): AxisTaps {
  const step = length / out;
  const maxTaps = Math.max(2, Math.ceil(step) + 2);
  const start = new Int32Array(out);
  const count = new Int32Array(out);
  const weights = new Float64Array(out * maxTaps);
  for (let i = 0; i < out; i++) {
    const a = lo + i * step;
    const b = a + step;
    if (step >= 1) {
      const j0 = Math.max(0, Math.floor(a));
      const j1 = Math.min(extent, Math.ceil(b));
      start[i] = j0;
      count[i] = Math.max(0, j1 - j0);
      for (let j = j0; j < j1; j++) weights[i * maxTaps + (j - j0)] = (Math.min(b, j + 1) - Math.max(a, j)) / step;
    } else {
      const c = (a + b) / 2 - 0.5; // centre in pixel-centre coordinates
      count[i] = 2;
      if (c < 0 || c > extent - 1 || extent === 1) {
        // between the last pixel centre and the image edge: that pixel; beyond the edge: nothing
        start[i] = c < 0 ? 0 : extent - 1;
        weights[i * maxTaps] = c >= -0.5 && c <= extent - 0.5 ? 1 : 0;
        continue;
      }
      const j = Math.min(Math.floor(c), extent - 2);
      const t = c - j;
      start[i] = j;
      weights[i * maxTaps] = 1 - t;
      weights[i * maxTaps + 1] = t;
    }
  }
  return { start, count, weights, maxTaps };
}

/** The region of `image` resampled to s.width × s.height grey values (row-major), 0 outside the image. */
export function sampleRegion(image: GreyImage, s: RegionSampling): Float32Array {
  const { width: W, height: H, data } = image;
  const hx = axisTaps(s.region.left + 0.5, s.region.width, s.width, W);
  const vy = axisTaps(s.region.top + 0.5, s.region.height, s.height, H);
  // horizontal pass over the rows the vertical pass reads
  let yMin = H;
  let yMax = -1;
  for (let y = 0; y < s.height; y++) {
    for (let t = 0; t < vy.count[y]; t++) {
      const r = vy.start[y] + t;
      if (r >= 0 && r < H && vy.weights[y * vy.maxTaps + t] !== 0) {
        if (r < yMin) yMin = r;
        if (r > yMax) yMax = r;
      }
    }
  }
  const out = new Float32Array(s.width * s.height);
  if (yMax < yMin) return out;
  const rows = yMax - yMin + 1;
  const tmp = new Float64Array(rows * s.width);
  for (let r = 0; r < rows; r++) {
    const row = (yMin + r) * W;
    for (let x = 0; x < s.width; x++) {
      let acc = 0;
      const o = x * hx.maxTaps;
      const st = hx.start[x];
      for (let t = 0; t < hx.count[x]; t++) {
        const c = st + t;
        if (c >= 0 && c < W) acc += hx.weights[o + t] * data[row + c];
      }
      tmp[r * s.width + x] = acc;
    }
  }
  for (let y = 0; y < s.height; y++) {
    const o = y * vy.maxTaps;
    for (let t = 0; t < vy.count[y]; t++) {
      const r = vy.start[y] + t - yMin;
      const w = vy.weights[o + t];
      if (r < 0 || r >= rows || w === 0) continue;
      for (let x = 0; x < s.width; x++) out[y * s.width + x] += w * tmp[r * s.width + x];
    }
  }
  return out;
}
