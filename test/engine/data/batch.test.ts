import { describe, expect, it } from 'vitest';
import { Rng } from '../../../main/engine/rng';
import {
  IMAGENET_MEAN,
  IMAGENET_STD,
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
} from '../../../main/engine/data/augment';
import { makeBatch, type Batch } from '../../../main/engine/data/batch';
import { baseSizeFor, type PreparedImage } from '../../../main/engine/data/prepare';
import { synthImage } from './fixtures';

const bytes = (b: Batch) =>
  Buffer.concat([
    Buffer.from(b.x.buffer, b.x.byteOffset, b.x.byteLength),
    Buffer.from(b.w.buffer),
    Buffer.from(b.f),
    Buffer.from(b.k),
  ]);

function corpus(n: number, size: number, channels: 1 | 3): PreparedImage[] {
  return Array.from({ length: n }, (_, i) => synthImage(`img${i}`, size, channels, 1000 + i));
}

const greys = corpus(5, baseSizeFor(64), 1);
const rgbs = corpus(5, baseSizeFor(64), 3);

describe('makeBatch: layout', () => {
  for (const C of [1, 3] as const) {
    it(`shapes and row order (${C} channel${C === 1 ? '' : 's'}): every row recomputed from the drawn parameters`, () => {
      const images = C === 1 ? greys : rgbs;
      const B = 3;
      const S = 64;
      const b = makeBatch(images, new Rng(7), { pairs: B, cropSize: S, channels: C, debug: true });
      expect(b.n).toBe(5 * B);
      expect(b.size).toBe(S);
      expect(b.channels).toBe(C);
      expect(b.x.length).toBe(5 * B * S * S * C);
      expect(b.w.length).toBe(B);
      expect(b.f.length).toBe(2 * B);
      expect(b.k.length).toBe(2 * B);
      expect(b.debug).toHaveLength(B);
      const px = S * S * C;
      const row = (r: number) => b.x.subarray(r * px, (r + 1) * px);
      for (let p = 0; p < B; p++) {
        const d = b.debug![p];
        const v1: Float32Array[] = [];
        for (let m = 0; m < 2; m++) {
          const base = applyT0(images[d.src[m]], d.t0[m], S);
          const a = applyT1(base, S, C, d.t1[m][0]);
          const v2 = applyView2(applyT1(base, S, C, d.t1[m][1]), S, C, d.view2[m]);
          v1.push(a.slice());
          normalise(a, C);
          normalise(v2, C);
          expect(Buffer.from(row(m * B + p).slice().buffer).equals(Buffer.from(a.buffer))).toBe(true); // img{m}_1
          expect(Buffer.from(row((2 + m) * B + p).slice().buffer).equals(Buffer.from(v2.buffer))).toBe(true); // img{m}_2
          expect(b.f[m * B + p]).toBe(d.view2[m].f);
          expect(b.k[m * B + p]).toBe(d.view2[m].k);
        }
        expect(b.w[p]).toBe(d.w);
        const mix = mixup(v1[0], v1[1], d.w);
        normalise(mix, C);
        expect(Buffer.from(row(4 * B + p).slice().buffer).equals(Buffer.from(mix.buffer))).toBe(true); // img3
      }
    });
  }

  it('the mixup row equals w·img1_1 + (1 − w)·img2_1 before normalisation', () => {
    const B = 4;
    const S = 32;
    const b = makeBatch(rgbs, new Rng(3), { pairs: B, cropSize: S, channels: 3, normalize: false });
    const px = S * S * 3;
    for (let p = 0; p < B; p++) {
      const w = b.w[p];
      expect(w).toBeGreaterThanOrEqual(0.2);
      expect(w).toBeLessThanOrEqual(Math.fround(0.8));
      for (let i = 0; i < px; i++) {
        const want = Math.fround(w * b.x[p * px + i] + (1 - w) * b.x[(B + p) * px + i]);
        if (b.x[(4 * B + p) * px + i] !== want) throw new Error(`pair ${p} value ${i}`);
      }
    }
    for (const v of b.x) if (!(v >= 0 && v <= 1)) throw new Error(`unnormalised value ${v} outside [0, 1]`);
  });

  it('normalised ranges: grey in [−1, 1], RGB within ImageNet bounds; f ∈ {0,1}, k ∈ 0..3, w ∈ [.2, .8]', () => {
    const seenK = new Set<number>();
    const seenF = new Set<number>();
    for (let seed = 0; seed < 10; seed++) {
      const g = makeBatch(greys, new Rng(seed), { pairs: 4, cropSize: 32, channels: 1 });
      let lo = Infinity;
      let hi = -Infinity;
      for (const v of g.x) {
        lo = Math.min(lo, v);
        hi = Math.max(hi, v);
      }
      expect(lo).toBeGreaterThanOrEqual(-1);
      expect(hi).toBeLessThanOrEqual(1);
      expect(lo).toBeLessThan(-0.9); // black rotation fill present
      const c = makeBatch(rgbs, new Rng(seed), { pairs: 2, cropSize: 32, channels: 3 });
      for (let i = 0; i < c.x.length; i++) {
        const ch = i % 3;
        const v = c.x[i];
        if (v < -IMAGENET_MEAN[ch] / IMAGENET_STD[ch] - 1e-5 || v > (1 - IMAGENET_MEAN[ch]) / IMAGENET_STD[ch] + 1e-5) {
          throw new Error(`RGB value ${v} out of range in channel ${ch}`);
        }
      }
      for (const b of [g, c]) {
        b.f.forEach((v) => seenF.add(v));
        b.k.forEach((v) => seenK.add(v));
        for (const w of b.w) {
          expect(w).toBeGreaterThanOrEqual(0.2);
          expect(w).toBeLessThanOrEqual(Math.fround(0.8));
        }
      }
    }
    expect([...seenF].sort()).toEqual([0, 1]);
    expect([...seenK].sort()).toEqual([0, 1, 2, 3]);
  });

  it('rejects a channel mismatch and bad options', () => {
    expect(() => makeBatch(greys, new Rng(1), { pairs: 1, cropSize: 32, channels: 3 })).toThrow(/channels/);
    expect(() => makeBatch([], new Rng(1), { pairs: 1, cropSize: 32, channels: 1 })).toThrow(/no images/);
    expect(() => makeBatch(greys, new Rng(1), { pairs: 0, cropSize: 32, channels: 1 })).toThrow(/pairs/);
  });
});

describe('makeBatch: determinism and the documented draw order', () => {
  const opts = { pairs: 2, cropSize: 64, channels: 1 as const };

  it('same seed → byte-identical batch; different seed → different', () => {
    const a = makeBatch(greys, new Rng(42), opts);
    const b = makeBatch(greys, new Rng(42), opts);
    const c = makeBatch(greys, new Rng(43), opts);
    expect(bytes(a).equals(bytes(b))).toBe(true);
    expect(bytes(a).equals(bytes(c))).toBe(false);
  });

  it('restoring new Rng(savedState) mid-sequence reproduces the next batch exactly', () => {
    const rng = new Rng(2024);
    makeBatch(greys, rng, opts);
    const saved = rng.state();
    const next = makeBatch(greys, rng, opts);
    const after = rng.state();
    const resumed = new Rng(saved);
    const again = makeBatch(greys, resumed, opts);
    expect(bytes(again).equals(bytes(next))).toBe(true);
    expect(resumed.state()).toEqual(after);
    // and the stream moves on identically
    expect(bytes(makeBatch(greys, resumed, opts)).equals(bytes(makeBatch(greys, rng, opts)))).toBe(true);
  });

  it('draws in the documented order (replayed by hand)', () => {
    const B = 3;
    const b = makeBatch(greys, new Rng(99), { pairs: B, cropSize: 32, channels: 1, debug: true });
    const r = new Rng(99);
    for (let p = 0; p < B; p++) {
      const d = b.debug![p];
      expect([r.int(greys.length), r.int(greys.length)]).toEqual(d.src);
      for (let m = 0; m < 2; m++) {
        expect(drawT0(r, greys[d.src[m]].size)).toEqual(d.t0[m]);
        expect(drawT1(r)).toEqual(d.t1[m][0]);
        expect(drawT1(r)).toEqual(d.t1[m][1]);
        expect(drawView2(r)).toEqual(d.view2[m]);
      }
      expect(drawMixupWeight(r)).toBe(d.w);
    }
    // nothing else is drawn
    const after = new Rng(99);
    makeBatch(greys, after, { pairs: B, cropSize: 32, channels: 1 });
    expect(after.state()).toEqual(r.state());
  });

  it('the random stream does not depend on the channel count', () => {
    const g = makeBatch(greys, new Rng(5), { pairs: 3, cropSize: 32, channels: 1, debug: true });
    const c = makeBatch(rgbs, new Rng(5), { pairs: 3, cropSize: 32, channels: 3, debug: true });
    expect(c.debug).toEqual(g.debug);
    expect(Array.from(c.w)).toEqual(Array.from(g.w));
  });
});

describe('makeBatch: view-2 warp', () => {
  const spec = [1.25, 10, 0.1] as const;
  const geometry = { ...PAPER_GEOMETRY, view2Turns: false, viewWarp: spec };

  it('view 2 = T1(applyWarp(T0, m)) with m = warpMatrix(drawn warp); warps holds the 2B matrices in f/k order', () => {
    for (const C of [1, 3] as const) {
      const images = C === 1 ? greys : rgbs;
      const B = 2;
      const S = 48;
      const b = makeBatch(images, new Rng(17), { pairs: B, cropSize: S, channels: C, debug: true, geometry });
      expect(b.warps).toBeInstanceOf(Float64Array);
      expect(b.warps!.length).toBe(2 * B * 6);
      const px = S * S * C;
      const row = (r: number) => b.x.subarray(r * px, (r + 1) * px);
      for (let p = 0; p < B; p++) {
        const d = b.debug![p];
        expect(d.warp).toHaveLength(2);
        for (let m = 0; m < 2; m++) {
          const mat = warpMatrix(d.warp![m], S);
          expect(Array.from(b.warps!.subarray((m * B + p) * 6, (m * B + p + 1) * 6))).toEqual(Array.from(mat));
          const base = applyT0(images[d.src[m]], d.t0[m], S);
          const v1 = applyT1(base, S, C, d.t1[m][0]);
          const v2 = applyT1(applyWarp(base, S, C, mat), S, C, d.t1[m][1]);
          normalise(v1, C);
          normalise(v2, C);
          expect(Buffer.from(row(m * B + p).slice().buffer).equals(Buffer.from(v1.buffer))).toBe(true);
          expect(Buffer.from(row((2 + m) * B + p).slice().buffer).equals(Buffer.from(v2.buffer))).toBe(true);
          expect([b.f[m * B + p], b.k[m * B + p]]).toEqual([0, 0]); // no quarter turn with the warp
        }
      }
    }
  });

  it('draws in the documented order: per image T0, T1, T1, (f, k), then the 4 warp draws; then w', () => {
    const B = 3;
    const b = makeBatch(greys, new Rng(99), { pairs: B, cropSize: 32, channels: 1, debug: true, geometry });
    const r = new Rng(99);
    for (let p = 0; p < B; p++) {
      const d = b.debug![p];
      expect([r.int(greys.length), r.int(greys.length)]).toEqual(d.src);
      for (let m = 0; m < 2; m++) {
        expect(drawT0(r, greys[d.src[m]].size, geometry)).toEqual(d.t0[m]);
        expect(drawT1(r)).toEqual(d.t1[m][0]);
        expect(drawT1(r)).toEqual(d.t1[m][1]);
        expect(drawView2(r, false)).toEqual(d.view2[m]);
        expect(drawWarp(r, spec)).toEqual(d.warp![m]);
      }
      expect(drawMixupWeight(r)).toBe(d.w);
    }
    // nothing else is drawn
    const after = new Rng(99);
    makeBatch(greys, after, { pairs: B, cropSize: 32, channels: 1, geometry });
    expect(after.state()).toEqual(r.state());
  });

  it('no warps without the option; refuses the warp with view-2 turns on', () => {
    expect(makeBatch(greys, new Rng(1), { pairs: 1, cropSize: 32, channels: 1 }).warps).toBeUndefined();
    expect(() => makeBatch(greys, new Rng(1), { pairs: 1, cropSize: 32, channels: 1, geometry: { ...PAPER_GEOMETRY, viewWarp: spec } })).toThrow(/view-2 turns off/);
  });
});

describe('makeBatch: output buffer reuse', () => {
  it('writes into opts.out and gives the same values as a fresh allocation', () => {
    const opts = { pairs: 2, cropSize: 32, channels: 1 as const };
    const fresh = makeBatch(greys, new Rng(11), opts);
    const buf = new Float32Array(fresh.x.length + 10).fill(NaN);
    const reused = makeBatch(greys, new Rng(11), { ...opts, out: buf });
    expect(reused.x.buffer).toBe(buf.buffer);
    expect(reused.x.length).toBe(fresh.x.length);
    expect(Buffer.from(reused.x.slice().buffer).equals(Buffer.from(fresh.x.buffer))).toBe(true);
    expect(() => makeBatch(greys, new Rng(11), { ...opts, out: new Float32Array(10) })).toThrow(/out/);
  });
});
