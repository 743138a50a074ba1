/**
 * Normalised cross-correlation of a square patch against an image:
 *
 *   NCC(u, v) = Σ T'·I / (‖T'‖ · √(Σ I² − (Σ I)²/N))
 *
 * over the p×p window whose top-left pixel is (u, v), T' being the patch minus its mean (so Σ T'·I
 * equals Σ T'·(I − mean I)). The window sums come from integral images in O(1); the products Σ T'·I
 * come from an FFT for a whole-image search and directly for a small refinement window.
 */
import type { Point } from '../types';
import { Fft2d, nextPowerOfTwo } from './fft';
import type { GreyImage } from './greyImage';

/** Integral images of I and I² (one extra leading row and column of zeros). */
export class WindowSums {
  private readonly sum: Float64Array;
  private readonly sumSquares: Float64Array;
  private readonly stride: number;

  constructor(readonly image: GreyImage) {
    const { width, height, data } = image;
    this.stride = width + 1;
    this.sum = new Float64Array((width + 1) * (height + 1));
    this.sumSquares = new Float64Array((width + 1) * (height + 1));
    for (let y = 0; y < height; y++) {
      let rowSum = 0;
      let rowSquares = 0;
      for (let x = 0; x < width; x++) {
        const v = data[y * width + x];
        rowSum += v;
        rowSquares += v * v;
        const i = (y + 1) * this.stride + x + 1;
        this.sum[i] = this.sum[i - this.stride] + rowSum;
        this.sumSquares[i] = this.sumSquares[i - this.stride] + rowSquares;
      }
    }
  }

  /**
   * 1 / √(Σ (I − mean)²) over the size×size window at (x, y); 0 when the window is flatter than
   * `minStd` (a featureless window must not match anything, and would divide by ~0).
   */
  inverseDeviation(x: number, y: number, size: number, minStd: number): number {
    const s = this.stride;
    const a = y * s + x;
    const b = a + size;
    const c = a + size * s;
    const d = c + size;
    const n = size * size;
    const sum = this.sum[d] - this.sum[b] - this.sum[c] + this.sum[a];
    const squares = this.sumSquares[d] - this.sumSquares[b] - this.sumSquares[c] + this.sumSquares[a];
    const deviation = squares - (sum * sum) / n;
    return deviation > n * minStd * minStd ? 1 / Math.sqrt(deviation) : 0;
  }
}

/** A square patch, mean removed, with the position of its landmark inside it. */
export interface Patch {
  size: number;
  /** size² values, row-major, zero mean. */
  values: Float64Array;
  /** ‖values‖; 0 for a flat patch, which cannot be matched. */
  norm: number;
  /** The landmark relative to the patch's top-left pixel. */
  offset: Point;
}

/** The size×size patch of `image` centred as nearly as the borders allow on `centre`; null if the image is smaller. */
export function cutPatch(image: GreyImage, centre: Point, size: number): Patch | null {
  const { width, height, data } = image;
  if (size > width || size > height) return null;
  const left = Math.min(Math.max(Math.round(centre.x - (size - 1) / 2), 0), width - size);
  const top = Math.min(Math.max(Math.round(centre.y - (size - 1) / 2), 0), height - size);
  const values = new Float64Array(size * size);
  let mean = 0;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const v = data[(top + y) * width + left + x];
      values[y * size + x] = v;
      mean += v;
    }
  }
  mean /= size * size;
  let squares = 0;
  for (let i = 0; i < values.length; i++) {
    values[i] -= mean;
    squares += values[i] * values[i];
  }
  return { size, values, norm: Math.sqrt(squares), offset: { x: centre.x - left, y: centre.y - top } };
}

/** The best window of a search: top-left (x, y), possibly fractional, and its NCC. */
export interface NccPeak {
  x: number;
  y: number;
  score: number;
}

/** A search's best window, and the best one at least half a patch away from it (null if none fits). */
export interface SearchPeak extends NccPeak {
  runnerUp: NccPeak | null;
}

/**
 * Whole-image NCC search for patches of one size: the image's spectrum and window deviations are
 * computed once; each patch then costs one sparse forward and one inverse FFT, shared by two patches
 * packed as the real and imaginary parts of one complex signal.
 */
export class NccSearch {
  private readonly fft: Fft2d;
  private readonly spectrumRe: Float64Array;
  private readonly spectrumIm: Float64Array;
  /** inverseDeviation of every valid window, row-major over (width − size + 1) × (height − size + 1). */
  private readonly inverseDeviations: Float64Array;
  private readonly positionsX: number;
  private readonly positionsY: number;
  // Work buffers, reused by every pair.
  private readonly zRe: Float64Array;
  private readonly zIm: Float64Array;
  private readonly outRe: Float64Array;
  private readonly outIm: Float64Array;
  private readonly scores: Float64Array;

  constructor(
    readonly image: GreyImage,
    readonly patchSize: number,
    minStd: number,
  ) {
    const { width, height, data } = image;
    if (patchSize > width || patchSize > height) throw new Error(`NccSearch: patch ${patchSize} px exceeds the ${width}×${height} image`);
    this.fft = new Fft2d(nextPowerOfTwo(width), nextPowerOfTwo(height));
    const n = this.fft.width * this.fft.height;
    this.spectrumRe = new Float64Array(n);
    this.spectrumIm = new Float64Array(n);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) this.spectrumRe[y * this.fft.width + x] = data[y * width + x];
    }
    this.fft.forward(this.spectrumRe, this.spectrumIm, height);
    this.zRe = new Float64Array(n);
    this.zIm = new Float64Array(n);
    this.outRe = new Float64Array(n);
    this.outIm = new Float64Array(n);

    this.positionsX = width - patchSize + 1;
    this.positionsY = height - patchSize + 1;
    const sums = new WindowSums(image);
    this.inverseDeviations = new Float64Array(this.positionsX * this.positionsY);
    this.scores = new Float64Array(this.positionsX * this.positionsY);
    for (let y = 0; y < this.positionsY; y++) {
      for (let x = 0; x < this.positionsX; x++) this.inverseDeviations[y * this.positionsX + x] = sums.inverseDeviation(x, y, patchSize, minStd);
    }
  }

  /** The best window for each patch (null for a flat patch). */
  search(patches: ReadonlyArray<Patch>): Array<SearchPeak | null> {
    const peaks: Array<SearchPeak | null> = [];
    for (const patch of patches) if (patch.size !== this.patchSize) throw new Error(`NccSearch: a ${patch.size} px patch in a ${this.patchSize} px search`);
    for (let i = 0; i < patches.length; i += 2) {
      const [first, second] = this.correlatePair(patches[i], patches[i + 1]);
      peaks.push(this.bestWindow(first, patches[i]));
      if (i + 1 < patches.length) peaks.push(this.bestWindow(second, patches[i + 1]));
    }
    return peaks;
  }

  /** Windows per row and rows of windows of a score map (`scoreMaps`). */
  get mapSize(): { width: number; height: number } {
    return { width: this.positionsX, height: this.positionsY };
  }

  /** The NCC of every window (top-left x, y; row-major over `mapSize`) for each patch; null for a flat patch. */
  scoreMaps(patches: ReadonlyArray<Patch>): Array<Float32Array | null> {
    const maps: Array<Float32Array | null> = [];
    for (let i = 0; i < patches.length; i += 2) {
      const pair = this.correlatePair(patches[i], patches[i + 1]);
      for (let j = 0; j < 2 && i + j < patches.length; j++) {
        const patch = patches[i + j];
        if (!(patch.norm > 0)) {
          maps.push(null);
          continue;
        }
        const nx = this.fft.width;
        const map = new Float32Array(this.positionsX * this.positionsY);
        for (let y = 0; y < this.positionsY; y++) {
          for (let x = 0; x < this.positionsX; x++) {
            const k = y * this.positionsX + x;
            map[k] = (pair[j][y * nx + x] * this.inverseDeviations[k]) / patch.norm;
          }
        }
        maps.push(map);
      }
    }
    return maps;
  }

  /**
   * Σ T'·I for every window, for two patches at once: with z = T₁ + i·T₂ and Î the image spectrum,
   * IFFT(Î[k]·Z[−k]) = corr(T₁) + i·corr(T₂), since Z[−k] = conj(T̂₁[k]) + i·conj(T̂₂[k]) for real T.
   */
  private correlatePair(a: Patch, b: Patch | undefined): [Float64Array, Float64Array] {
    const { width: nx, height: ny } = this.fft;
    const p = this.patchSize;
    const { zRe, zIm, outRe, outIm } = this;
    zRe.fill(0);
    zIm.fill(0);
    for (let y = 0; y < p; y++) zRe.set(a.values.subarray(y * p, (y + 1) * p), y * nx);
    if (b) for (let y = 0; y < p; y++) zIm.set(b.values.subarray(y * p, (y + 1) * p), y * nx);
    this.fft.forward(zRe, zIm, p);
    const spectrumRe = this.spectrumRe;
    const spectrumIm = this.spectrumIm;
    for (let ky = 0; ky < ny; ky++) {
      const row = ky * nx;
      const mirrorRow = ky === 0 ? 0 : (ny - ky) * nx;
      for (let kx = 0; kx < nx; kx++) {
        const k = row + kx;
        const m = mirrorRow + (kx === 0 ? 0 : nx - kx);
        const ir = spectrumRe[k];
        const ii = spectrumIm[k];
        outRe[k] = ir * zRe[m] - ii * zIm[m];
        outIm[k] = ir * zIm[m] + ii * zRe[m];
      }
    }
    this.fft.inverse(outRe, outIm, this.positionsX);
    return [outRe, outIm];
  }

  private bestWindow(correlation: Float64Array, patch: Patch): SearchPeak | null {
    if (!(patch.norm > 0)) return null;
    const nx = this.fft.width;
    const { positionsX, positionsY, scores } = this;
    let best = -1;
    for (let y = 0; y < positionsY; y++) {
      for (let x = 0; x < positionsX; x++) {
        const k = y * positionsX + x;
        scores[k] = (correlation[y * nx + x] * this.inverseDeviations[k]) / patch.norm;
        if (best < 0 || scores[k] > scores[best]) best = k;
      }
    }
    const bx = best % positionsX;
    const by = (best - bx) / positionsX;
    // the runner-up: the best window that is not the same peak (at least half a patch away)
    const exclusion = (this.patchSize / 2) ** 2;
    let second = -1;
    for (let y = 0; y < positionsY; y++) {
      for (let x = 0; x < positionsX; x++) {
        const k = y * positionsX + x;
        if ((x - bx) ** 2 + (y - by) ** 2 >= exclusion && (second < 0 || scores[k] > scores[second])) second = k;
      }
    }
    const runnerUp = second < 0 ? null : { x: second % positionsX, y: Math.floor(second / positionsX), score: scores[second] };
    return { x: bx, y: by, score: scores[best], runnerUp };
  }
}

/**
 * The best window within `radius` px of the top-left `expected`, computed directly, with a parabolic
 * sub-pixel peak on each axis. Null when no window there has any texture.
 */
export function refinePeak(sums: WindowSums, patch: Patch, expected: Point, radius: number, minStd: number): NccPeak | null {
  const { width, height, data } = sums.image;
  const p = patch.size;
  const values = patch.values;
  const cx = Math.round(expected.x);
  const cy = Math.round(expected.y);
  const x0 = Math.max(0, cx - radius);
  const x1 = Math.min(width - p, cx + radius);
  const y0 = Math.max(0, cy - radius);
  const y1 = Math.min(height - p, cy + radius);
  if (x1 < x0 || y1 < y0 || !(patch.norm > 0)) return null;
  const mapWidth = x1 - x0 + 1;
  const scores = new Float64Array(mapWidth * (y1 - y0 + 1)).fill(-Infinity);
  let best = -1;
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      const inverse = sums.inverseDeviation(x, y, p, minStd);
      if (inverse === 0) continue;
      let products = 0;
      for (let j = 0; j < p; j++) {
        const row = (y + j) * width + x;
        const patchRow = j * p;
        for (let i = 0; i < p; i++) products += values[patchRow + i] * data[row + i];
      }
      const k = (y - y0) * mapWidth + (x - x0);
      scores[k] = (products * inverse) / patch.norm;
      if (best < 0 || scores[k] > scores[best]) best = k;
    }
  }
  if (best < 0) return null;
  const bx = best % mapWidth;
  const by = (best - bx) / mapWidth;
  const at = (dx: number, dy: number) => {
    const x = bx + dx;
    const y = by + dy;
    return x >= 0 && x < mapWidth && y >= 0 && y <= y1 - y0 ? scores[y * mapWidth + x] : -Infinity;
  };
  const offset = quadraticPeakOffset(at);
  return { x: x0 + bx + offset.x, y: y0 + by + offset.y, score: scores[best] };
}

/**
 * Sub-pixel offset of a peak from its 3×3 neighbourhood (`at(dx, dy)`, dx, dy ∈ {−1, 0, 1}): the
 * stationary point of the fitted 2-D quadratic, cross term included, since an oblique ridge biases
 * separate fits along x and y. Falls back to one parabola per axis at a border or a saddle.
 */
export function quadraticPeakOffset(at: (dx: number, dy: number) => number): Point {
  const c = at(0, 0);
  const gx = (at(1, 0) - at(-1, 0)) / 2;
  const gy = (at(0, 1) - at(0, -1)) / 2;
  const hxx = at(1, 0) - 2 * c + at(-1, 0);
  const hyy = at(0, 1) - 2 * c + at(0, -1);
  const hxy = (at(1, 1) - at(1, -1) - at(-1, 1) + at(-1, -1)) / 4;
  const det = hxx * hyy - hxy * hxy;
  if (Number.isFinite(det) && hxx < 0 && det > 0) {
    const x = (hxy * gy - hyy * gx) / det;
    const y = (hxy * gx - hxx * gy) / det;
    if (Math.abs(x) <= 1 && Math.abs(y) <= 1) return { x, y };
  }
  return { x: parabolicOffset(at(-1, 0), c, at(1, 0)), y: parabolicOffset(at(0, -1), c, at(0, 1)) };
}

/** Vertex of the parabola through (−1, before), (0, peak), (1, after), within ±0.5; 0 at an edge or a flat top. */
export function parabolicOffset(before: number, peak: number, after: number): number {
  if (!Number.isFinite(before) || !Number.isFinite(after)) return 0;
  const curvature = before - 2 * peak + after;
  if (!(curvature < 0)) return 0;
  return Math.min(0.5, Math.max(-0.5, (before - after) / (2 * curvature)));
}
