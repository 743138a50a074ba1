/**
 * The LD objectives (main/engine/losses.ts) against plain-JS float64 implementations written from
 * the formulas of ld-method.md §2.2, §3.2–§3.5 and §4.3 (never by calling the code under test).
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { activateBackend } from '../../../main/engine/backends';
import { alignGridIndex } from '../../../main/engine/data/augment';
import {
  alignmentGatherIndex,
  batchCriterion,
  binaryEntropy,
  ldLosses,
  centreSigmaFor,
  centreWeights,
  patchEmbeddings,
  permuteRows,
  regionDiscrimination,
  regionEmbeddings,
  stopGradient,
  WEIGHTS,
  type BatchMeta,
} from '../../../main/engine/losses';
import { ldForward } from '../../../main/engine/model/ldNet';
import { initModel, type ParamStore } from '../../../main/engine/model/params';
import type { ModelConfig } from '../../../main/engine/model/spec';
import { Rng } from '../../../main/engine/rng';
import { tf, type Tensor4D } from '../../../main/engine/tf';
import { dot, expectClose, finiteDiff, normalize, randn, randu, relErr, values } from '../model/helpers';

beforeAll(async () => {
  await activateBackend('wasm');
});

/** Rows of a flat row-major array. */
const rowsOf = (flat: ArrayLike<number>, n: number, d: number): number[][] => Array.from({ length: n }, (_, i) => Array.from({ length: d }, (_, j) => flat[i * d + j]));

/**
 * BatchCriterion, §3.4, with the similarity S_ij = x_i · y_j so that the stop-gradient operand y
 * can be held fixed: L = −(1/N) Σ_i [log p_i + Σ_{j∉{i,pos(i)}} log(1 − q_ij)].
 */
function batchCriterionJs(x: number[][], y: number[][], tau: number): number {
  const n = x.length;
  let total = 0;
  for (let i = 0; i < n; i++) {
    const pos = (i + n / 2) % n;
    const e = y.map((yj, j) => (j === i ? 0 : Math.exp(dot(x[i], yj) / tau)));
    const denom = e.reduce((a, b) => a + b, 0) + 1e-10;
    total += Math.log(e[pos] / denom);
    for (let j = 0; j < n; j++) if (j !== i && j !== pos) total += Math.log(Math.max(1 - e[j] / denom, 1e-12));
  }
  return -total / n;
}

/** Region discrimination, §4.3: centres c_k = L2norm(mean_n r_{n,k}), K-way softmax CE of (r·c)/τ against k. */
function regionDiscriminationJs(r: number[][][], tau: number): number {
  const m = r.length;
  const k = r[0].length;
  const d = r[0][0].length;
  const centres = Array.from({ length: k }, (_, kk) => normalize(Array.from({ length: d }, (_, dd) => r.reduce((s, rn) => s + rn[kk][dd], 0) / m)));
  let total = 0;
  for (let n = 0; n < m; n++) {
    for (let kk = 0; kk < k; kk++) {
      const logits = centres.map((c) => dot(r[n][kk], c) / tau);
      const lse = Math.log(logits.reduce((s, v) => s + Math.exp(v), 0));
      total += logits[kk] - lse;
    }
  }
  return -total / (m * k);
}

/** Mean binary entropy in bits. */
const binaryEntropyJs = (a: ArrayLike<number>): number =>
  Array.from(a).reduce((s, v) => s - v * Math.log2(v + 1e-30) - (1 - v) * Math.log2(1 - v + 1e-30), 0) / a.length;

/** r_{n,k} = L2norm((1/HW) Σ_p a_{n,k}(p) z_n(p)); a (M, H·W, K), z (M, H·W, D) flat NHWC. */
function regionEmbeddingsJs(a: ArrayLike<number>, z: ArrayLike<number>, m: number, hw: number, k: number, d: number): number[][][] {
  return Array.from({ length: m }, (_, n) =>
    Array.from({ length: k }, (_, kk) => {
      const acc = new Array(d).fill(0);
      for (let p = 0; p < hw; p++) for (let dd = 0; dd < d; dd++) acc[dd] += a[(n * hw + p) * k + kk] * z[(n * hw + p) * d + dd];
      return normalize(acc.map((v) => v / hw));
    }),
  );
}

/** P[n][cell] = L2norm(mean of z over the cell of a g×g grid), cell = gy·g + gx. */
function patchEmbeddingsJs(z: ArrayLike<number>, n: number, h: number, w: number, d: number, g: number): number[][][] {
  const ch = h / g;
  const cw = w / g;
  return Array.from({ length: n }, (_, i) =>
    Array.from({ length: g * g }, (_, cell) => {
      const gy = Math.floor(cell / g);
      const gx = cell % g;
      const acc = new Array(d).fill(0);
      for (let y = gy * ch; y < (gy + 1) * ch; y++)
        for (let x = gx * cw; x < (gx + 1) * cw; x++) for (let dd = 0; dd < d; dd++) acc[dd] += z[((i * h + y) * w + x) * d + dd];
      return normalize(acc.map((v) => v / (ch * cw)));
    }),
  );
}

function unitRows(n: number, d: number, seed: number): number[][] {
  return rowsOf(randn(n * d, seed), n, d).map(normalize);
}

describe('batchCriterion (§3.4)', () => {
  test.each([
    [4, 3, 0.1, 1],
    [4, 3, 0.1, 2],
    [6, 4, 0.5, 3],
  ])('N=%i rows of dimension %i, τ=%f: value matches the formula (seed %i)', async (n, d, tau, seed) => {
    const x = unitRows(n, d, seed);
    const t = tf.tensor2d(x);
    const value = batchCriterion(t, tau);
    expect(value.shape).toEqual([]);
    const expected = batchCriterionJs(x, x, tau);
    expect(Number.isFinite(expected)).toBe(true);
    expect(relErr(await values(value), [expected])).toBeLessThan(1e-5);
    tf.dispose([t, value]);
  });

  test('an easy batch (each row equals its partner, the pairs orthogonal) has a near-zero loss; swapping partners makes it large', async () => {
    // Rows 0/2 equal and 1/3 equal (pos(i) = i + 2 mod 4), 0 ⟂ 1: an easy batch.
    const good = [
      [1, 0, 0],
      [0, 1, 0],
      [1, 0, 0],
      [0, 1, 0],
    ];
    const bad = [good[0], good[2], good[1], good[3]];
    const lg = batchCriterion(tf.tensor2d(good), 0.1);
    const lb = batchCriterion(tf.tensor2d(bad), 0.1);
    const [vg] = await values(lg);
    const [vb] = await values(lb);
    expect(vg).toBeCloseTo(batchCriterionJs(good, good, 0.1), 5);
    // q_ij ≈ 1 here, so log(1 − q) loses float32 digits: a relative tolerance.
    expect(relErr([vb], [batchCriterionJs(bad, bad, 0.1)])).toBeLessThan(5e-5);
    expect(vg).toBeLessThan(0.01);
    expect(vb).toBeGreaterThan(5);
  });

  test('gradient flows only through the anchor side: equals the finite difference with sg(x) held constant', async () => {
    const n = 4;
    const d = 3;
    const tau = 0.1;
    const x = unitRows(n, d, 7);
    const t = tf.tensor2d(x);
    const grad = await values(tf.grad((v) => batchCriterion(v as tf.Tensor2D, tau))(t));
    const flat = x.flat();
    const anchorOnly = finiteDiff((f) => batchCriterionJs(rowsOf(f, n, d), x, tau), flat);
    const bothSides = finiteDiff((f) => batchCriterionJs(rowsOf(f, n, d), rowsOf(f, n, d), tau), flat);
    expectClose(grad, anchorOnly, 5e-4, 1e-12, 'anchor-side gradient');
    // Control: the gradient without the stop-gradient is clearly different, so this test can tell them apart.
    expect(relErr(grad, bothSides)).toBeGreaterThan(0.05);
  });

  test('an odd number of rows is rejected', () => {
    expect(() => batchCriterion(tf.tensor2d(unitRows(3, 2, 1)))).toThrow(/even/);
  });
});

describe('regionDiscrimination (§4.3)', () => {
  const m = 2;
  const k = 3;
  const d = 2;
  const r = Array.from({ length: m }, (_, n) => unitRows(k, d, 40 + n));

  test('r of shape (M=2, K=3, D=2), τ=0.2: matches the softmax cross-entropy against the batch centres', async () => {
    const loss = regionDiscrimination(tf.tensor3d(r), 0.2);
    expect(relErr(await values(loss), [regionDiscriminationJs(r, 0.2)])).toBeLessThan(1e-5);
    // The default temperature is τ_r = 0.2.
    expect(relErr(await values(regionDiscrimination(tf.tensor3d(r))), [regionDiscriminationJs(r, 0.2)])).toBeLessThan(1e-5);
  });

  test('the centres are not detached: the gradient equals the finite difference of the full formula', async () => {
    const grad = await values(tf.grad((v) => regionDiscrimination(v as tf.Tensor3D, 0.2))(tf.tensor3d(r)));
    const unflat = (f: number[]) => Array.from({ length: m }, (_, n) => rowsOf(f.slice(n * k * d, (n + 1) * k * d), k, d));
    const full = finiteDiff((f) => regionDiscriminationJs(unflat(f), 0.2), r.flat(2));
    expectClose(grad, full, 5e-4, 1e-12, 'region discrimination gradient');
  });
});

describe('binaryEntropy (§4.3)', () => {
  test('is in bits and averages over every element', async () => {
    expect((await values(binaryEntropy(tf.tensor1d([0.5]))))[0]).toBeCloseTo(1, 6);
    expect((await values(binaryEntropy(tf.tensor1d([0.25, 0.75]))))[0]).toBeCloseTo(0.811278, 6);
    const grid = [0.5, 0.25, 0.75, 0.5, 0.1, 0.9];
    expect((await values(binaryEntropy(tf.tensor3d(grid, [1, 2, 3]))))[0]).toBeCloseTo(binaryEntropyJs(grid), 6);
    // Near-hard assignments have near-zero entropy, and stay finite.
    const [hard] = await values(binaryEntropy(tf.tensor1d([1e-9, 1 - 1e-7])));
    expect(Number.isFinite(hard)).toBe(true);
    expect(hard).toBeLessThan(1e-4);
  });
});

describe('regionEmbeddings (§2.2)', () => {
  test('equals L2norm(Σ_p a_k(p)·z(p) / HW) computed by loops', async () => {
    const [m, h, w, k, d] = [2, 3, 4, 3, 5];
    const a = randu(m * h * w * k, 50);
    const z = randn(m * h * w * d, 51);
    const r = regionEmbeddings(tf.tensor4d(a, [m, h, w, k]), tf.tensor4d(z, [m, h, w, d]));
    expect(r.shape).toEqual([m, k, d]);
    expectClose(await values(r), regionEmbeddingsJs(a, z, m, h * w, k, d).flat(2), 1e-5, 1e-12, 'region embeddings');
  });
});

describe('patchEmbeddings (§2.2)', () => {
  test.each([
    [16, 16],
    [16, 24],
  ])('%i×%i map: average over each cell of an 8×8 grid, then L2 norm', async (h, w) => {
    const [n, d] = [2, 3];
    const z = randn(n * h * w * d, 60);
    const p = patchEmbeddings(tf.tensor4d(z, [n, h, w, d]));
    expect(p.shape).toEqual([n, 8, 8, d]);
    expectClose(await values(p), patchEmbeddingsJs(z, n, h, w, d, 8).flat(2), 1e-5, 1e-12, 'patch embeddings');
  });

  test('a map that does not tile into the grid is rejected', () => {
    expect(() => patchEmbeddings(tf.zeros([1, 12, 16, 2]) as Tensor4D)).toThrow(/grid/);
  });
});

describe('centre-sensitive averaging (§6.1)', () => {
  test('weights: a Gaussian on the window centre, summing to 1', () => {
    const w = centreWeights(56, 56, 14);
    expect(w.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 5);
    // pixel (27, 27) is 0.5 px from the centre (27.5, 27.5) on each axis
    const at = (i: number, j: number) => w[i * 56 + j];
    expect(at(27, 27)).toBe(at(28, 28));
    // column 55 is 27.5 px from the centre, column 27 is 0.5 px: near e^-2 at the window's edge
    expect(at(27, 55) / at(27, 27)).toBeCloseTo(Math.exp(-(27.5 ** 2 - 0.5 ** 2) / (2 * 14 * 14)), 5);
    expect(centreSigmaFor(448)).toBe(14);
  });

  test('Gaussian-weighted cell averages, then L2 norm (against a direct sum)', async () => {
    const [n, h, w, d, g, sigma] = [1, 16, 16, 3, 4, 1.5];
    const z = randn(n * h * w * d, 61);
    const p = await values(patchEmbeddings(tf.tensor4d(z, [n, h, w, d]), g, sigma));
    const weights = centreWeights(4, 4, sigma);
    const expected: number[] = [];
    for (let cell = 0; cell < g * g; cell++) {
      const [gy, gx] = [Math.floor(cell / g), cell % g];
      const acc = [0, 0, 0];
      for (let y = 0; y < 4; y++) for (let x = 0; x < 4; x++) for (let k = 0; k < d; k++) acc[k] += weights[y * 4 + x] * z[((gy * 4 + y) * w + gx * 4 + x) * d + k];
      expected.push(...normalize(acc));
    }
    expectClose(p, expected, 1e-5, 1e-12, 'centre-sensitive patch embeddings');
  });

  test('a tiny σ keeps only the centre pixels; a huge σ is the uniform average', async () => {
    const z = randn(1 * 8 * 8 * 2, 62);
    const t = tf.tensor4d(z, [1, 8, 8, 2]);
    const uniform = await values(patchEmbeddings(t, 2));
    expectClose(await values(patchEmbeddings(t, 2, 1e4)), uniform, 1e-5, 1e-12, 'huge σ');
    const sharp = await values(patchEmbeddings(t, 2, 0.05));
    const centre = [1.5, 1.5]; // cell 0 spans pixels 0..3: its centre pixels are (1,1), (1,2), (2,1), (2,2)
    const acc = [0, 0];
    for (const y of [1, 2]) for (const x of [1, 2]) for (let k = 0; k < 2; k++) acc[k] += z[(y * 8 + x) * 2 + k];
    expectClose(sharp.slice(0, 2), normalize(acc), 1e-4, 1e-12, `cell 0 around ${centre}`);
  });
});

describe('alignmentGatherIndex + permuteRows (§3.3)', () => {
  test('the index keeps view-1 rows and maps view-2 cell i to src[i] of its own image', () => {
    const src = [Int32Array.from([1, 3, 0, 2]), Int32Array.from([3, 2, 1, 0])];
    const index = alignmentGatherIndex(1, { src }, 2);
    expect(Array.from(index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8 + 1, 8 + 3, 8 + 0, 8 + 2, 12 + 3, 12 + 2, 12 + 1, 12 + 0]);
    // Paper grid: 4B images × 64 cells, a permutation of the rows.
    const big = alignmentGatherIndex(2, { src: [0, 1, 2, 3].map((i) => alignGridIndex(i % 2, i, 8)) });
    expect(big.length).toBe(4 * 2 * 64);
    expect([...big].sort((a, b) => a - b)).toEqual(Array.from({ length: 512 }, (_, i) => i));
  });

  test('permuteRows forward is the permutation; its gradient is the inverse permutation', async () => {
    const src = [Int32Array.from([1, 3, 0, 2]), Int32Array.from([3, 2, 1, 0])];
    const index = alignmentGatherIndex(1, { src }, 2);
    const n = index.length;
    const d = 3;
    const xFlat = randn(n * d, 70);
    const cFlat = randn(n * d, 71);
    const x = tf.tensor2d(xFlat, [n, d]);
    const c = tf.tensor2d(cFlat, [n, d]);
    const out = await values(permuteRows(x, index));
    expect(out).toEqual(Array.from(index).flatMap((s) => Array.from(xFlat.subarray(s * d, (s + 1) * d))));
    const grad = await values(tf.grad((v) => tf.sum(tf.mul(permuteRows(v as tf.Tensor2D, index), c)))(x));
    // ∂/∂x[index[i]] = c[i].
    const expected = new Array(n * d).fill(0);
    index.forEach((s, i) => {
      for (let j = 0; j < d; j++) expected[s * d + j] = cFlat[i * d + j];
    });
    expect(grad).toEqual(expected);
    // A random (non-involutive) permutation too.
    const perm = Int32Array.from(new Rng(5).permutation(n));
    const g2 = await values(tf.grad((v) => tf.sum(tf.mul(permuteRows(v as tf.Tensor2D, perm), c)))(x));
    const e2 = new Array(n * d).fill(0);
    perm.forEach((s, i) => {
      for (let j = 0; j < d; j++) e2[s * d + j] = cFlat[i * d + j];
    });
    expect(g2).toEqual(e2);
  });
});

describe('stopGradient', () => {
  test('passes values and blocks gradients', async () => {
    const x = tf.tensor1d([1, -2, 3]);
    expect(await values(stopGradient(x))).toEqual([1, -2, 3]);
    expect(await values(tf.grad((v) => tf.sum(stopGradient(v)))(x))).toEqual([0, 0, 0]);
    // Only the un-stopped factor carries gradient: d/dx Σ sg(x)·x = x (not 2x).
    expect(await values(tf.grad((v) => tf.sum(tf.mul(stopGradient(v), v)))(x))).toEqual([1, -2, 3]);
  });
});

describe('ldLosses on a real forward (pairs = 1, 32×32, K = 4)', () => {
  const config: ModelConfig = { inChannels: 1, embedDim: 32, clusters: 4 };
  const b = 1;
  const s = 32;
  let store: ParamStore;
  let z: Float32Array;
  let a: Float32Array;
  let terms: Record<string, number>;
  let zOnly: Record<string, number>;
  const meta: BatchMeta = { pairs: b, w: Float32Array.from([0.3]), alignment: { src: [alignGridIndex(0, 1, 8), alignGridIndex(1, 2, 8)] } };

  beforeAll(async () => {
    store = initModel(config, new Rng(3));
    const x = tf.tensor4d(randn(5 * b * s * s, 80), [5 * b, s, s, 1]);
    const out = ldForward(x, store, config, { training: true, filterGrad: 'im2col' });
    z = (await out.z.data()) as Float32Array;
    a = (await out.a!.data()) as Float32Array;
    const read = async (t: Record<string, tf.Scalar | undefined>) =>
      Object.fromEntries(await Promise.all(Object.entries(t).map(async ([key, v]) => [key, (await v!.data())[0]] as const)));
    terms = await read({ ...ldLosses(out, meta) });
    zOnly = await read({ ...ldLosses({ z: out.z }, meta) });
  });
  afterAll(() => store.dispose());

  test('returns finite pd, mix, rd, ent and total = pd + mix + 10·rd + 0.1·ent', () => {
    expect(Object.keys(terms).sort()).toEqual(['ent', 'mix', 'pd', 'rd', 'total']);
    for (const v of Object.values(terms)) expect(Number.isFinite(v)).toBe(true);
    expect(WEIGHTS).toEqual({ pd: 1, mix: 1, rd: 10, ent: 0.1 });
    const expected = terms.pd + terms.mix + 10 * terms.rd + 0.1 * terms.ent;
    expect(Math.abs(terms.total - expected) / Math.abs(expected)).toBeLessThan(1e-5);
  });

  test('without a clustering output: only pd, mix and total = pd + mix', () => {
    expect(Object.keys(zOnly).sort()).toEqual(['mix', 'pd', 'total']);
    expect(Math.abs(zOnly.total - (zOnly.pd + zOnly.mix)) / Math.abs(zOnly.total)).toBeLessThan(1e-6);
    expect(zOnly.pd).toBe(terms.pd);
    expect(zOnly.mix).toBe(terms.mix);
  });

  test('every term equals an independent JS implementation of §3.2–§3.5 and §4.3 on the same z and a', () => {
    const d = 32;
    const k = config.clusters;
    const p = patchEmbeddingsJs(z, 5 * b, s, s, d, 8);
    // L_PD: rows (n, cell) of the first 4B grids, view-2 grids (images 2B..4B−1) re-indexed by src.
    const pdRows: number[][] = [];
    for (let n = 0; n < 4 * b; n++) for (let c = 0; c < 64; c++) pdRows.push(n < 2 * b ? p[n][c] : p[n][meta.alignment.src[n - 2 * b][c]]);
    const pd = batchCriterionJs(pdRows, pdRows, 0.1);
    // L_mix: [mixed grids, targets t_i = L2norm(w·P[i] + (1 − w)·P[B + i])].
    const mixRows: number[][] = [];
    for (let i = 0; i < b; i++) for (let c = 0; c < 64; c++) mixRows.push(p[4 * b + i][c]);
    for (let i = 0; i < b; i++) {
      const wi = meta.w[i];
      for (let c = 0; c < 64; c++) mixRows.push(normalize(p[i][c].map((v, j) => wi * v + (1 - wi) * p[b + i][c][j])));
    }
    const mix = batchCriterionJs(mixRows, mixRows, 0.1);
    // L_RD and L_ent on the first M = 4B images only.
    const m = 4 * b;
    const r = regionEmbeddingsJs(a, z, m, s * s, k, d);
    const rd = regionDiscriminationJs(r, 0.2);
    const ent = binaryEntropyJs(a.subarray(0, m * s * s * k));
    expect(relErr([terms.pd], [pd]), `pd ${terms.pd} vs ${pd}`).toBeLessThan(1e-4);
    expect(relErr([terms.mix], [mix]), `mix ${terms.mix} vs ${mix}`).toBeLessThan(1e-4);
    expect(relErr([terms.rd], [rd]), `rd ${terms.rd} vs ${rd}`).toBeLessThan(1e-4);
    expect(relErr([terms.ent], [ent]), `ent ${terms.ent} vs ${ent}`).toBeLessThan(1e-4);
    // Control: using all 5B images in the clustering terms would give a different value.
    expect(relErr([terms.ent], [binaryEntropyJs(a)])).toBeGreaterThan(1e-6);
  });
});
