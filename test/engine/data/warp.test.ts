/**
 * The view-2 warp (GeometrySettings.viewWarp): its draws, its matrix and its bilinear resampling, by hand
 * and against the PyTorch engine's apply_warp (resources/torch/ld_torch/data.py).
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { applyWarp, drawWarp, invertAffine, PAPER_GEOMETRY, warpMatrix, type RandomSource } from '../../../main/engine/data/augment';
import { Rng } from '../../../main/engine/rng';
import { validateConfig, PAPER_DEFAULTS, type TrainConfig } from '../../../main/engine/trainer/config';
import { warpPoints } from '../../../main/engine/losses';
import { engineEnv } from '../../../main/jobs/torch/findPython';
import { hasTorch, torchPython, torchSkipReason } from '../../helpers/torch';

/** A single bright pixel (value 1) at (row, col) of a size × size grey image. */
function dot(size: number, row: number, col: number): Float32Array {
  const a = new Float32Array(size * size);
  a[row * size + col] = 1;
  return a;
}

/** The non-zero pixels of a grey image as {"row,col": value}. */
function nonZero(a: Float32Array, size: number, eps = 1e-9): Record<string, number> {
  const out: Record<string, number> = {};
  for (let i = 0; i < a.length; i++) if (Math.abs(a[i]) > eps) out[`${Math.floor(i / size)},${i % size}`] = a[i];
  return out;
}

function expectPixels(a: Float32Array, size: number, want: Record<string, number>) {
  const got = nonZero(a, size, 1e-6);
  expect(Object.keys(got).sort()).toEqual(Object.keys(want).sort());
  for (const [k, v] of Object.entries(want)) expect(got[k], k).toBeCloseTo(v, 6);
}

describe('drawWarp', () => {
  it('draws uniform(−log s, log s) (then exp), uniform(−r, r), uniform(−t, t) twice, and nothing else', () => {
    const log: [number, number][] = [];
    const rng = new Rng(5);
    const src: RandomSource = {
      next: () => rng.next(),
      uniform: (a, b) => {
        log.push([a, b]);
        return rng.uniform(a, b);
      },
      int: () => {
        throw new Error('int drawn');
      },
      bernoulli: () => {
        throw new Error('bernoulli drawn');
      },
      permutation: () => {
        throw new Error('permutation drawn');
      },
    };
    const w = drawWarp(src, [1.25, 10, 0.1]);
    expect(log).toEqual([[-Math.log(1.25), Math.log(1.25)], [-10, 10], [-0.1, 0.1], [-0.1, 0.1]]);
    const r = new Rng(5);
    const s = Math.exp(r.uniform(-Math.log(1.25), Math.log(1.25)));
    expect(w).toEqual({ scale: s, angle: r.uniform(-10, 10), shiftX: r.uniform(-0.1, 0.1), shiftY: r.uniform(-0.1, 0.1) });
    expect(rng.state()).toEqual(r.state());
  });

  it('stays within its ranges; [1, 0, 0] is the identity', () => {
    const rng = new Rng(1);
    for (let i = 0; i < 500; i++) {
      const w = drawWarp(rng, [1.25, 10, 0.1]);
      expect(w.scale).toBeGreaterThanOrEqual(1 / 1.25);
      expect(w.scale).toBeLessThanOrEqual(1.25);
      expect(Math.abs(w.angle)).toBeLessThanOrEqual(10);
      expect(Math.abs(w.shiftX)).toBeLessThanOrEqual(0.1);
      expect(Math.abs(w.shiftY)).toBeLessThanOrEqual(0.1);
    }
    expect(Array.from(warpMatrix(drawWarp(rng, [1, 0, 0]), 32), (v) => v + 0)).toEqual([1, 0, 0, 0, 1, 0]); // + 0: −0 → 0
  });
});

describe('warpMatrix', () => {
  it('turns and scales about the crop centre and shifts by a fraction of the crop (hand-computed)', () => {
    const m = warpMatrix({ scale: 2, angle: 90, shiftX: 0.25, shiftY: -0.125 }, 16);
    // R(90°) = [[0, −1], [1, 0]]; q = 2·R·(p − 8) + 8 + (4, −2)
    const want = [0, -2, 8 + 4 - -2 * 8, 2, 0, 8 - 2 - 2 * 8];
    m.forEach((v, i) => expect(v).toBeCloseTo(want[i], 12));
    const [qx, qy] = warpPoints(m, [8, 8]);
    expect(qx).toBeCloseTo(12, 12);
    expect(qy).toBeCloseTo(6, 12);
    const [rx, ry] = warpPoints(m, [9, 8]); // one pixel right of the centre → two pixels down
    expect(rx).toBeCloseTo(12, 12);
    expect(ry).toBeCloseTo(8, 12);
    const back = warpPoints(invertAffine(m), warpPoints(m, [3.5, 11.5]));
    expect(back[0]).toBeCloseTo(3.5, 12);
    expect(back[1]).toBeCloseTo(11.5, 12);
  });
});

describe('applyWarp: a single bright pixel lands where the matrix sends its centre', () => {
  it('integer shift: (row 2, col 3) moved by (+2, +1) px is (row 3, col 5)', () => {
    expectPixels(applyWarp(dot(8, 2, 3), 8, 1, [1, 0, 2, 0, 1, 1]), 8, { '3,5': 1 });
  });

  it('half-pixel shift: split half and half between two columns', () => {
    expectPixels(applyWarp(dot(8, 2, 3), 8, 1, [1, 0, 0.5, 0, 1, 0]), 8, { '2,3': 0.5, '2,4': 0.5 });
  });

  it('90° about the centre: centre (3.5, 2.5) → (5.5, 3.5), i.e. (row 2, col 3) → (row 3, col 5)', () => {
    const m = warpMatrix({ scale: 1, angle: 90, shiftX: 0, shiftY: 0 }, 8);
    const [qx, qy] = warpPoints(m, [3.5, 2.5]);
    expect(qx).toBeCloseTo(5.5, 12);
    expect(qy).toBeCloseTo(3.5, 12);
    expectPixels(applyWarp(dot(8, 2, 3), 8, 1, m), 8, { '3,5': 1 });
  });

  it('scale 2 about the centre: the pixel becomes the bilinear tent [¼ ¾ ¾ ¼] ⊗ [¼ ¾ ¾ ¼] around (7, 5)', () => {
    // (row 5, col 6) of a 12 × 12 image: centre (6.5, 5.5) → 2·((6.5, 5.5) − 6) + 6 = (7, 5). An output
    // column j reads source x = (j + ½ − 6)/2 + 6, so column 6's source weight is 1 − |x − 6.5|.
    const m = warpMatrix({ scale: 2, angle: 0, shiftX: 0, shiftY: 0 }, 12);
    const t = [0.25, 0.75, 0.75, 0.25];
    const want: Record<string, number> = {};
    for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) want[`${3 + i},${5 + j}`] = t[i] * t[j];
    expectPixels(applyWarp(dot(12, 5, 6), 12, 1, m), 12, want);
  });

  it('moves all channels together and is black where the source lies outside', () => {
    const S = 6;
    const src = new Float32Array(S * S * 3).fill(1);
    const out = applyWarp(src, S, 3, [1, 0, 2.5, 0, 1, 0]); // 2.5 px to the right
    for (let i = 0; i < S; i++) {
      for (let j = 0; j < S; j++) {
        for (let c = 0; c < 3; c++) {
          // column 2 reads x = −0.5 (index −1 and 0, half each); columns < 2 read nothing
          const want = j < 2 ? 0 : j === 2 ? 0.5 : 1;
          expect(out[(i * S + j) * 3 + c]).toBeCloseTo(want, 12);
        }
      }
    }
    expect(() => applyWarp(src, S, 3, [1, 0, 0, 0, 1, 0], src)).toThrow(/in place/);
  });
});

const TORCH_APPLY_WARP = `
import json, sys
import torch
from ld_torch.data import apply_warp
req = json.load(sys.stdin)
s, c = req["size"], req["channels"]
img = torch.tensor(req["img"], dtype=torch.float32).reshape(s, s, c).permute(2, 0, 1)
out = apply_warp(img, torch.tensor(req["m"], dtype=torch.float64).reshape(2, 3))
print(json.dumps(out.permute(1, 2, 0).reshape(-1).tolist()))
`;

describe.skipIf(!hasTorch)(`applyWarp equals torch's apply_warp${hasTorch ? '' : ` (skipped: ${torchSkipReason})`}`, () => {
  it('grey and RGB images, several drawn warps: max |Δ| ≤ 1e-5', () => {
    const rng = new Rng(8);
    let worst = 0;
    for (const [size, channels] of [[13, 1], [16, 3], [24, 1]] as const) {
      const img = Float32Array.from({ length: size * size * channels }, () => rng.next());
      for (const spec of [[1.25, 10, 0.1], [1.5, 45, 0.2]] as const) {
        const m = warpMatrix(drawWarp(rng, spec), size);
        const ours = applyWarp(img, size, channels, m);
        const res = spawnSync(torchPython, ['-c', TORCH_APPLY_WARP], {
          input: JSON.stringify({ size, channels, img: Array.from(img), m: Array.from(m) }),
          encoding: 'utf8',
          env: engineEnv(),
          timeout: 120_000,
        });
        expect(res.status, res.stderr).toBe(0);
        const theirs: number[] = JSON.parse(res.stdout);
        expect(theirs.length).toBe(ours.length);
        for (let i = 0; i < ours.length; i++) worst = Math.max(worst, Math.abs(ours[i] - theirs[i]));
      }
    }
    console.log(`applyWarp vs torch apply_warp: max |Δ| ${worst.toExponential(2)}`);
    expect(worst).toBeLessThanOrEqual(1e-5);
  });
});

describe('validateConfig: the view-2 warp', () => {
  const base = (over: Partial<TrainConfig>): TrainConfig => ({ ...PAPER_DEFAULTS, filterGrad: 'im2col', size: 64, ...over });
  const warpAug = { ...PAPER_GEOMETRY, view2Turns: false, viewWarp: [1.25, 10, 0.1] as const };
  const message = 'augment.viewWarp needs view2Turns off and centre-sensitive averaging (centreSigma > 0)';

  it('needs view-2 turns off and centre-sensitive averaging (the PyTorch engine\'s message)', () => {
    expect(validateConfig(base({ augment: warpAug, centreSigma: 2 }))).toEqual([]);
    expect(validateConfig(base({ augment: warpAug }))).toEqual([message]);
    expect(validateConfig(base({ augment: { ...warpAug, view2Turns: true }, centreSigma: 2 }))).toEqual([message]);
  });

  it('refuses ranges the CLI would refuse', () => {
    for (const bad of [[0.8, 10, 0.1], [1.25, -1, 0.1], [1.25, 10, 0.5], [1.25, Number.NaN, 0.1]]) {
      const errors = validateConfig(base({ augment: { ...warpAug, viewWarp: bad as unknown as [number, number, number] }, centreSigma: 2 }));
      expect(errors.some((e) => e.startsWith('augment.viewWarp must be')), JSON.stringify(bad)).toBe(true);
    }
  });
});
