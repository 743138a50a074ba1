/**
 * Online augmentation for LD pre-training (ld-method.md §1.2), on HWC Float32Array data in [0, 1].
 * No tfjs here: the trainer turns the final batch into a tensor.
 *
 * Every random draw goes through the seeded, serialisable `Rng` (main/engine/rng.ts), and each `draw*`
 * function consumes a fixed, documented sequence of draws so a run is reproducible and resumable. The
 * `apply*` functions are deterministic and consume nothing.
 *
 * Geometry conventions (images are H rows × W columns, row 0 at the top, HWC interleaved):
 * - `rotateNearest(θ)` is Pillow's `Image.rotate(θ, NEAREST, expand=False, fillcolor=0)`, which is what
 *   torchvision's RandomRotation calls on the reference's PIL images: positive θ turns the picture
 *   counter-clockwise on screen, the centre is (W/2, H/2) in pixel-edge coordinates, every output pixel
 *   centre is mapped back with 16.16 fixed-point integer maths and truncated (Pillow's `affine_fixed`), and
 *   points that land outside the source are black (0).
 * - `rot90HWC(k)` is `torch.rot90(x, k, dims=(H, W))` on a CHW tensor, i.e. `torch.rot90` with dims [0, 1]
 *   on each H×W plane. The torch docs example: rot90([[0,1],[2,3]], 1, [0,1]) = [[1,3],[0,2]]: the top-right
 *   element moves to the top-left, so k = 1 is a quarter turn COUNTER-clockwise on screen (row 0 at the
 *   top), out[i][j] = in[j][W−1−i]. k = 2: out[i][j] = in[H−1−i][W−1−j]; k = 3 (clockwise):
 *   out[i][j] = in[H−1−j][i]. `rotateNearest(90)` on a square image gives exactly `rot90HWC(1)`.
 */
import type { Rng } from '../rng';
import { LUMA_B as LUMA_B_, LUMA_G as LUMA_G_, LUMA_R as LUMA_R_ } from './prepare';
import { resizeHWC } from './resample';

// Module-local copies: hot loops must not read imported bindings, which some module runners (Vitest's)
// turn into per-access getter calls.
const LUMA_R = LUMA_R_;
const LUMA_G = LUMA_G_;
const LUMA_B = LUMA_B_;

/** The subset of `Rng` the augmentation uses (tests may pass a stub). */
export type RandomSource = Pick<Rng, 'next' | 'uniform' | 'int' | 'bernoulli' | 'permutation'>;

/** Paper settings (§1.2). */
export const AUG = {
  hflipP: 0.5,
  vflipP: 0.5,
  baseRotationDeg: 180,
  cropScale: [0.9, 1.0] as const,
  cropRatio: [3 / 4, 4 / 3] as const,
  cropTries: 10,
  viewRotationDeg: 2,
  brightness: 0.4,
  contrast: 0.4,
  saturation: 0.4,
  hue: 0.02,
  grayscaleP: 0.2,
  view2FlipP: 0.5,
  mixup: [0.2, 0.8] as const,
} as const;

export const IMAGENET_MEAN = [0.485, 0.456, 0.406] as const;
export const IMAGENET_STD = [0.229, 0.224, 0.225] as const;
export const GREY_MEAN = 0.5;
export const GREY_STD = 0.5;

/** Python's round(): half to even (used by torchvision's RandomResizedCrop). */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x - Math.trunc(x)) === 0.5 ? 2 * Math.round(x / 2) : r;
}

// ---------------------------------------------------------------------------------------------------------
// Geometry
// ---------------------------------------------------------------------------------------------------------

const round15 = (v: number) => Math.round(v * 1e15) / 1e15;
/** Pillow's FIX(): 16.16 fixed point with C's (int) truncation via FLOOR. */
const fix = (v: number) => Math.floor(v * 65536 + 0.5);

/**
 * Nearest-neighbour rotation by `angleDeg` (counter-clockwise on screen) about the image centre, same
 * canvas, black fill: Pillow `rotate(angleDeg, NEAREST)`. With `hflip`/`vflip`, the source is first mirrored
 * left-right / top-bottom (composed into the index maths: no extra pass).
 */
export function rotateNearest(
  src: Float32Array,
  width: number,
  height: number,
  channels: number,
  angleDeg: number,
  out?: Float32Array,
  flips: { hflip?: boolean; vflip?: boolean } = {},
): Float32Array {
  const W = width;
  const H = height;
  const C = channels;
  const dst = out ?? new Float32Array(W * H * C);
  if (dst === src) throw new Error('rotateNearest: cannot work in place');
  const hflip = !!flips.hflip;
  const vflip = !!flips.vflip;

  // Pillow's inverse affine matrix (output → input) for rotate(angle) about (W/2, H/2).
  const rad = (-angleDeg * Math.PI) / 180;
  const a = round15(Math.cos(rad));
  const b = round15(Math.sin(rad));
  const d = round15(-Math.sin(rad));
  const e = round15(Math.cos(rad));
  const cx = W / 2;
  const cy = H / 2;
  const c = a * -cx + b * -cy + cx;
  const f = d * -cx + e * -cy + cy;

  const fits = (x: number, y: number) => Math.abs(x * a + y * b + c) < 32768 && Math.abs(x * d + y * e + f) < 32768;
  if (!(fits(0, 0) && fits(W, H) && fits(0, H) && fits(W, 0))) {
    // Pillow's floating-point fallback (only for canvases beyond 16-bit coordinates).
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        const xs = a * (x + 0.5) + b * (y + 0.5) + c;
        const ys = d * (x + 0.5) + e * (y + 0.5) + f;
        const xi = xs < 0 ? -1 : Math.trunc(xs);
        const yi = ys < 0 ? -1 : Math.trunc(ys);
        copyPixel(src, dst, W, H, C, xi, yi, (y * W + x) * C, hflip, vflip);
      }
    }
    return dst;
  }

  const a0 = fix(a);
  const a1 = fix(b);
  const a3 = fix(d);
  const a4 = fix(e);
  let a2 = fix(c + a * 0.5 + b * 0.5);
  let a5 = fix(f + d * 0.5 + e * 0.5);
  // Flips folded into the source addressing: s = base + yi·rowStep + xi·colStep.
  const rowStep = (vflip ? -W : W) * C;
  const colStep = hflip ? -C : C;
  const base = (vflip ? (H - 1) * W * C : 0) + (hflip ? (W - 1) * C : 0);
  let o = 0;
  for (let y = 0; y < H; y++) {
    let xx = a2;
    let yy = a5;
    if (C === 1) {
      for (let x = 0; x < W; x++, o++) {
        const xi = xx >> 16;
        const yi = yy >> 16;
        // unsigned compare: negative indices become huge
        dst[o] = xi >>> 0 < W && yi >>> 0 < H ? src[base + yi * rowStep + xi * colStep] : 0;
        xx = (xx + a0) | 0;
        yy = (yy + a3) | 0;
      }
    } else if (C === 3) {
      for (let x = 0; x < W; x++, o += 3) {
        const xi = xx >> 16;
        const yi = yy >> 16;
        if (xi >>> 0 < W && yi >>> 0 < H) {
          const s = base + yi * rowStep + xi * colStep;
          dst[o] = src[s];
          dst[o + 1] = src[s + 1];
          dst[o + 2] = src[s + 2];
        } else {
          dst[o] = 0;
          dst[o + 1] = 0;
          dst[o + 2] = 0;
        }
        xx = (xx + a0) | 0;
        yy = (yy + a3) | 0;
      }
    } else {
      for (let x = 0; x < W; x++, o += C) {
        const xi = xx >> 16;
        const yi = yy >> 16;
        const inside = xi >>> 0 < W && yi >>> 0 < H;
        const s = base + yi * rowStep + xi * colStep;
        for (let k = 0; k < C; k++) dst[o + k] = inside ? src[s + k] : 0;
        xx = (xx + a0) | 0;
        yy = (yy + a3) | 0;
      }
    }
    a2 = (a2 + a1) | 0;
    a5 = (a5 + a4) | 0;
  }
  return dst;
}

function copyPixel(
  src: Float32Array,
  dst: Float32Array,
  W: number,
  H: number,
  C: number,
  xi: number,
  yi: number,
  o: number,
  hflip: boolean,
  vflip: boolean,
): void {
  if (xi >= 0 && xi < W && yi >= 0 && yi < H) {
    const s = ((vflip ? H - 1 - yi : yi) * W + (hflip ? W - 1 - xi : xi)) * C;
    for (let k = 0; k < C; k++) dst[o + k] = src[s + k];
  } else {
    for (let k = 0; k < C; k++) dst[o + k] = 0;
  }
}

/**
 * `torch.rot90(x, k, dims=(H, W))` on HWC data (see the header for the direction). The output is
 * W×H for odd k. Any integer k (taken mod 4).
 */
export function rot90HWC(
  src: Float32Array,
  height: number,
  width: number,
  channels: number,
  k: number,
  out?: Float32Array,
): Float32Array {
  const H = height;
  const W = width;
  const C = channels;
  const q = ((k % 4) + 4) % 4;
  const dst = out ?? new Float32Array(H * W * C);
  if (dst === src && q !== 0) throw new Error('rot90HWC: cannot work in place');
  if (q === 0) {
    if (dst !== src) dst.set(src.subarray(0, H * W * C));
    return dst;
  }
  const outW = q === 2 ? W : H; // output is (q odd) W rows × H columns
  const outH = q === 2 ? H : W;
  // Source of out[i][j] = base + i·di + j·dj (in pixels), from the formulas in the header.
  let base: number;
  let di: number;
  let dj: number;
  if (q === 1) {
    base = W - 1; // in[j][W−1−i]
    di = -1;
    dj = W;
  } else if (q === 2) {
    base = (H - 1) * W + (W - 1); // in[H−1−i][W−1−j]
    di = -W;
    dj = -1;
  } else {
    base = (H - 1) * W; // in[H−1−j][i]
    di = 1;
    dj = -W;
  }
  let o = 0;
  for (let i = 0; i < outH; i++) {
    let s = base + i * di;
    if (C === 1) {
      for (let j = 0; j < outW; j++, o++, s += dj) dst[o] = src[s];
    } else {
      for (let j = 0; j < outW; j++, o += C, s += dj) {
        const sc = s * C;
        for (let c = 0; c < C; c++) dst[o + c] = src[sc + c];
      }
    }
  }
  return dst;
}

/** Flip both H and W (the reference's view-2 "flip": a 180° rotation, not a mirror). */
export function flipHW(src: Float32Array, height: number, width: number, channels: number, out?: Float32Array) {
  return rot90HWC(src, height, width, channels, 2, out);
}

// ---------------------------------------------------------------------------------------------------------
// RandomResizedCrop (torchvision get_params)
// ---------------------------------------------------------------------------------------------------------

export interface CropParams {
  top: number;
  left: number;
  height: number;
  width: number;
  /** Tries used, 1..10; 0 when all 10 failed and the fallback centre crop was taken. */
  tries: number;
}

/**
 * torchvision `RandomResizedCrop.get_params(img, scale, ratio)`. Draw order, per try (at most 10):
 * `uniform(scale)`, `uniform(log ratio)`; on success `int(H − h + 1)` (top) then `int(W − w + 1)` (left).
 * w = round(√(s·A·r)), h = round(√(s·A/r)) with Python's round (half to even); a try succeeds when
 * 0 < w ≤ W and 0 < h ≤ H. Fallback (no draws): if W/H < min ratio, w = W, h = round(W / min ratio);
 * if W/H > max ratio, h = H, w = round(H · max ratio); otherwise the whole image; centred
 * (top = ⌊(H − h)/2⌋, left = ⌊(W − w)/2⌋).
 */
export function randomResizedCropParams(
  rng: RandomSource,
  width: number,
  height: number,
  scale: readonly [number, number] = AUG.cropScale,
  ratio: readonly [number, number] = AUG.cropRatio,
  maxTries: number = AUG.cropTries,
): CropParams {
  const area = width * height;
  const logLo = Math.log(ratio[0]);
  const logHi = Math.log(ratio[1]);
  for (let t = 1; t <= maxTries; t++) {
    const targetArea = area * rng.uniform(scale[0], scale[1]);
    const aspect = Math.exp(rng.uniform(logLo, logHi));
    const w = roundHalfEven(Math.sqrt(targetArea * aspect));
    const h = roundHalfEven(Math.sqrt(targetArea / aspect));
    if (w > 0 && w <= width && h > 0 && h <= height) {
      const top = rng.int(height - h + 1);
      const left = rng.int(width - w + 1);
      return { top, left, height: h, width: w, tries: t };
    }
  }
  const inRatio = width / height;
  let w: number;
  let h: number;
  if (inRatio < Math.min(ratio[0], ratio[1])) {
    w = width;
    h = roundHalfEven(w / Math.min(ratio[0], ratio[1]));
  } else if (inRatio > Math.max(ratio[0], ratio[1])) {
    h = height;
    w = roundHalfEven(h * Math.max(ratio[0], ratio[1]));
  } else {
    w = width;
    h = height;
  }
  return { top: Math.floor((height - h) / 2), left: Math.floor((width - w) / 2), height: h, width: w, tries: 0 };
}

// ---------------------------------------------------------------------------------------------------------
// T0: base augmentation, one draw per source image, shared by both views
// ---------------------------------------------------------------------------------------------------------

export interface T0Params {
  hflip: boolean;
  vflip: boolean;
  /** Degrees, counter-clockwise, U[−180, 180). */
  angle: number;
  crop: CropParams;
}

/** The geometric settings a run may change (TrainConfig.augment); the paper's by default. */
export interface GeometrySettings {
  /** T0 left-right / top-bottom flip probabilities (paper 0.5 each). */
  hflipP: number;
  vflipP: number;
  /** T0 rotation by U[−r, r] degrees (paper 180). */
  rotationDeg: number;
  /** T0 RandomResizedCrop area fraction [min, max] (paper [0.9, 1]). */
  cropScale: readonly [number, number];
  /** View 2 turned by a random multiple of 90° (paper true). */
  view2Turns: boolean;
  /**
   * View 2 also warped by a random similarity — [max scale factor, max rotation °, max shift as a
   * fraction of the crop] — so that positives differ in geometry, not only in colour; absent = the
   * paper (both views share T0). Needs view2Turns off and centre-sensitive averaging.
   */
  viewWarp?: readonly [number, number, number];
}

export const PAPER_GEOMETRY: GeometrySettings = {
  hflipP: AUG.hflipP,
  vflipP: AUG.vflipP,
  rotationDeg: AUG.baseRotationDeg,
  cropScale: AUG.cropScale,
  view2Turns: true,
};

/**
 * Draw order: `bernoulli(p)` hflip, `bernoulli(p)` vflip, `uniform(−r, r)` angle, then the
 * RandomResizedCrop draws on the size × size canvas (see `randomResizedCropParams`). Flips and the
 * angle draw whatever their settings (a flip with p = 0 still draws); the crop's retries, as
 * torchvision's, depend on its area range.
 */
export function drawT0(rng: RandomSource, size: number, g: GeometrySettings = PAPER_GEOMETRY): T0Params {
  const hflip = rng.bernoulli(g.hflipP);
  const vflip = rng.bernoulli(g.vflipP);
  const angle = rng.uniform(-g.rotationDeg, g.rotationDeg);
  const crop = randomResizedCropParams(rng, size, size, g.cropScale);
  return { hflip, vflip, angle, crop };
}

/** Square HWC image. */
export interface SquareImage {
  size: number;
  channels: 1 | 3;
  data: Float32Array;
}

/** Reusable buffers so the per-step pipeline does not allocate (all optional). */
export interface Scratch {
  canvas?: Float32Array;
  resize?: Float32Array;
}

/**
 * hflip → vflip → rotate(angle, nearest, black fill) → crop → resize to cropSize × cropSize (bilinear,
 * resample.ts). Returns cropSize·cropSize·C values.
 */
export function applyT0(
  img: SquareImage,
  p: T0Params,
  cropSize: number,
  out?: Float32Array,
  scratch: Scratch = {},
): Float32Array {
  const S = img.size;
  const C = img.channels;
  const need = S * S * C;
  const canvas = scratch.canvas && scratch.canvas.length >= need ? scratch.canvas.subarray(0, need) : new Float32Array(need);
  rotateNearest(img.data, S, S, C, p.angle, canvas, { hflip: p.hflip, vflip: p.vflip });
  return resizeHWC(canvas, S, S, C, cropSize, cropSize, out, p.crop, scratch.resize);
}

// ---------------------------------------------------------------------------------------------------------
// T1: view augmentation (colour, small rotation, random greyscale)
// ---------------------------------------------------------------------------------------------------------

export interface T1Params {
  /** Degrees, U[−2, 2). */
  angle: number;
  /** ColorJitter op order: 0 brightness, 1 contrast, 2 saturation, 3 hue. */
  order: number[];
  brightness: number;
  contrast: number;
  saturation: number;
  hue: number;
  grayscale: boolean;
}

/**
 * Draw order (torchvision RandomRotation, ColorJitter.get_params, RandomGrayscale):
 * `uniform(−2, 2)` angle; `permutation(4)` op order (3 `int` draws); `uniform(.6, 1.4)` brightness,
 * contrast, saturation; `uniform(−.02, .02)` hue; `next() < .2` greyscale. The same 9 draws on grey and RGB
 * images, so the random stream does not depend on the channel count.
 */
export function drawT1(rng: RandomSource): T1Params {
  const angle = rng.uniform(-AUG.viewRotationDeg, AUG.viewRotationDeg);
  const order = rng.permutation(4);
  const brightness = rng.uniform(1 - AUG.brightness, 1 + AUG.brightness);
  const contrast = rng.uniform(1 - AUG.contrast, 1 + AUG.contrast);
  const saturation = rng.uniform(1 - AUG.saturation, 1 + AUG.saturation);
  const hue = rng.uniform(-AUG.hue, AUG.hue);
  const grayscale = rng.bernoulli(AUG.grayscaleP);
  return { angle, order, brightness, contrast, saturation, hue, grayscale };
}

const clamp01 = (v: number) => (v < 0 ? 0 : v > 1 ? 1 : v);

/** torchvision adjust_brightness (tensor): x·f, clamped to [0, 1]. In place. */
export function adjustBrightness(data: Float32Array, factor: number): void {
  for (let i = 0; i < data.length; i++) {
    const v = data[i] * factor;
    data[i] = v < 0 ? 0 : v > 1 ? 1 : v;
  }
}

/** Mean of the greyscale image (luma for RGB). */
function greyMean(data: Float32Array, channels: number): number {
  let sum = 0;
  if (channels === 1) {
    for (let i = 0; i < data.length; i++) sum += data[i];
    return sum / data.length;
  }
  for (let i = 0; i < data.length; i += 3) sum += LUMA_R * data[i] + LUMA_G * data[i + 1] + LUMA_B * data[i + 2];
  return sum / (data.length / 3);
}

/** torchvision adjust_contrast (tensor): blend with the mean of the greyscale image, clamp. In place. */
export function adjustContrast(data: Float32Array, channels: number, factor: number): void {
  const m = greyMean(data, channels) * (1 - factor);
  for (let i = 0; i < data.length; i++) {
    const v = data[i] * factor + m;
    data[i] = v < 0 ? 0 : v > 1 ? 1 : v;
  }
}

/** torchvision adjust_saturation (tensor): blend with the greyscale image, clamp; identity on 1 channel. */
export function adjustSaturation(data: Float32Array, channels: number, factor: number): void {
  if (channels === 1) return;
  const g = 1 - factor;
  for (let i = 0; i < data.length; i += 3) {
    const l = (LUMA_R * data[i] + LUMA_G * data[i + 1] + LUMA_B * data[i + 2]) * g;
    data[i] = clamp01(data[i] * factor + l);
    data[i + 1] = clamp01(data[i + 1] * factor + l);
    data[i + 2] = clamp01(data[i + 2] * factor + l);
  }
}

/**
 * torchvision adjust_hue (tensor): RGB → HSV (its _rgb2hsv), h = (h + shift) mod 1, HSV → RGB (its
 * _hsv2rgb). Identity on 1 channel. In place.
 */
export function adjustHue(data: Float32Array, channels: number, shift: number): void {
  if (channels === 1) return;
  for (let i = 0; i < data.length; i += 3) {
    const r = data[i];
    const g = data[i + 1];
    const b = data[i + 2];
    const maxc = r > g ? (r > b ? r : b) : g > b ? g : b;
    const minc = r < g ? (r < b ? r : b) : g < b ? g : b;
    // torchvision's _rgb2hsv with the common divisor factored out: (bc − gc) = (g − b)/cr etc.
    if (maxc === minc) continue; // grey: s = 0 and every hue maps back to (v, v, v) (data are in [0, 1])
    const cr = maxc - minc;
    const s = cr / maxc;
    let h: number;
    if (maxc === r) h = (g - b) / cr;
    else if (maxc === g) h = 2 + (b - r) / cr;
    else h = 4 + (r - g) / cr;
    h = h / 6 + 1; // torch.fmod(h/6 + 1, 1): the argument is positive
    h -= Math.floor(h);
    h += shift; // Python-style (h + shift) % 1.0
    h -= Math.floor(h);
    const v = maxc;
    const h6 = h * 6;
    let fi = Math.floor(h6);
    const fr = h6 - fi;
    if (fi >= 6) fi -= 6; // i % 6 (h ≤ 1, so fi ≤ 6)
    // p, q, t clamped to [0, 1] as in torchvision
    let p = v * (1 - s);
    let q = v * (1 - s * fr);
    let t = v * (1 - s * (1 - fr));
    p = p < 0 ? 0 : p > 1 ? 1 : p;
    q = q < 0 ? 0 : q > 1 ? 1 : q;
    t = t < 0 ? 0 : t > 1 ? 1 : t;
    let ro: number;
    let go: number;
    let bo: number;
    if (fi < 3) {
      if (fi === 0) {
        ro = v;
        go = t;
        bo = p;
      } else if (fi === 1) {
        ro = q;
        go = v;
        bo = p;
      } else {
        ro = p;
        go = v;
        bo = t;
      }
    } else if (fi === 3) {
      ro = p;
      go = q;
      bo = v;
    } else if (fi === 4) {
      ro = t;
      go = p;
      bo = v;
    } else {
      ro = v;
      go = p;
      bo = q;
    }
    data[i] = ro;
    data[i + 1] = go;
    data[i + 2] = bo;
  }
}

/** Luma copied to all three channels; identity on 1 channel. In place. */
export function toGrayscale(data: Float32Array, channels: number): void {
  if (channels === 1) return;
  for (let i = 0; i < data.length; i += 3) {
    const l = LUMA_R * data[i] + LUMA_G * data[i + 1] + LUMA_B * data[i + 2];
    data[i] = l;
    data[i + 1] = l;
    data[i + 2] = l;
  }
}

/** ColorJitter with drawn parameters: the four ops in `p.order`. In place. */
export function colorJitter(data: Float32Array, channels: number, p: T1Params): void {
  for (const op of p.order) {
    if (op === 0) adjustBrightness(data, p.brightness);
    else if (op === 1) adjustContrast(data, channels, p.contrast);
    else if (op === 2) adjustSaturation(data, channels, p.saturation);
    else adjustHue(data, channels, p.hue);
  }
}

/** rotate(±2°, nearest, black) → ColorJitter → RandomGrayscale, on a size × size × C image. */
export function applyT1(
  src: Float32Array,
  size: number,
  channels: number,
  p: T1Params,
  out?: Float32Array,
): Float32Array {
  const dst = rotateNearest(src, size, size, channels, p.angle, out);
  colorJitter(dst, channels, p);
  if (p.grayscale) toGrayscale(dst, channels);
  return dst;
}

// ---------------------------------------------------------------------------------------------------------
// View 2: (f, k) quarter-turn transform, and its inverse on the patch grid
// ---------------------------------------------------------------------------------------------------------

export interface View2Params {
  /** 1: flip both H and W (a 180° rotation). */
  f: 0 | 1;
  /** Quarter turns, torch.rot90 direction. */
  k: 0 | 1 | 2 | 3;
}

/** Draw order: `bernoulli(.5)` f, then `int(4)` k; without view-2 turns both are drawn, then set to 0. */
export function drawView2(rng: RandomSource, turns = true): View2Params {
  const f = rng.bernoulli(AUG.view2FlipP) ? 1 : 0;
  const k = rng.int(4) as 0 | 1 | 2 | 3;
  return turns ? { f, k } : { f: 0, k: 0 };
}

/**
 * The view-2 transform: flip H and W if f, then torch.rot90 k times. The double flip is rot90 twice and
 * commutes with rot90, so this is a single rot90 by (k + 2f) mod 4.
 */
export function applyView2(
  src: Float32Array,
  size: number,
  channels: number,
  p: View2Params,
  out?: Float32Array,
): Float32Array {
  return rot90HWC(src, size, size, channels, p.k + 2 * p.f, out);
}

/**
 * Inverse of the view-2 transform on a g×g grid (§3.3: rotate back by −k·90°, then undo the double flip),
 * as an index map: aligned[i] = view2Grid[src[i]] (row-major cells, i = row·g + col) restores the view-1
 * layout. Undoing rot90 by q = (k + 2f) mod 4 is rot90 by (4 − q) mod 4, whose gather formula is used.
 */
export function alignGridIndex(f: number, k: number, g: number): Int32Array {
  const q = (((k + 2 * f) % 4) + 4) % 4;
  const r = (4 - q) % 4;
  const src = new Int32Array(g * g);
  for (let i = 0; i < g; i++) {
    for (let j = 0; j < g; j++) {
      let s: number;
      if (r === 0) s = i * g + j;
      else if (r === 1) s = j * g + (g - 1 - i);
      else if (r === 2) s = (g - 1 - i) * g + (g - 1 - j);
      else s = (g - 1 - j) * g + i;
      src[i * g + j] = s;
    }
  }
  return src;
}

// ---------------------------------------------------------------------------------------------------------
// View-2 warp (GeometrySettings.viewWarp): a random similarity between the two views
// ---------------------------------------------------------------------------------------------------------

/** A drawn view-2 warp: scale factor, angle in degrees, shifts as fractions of the crop side. */
export interface WarpParams {
  scale: number;
  angle: number;
  shiftX: number;
  shiftY: number;
}

/**
 * Draw order (resources/torch/ld_torch/data.py draw_warp): `uniform(−log s, log s)` then exp for the
 * scale, `uniform(−r, r)` angle (degrees), `uniform(−t, t)` shift x, `uniform(−t, t)` shift y, for
 * spec = [s, r, t] (s ≥ 1: max scale factor, r: max rotation °, t: max shift as a fraction of the crop).
 */
export function drawWarp(rng: RandomSource, spec: readonly [number, number, number]): WarpParams {
  const [smax, rot, shift] = spec;
  const scale = Math.exp(rng.uniform(-Math.log(smax), Math.log(smax)));
  const angle = rng.uniform(-rot, rot);
  const shiftX = rng.uniform(-shift, shift);
  const shiftY = rng.uniform(-shift, shift);
  return { scale, angle, shiftX, shiftY };
}

/**
 * The 2×3 map (row-major [a, b, c, d, e, f]: x' = a·x + b·y + c, y' = d·x + e·y + f) of view-1 pixel
 * coordinates (x right, y down; pixel centres at i + 0.5) to view-2 coordinates, q = s·R(θ)·(p − c) + c + t
 * about the crop centre c = (size/2, size/2), R(θ) = [[cos θ, −sin θ], [sin θ, cos θ]], t = size·(shift x,
 * shift y): data.py warp_matrix, in float64.
 */
export function warpMatrix(p: WarpParams, size: number): Float64Array {
  const a = (p.angle * Math.PI) / 180;
  const c = size / 2;
  const r00 = p.scale * Math.cos(a);
  const r01 = -p.scale * Math.sin(a);
  const r10 = p.scale * Math.sin(a);
  const r11 = p.scale * Math.cos(a);
  return Float64Array.of(r00, r01, c + p.shiftX * size - (r00 * c + r01 * c), r10, r11, c + p.shiftY * size - (r10 * c + r11 * c));
}

/** Inverse of a 2×3 affine map (row-major, as `warpMatrix`). */
export function invertAffine(m: ArrayLike<number>): Float64Array {
  const [a, b, c, d, e, f] = [m[0], m[1], m[2], m[3], m[4], m[5]];
  const det = a * e - b * d;
  if (!(Math.abs(det) > 0) || !Number.isFinite(det)) throw new Error('invertAffine: singular matrix');
  const ia = e / det;
  const ib = -b / det;
  const id = -d / det;
  const ie = a / det;
  return Float64Array.of(ia, ib, -(ia * c + ib * f), id, ie, -(id * c + ie * f));
}

/**
 * View 2 = view 1 moved by `m` (`warpMatrix`, view-1 → view-2 pixel coordinates) on a size × size × C HWC
 * image: torch's affine_grid + grid_sample (bilinear, zero padding, align_corners = False), as data.py
 * apply_warp. Output pixel (i, j) has centre q = (j + 0.5, i + 0.5); its source is p = m⁻¹(q), read
 * bilinearly between the pixel centres around it (index coordinates p − 0.5); source pixels outside the
 * image count as 0.
 */
export function applyWarp(
  src: Float32Array,
  size: number,
  channels: number,
  m: ArrayLike<number>,
  out?: Float32Array,
): Float32Array {
  const S = size;
  const C = channels;
  const dst = out ?? new Float32Array(S * S * C);
  if (dst === src) throw new Error('applyWarp: cannot work in place');
  const [ia, ib, ic, id, ie, iff] = invertAffine(m);
  let o = 0;
  for (let i = 0; i < S; i++) {
    const qy = i + 0.5;
    for (let j = 0; j < S; j++, o += C) {
      const qx = j + 0.5;
      const ix = ia * qx + ib * qy + ic - 0.5;
      const iy = id * qx + ie * qy + iff - 0.5;
      const x0 = Math.floor(ix);
      const y0 = Math.floor(iy);
      const fx = ix - x0;
      const fy = iy - y0;
      // the four neighbours' weights (0 for a neighbour outside the image: zero padding)
      const inX0 = x0 >= 0 && x0 < S;
      const inX1 = x0 + 1 >= 0 && x0 + 1 < S;
      const inY0 = y0 >= 0 && y0 < S;
      const inY1 = y0 + 1 >= 0 && y0 + 1 < S;
      const w00 = inY0 && inX0 ? (1 - fy) * (1 - fx) : 0;
      const w01 = inY0 && inX1 ? (1 - fy) * fx : 0;
      const w10 = inY1 && inX0 ? fy * (1 - fx) : 0;
      const w11 = inY1 && inX1 ? fy * fx : 0;
      const s00 = (y0 * S + x0) * C;
      const s10 = s00 + S * C;
      for (let k = 0; k < C; k++) {
        let v = 0;
        if (w00) v += w00 * src[s00 + k];
        if (w01) v += w01 * src[s00 + C + k];
        if (w10) v += w10 * src[s10 + k];
        if (w11) v += w11 * src[s10 + C + k];
        dst[o + k] = v;
      }
    }
  }
  return dst;
}

// ---------------------------------------------------------------------------------------------------------
// Mixup and normalisation
// ---------------------------------------------------------------------------------------------------------

/** Draw: `uniform(.2, .8)`, rounded to float32 so the image mix and the stored weight agree exactly. */
export function drawMixupWeight(rng: RandomSource): number {
  return Math.fround(rng.uniform(AUG.mixup[0], AUG.mixup[1]));
}

/** out = w·a + (1 − w)·b. */
export function mixup(a: Float32Array, b: Float32Array, w: number, out?: Float32Array): Float32Array {
  const n = a.length;
  const dst = out ?? new Float32Array(n);
  const v = 1 - w;
  for (let i = 0; i < n; i++) dst[i] = w * a[i] + v * b[i];
  return dst;
}

/** In place: grey (x − 0.5)/0.5; RGB ImageNet mean/std per channel. */
export function normalise(data: Float32Array, channels: number): void {
  if (channels === 1) {
    const inv = 1 / GREY_STD;
    for (let i = 0; i < data.length; i++) data[i] = (data[i] - GREY_MEAN) * inv;
    return;
  }
  const [m0, m1, m2] = IMAGENET_MEAN;
  const i0 = 1 / IMAGENET_STD[0];
  const i1 = 1 / IMAGENET_STD[1];
  const i2 = 1 / IMAGENET_STD[2];
  for (let i = 0; i < data.length; i += 3) {
    data[i] = (data[i] - m0) * i0;
    data[i + 1] = (data[i + 1] - m1) * i1;
    data[i + 2] = (data[i + 2] - m2) * i2;
  }
}

/** Inverse of `normalise` (for tests and previews). In place. */
export function denormalise(data: Float32Array, channels: number): void {
  if (channels === 1) {
    for (let i = 0; i < data.length; i++) data[i] = data[i] * GREY_STD + GREY_MEAN;
    return;
  }
  for (let i = 0; i < data.length; i += 3) {
    for (let c = 0; c < 3; c++) data[i + c] = data[i + c] * IMAGENET_STD[c] + IMAGENET_MEAN[c];
  }
}
