/**
 * Propagation on synthetic embedding fields with known answers: the target is the template's field
 * shifted (and for the look-alike test, repeated), so the true match of every point is known.
 */
import { describe, expect, test } from 'vitest';
import { fitAffine, ransacAffine, applyAffine } from '../../../main/engine/landmarks/affine';
import { centreEmbeddingAt, centreEmbeddingWindow, coarseMapFromHwc, fullMapFromHwc, withDenseCentreEmbedding, type ImageFeatures } from '../../../main/engine/landmarks/features';
import { blurHwc, gaussianTaps, normalisePixels, poolHwc } from '../../../main/engine/landmarks/gaussian';
import { propagateToImage, templateQueries } from '../../../main/engine/landmarks/propagate';
import { parabolicOffset, topPeaks } from '../../../main/engine/landmarks/search';
import { Rng } from '../../../main/engine/rng';

const D = 8;

/** A smooth random field: random values blurred (σ 3 px) then unit-normalised per pixel, HWC. */
function randomField(w: number, h: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  const raw = new Float32Array(w * h * D);
  for (let i = 0; i < raw.length; i++) raw[i] = rng.next() - 0.5;
  return normalisePixels(blurHwc(raw, h, w, D, 3), D);
}

/** The field sampled at (x − dx, y − dy) with bilinear interpolation: content moves by (+dx, +dy). */
function shifted(src: Float32Array, w: number, h: number, dx: number, dy: number): Float32Array {
  const out = new Float32Array(src.length);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const sx = Math.min(Math.max(x - dx, 0), w - 1.001);
      const sy = Math.min(Math.max(y - dy, 0), h - 1.001);
      const x0 = Math.floor(sx), y0 = Math.floor(sy);
      const fx = sx - x0, fy = sy - y0;
      for (let c = 0; c < D; c++) {
        const at = (xx: number, yy: number) => src[(yy * w + xx) * D + c];
        out[(y * w + x) * D + c] = (1 - fx) * (1 - fy) * at(x0, y0) + fx * (1 - fy) * at(x0 + 1, y0) + (1 - fx) * fy * at(x0, y0 + 1) + fx * fy * at(x0 + 1, y0 + 1);
      }
    }
  }
  return normalisePixels(out, D);
}

function features(hwc: Float32Array, w: number, h: number, sigma: number, scale = 1): ImageFeatures {
  return {
    source: { width: w / scale, height: h / scale },
    scale: { x: scale, y: scale },
    sigma,
    coarse: coarseMapFromHwc(hwc, w, h, D, sigma),
    full: fullMapFromHwc(hwc, w, h, D),
  };
}

describe('Gaussian maps', () => {
  test('blurHwc equals a direct 2-D Gaussian sum with zero padding', () => {
    const [w, h, c, sigma] = [9, 7, 2, 1.2];
    const rng = new Rng(3);
    const src = Float32Array.from({ length: w * h * c }, () => rng.next());
    const out = blurHwc(src, h, w, c, sigma);
    const taps = gaussianTaps(sigma);
    const r = (taps.length - 1) / 2;
    for (const [x, y, ch] of [[0, 0, 0], [4, 3, 1], [8, 6, 0], [2, 5, 1]]) {
      let s = 0;
      for (let dy = -r; dy <= r; dy++) for (let dx = -r; dx <= r; dx++) {
        const xx = x + dx, yy = y + dy;
        if (xx >= 0 && xx < w && yy >= 0 && yy < h) s += taps[dx + r] * taps[dy + r] * src[(yy * w + xx) * c + ch];
      }
      expect(out[(y * w + x) * c + ch]).toBeCloseTo(s, 6);
    }
  });

  test('a window of exact v̇ equals the whole-map computation', () => {
    const [w, h, sigma] = [40, 32, 2.5];
    const z = randomField(w, h, 4);
    const whole = normalisePixels(blurHwc(z, h, w, D, sigma), D);
    const win = centreEmbeddingWindow(fullMapFromHwc(z, w, h, D), 30, 1, 10, 6, sigma); // touches two borders
    for (let y = 0; y < 6; y++) for (let x = 0; x < 10; x++) for (let c = 0; c < D; c++) {
      expect(win[(y * 10 + x) * D + c]).toBeCloseTo(whole[((y + 1) * w + x + 30) * D + c], 5);
    }
  });

  test('poolHwc averages blocks', () => {
    const src = Float32Array.from({ length: 4 * 2 * 1 }, (_, i) => i); // 4 wide, 2 high
    expect(Array.from(poolHwc(src, 2, 4, 1, 2))).toEqual([(0 + 1 + 4 + 5) / 4, (2 + 3 + 6 + 7) / 4]);
  });
});

describe('peak search', () => {
  test('topPeaks keeps separated local maxima, highest first', () => {
    const map = new Float32Array(10 * 10);
    map[2 * 10 + 2] = 0.9;
    map[2 * 10 + 3] = 0.8; // a shoulder of the first peak, not a maximum
    map[7 * 10 + 7] = 0.5;
    expect(topPeaks(map, 10, 10, 3, 2).slice(0, 2)).toEqual([{ x: 2, y: 2, score: expect.closeTo(0.9, 6) }, { x: 7, y: 7, score: expect.closeTo(0.5, 6) }]);
  });

  test('parabolicOffset finds the vertex of a sampled parabola', () => {
    const f = (x: number) => 1 - (x - 0.3) ** 2;
    expect(parabolicOffset(f(-1), f(0), f(1))).toBeCloseTo(0.3, 6);
    expect(parabolicOffset(1, 1, 1)).toBe(0);
  });
});

describe('affine consensus', () => {
  test('fitAffine recovers a known map; RANSAC ignores gross outliers', () => {
    const a = [0.9, 0.1, 0.05, -0.08, 1.1, -0.02] as const;
    const rng = new Rng(5);
    const src = Array.from({ length: 20 }, () => ({ x: rng.next(), y: rng.next() }));
    const dst = src.map((p) => applyAffine([...a], p));
    expect(fitAffine(src, dst)!.map((v) => +v.toFixed(6))).toEqual([...a]);
    const noisy = dst.map((p, i) => (i % 4 === 0 ? { x: rng.next(), y: rng.next() } : p));
    const fit = ransacAffine(src, noisy.map((p) => [{ p, w: 1 }]), 0.01)!;
    expect(fit.inliers.filter(Boolean).length).toBe(15);
    fit.affine.forEach((v, i) => expect(v).toBeCloseTo(a[i], 6));
  });

  test('with several candidates per point, the consistent one is chosen even when it is not the first', () => {
    const a = [1.1, 0, 0.02, 0, 0.9, 0.05] as const;
    const rng = new Rng(6);
    const src = Array.from({ length: 12 }, () => ({ x: rng.next(), y: rng.next() }));
    // every point's best-scored candidate is wrong for half of them; the right one comes second
    const candidates = src.map((p, i) => {
      const right = { p: applyAffine([...a], p), w: 0.8 };
      const wrong = { p: { x: rng.next(), y: rng.next() }, w: 0.9 };
      return i % 2 ? [wrong, right] : [right, wrong];
    });
    const fit = ransacAffine(src, candidates, 0.005)!;
    expect(fit.chosen).toEqual(src.map((_, i) => (i % 2 ? 1 : 0)));
    fit.affine.forEach((v, i) => expect(v).toBeCloseTo(a[i], 6));
  });
});

describe('propagateToImage', () => {
  const [w, h, sigma] = [96, 80, 3];
  const base = randomField(w, h, 11);
  const points = [{ x: 20, y: 20 }, { x: 70.4, y: 30.6 }, { x: 40, y: 60 }, { x: 50, y: 40 }, { x: 25, y: 55 }, null];

  test.each(['none', 'affine'] as const)('a shifted image: every point found within 0.35 px (consensus %s), confident', (consensus) => {
    const [dx, dy] = [4.5, -3.25];
    const template = features(base, w, h, sigma);
    const target = features(shifted(base, w, h, dx, dy), w, h, sigma);
    const out = propagateToImage(template, templateQueries(template, points), target, { consensus });
    expect(out[5]).toBeNull();
    out.slice(0, 5).forEach((p, i) => {
      expect(Math.hypot(p!.x - (points[i]!.x + dx), p!.y - (points[i]!.y + dy)), `point ${i}`).toBeLessThan(0.35);
      expect(p!.similarity).toBeGreaterThan(0.98);
      expect(p!.cycleError).toBeLessThan(1);
      expect(p!.confidence).toBeGreaterThan(0.5);
    });
  });

  test('a template with dense v̇ (computed once) gives the same answers as windows computed on demand', () => {
    const template = features(base, w, h, sigma);
    const target = features(shifted(base, w, h, 3, 2), w, h, sigma);
    const lazy = propagateToImage(template, templateQueries(template, points), target);
    const dense = withDenseCentreEmbedding(template);
    expect(dense.dense).toHaveLength(w * h * D);
    const fast = propagateToImage(dense, templateQueries(dense, points), target);
    fast.forEach((p, i) => {
      if (!p) return expect(lazy[i]).toBeNull();
      expect(p.x).toBeCloseTo(lazy[i]!.x, 4);
      expect(p.y).toBeCloseTo(lazy[i]!.y, 4);
      expect(p.confidence).toBeCloseTo(lazy[i]!.confidence, 4);
    });
  });

  test('original-pixel coordinates: the network scale is undone', () => {
    const template = features(base, w, h, sigma, 0.25); // network pixels are 4 original pixels
    const target = features(shifted(base, w, h, 2, 1), w, h, sigma, 0.25);
    const orig = [{ x: 4 * 30 + 1.5, y: 4 * 40 + 1.5 }];
    const [p] = propagateToImage(template, templateQueries(template, orig), target, { consensus: 'none' });
    expect(p!.x).toBeCloseTo(orig[0].x + 8, 0);
    expect(p!.y).toBeCloseTo(orig[0].y + 4, 0);
  });

  test('a point whose structure is not in the target gets a low confidence', () => {
    const template = features(base, w, h, sigma);
    const other = features(randomField(w, h, 99), w, h, sigma);
    const [same] = propagateToImage(template, templateQueries(template, [points[0]]), features(base, w, h, sigma), { consensus: 'none' });
    const [lost] = propagateToImage(template, templateQueries(template, [points[0]]), other, { consensus: 'none' });
    expect(lost!.confidence).toBeLessThan(same!.confidence * 0.5);
  });

  test('template points outside the template image are rejected with the sizes named', () => {
    const template = features(base, w, h, sigma);
    expect(() => templateQueries(template, [{ x: 200, y: 5 }])).toThrow(/outside the 96×80 template/);
  });

  test('centreEmbeddingAt interpolates between pixels', () => {
    const full = fullMapFromHwc(base, w, h, D);
    const a = centreEmbeddingAt(full, 10, 10, sigma);
    const b = centreEmbeddingAt(full, 11, 10, sigma);
    const mid = centreEmbeddingAt(full, 10.5, 10, sigma);
    const dot = (u: Float32Array, v: Float32Array) => u.reduce((s, x, i) => s + x * v[i], 0);
    expect(dot(mid, a)).toBeGreaterThan(dot(b, a) - 1e-6);
    expect(dot(mid, b)).toBeGreaterThan(dot(a, b) - 1e-6);
  });
});
