/**
 * Separable image resampling on HWC Float32Array data (no tfjs).
 *
 * Each axis gets its own 1-D weight table, so the two axes may use different filters:
 *
 * - scale factor (dst/src) < 0.5 on that axis: exact area averaging (box filter with fractional
 *   coverage, like OpenCV's INTER_AREA). Every source pixel contributes in proportion to how much of it
 *   the output pixel covers. This is the antialiasing step that matters when a 2000 px radiograph is
 *   shrunk to e.g. 73 px: plain bilinear would sample only 2 of every ~27 source pixels and alias badly.
 * - otherwise: bilinear, in Pillow's formulation (a triangle filter on pixel centres,
 *   centre = (i + 0.5)·src/dst, weights renormalised at the borders). When upscaling this is exactly
 *   half-pixel bilinear with edge clamping (align_corners = false). When downscaling by a factor in
 *   [0.5, 1) Pillow widens the triangle by 1/factor (mild antialiasing); we do the same, because that is
 *   what torchvision's RandomResizedCrop does on the PIL images of the reference code.
 */

/** 1-D resampling weights: output i reads `count[i]` source pixels from `start[i]` with weights[i·maxTaps + t]. */
export interface Taps {
  start: Int32Array;
  count: Int32Array;
  weights: Float64Array;
  maxTaps: number;
}

const tapsCache = new Map<string, Taps>();

/** Weight table mapping source pixels [0, srcLen) onto dstLen output pixels (cached). */
export function makeTaps(srcLen: number, dstLen: number): Taps {
  if (!(srcLen > 0 && dstLen > 0)) throw new Error(`makeTaps: bad sizes ${srcLen} -> ${dstLen}`);
  const key = `${srcLen}:${dstLen}`;
  const cached = tapsCache.get(key);
  if (cached) return cached;

  const scale = srcLen / dstLen; // source pixels per output pixel
  const start = new Int32Array(dstLen);
  const count = new Int32Array(dstLen);
  let taps: Taps;

  if (dstLen / srcLen < 0.5) {
    // Area averaging: output i covers the source interval [i·scale, (i+1)·scale).
    const maxTaps = Math.ceil(scale) + 1;
    const weights = new Float64Array(dstLen * maxTaps);
    for (let i = 0; i < dstLen; i++) {
      const a = i * scale;
      const b = Math.min((i + 1) * scale, srcLen);
      const j0 = Math.floor(a);
      const j1 = Math.min(Math.ceil(b), srcLen);
      let sum = 0;
      for (let j = j0; j < j1; j++) {
        const w = Math.min(b, j + 1) - Math.max(a, j);
        weights[i * maxTaps + (j - j0)] = w;
        sum += w;
      }
      for (let t = 0; t < j1 - j0; t++) weights[i * maxTaps + t] /= sum;
      start[i] = j0;
      count[i] = j1 - j0;
    }
    taps = { start, count, weights, maxTaps };
  } else {
    // Pillow's precompute_coeffs with the bilinear (triangle, support 1) filter.
    const filterScale = Math.max(1, scale);
    const support = filterScale;
    const maxTaps = Math.ceil(support) * 2 + 1;
    const weights = new Float64Array(dstLen * maxTaps);
    const ss = 1 / filterScale;
    for (let i = 0; i < dstLen; i++) {
      const center = (i + 0.5) * scale;
      const xmin = Math.max(0, Math.trunc(center - support + 0.5));
      const xmax = Math.min(srcLen, Math.trunc(center + support + 0.5));
      const n = xmax - xmin;
      let sum = 0;
      for (let t = 0; t < n; t++) {
        const d = Math.abs((t + xmin - center + 0.5) * ss);
        const w = d < 1 ? 1 - d : 0;
        weights[i * maxTaps + t] = w;
        sum += w;
      }
      if (sum !== 0) for (let t = 0; t < n; t++) weights[i * maxTaps + t] /= sum;
      start[i] = xmin;
      count[i] = n;
    }
    taps = { start, count, weights, maxTaps };
  }
  if (tapsCache.size > 1024) tapsCache.clear();
  tapsCache.set(key, taps);
  return taps;
}

/** A rectangle of the source image (integer pixels). */
export interface Region {
  left: number;
  top: number;
  width: number;
  height: number;
}

/**
 * Resize HWC `src` (srcW × srcH × C), or the `region` of it, to dstW × dstH × C.
 * Horizontal pass first (only over the region's rows), then vertical. Writes into `out` when given.
 */
export function resizeHWC(
  src: Float32Array,
  srcW: number,
  srcH: number,
  channels: number,
  dstW: number,
  dstH: number,
  out?: Float32Array,
  region?: Region,
  scratch?: Float32Array,
): Float32Array {
  const C = channels;
  const r = region ?? { left: 0, top: 0, width: srcW, height: srcH };
  if (r.left < 0 || r.top < 0 || r.left + r.width > srcW || r.top + r.height > srcH || r.width <= 0 || r.height <= 0) {
    throw new Error(`resizeHWC: region ${JSON.stringify(r)} outside ${srcW}x${srcH}`);
  }
  const dst = out ?? new Float32Array(dstW * dstH * C);
  if (dst.length < dstW * dstH * C) throw new Error('resizeHWC: output buffer too small');

  // Horizontal: rows r.top .. r.top+height-1 → tmp (height × dstW × C).
  const hx = makeTaps(r.width, dstW);
  const tmpLen = r.height * dstW * C;
  const tmp = scratch && scratch.length >= tmpLen ? scratch : new Float32Array(tmpLen);
  const { start: hs, count: hc, weights: hw, maxTaps: hm } = hx;
  for (let y = 0; y < r.height; y++) {
    const rowIn = ((r.top + y) * srcW + r.left) * C;
    const rowOut = y * dstW * C;
    if (C === 1) {
      for (let x = 0; x < dstW; x++) {
        const s = rowIn + hs[x];
        const wo = x * hm;
        const n = hc[x];
        let acc = 0;
        for (let t = 0; t < n; t++) acc += hw[wo + t] * src[s + t];
        tmp[rowOut + x] = acc;
      }
    } else if (C === 3) {
      for (let x = 0; x < dstW; x++) {
        let s = rowIn + hs[x] * 3;
        const wo = x * hm;
        const n = hc[x];
        let a0 = 0;
        let a1 = 0;
        let a2 = 0;
        for (let t = 0; t < n; t++, s += 3) {
          const w = hw[wo + t];
          a0 += w * src[s];
          a1 += w * src[s + 1];
          a2 += w * src[s + 2];
        }
        const o = rowOut + x * 3;
        tmp[o] = a0;
        tmp[o + 1] = a1;
        tmp[o + 2] = a2;
      }
    } else {
      for (let x = 0; x < dstW; x++) {
        const s = rowIn + hs[x] * C;
        const wo = x * hm;
        const o = rowOut + x * C;
        for (let c = 0; c < C; c++) {
          let acc = 0;
          for (let t = 0, n = hc[x]; t < n; t++) acc += hw[wo + t] * src[s + t * C + c];
          tmp[o + c] = acc;
        }
      }
    }
  }

  // Vertical: tmp rows → dst rows (one pass per output row for the common 1-3 tap cases).
  const vy = makeTaps(r.height, dstH);
  const { start: vs, count: vc, weights: vw, maxTaps: vm } = vy;
  const rowLen = dstW * C;
  for (let y = 0; y < dstH; y++) {
    const o = y * rowLen;
    const n = vc[y];
    const wb = y * vm;
    const r0 = vs[y] * rowLen;
    if (n === 1) {
      for (let i = 0; i < rowLen; i++) dst[o + i] = tmp[r0 + i];
    } else if (n === 2) {
      const w0 = vw[wb];
      const w1 = vw[wb + 1];
      const r1 = r0 + rowLen;
      for (let i = 0; i < rowLen; i++) dst[o + i] = w0 * tmp[r0 + i] + w1 * tmp[r1 + i];
    } else if (n === 3) {
      const w0 = vw[wb];
      const w1 = vw[wb + 1];
      const w2 = vw[wb + 2];
      const r1 = r0 + rowLen;
      const r2 = r1 + rowLen;
      for (let i = 0; i < rowLen; i++) dst[o + i] = w0 * tmp[r0 + i] + w1 * tmp[r1 + i] + w2 * tmp[r2 + i];
    } else {
      for (let i = 0; i < rowLen; i++) {
        let acc = 0;
        for (let t = 0, rt = r0 + i; t < n; t++, rt += rowLen) acc += vw[wb + t] * tmp[rt];
        dst[o + i] = acc;
      }
    }
  }
  return dst;
}
