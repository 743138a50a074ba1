/**
 * One LD pre-training batch (ld-method.md §1.2–1.3) as a flat NHWC Float32Array.
 *
 * Row order (N = 5B): X = [img1_1 (B), img2_1 (B), img1_2 (B), img2_2 (B), img3 (B)], i.e. for pair p:
 * row p = view 1 of image 1, row B + p = view 1 of image 2, row 2B + p = view 2 of image 1,
 * row 3B + p = view 2 of image 2, row 4B + p = the mixup w_p·img1_1 + (1 − w_p)·img2_1.
 * `f`/`k` (length 2B) describe rows 2B..4B−1 in order: f[p], k[p] for img1_2 of pair p and
 * f[B + p], k[B + p] for img2_2 of pair p. `w[p]` is the mixup weight of pair p.
 *
 * With a view-2 warp (`geometry.viewWarp`, which needs view-2 turns off), view 2 of an image is
 * T1(applyWarp(T0(image), m)) instead of view2(T1(T0(image))): the same T0 crop as view 1, moved by a
 * random similarity m. `warps` (2B·6, float64) holds the 2×3 matrices m (row-major, `warpMatrix`: view-1
 * pixel coordinates → view-2 coordinates, pixel centres at i + 0.5) of rows 2B..4B−1 in the order of f/k.
 *
 * Exact order of random draws (deterministic given the rng state), for p = 0..B−1:
 *   1. `int(N)` source index of image 1, `int(N)` source index of image 2 (uniform, with replacement);
 *   2. image 1: T0 (`drawT0`: hflip, vflip, angle, RandomResizedCrop tries), T1 of view 1 (`drawT1`: angle,
 *      permutation(4), brightness, contrast, saturation, hue, greyscale), T1 of view 2 (same 9 draws),
 *      view-2 transform (`drawView2`: f, k); with a view-2 warp, then `drawWarp` (scale, angle, shift x,
 *      shift y: 4 uniforms) — without one, nothing more;
 *   3. image 2: the same as 2;
 *   4. `uniform(.2, .8)` mixup weight w (rounded to float32).
 * The pixel work consumes no draws, so the rng state after `makeBatch` depends only on the state before it.
 */
import type { GeometrySettings, RandomSource, T0Params, T1Params, View2Params, WarpParams } from './augment';
import {
  applyT0,
  applyT1,
  applyView2,
  applyWarp,
  drawMixupWeight,
  drawT0,
  drawT1,
  drawView2,
  drawWarp,
  mixup,
  normalise,
  PAPER_GEOMETRY,
  warpMatrix,
} from './augment';
import type { PreparedImage } from './prepare';

export interface BatchOptions {
  /** B: number of sampled pairs; the batch has 5B rows. */
  pairs: number;
  /** Output height and width (the paper: 448). */
  cropSize: number;
  /** Must equal every image's channel count. */
  channels: 1 | 3;
  /** Apply the mean/std normalisation (default true). False leaves every row in [0, 1] (tests, previews). */
  normalize?: boolean;
  /** Return the drawn parameters of every pair in `debug`. */
  debug?: boolean;
  /**
   * Optional buffer of at least 5B·cropSize²·channels values to write `x` into (reused across steps to
   * avoid a large allocation per step; `x` is then a view of it, so copy it before the next call).
   */
  out?: Float32Array;
  /** T0 and view-2 geometry (default: the paper's). */
  geometry?: GeometrySettings;
}

/** Everything drawn for one pair (index 0 = image 1, 1 = image 2). */
export interface PairDraws {
  src: [number, number];
  t0: [T0Params, T0Params];
  /** t1[image][view]. */
  t1: [[T1Params, T1Params], [T1Params, T1Params]];
  view2: [View2Params, View2Params];
  /** With a view-2 warp: the drawn warp of each image's view 2. */
  warp?: [WarpParams, WarpParams];
  w: number;
}

export interface Batch {
  /** NHWC (n, cropSize, cropSize, channels). */
  x: Float32Array;
  n: number;
  size: number;
  channels: 1 | 3;
  /** Mixup weight per pair, length B. */
  w: Float32Array;
  /** View-2 flip per row 2B..4B−1, length 2B. */
  f: Uint8Array;
  /** View-2 quarter turns per row 2B..4B−1, length 2B. */
  k: Uint8Array;
  /**
   * With a view-2 warp: 2B row-major 2×3 matrices (2B·6 values) mapping view-1 pixel coordinates to
   * view-2 coordinates, for rows 2B..4B−1 in the order of f/k.
   */
  warps?: Float64Array;
  debug?: PairDraws[];
}

export function makeBatch(images: readonly PreparedImage[], rng: RandomSource, opts: BatchOptions): Batch {
  const B = opts.pairs;
  const S = opts.cropSize;
  const C = opts.channels;
  if (!Number.isInteger(B) || B <= 0) throw new Error(`makeBatch: bad pairs ${B}`);
  if (!Number.isInteger(S) || S <= 0) throw new Error(`makeBatch: bad cropSize ${S}`);
  if (images.length === 0) throw new Error('makeBatch: no images');
  let maxBase = 0;
  for (const im of images) {
    if (im.channels !== C) throw new Error(`makeBatch: image ${im.id} has ${im.channels} channels, expected ${C}`);
    if (im.data.length !== im.size * im.size * im.channels) throw new Error(`makeBatch: image ${im.id} has a bad size`);
    maxBase = Math.max(maxBase, im.size);
  }

  const px = S * S * C; // values per row
  const n = 5 * B;
  if (opts.out && opts.out.length < n * px) throw new Error(`makeBatch: out holds ${opts.out.length} values, need ${n * px}`);
  const x = opts.out ? opts.out.subarray(0, n * px) : new Float32Array(n * px);
  const w = new Float32Array(B);
  const f = new Uint8Array(2 * B);
  const k = new Uint8Array(2 * B);
  const debug: PairDraws[] | undefined = opts.debug ? [] : undefined;
  const geometry = opts.geometry ?? PAPER_GEOMETRY;
  const warpSpec = geometry.viewWarp;
  if (warpSpec && geometry.view2Turns) throw new Error('makeBatch: a view-2 warp needs view-2 turns off');
  const warps = warpSpec ? new Float64Array(2 * B * 6) : undefined;

  // Scratch reused for every image of the batch.
  const canvas = new Float32Array(maxBase * maxBase * C);
  const resize = new Float32Array(maxBase * S * C);
  const base = new Float32Array(px);
  const view = new Float32Array(px);
  const row = (r: number) => x.subarray(r * px, (r + 1) * px);

  for (let p = 0; p < B; p++) {
    const i1 = rng.int(images.length);
    const i2 = rng.int(images.length);
    const draws: Partial<PairDraws> = { src: [i1, i2] };
    const t0s: T0Params[] = [];
    const t1s: [T1Params, T1Params][] = [];
    const v2s: View2Params[] = [];
    const warpDraws: WarpParams[] = [];
    for (let m = 0; m < 2; m++) {
      const img = images[m === 0 ? i1 : i2];
      const t0 = drawT0(rng, img.size, geometry);
      const t1a = drawT1(rng);
      const t1b = drawT1(rng);
      const v2 = drawView2(rng, geometry.view2Turns);
      t0s.push(t0);
      t1s.push([t1a, t1b]);
      v2s.push(v2);

      applyT0(img, t0, S, base, { canvas, resize });
      applyT1(base, S, C, t1a, row(m * B + p)); // view 1 → row p (image 1) or B + p (image 2)
      if (warps) {
        const warp = drawWarp(rng, warpSpec!);
        const mat = warpMatrix(warp, S);
        warps.set(mat, (m * B + p) * 6);
        warpDraws.push(warp);
        applyWarp(base, S, C, mat, view);
        applyT1(view, S, C, t1b, row((2 + m) * B + p)); // view 2 → row 2B + p or 3B + p
      } else {
        applyT1(base, S, C, t1b, view);
        applyView2(view, S, C, v2, row((2 + m) * B + p)); // view 2 → row 2B + p or 3B + p
      }
      f[m * B + p] = v2.f;
      k[m * B + p] = v2.k;
    }
    const wp = drawMixupWeight(rng);
    w[p] = wp;
    mixup(row(p), row(B + p), wp, row(4 * B + p));
    if (debug) {
      draws.t0 = [t0s[0], t0s[1]];
      draws.t1 = [t1s[0], t1s[1]];
      draws.view2 = [v2s[0], v2s[1]];
      if (warps) draws.warp = [warpDraws[0], warpDraws[1]];
      draws.w = wp;
      debug.push(draws as PairDraws);
    }
  }
  if (opts.normalize !== false) normalise(x, C);
  return { x, n, size: S, channels: C, w, f, k, ...(warps ? { warps } : {}), ...(debug ? { debug } : {}) };
}
