import { describe, expect, it } from 'vitest';
import { Rng } from '../../../main/engine/rng';
import {
  alignGridIndex,
  applyView2,
  drawT0,
  drawT1,
  drawView2,
  flipHW,
  randomResizedCropParams,
  rot90HWC,
  rotateNearest,
  roundHalfEven,
  type RandomSource,
} from '../../../main/engine/data/augment';
import { grid, toRows } from './fixtures';

const arange = (n: number) => Float32Array.from({ length: n }, (_, i) => i);

/** Wraps an Rng and counts / records what is drawn. */
function recording(seed: number) {
  const rng = new Rng(seed);
  const log: { kind: string; args: number[]; value: number }[] = [];
  let nexts = 0;
  const src: RandomSource = {
    next: () => {
      nexts++;
      return rng.next();
    },
    uniform: (a, b) => {
      const v = a + (b - a) * src.next();
      log.push({ kind: 'uniform', args: [a, b], value: v });
      return v;
    },
    int: (n) => {
      const v = Math.floor(src.next() * n);
      log.push({ kind: 'int', args: [n], value: v });
      return v;
    },
    bernoulli: (p) => {
      const v = src.next() < p;
      log.push({ kind: 'bernoulli', args: [p], value: v ? 1 : 0 });
      return v;
    },
    permutation: (n) => {
      const p = Array.from({ length: n }, (_, i) => i);
      for (let i = n - 1; i > 0; i--) {
        const j = src.int(i + 1);
        [p[i], p[j]] = [p[j], p[i]];
      }
      return p;
    },
  };
  return { src, log, count: () => nexts, rng };
}

describe('torch.rot90 semantics (dims = (H, W))', () => {
  it('matches the torch docs example rot90(arange(4).view(2,2), 1, [0,1]) = [[1,3],[0,2]]', () => {
    expect(toRows(rot90HWC(arange(4), 2, 2, 1, 1), 2, 2)).toEqual([
      [1, 3],
      [0, 2],
    ]);
  });

  it('3×3 for k = 0..3 and the double flip (expected arrays written by hand)', () => {
    const a = arange(9); // [[0,1,2],[3,4,5],[6,7,8]]
    expect(toRows(rot90HWC(a, 3, 3, 1, 0), 3, 3)).toEqual([
      [0, 1, 2],
      [3, 4, 5],
      [6, 7, 8],
    ]);
    // k = 1: counter-clockwise; the right column becomes the top row
    expect(toRows(rot90HWC(a, 3, 3, 1, 1), 3, 3)).toEqual([
      [2, 5, 8],
      [1, 4, 7],
      [0, 3, 6],
    ]);
    expect(toRows(rot90HWC(a, 3, 3, 1, 2), 3, 3)).toEqual([
      [8, 7, 6],
      [5, 4, 3],
      [2, 1, 0],
    ]);
    // k = 3 (= -1): clockwise; the left column becomes the top row, read bottom to top
    expect(toRows(rot90HWC(a, 3, 3, 1, 3), 3, 3)).toEqual([
      [6, 3, 0],
      [7, 4, 1],
      [8, 5, 2],
    ]);
    expect(toRows(rot90HWC(a, 3, 3, 1, -1), 3, 3)).toEqual(toRows(rot90HWC(a, 3, 3, 1, 3), 3, 3));
    // flip of both H and W = 180° rotation
    expect(toRows(flipHW(a, 3, 3, 1), 3, 3)).toEqual([
      [8, 7, 6],
      [5, 4, 3],
      [2, 1, 0],
    ]);
  });

  it('non-square: rot90([[0,1,2],[3,4,5]], 1) = [[2,5],[1,4],[0,3]] (3 rows × 2 columns)', () => {
    expect(toRows(rot90HWC(arange(6), 2, 3, 1, 1), 3, 2)).toEqual([
      [2, 5],
      [1, 4],
      [0, 3],
    ]);
    expect(toRows(rot90HWC(arange(6), 2, 3, 1, 3), 3, 2)).toEqual([
      [3, 0],
      [4, 1],
      [5, 2],
    ]);
  });

  it('moves whole pixels (all channels together) on HWC data', () => {
    // 2×2×3, pixel value = 10·index + channel
    const a = Float32Array.from({ length: 12 }, (_, i) => 10 * Math.floor(i / 3) + (i % 3));
    const r = rot90HWC(a, 2, 2, 3, 1);
    expect(Array.from(r)).toEqual([10, 11, 12, 30, 31, 32, 0, 1, 2, 20, 21, 22]);
  });

  it('view-2 transform: (f, k) is rot90 by k + 2f', () => {
    const a = arange(9);
    expect(toRows(applyView2(a, 3, 1, { f: 0, k: 1 }), 3, 3)).toEqual([
      [2, 5, 8],
      [1, 4, 7],
      [0, 3, 6],
    ]);
    expect(toRows(applyView2(a, 3, 1, { f: 1, k: 0 }), 3, 3)).toEqual([
      [8, 7, 6],
      [5, 4, 3],
      [2, 1, 0],
    ]);
    // flip then one quarter turn = three quarter turns
    expect(toRows(applyView2(a, 3, 1, { f: 1, k: 1 }), 3, 3)).toEqual([
      [6, 3, 0],
      [7, 4, 1],
      [8, 5, 2],
    ]);
  });
});

describe('rotateNearest (Pillow rotate, NEAREST, black fill)', () => {
  it('90° on a 4×4 image through the general code equals the exact transpose-flip', () => {
    const r = rotateNearest(arange(16), 4, 4, 1, 90);
    // counter-clockwise: the right column (3, 7, 11, 15) becomes the top row
    expect(toRows(r, 4, 4)).toEqual([
      [3, 7, 11, 15],
      [2, 6, 10, 14],
      [1, 5, 9, 13],
      [0, 4, 8, 12],
    ]);
    expect(Array.from(r)).toEqual(Array.from(rot90HWC(arange(16), 4, 4, 1, 1)));
  });

  it('±90°, 180°, 270°, 0°, 360° on even and odd sizes and 3 channels equal exact quarter turns', () => {
    for (const n of [4, 5, 8, 73]) {
      for (const C of [1, 3]) {
        const a = arange(n * n * C);
        expect(Array.from(rotateNearest(a, n, n, C, 90))).toEqual(Array.from(rot90HWC(a, n, n, C, 1)));
        expect(Array.from(rotateNearest(a, n, n, C, -90))).toEqual(Array.from(rot90HWC(a, n, n, C, 3)));
        expect(Array.from(rotateNearest(a, n, n, C, 270))).toEqual(Array.from(rot90HWC(a, n, n, C, 3)));
        expect(Array.from(rotateNearest(a, n, n, C, 180))).toEqual(Array.from(rot90HWC(a, n, n, C, 2)));
        expect(Array.from(rotateNearest(a, n, n, C, -180))).toEqual(Array.from(rot90HWC(a, n, n, C, 2)));
        expect(Array.from(rotateNearest(a, n, n, C, 0))).toEqual(Array.from(a));
        expect(Array.from(rotateNearest(a, n, n, C, 360))).toEqual(Array.from(a));
      }
    }
  });

  it('45° of a white image: black corners, white centre, values only copied (nearest)', () => {
    const n = 9;
    const r = rotateNearest(new Float32Array(n * n).fill(1), n, n, 1, 45);
    expect(r[0]).toBe(0);
    expect(r[n - 1]).toBe(0);
    expect(r[n * n - 1]).toBe(0);
    expect(r[(n - 1) * n]).toBe(0);
    expect(r[4 * n + 4]).toBe(1);
    expect(r.every((v) => v === 0 || v === 1)).toBe(true);
    const ones = r.reduce((s, v) => s + v, 0);
    // a square rotated by 45° keeps about n²·(2 − √2)... of its area on the canvas; loose bounds
    expect(ones).toBeGreaterThan(0.75 * n * n - n);
    expect(ones).toBeLessThan(0.9 * n * n);
  });

  it('a small rotation moves a single bright pixel as Pillow does (hand-computed 5×5, 10°)', () => {
    // Pillow maps output centre (x+.5, y+.5) back with x_in = cos·(x+.5−cx) − sin·(y+.5−cy) + cx,
    // y_in = sin·(x+.5−cx) + cos·(y+.5−cy) + cy, truncated. For 10° the only output pixel reading input
    // (row 0, col 4) is the one computed here.
    const n = 5;
    const a = new Float32Array(n * n);
    a[0 * n + 4] = 1;
    const r = rotateNearest(a, n, n, 1, 10);
    const c = Math.cos((10 * Math.PI) / 180);
    const s = Math.sin((10 * Math.PI) / 180);
    const expected: number[] = [];
    for (let y = 0; y < n; y++)
      for (let x = 0; x < n; x++) {
        const xi = Math.floor(c * (x + 0.5 - 2.5) - s * (y + 0.5 - 2.5) + 2.5);
        const yi = Math.floor(s * (x + 0.5 - 2.5) + c * (y + 0.5 - 2.5) + 2.5);
        if (xi === 4 && yi === 0) expected.push(y * n + x);
      }
    const got = Array.from(r)
      .map((v, i) => (v === 1 ? i : -1))
      .filter((i) => i >= 0);
    expect(got).toEqual(expected);
    expect(got.length).toBe(1);
    // counter-clockwise: the top-right pixel moves up/left, i.e. stays in the top row area, left of column 4
    expect(got[0] % n).toBeLessThanOrEqual(4);
  });

  it('flips are applied before the rotation', () => {
    const n = 6;
    const a = arange(n * n);
    const mirrored = new Float32Array(n * n);
    for (let y = 0; y < n; y++) for (let x = 0; x < n; x++) mirrored[y * n + x] = a[(n - 1 - y) * n + (n - 1 - x)];
    expect(Array.from(rotateNearest(a, n, n, 1, 33, undefined, { hflip: true, vflip: true }))).toEqual(
      Array.from(rotateNearest(mirrored, n, n, 1, 33)),
    );
    const lr = new Float32Array(n * n);
    for (let y = 0; y < n; y++) for (let x = 0; x < n; x++) lr[y * n + x] = a[y * n + (n - 1 - x)];
    expect(Array.from(rotateNearest(a, n, n, 1, -71, undefined, { hflip: true }))).toEqual(
      Array.from(rotateNearest(lr, n, n, 1, -71)),
    );
  });
});

describe('alignGridIndex (§3.3)', () => {
  it('pooling the view-2 transform of a cell-labelled image and aligning gives the identity', () => {
    const g = 8;
    const cell = 7;
    const S = g * cell;
    for (const C of [1, 3] as const) {
      const img = new Float32Array(S * S * C);
      for (let y = 0; y < S; y++)
        for (let x = 0; x < S; x++)
          for (let c = 0; c < C; c++) img[(y * S + x) * C + c] = Math.floor(y / cell) * g + Math.floor(x / cell);
      for (const f of [0, 1] as const) {
        for (const k of [0, 1, 2, 3] as const) {
          const v2 = applyView2(img, S, C, { f, k });
          // average-pool cell × cell (channel 0; all channels carry the same label)
          const pooled = new Float64Array(g * g);
          for (let y = 0; y < S; y++)
            for (let x = 0; x < S; x++) pooled[Math.floor(y / cell) * g + Math.floor(x / cell)] += v2[(y * S + x) * C];
          for (let i = 0; i < g * g; i++) pooled[i] /= cell * cell;
          const src = alignGridIndex(f, k, g);
          const aligned = Array.from(src, (s) => pooled[s]);
          expect(aligned).toEqual(Array.from({ length: g * g }, (_, i) => i));
          // and the view-2 grid really is permuted unless the transform is the identity
          const moved = Array.from(pooled).some((v, i) => v !== i);
          expect(moved).toBe((k + 2 * f) % 4 !== 0);
        }
      }
    }
  });

  it('is a permutation, and the identity for (0, 0) and (1, 2)', () => {
    const id = Array.from({ length: 64 }, (_, i) => i);
    expect(Array.from(alignGridIndex(0, 0, 8))).toEqual(id);
    expect(Array.from(alignGridIndex(1, 2, 8))).toEqual(id);
    for (let f = 0; f < 2; f++)
      for (let k = 0; k < 4; k++) expect(Array.from(alignGridIndex(f, k, 8)).sort((a, b) => a - b)).toEqual(id);
  });
});

describe('RandomResizedCrop parameters (torchvision get_params)', () => {
  it('Python rounding is half to even', () => {
    expect(roundHalfEven(2.5)).toBe(2);
    expect(roundHalfEven(3.5)).toBe(4);
    expect(roundHalfEven(-2.5)).toBe(-2);
    expect(roundHalfEven(2.4)).toBe(2);
    expect(roundHalfEven(2.6)).toBe(3);
  });

  for (const size of [512, 73, 146]) {
    it(`stays within the stated ranges over many draws (${size}×${size})`, () => {
      const rec = recording(size);
      const A = size * size;
      let fallbacks = 0;
      let minFrac = Infinity;
      let maxFrac = -Infinity;
      for (let t = 0; t < 3000; t++) {
        rec.log.length = 0;
        const p = randomResizedCropParams(rec.src, size, size);
        // Every try draws s then log r; w, h follow from them exactly.
        const us = rec.log.filter((e) => e.kind === 'uniform');
        expect(us.length % 2).toBe(0);
        for (let i = 0; i < us.length; i += 2) {
          expect(us[i].value).toBeGreaterThanOrEqual(0.9);
          expect(us[i].value).toBeLessThan(1);
          expect(us[i + 1].value).toBeGreaterThanOrEqual(Math.log(3 / 4));
          expect(us[i + 1].value).toBeLessThan(Math.log(4 / 3));
        }
        if (p.tries === 0) {
          fallbacks++;
          expect(us.length).toBe(20);
          expect(p).toEqual({ top: 0, left: 0, width: size, height: size, tries: 0 });
          continue;
        }
        expect(us.length).toBe(2 * p.tries);
        const s = us[us.length - 2].value;
        const r = Math.exp(us[us.length - 1].value);
        expect(p.width).toBe(roundHalfEven(Math.sqrt(s * A * r)));
        expect(p.height).toBe(roundHalfEven(Math.sqrt((s * A) / r)));
        expect(p.width).toBeLessThanOrEqual(size);
        expect(p.height).toBeLessThanOrEqual(size);
        expect(p.top).toBeGreaterThanOrEqual(0);
        expect(p.left).toBeGreaterThanOrEqual(0);
        expect(p.top + p.height).toBeLessThanOrEqual(size);
        expect(p.left + p.width).toBeLessThanOrEqual(size);
        // the two position draws come last, with torchvision's bounds
        const ints = rec.log.filter((e) => e.kind === 'int');
        expect(ints.map((e) => e.args[0])).toEqual([size - p.height + 1, size - p.width + 1]);
        expect(ints.map((e) => e.value)).toEqual([p.top, p.left]);
        const frac = (p.width * p.height) / A;
        minFrac = Math.min(minFrac, frac);
        maxFrac = Math.max(maxFrac, frac);
        const ratio = p.width / p.height;
        const slack = 1 / Math.min(p.width, p.height); // integer rounding of w and h
        expect(ratio).toBeGreaterThanOrEqual((3 / 4) * (1 - 2 * slack));
        expect(ratio).toBeLessThanOrEqual((4 / 3) * (1 + 2 * slack));
      }
      const slack = 2 / size;
      expect(minFrac).toBeGreaterThanOrEqual(0.9 - 2 * slack);
      expect(maxFrac).toBeLessThanOrEqual(1 + 2 * slack);
      expect(minFrac).toBeLessThan(0.92); // the whole range is used
      // A try succeeds only when s·r ≤ 1 and s/r ≤ 1 (up to rounding): P ≈ E[−ln s]/ln(4/3) ≈ 0.18 for
      // s ~ U[.9, 1], so all 10 tries fail with P ≈ 0.82^10 ≈ 0.137 (less on small images, where rounding
      // helps). torchvision then takes the whole image: about one base crop in eight is not a crop at all.
      const rate = fallbacks / 3000;
      if (size === 512) {
        expect(rate).toBeGreaterThan(0.09);
        expect(rate).toBeLessThan(0.16);
      } else {
        expect(rate).toBeGreaterThan(0.03);
        expect(rate).toBeLessThan(0.16);
      }
    });
  }

  it('falls back to the whole square image after 10 failed tries, without further draws', () => {
    let calls = 0;
    // s = 1, r = 4/3 every time → w = round(√(A·4/3)) > W: every try fails
    const always: RandomSource = {
      next: () => {
        calls++;
        return 0.999999;
      },
      uniform: (_a, b) => {
        calls++;
        return b;
      },
      int: () => {
        throw new Error('no position draw expected');
      },
      bernoulli: () => false,
      permutation: (n) => Array.from({ length: n }, (_, i) => i),
    };
    expect(randomResizedCropParams(always, 512, 512)).toEqual({ top: 0, left: 0, height: 512, width: 512, tries: 0 });
    expect(calls).toBe(20);
  });

  it('clamps the ratio in the fallback for elongated images (hand-computed)', () => {
    // 100×10: every try needs h ≥ √(900·3/4) ≈ 26 > 10, so all fail. W/H = 10 > 4/3:
    // h = 10, w = round(10·4/3) = 13, top = 0, left = ⌊87/2⌋ = 43.
    expect(randomResizedCropParams(new Rng(1), 100, 10)).toEqual({ top: 0, left: 43, height: 10, width: 13, tries: 0 });
    // 10×100 (W×H): W/H = 0.1 < 3/4: w = 10, h = round(10/(3/4)) = 13, top = 43, left = 0.
    expect(randomResizedCropParams(new Rng(1), 10, 100)).toEqual({ top: 43, left: 0, height: 13, width: 10, tries: 0 });
  });
});

describe('draw counts', () => {
  it('T1 always consumes 9 uniforms (angle, 3 for the permutation, b, c, s, h, greyscale)', () => {
    for (let seed = 0; seed < 50; seed++) {
      const rec = recording(seed);
      const p = drawT1(rec.src);
      expect(rec.count()).toBe(9);
      expect(Math.abs(p.angle)).toBeLessThanOrEqual(2);
      expect([...p.order].sort()).toEqual([0, 1, 2, 3]);
      for (const v of [p.brightness, p.contrast, p.saturation]) {
        expect(v).toBeGreaterThanOrEqual(0.6);
        expect(v).toBeLessThan(1.4);
      }
      expect(Math.abs(p.hue)).toBeLessThanOrEqual(0.02);
    }
  });

  it('T0 consumes 3 + 2·tries + 2 uniforms (or 23 on fallback); view 2 consumes 2', () => {
    for (let seed = 0; seed < 200; seed++) {
      const rec = recording(seed);
      const p = drawT0(rec.src, 512);
      expect(rec.count()).toBe(p.crop.tries === 0 ? 23 : 3 + 2 * p.crop.tries + 2);
      expect(Math.abs(p.angle)).toBeLessThanOrEqual(180);
      const rec2 = recording(seed);
      const v = drawView2(rec2.src);
      expect(rec2.count()).toBe(2);
      expect([0, 1]).toContain(v.f);
      expect([0, 1, 2, 3]).toContain(v.k);
    }
  });
});

// keep the helper exercised (grid is used by other test files too)
it('fixtures: grid/toRows round-trip', () => {
  expect(toRows(grid([[1, 2], [3, 4]]), 2, 2)).toEqual([[1, 2], [3, 4]]);
});
