/**
 * Boundary distances between two binary masks of one size: the Hausdorff distance at a percentile
 * (HD95 by default), in pixels. Non-zero = foreground.
 *
 * Definitions (the common ones: MONAI's `compute_hausdorff_distance(percentile=95)`, with medpy's
 * boundary):
 * - **boundary**: the foreground pixels with at least one 4-neighbour in the background; a pixel on the
 *   image's edge counts as beside background (outside the image is background). A one-pixel-thick
 *   mask is all boundary.
 * - **directed distances** A → B: for each boundary pixel of A, the Euclidean distance (pixel centres)
 *   to the nearest boundary pixel of B; likewise B → A.
 * - **HD_p** = max(P_p(A → B), P_p(B → A)), each percentile by linear interpolation between order
 *   statistics (numpy's default); p = 100 is the classic Hausdorff distance.
 * - **empty masks**: both empty → NaN (nothing to measure, as Dice's NaN); exactly one empty → +Infinity
 *   (a missed or spurious structure has no finite boundary distance). Callers report those cases as
 *   counts rather than averaging them.
 */

const FAR = 1e20;

/** The boundary pixels (1) of a mask: foreground with a 4-neighbour that is background or outside the image. */
export function maskBoundary(mask: ArrayLike<number>, width: number, height: number): Uint8Array {
  if (mask.length !== width * height) throw new Error(`maskBoundary: ${mask.length} pixels for ${width}×${height}`);
  const out = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      if (!(mask[i] > 0)) continue;
      if (x === 0 || y === 0 || x === width - 1 || y === height - 1 || !(mask[i - 1] > 0) || !(mask[i + 1] > 0) || !(mask[i - width] > 0) || !(mask[i + width] > 0)) {
        out[i] = 1;
      }
    }
  }
  return out;
}

/** 1-D squared distance transform of sampled function f (Felzenszwalb & Huttenlocher 2012), into d. */
function dt1d(f: Float64Array, n: number, d: Float64Array, v: Int32Array, z: Float64Array): void {
  let k = 0;
  v[0] = 0;
  z[0] = -Infinity;
  z[1] = Infinity;
  for (let q = 1; q < n; q++) {
    if (f[q] >= FAR) continue; // an empty sample never forms a parabola (keeps the arithmetic finite)
    if (f[v[0]] >= FAR) {
      v[0] = q;
      continue;
    }
    let s = (f[q] + q * q - (f[v[k]] + v[k] * v[k])) / (2 * q - 2 * v[k]);
    while (s <= z[k]) {
      k--;
      s = (f[q] + q * q - (f[v[k]] + v[k] * v[k])) / (2 * q - 2 * v[k]);
    }
    k++;
    v[k] = q;
    z[k] = s;
    z[k + 1] = Infinity;
  }
  if (f[v[0]] >= FAR) {
    d.fill(FAR, 0, n);
    return;
  }
  k = 0;
  for (let q = 0; q < n; q++) {
    while (z[k + 1] < q) k++;
    d[q] = (q - v[k]) ** 2 + f[v[k]];
  }
}

/**
 * Exact squared Euclidean distance from every pixel to the nearest pixel of `set` (non-zero); FAR
 * (1e20) everywhere when the set is empty.
 */
export function squaredDistanceTransform(set: ArrayLike<number>, width: number, height: number): Float64Array {
  const out = new Float64Array(width * height);
  for (let i = 0; i < out.length; i++) out[i] = set[i] > 0 ? 0 : FAR;
  const n = Math.max(width, height);
  const f = new Float64Array(n);
  const d = new Float64Array(n);
  const v = new Int32Array(n);
  const z = new Float64Array(n + 1);
  for (let x = 0; x < width; x++) {
    for (let y = 0; y < height; y++) f[y] = out[y * width + x];
    dt1d(f, height, d, v, z);
    for (let y = 0; y < height; y++) out[y * width + x] = d[y];
  }
  for (let y = 0; y < height; y++) {
    const row = y * width;
    for (let x = 0; x < width; x++) f[x] = out[row + x];
    dt1d(f, width, d, v, z);
    for (let x = 0; x < width; x++) out[row + x] = d[x];
  }
  return out;
}

/** The p-th percentile (0–100) of values, linear interpolation between order statistics (sorts in place). */
export function percentile(values: Float64Array | number[], p: number): number {
  if (!(p >= 0 && p <= 100)) throw new Error(`percentile ${p}: give 0–100`);
  if (values.length === 0) return NaN;
  const sorted = values instanceof Float64Array ? values.sort() : Float64Array.from(values).sort();
  const at = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(at);
  const hi = Math.min(sorted.length - 1, lo + 1);
  return sorted[lo] + (at - lo) * (sorted[hi] - sorted[lo]);
}

/** Distances (pixels) from each boundary pixel of `from` to the nearest boundary pixel of `to`, given `to`'s squared transform. */
function directed(fromBoundary: Uint8Array, toSquared: Float64Array): Float64Array {
  let n = 0;
  for (let i = 0; i < fromBoundary.length; i++) if (fromBoundary[i]) n++;
  const out = new Float64Array(n);
  let k = 0;
  for (let i = 0; i < fromBoundary.length; i++) if (fromBoundary[i]) out[k++] = Math.sqrt(toSquared[i]);
  return out;
}

/**
 * The Hausdorff distance at `percentile` (default 95) between two masks of width × height, in pixels:
 * max of the two directed percentiles of boundary-to-boundary distances. NaN when both masks are
 * empty, +Infinity when exactly one is (see the file's header).
 */
export function hausdorffDistance(pred: ArrayLike<number>, truth: ArrayLike<number>, width: number, height: number, pct = 95): number {
  if (pred.length !== width * height || truth.length !== width * height) {
    throw new Error(`hausdorffDistance: masks of ${pred.length} and ${truth.length} pixels for ${width}×${height}`);
  }
  const bp = maskBoundary(pred, width, height);
  const bt = maskBoundary(truth, width, height);
  const hasP = bp.some((v) => v > 0);
  const hasT = bt.some((v) => v > 0);
  if (!hasP && !hasT) return NaN;
  if (!hasP || !hasT) return Infinity;
  const pToT = directed(bp, squaredDistanceTransform(bt, width, height));
  const tToP = directed(bt, squaredDistanceTransform(bp, width, height));
  return Math.max(percentile(pToT, pct), percentile(tToP, pct));
}

/** HD95: `hausdorffDistance` at the 95th percentile. */
export const hd95 = (pred: ArrayLike<number>, truth: ArrayLike<number>, width: number, height: number): number => hausdorffDistance(pred, truth, width, height, 95);
