import { describe, expect, it } from 'vitest';
import type { ImageRecord } from '../../../main/io/imageRecord';
import { baseSizeFor, prepareImage } from '../../../main/engine/data/prepare';
import { resizeHWC } from '../../../main/engine/data/resample';

function record(width: number, height: number, channels: 1 | 3, pixels: number[] | Float32Array, frames = 1): ImageRecord {
  const px = Float32Array.from(pixels);
  let min = Infinity;
  let max = -Infinity;
  for (const v of px) {
    min = Math.min(min, v);
    max = Math.max(max, v);
  }
  return {
    id: 'r',
    path: '/tmp/r.png',
    format: 'png',
    width,
    height,
    channels,
    frames,
    pixels: px,
    range: { min, max },
    bitsStored: 16,
    inverted: false,
  };
}

const close = (got: Float32Array, want: number[], digits = 6) => {
  expect(got.length).toBe(want.length);
  want.forEach((w, i) => expect(got[i]).toBeCloseTo(w, digits));
};

describe('baseSizeFor', () => {
  it('keeps the paper ratio 512/448, rounded', () => {
    expect(baseSizeFor(448)).toBe(512);
    expect(baseSizeFor(64)).toBe(73);
    expect(baseSizeFor(128)).toBe(146);
    expect(baseSizeFor(256)).toBe(293);
  });
});

describe('prepareImage', () => {
  it('min-max scales with record.range to [0, 1]', () => {
    const p = prepareImage(record(2, 2, 1, [100, 200, 300, 500]), { baseSize: 2, channels: 1 });
    expect(p).toMatchObject({ id: 'r', size: 2, channels: 1 });
    close(p.data, [0, 0.25, 0.5, 1]);
  });

  it('guards max == min (constant image → zeros, no NaN)', () => {
    const p = prepareImage(record(3, 3, 1, new Array(9).fill(7)), { baseSize: 4, channels: 1 });
    expect(Array.from(p.data)).toEqual(new Array(16).fill(0));
  });

  it('uses the first frame only', () => {
    const r = record(2, 2, 1, [0, 1, 2, 3, 100, 100, 100, 100], 2);
    r.range = { min: 0, max: 4 };
    const p = prepareImage(r, { baseSize: 2, channels: 1 });
    close(p.data, [0, 0.25, 0.5, 0.75]);
  });

  it('converts RGB to grey with luma 0.299/0.587/0.114', () => {
    const r = record(2, 1, 3, [1, 0, 0, 0, 1, 0]);
    const p = prepareImage({ ...r, width: 1, height: 1, pixels: Float32Array.from([1, 0, 0]), range: { min: 0, max: 1 } }, {
      baseSize: 1,
      channels: 1,
    });
    close(p.data, [0.299]);
    const q = prepareImage(
      { ...r, width: 1, height: 1, pixels: Float32Array.from([0.2, 0.4, 0.6]), range: { min: 0, max: 1 } },
      { baseSize: 1, channels: 1 },
    );
    close(q.data, [0.363]);
  });

  it('copies grey to 3 channels, and keeps RGB as RGB', () => {
    const p = prepareImage(record(2, 2, 1, [0, 1, 2, 4]), { baseSize: 2, channels: 3 });
    close(p.data, [0, 0, 0, 0.25, 0.25, 0.25, 0.5, 0.5, 0.5, 1, 1, 1]);
    const q = prepareImage(record(1, 1, 3, [0, 2, 4]), { baseSize: 1, channels: 3 });
    close(q.data, [0, 0.5, 1]);
  });

  it('resizes to a square without keeping the aspect ratio; constant stays constant', () => {
    const r = record(300, 100, 1, new Float32Array(300 * 100).fill(3));
    r.range = { min: 1, max: 5 };
    const p = prepareImage(r, { baseSize: 64, channels: 3 });
    expect(p.size).toBe(64);
    expect(p.data.length).toBe(64 * 64 * 3);
    for (const v of p.data) expect(v).toBeCloseTo(0.5, 6);
  });

  it('antialiases a large downsize (2000 → 73): a 1-px checkerboard averages to grey', () => {
    const n = 2000;
    const px = new Float32Array(n * n);
    for (let y = 0; y < n; y++) for (let x = 0; x < n; x++) px[y * n + x] = (x + y) % 2;
    const p = prepareImage(record(n, n, 1, px), { baseSize: 73, channels: 1 });
    let lo = Infinity;
    let hi = -Infinity;
    for (const v of p.data) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    expect(lo).toBeGreaterThan(0.49);
    expect(hi).toBeLessThan(0.51);
    // 200-px stripes (≈ 7 output px) are kept at full contrast: the filter removes aliasing, not structure
    const s = new Float32Array(n * n);
    for (let y = 0; y < n; y++) for (let x = 0; x < n; x++) s[y * n + x] = Math.floor(x / 200) % 2;
    const q = prepareImage(record(n, n, 1, s), { baseSize: 73, channels: 1 });
    expect(Math.max(...q.data)).toBeCloseTo(1, 6);
    expect(Math.min(...q.data)).toBeCloseTo(0, 6);
  });
});

describe('resizeHWC', () => {
  it('bilinear upsampling uses pixel centres (align_corners = false) and clamps at the edges', () => {
    close(resizeHWC(Float32Array.from([0, 1]), 2, 1, 1, 4, 1), [0, 0.25, 0.75, 1]);
    // 2×2 → 4×4: separable
    const out = resizeHWC(Float32Array.from([0, 1, 2, 3]), 2, 2, 1, 4, 4);
    close(out.subarray(0, 4), [0, 0.25, 0.75, 1]);
    close(out.subarray(4, 8), [0.5, 0.75, 1.25, 1.5]);
    close(out.subarray(12, 16), [2, 2.25, 2.75, 3]);
  });

  it('area-averages when the factor is < 0.5 (hand-computed 6 → 2 and 5 → 2)', () => {
    close(resizeHWC(Float32Array.from([0, 1, 2, 3, 4, 5]), 6, 1, 1, 2, 1), [1, 4]);
    // 5 → 2: [0, 2.5) and [2.5, 5): (0 + 1 + 0.5·2)/2.5 = 0.8, (0.5·2 + 3 + 4)/2.5 = 3.2
    close(resizeHWC(Float32Array.from([0, 1, 2, 3, 4]), 5, 1, 1, 2, 1), [0.8, 3.2]);
  });

  it('resizes a region (crop) of an HWC image channel by channel', () => {
    // 4×1×2 image, crop columns 1..2 → 1 column: factor 0.5 → Pillow bilinear with support 2
    const src = Float32Array.from([0, 10, 1, 11, 2, 12, 3, 13]);
    const out = resizeHWC(src, 4, 1, 2, 1, 1, undefined, { left: 1, top: 0, width: 2, height: 1 });
    close(out, [1.5, 11.5]);
    // identity size copies the region exactly
    const id = resizeHWC(src, 4, 1, 2, 2, 1, undefined, { left: 2, top: 0, width: 2, height: 1 });
    close(id, [2, 12, 3, 13]);
  });
});
