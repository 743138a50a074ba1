/**
 * The LD objectives (ld-method.md §3-§4): patch discrimination (BatchCriterion), hypersphere
 * mixup, region discrimination and binary entropy. Inputs are the network outputs for the batch
 * X = [img1_1 (B), img2_1 (B), img1_2 (B), img2_2 (B), mix (B)] in NHWC.
 */
import { tf, type Tensor4D } from './tf';
import { l2normalize } from './model/ldNet';

export const PATCH_TAU = 0.1;
export const REGION_TAU = 0.2;
export const GRID = 8;
export const WEIGHTS = { pd: 1, mix: 1, rd: 10, ent: 0.1 } as const;

/** Identity forward, no gradient (tfjs-core has no stopGradient op). */
export const stopGradient = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => ({
  value: tf.clone(args[0] as tf.Tensor),
  gradFunc: (dy: tf.Tensor | tf.Tensor[]) => tf.zerosLike(dy as tf.Tensor),
})) as unknown as <T extends tf.Tensor>(x: T) => T;

/** σ (px) of centre-sensitive averaging at a training size: the spec's 14 px at 448 (ld-method.md §6.1). */
export const centreSigmaFor = (size: number) => (size * 14) / 448;

/**
 * Weights of one cell × cell window for centre-sensitive averaging: a Gaussian of σ px centred on the
 * window's centre, summing to 1 (W_c of ld-method.md §6.1).
 */
export function centreWeights(cellH: number, cellW: number, sigma: number): Float32Array {
  const out = new Float32Array(cellH * cellW);
  const cy = (cellH - 1) / 2;
  const cx = (cellW - 1) / 2;
  let sum = 0;
  for (let i = 0; i < cellH; i++) {
    for (let j = 0; j < cellW; j++) {
      const v = Math.exp(-((i - cy) ** 2 + (j - cx) ** 2) / (2 * sigma * sigma));
      out[i * cellW + j] = v;
      sum += v;
    }
  }
  for (let k = 0; k < out.length; k++) out[k] /= sum;
  return out;
}

/**
 * Patch embeddings → (N, g, g, D): L2norm of the average of z over each cell of a g×g grid; with
 * `centreSigma` > 0 the average is Gaussian-weighted around each cell's centre (centre-sensitive
 * averaging, §6.1), written as avgPool(z · tiled weights) · cell area so it needs no new kernel.
 */
export function patchEmbeddings(z: Tensor4D, grid = GRID, centreSigma = 0): Tensor4D {
  const [, h, w] = z.shape;
  if (h % grid !== 0 || w % grid !== 0) throw new Error(`embedding map ${h}×${w} is not divisible into a ${grid}×${grid} grid`);
  const ch = h / grid;
  const cw = w / grid;
  if (!(centreSigma > 0)) return l2normalize(tf.avgPool(z, [ch, cw], [ch, cw], 'valid'));
  const cell = tf.tensor4d(centreWeights(ch, cw, centreSigma), [1, ch, cw, 1]);
  const tiled = tf.mul(tf.tile(cell, [1, grid, grid, 1]), ch * cw);
  return l2normalize(tf.avgPool(tf.mul(z, tiled) as Tensor4D, [ch, cw], [ch, cw], 'valid'));
}

/**
 * In-batch instance discrimination (Ye et al. 2019), as the reference's BatchCriterion:
 * positives are rows i and (i + N/2) mod N; only the anchor side of each similarity carries gradient.
 */
export function batchCriterion(x: tf.Tensor2D, tau = PATCH_TAU, groups?: Int32Array): tf.Scalar {
  return tf.tidy(() => {
    const n = x.shape[0];
    if (n % 2 !== 0) throw new Error(`BatchCriterion needs an even number of rows, got ${n}`);
    const eye = tf.eye(n);
    const posMask = tf.concat([tf.slice(eye, [n / 2, 0], [n / 2, n]), tf.slice(eye, [0, 0], [n / 2, n])], 0);
    const keep = groups ? tf.mul(tf.sub(1, eye), sameGroupMask(groups)) : tf.sub(1, eye);
    const negMask = tf.sub(keep, posMask);
    const sim = tf.matMul(x, stopGradient(x), false, true);
    const e = tf.mul(tf.exp(tf.div(sim, tau)), keep);
    const q = tf.div(e, tf.add(tf.sum(e, 1, true), 1e-10));
    const logPos = tf.log(tf.sum(tf.mul(q, posMask), 1));
    const logNotNeg = tf.sum(tf.mul(tf.log(tf.maximum(tf.sub(1, q), 1e-12)), negMask), 1);
    return tf.neg(tf.div(tf.add(tf.sum(logPos), tf.sum(logNotNeg)), n)) as tf.Scalar;
  });
}

/** 1 where rows i and j share a group, else 0 (n × n). */
function sameGroupMask(groups: Int32Array): tf.Tensor2D {
  const n = groups.length;
  const m = new Float32Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) m[i * n + j] = groups[i] === groups[j] ? 1 : 0;
  return tf.tensor2d(m, [n, n]);
}

export type Negatives = 'batch' | 'image';

/**
 * Row groups of the two BatchCriterion calls with same-image negatives (undefined for the paper's
 * in-batch negatives): L_PD's rows [img1_1, img2_1, img1_2, img2_2] (B blocks of `cells` rows each)
 * by source image, both views together; L_mix's rows [mix, target] by pair.
 */
export function negativeGroups(pairs: number, cells: number, negatives: Negatives): { pd?: Int32Array; mix?: Int32Array } {
  if (negatives === 'batch') return {};
  const pd = new Int32Array(4 * pairs * cells);
  for (let block = 0; block < 4 * pairs; block++) {
    const v = Math.floor(block / pairs);
    const p = block % pairs;
    pd.fill(v % 2 === 0 ? p : pairs + p, block * cells, (block + 1) * cells);
  }
  const mix = new Int32Array(2 * pairs * cells);
  for (let r = 0; r < mix.length; r++) mix[r] = Math.floor(r / cells) % pairs;
  return { pd, mix };
}

/**
 * Row permutation whose gradient is the inverse permutation (tf.gather's gradient needs
 * UnsortedSegmentSum, which tfjs-wasm lacks).
 */
export function permuteRows(x: tf.Tensor2D, index: Int32Array): tf.Tensor2D {
  const inverse = new Int32Array(index.length);
  index.forEach((src, dst) => (inverse[src] = dst));
  const op = tf.customGrad((input, _save) => ({
    value: tf.gather(input as tf.Tensor2D, tf.tensor1d(index, 'int32')),
    gradFunc: (dy) => tf.gather(dy as tf.Tensor2D, tf.tensor1d(inverse, 'int32')),
  }));
  return op(x) as tf.Tensor2D;
}

const rows = (p: tf.Tensor4D) => tf.reshape(p, [-1, p.shape[3]]) as tf.Tensor2D;

/** Row order (n, h, w) of a (N, g, g, D) grid after flattening. */
export interface View2Alignment {
  /** For each view-2 image (rows 2B..4B-1), src[i] = the view-2 grid cell that lands on cell i. */
  src: Int32Array[];
}

/** Gather indices that put view-2 grids back into view-1 orientation, for the first 4B grids. */
export function alignmentGatherIndex(pairs: number, alignment: View2Alignment, grid = GRID): Int32Array {
  const cells = grid * grid;
  const index = new Int32Array(4 * pairs * cells);
  for (let i = 0; i < 2 * pairs * cells; i++) index[i] = i;
  for (let v = 0; v < 2 * pairs; v++) {
    const base = (2 * pairs + v) * cells;
    const src = alignment.src[v];
    for (let c = 0; c < cells; c++) index[base + c] = base + src[c];
  }
  return index;
}

export interface LossTerms {
  pd: tf.Scalar;
  mix: tf.Scalar;
  rd?: tf.Scalar;
  ent?: tf.Scalar;
  total: tf.Scalar;
}

export interface BatchMeta {
  pairs: number;
  /** Centre-sensitive averaging σ in px of the embedding map; 0 or absent = the paper's uniform average. */
  centreSigma?: number;
  /** Mixup weights w (B). */
  w: Float32Array;
  alignment: View2Alignment;
  /** Negatives of patch discrimination; absent = 'batch' (the paper). */
  negatives?: Negatives;
  /**
   * View-2 warps (Batch.warps): 2B row-major 2×3 view-1 → view-2 pixel maps of rows 2B..4B−1. When
   * present, L_PD and L_mix are `warpedPatchLosses` (and `alignment` is not used).
   */
  warps?: Float64Array;
}

export function patchAndMixLosses(z: Tensor4D, meta: BatchMeta): { pd: tf.Scalar; mix: tf.Scalar } {
  const b = meta.pairs;
  const p = patchEmbeddings(z, GRID, meta.centreSigma ?? 0) as Tensor4D;
  const [, g, , d] = p.shape;
  const views = tf.slice(p, [0, 0, 0, 0], [4 * b, g, g, d]);
  const aligned = permuteRows(rows(views), alignmentGatherIndex(b, meta.alignment, g));
  const groups = negativeGroups(b, g * g, meta.negatives ?? 'batch');
  const pd = batchCriterion(aligned, PATCH_TAU, groups.pd);

  const w = tf.reshape(tf.tensor1d(meta.w), [b, 1, 1, 1]);
  const target: Tensor4D = stopGradient(
    l2normalize<Tensor4D>(tf.add(tf.mul(tf.slice(p, [0, 0, 0, 0], [b, g, g, d]), w), tf.mul(tf.slice(p, [b, 0, 0, 0], [b, g, g, d]), tf.sub(1, w)))),
  );
  const mixed = tf.slice(p, [4 * b, 0, 0, 0], [b, g, g, d]);
  const mix = batchCriterion(tf.concat([rows(mixed), rows(target)], 0), PATCH_TAU, groups.mix);
  return { pd, mix };
}

/** Region embeddings r (M, K, D) = L2norm(aᵀz / HW), as a batched matmul (never the 5-D broadcast). */
export function regionEmbeddings(a: Tensor4D, z: Tensor4D): tf.Tensor3D {
  const [m, h, w, k] = a.shape;
  const d = z.shape[3];
  const r = tf.div(tf.matMul(tf.reshape(a, [m, h * w, k]), tf.reshape(z, [m, h * w, d]), true, false), h * w);
  return l2normalize(r) as tf.Tensor3D;
}

/** K-way softmax cross-entropy of each image's region k against the batch prototypes (centres not detached). */
export function regionDiscrimination(r: tf.Tensor3D, tau = REGION_TAU): tf.Scalar {
  const [m, k, d] = r.shape;
  const centres = l2normalize(tf.mean(r, 0)) as tf.Tensor2D;
  const logits = tf.div(tf.matMul(tf.reshape(r, [m * k, d]), centres, false, true), tau);
  const labels = tf.tile(tf.eye(k), [m, 1]);
  return tf.neg(tf.mean(tf.sum(tf.mul(tf.logSoftmax(logits), labels), 1))) as tf.Scalar;
}

/** Mean binary entropy (bits) of every element of a. */
export function binaryEntropy(a: tf.Tensor, eps = 1e-30): tf.Scalar {
  const ln2 = Math.log(2);
  const h = tf.add(tf.mul(a, tf.log(tf.add(a, eps))), tf.mul(tf.sub(1, a), tf.log(tf.add(tf.sub(1, a), eps))));
  return tf.div(tf.neg(tf.mean(h)), ln2) as tf.Scalar;
}

// ---------------------------------------------------------------------------------------------------------
// View-2 warp (resources/torch/ld_torch/losses.py gaussian_blur, sample_points, warped_patch_losses)
// ---------------------------------------------------------------------------------------------------------

/** The normalised 1-D Gaussian of σ px, radius max(1, ⌈3σ⌉) (float64, then float32). */
export function gaussianKernel(sigma: number): Float32Array {
  const r = Math.max(1, Math.ceil(3 * sigma));
  const g = new Float64Array(2 * r + 1);
  let sum = 0;
  for (let t = -r; t <= r; t++) sum += g[t + r] = Math.exp((-t * t) / (2 * sigma * sigma));
  return Float32Array.from(g, (v) => v / sum);
}

/**
 * Depthwise Gaussian blur of σ px with zero padding (NHWC), along W then along H: two depthwise
 * convolutions. Each 1-D zero-padded convolution with a symmetric kernel is a symmetric linear map, so
 * the gradient is the same blur of dy (tfjs-wasm has no DepthwiseConv2dNativeBackpropInput).
 */
export function gaussianBlur(z: Tensor4D, sigma: number): Tensor4D {
  const g = gaussianKernel(sigma);
  const d = z.shape[3];
  const k = g.length;
  const blur = (x: Tensor4D) =>
    tf.tidy(() => {
      const kw = tf.tile(tf.tensor4d(g, [1, k, 1, 1]), [1, 1, d, 1]) as tf.Tensor4D;
      const kh = tf.tile(tf.tensor4d(g, [k, 1, 1, 1]), [1, 1, d, 1]) as tf.Tensor4D;
      return tf.depthwiseConv2d(tf.depthwiseConv2d(x, kw, 1, 'same'), kh, 1, 'same');
    });
  const op = tf.customGrad((input, _save) => ({
    value: blur(input as Tensor4D),
    gradFunc: (dy) => blur(dy as Tensor4D),
  }));
  return op(z) as Tensor4D;
}

/**
 * Bilinear sampling weights of points in pixel coordinates (x, y; pixel centres at i + 0.5), as
 * grid_sample (align_corners = False, zero padding), separated into per-point weights over the rows
 * (P × h) and over the columns (P × w): sample(p) = Σ_i Σ_j rows[p, i]·cols[p, j]·z[i, j].
 */
export function bilinearWeights(points: ArrayLike<number>, h: number, w: number): { rows: Float32Array; cols: Float32Array } {
  const n = points.length / 2;
  const rowsW = new Float32Array(n * h);
  const colsW = new Float32Array(n * w);
  const put = (out: Float32Array, base: number, size: number, coord: number) => {
    const u = coord - 0.5;
    const i0 = Math.floor(u);
    const f = u - i0;
    if (i0 >= 0 && i0 < size) out[base + i0] = 1 - f;
    if (i0 + 1 >= 0 && i0 + 1 < size) out[base + i0 + 1] = f;
  };
  for (let p = 0; p < n; p++) {
    put(colsW, p * w, w, points[2 * p]);
    put(rowsW, p * h, h, points[2 * p + 1]);
  }
  return { rows: rowsW, cols: colsW };
}

/**
 * Bilinear samples of z (N, h, w, D) at P points per image → (N, P, D), from separated weights
 * (`bilinearWeights`, N·P·h and N·P·w values): a batched matmul over the rows, then a weighted sum over
 * the columns — ops whose gradients are matmuls and products (no gather, which tfjs-wasm cannot
 * differentiate).
 */
export function sampleBilinear(z: Tensor4D, rowsW: Float32Array, colsW: Float32Array, points: number): tf.Tensor3D {
  const [n, h, w, d] = z.shape;
  const t = tf.matMul(tf.tensor3d(rowsW, [n, points, h]), tf.reshape(z, [n, h, w * d]) as tf.Tensor3D); // (N, P, w·D)
  const weighted = tf.mul(tf.reshape(t, [n, points, w, d]), tf.tensor4d(colsW, [n, points, w, 1]));
  return tf.sum(weighted, 2) as tf.Tensor3D;
}

/** Cell centres of the g×g grid on an h × w map, (x, y) pixel coordinates, cell = row·g + col. */
export function cellCentres(h: number, w: number, grid = GRID): Float64Array {
  const out = new Float64Array(2 * grid * grid);
  for (let i = 0; i < grid; i++) {
    for (let j = 0; j < grid; j++) {
      out[2 * (i * grid + j)] = ((j + 0.5) * w) / grid;
      out[2 * (i * grid + j) + 1] = ((i + 0.5) * h) / grid;
    }
  }
  return out;
}

/** Points moved by row-major 2×3 maps: warps (V·6) × points (P·2) → V·P·2. */
export function warpPoints(warps: ArrayLike<number>, points: ArrayLike<number>): Float64Array {
  const v = warps.length / 6;
  const p = points.length / 2;
  const out = new Float64Array(v * p * 2);
  for (let k = 0; k < v; k++) {
    const [a, b, c, d, e, f] = Array.from({ length: 6 }, (_, i) => warps[6 * k + i]);
    for (let q = 0; q < p; q++) {
      const x = points[2 * q];
      const y = points[2 * q + 1];
      out[2 * (k * p + q)] = a * x + b * y + c;
      out[2 * (k * p + q) + 1] = d * x + e * y + f;
    }
  }
  return out;
}

/** Rows `index` of x as a (K × M) one-hot matmul, whose gradient is the transposed matmul (no gather). */
export function selectRows(x: tf.Tensor2D, index: ArrayLike<number>): tf.Tensor2D {
  const m = x.shape[0];
  const k = index.length;
  const onehot = new Float32Array(k * m);
  for (let r = 0; r < k; r++) onehot[r * m + index[r]] = 1;
  return tf.matMul(tf.tensor2d(onehot, [k, m]), x);
}

/**
 * L_PD and L_mix when view 2 is a warped copy of view 1 (BatchMeta.warps), as the PyTorch engine's
 * warped_patch_losses, op for op: z is blurred by a Gaussian of σ = centreSigma (zero padding, radius
 * ⌈3σ⌉) and L2-normalised per pixel (with σ = 0, z itself); every embedding is a bilinear sample of
 * that map at a grid-cell centre of view 1 (all 5B rows) and, for view 2 (rows 2B..4B−1), at the
 * centre moved by the warp, each L2-normalised. A cell whose moved centre leaves view 2 (not strictly
 * inside (0, w) × (0, h)) is dropped from L_PD, both of its rows: L_PD = BatchCriterion([view1[keep];
 * view2[keep]]) with the groups of negatives 'image' taken for the same rows. L_mix is as in
 * `patchAndMixLosses` on the sampled view-1 and mixup embeddings.
 */
export function warpedPatchLosses(z: Tensor4D, meta: BatchMeta): { pd: tf.Scalar; mix: tf.Scalar } {
  const b = meta.pairs;
  const warps = meta.warps;
  if (!warps || warps.length !== 2 * b * 6) throw new Error(`warpedPatchLosses: need ${2 * b} warps of 6 values, got ${warps?.length ?? 0} values`);
  const [n, h, wd, d] = z.shape;
  if (n !== 5 * b) throw new Error(`warpedPatchLosses: z has ${n} rows, expected 5·pairs = ${5 * b}`);
  const cells = GRID * GRID;
  const sigma = meta.centreSigma ?? 0;
  const zb = sigma > 0 ? l2normalize(gaussianBlur(z, sigma)) : z;

  const centres = cellCentres(h, wd);
  const one = bilinearWeights(centres, h, wd);
  const rows1 = new Float32Array(n * cells * h);
  const cols1 = new Float32Array(n * cells * wd);
  for (let r = 0; r < n; r++) {
    rows1.set(one.rows, r * cells * h);
    cols1.set(one.cols, r * cells * wd);
  }
  const p1 = l2normalize(sampleBilinear(zb, rows1, cols1, cells)); // (5B, cells, D)
  const moved = warpPoints(warps, centres); // (2B·cells)·2
  const keep: number[] = [];
  const at = Float64Array.from(moved);
  for (let r = 0; r < 2 * b * cells; r++) {
    const x = moved[2 * r];
    const y = moved[2 * r + 1];
    if (x > 0 && x < wd && y > 0 && y < h) keep.push(r);
    else {
      // A dropped cell's view-2 row is never used, but a sample wholly outside the map is a zero vector,
      // whose L2 normalisation has a NaN gradient that the sampling matmul would spread (0·NaN) over
      // the whole map: sample it at its unmoved centre instead (torch's grid_sample skips such points).
      at[2 * r] = centres[2 * (r % cells)];
      at[2 * r + 1] = centres[2 * (r % cells) + 1];
    }
  }
  if (keep.length === 0) throw new Error('warpedPatchLosses: no grid-cell centre stays inside view 2');
  const two = bilinearWeights(at, h, wd);
  const zb2 = tf.slice(zb, [2 * b, 0, 0, 0], [2 * b, h, wd, d]);
  const p2 = l2normalize(sampleBilinear(zb2, two.rows, two.cols, cells)); // (2B, cells, D)
  const view1 = tf.reshape(tf.slice(p1, [0, 0, 0], [2 * b, cells, d]), [-1, d]) as tf.Tensor2D;
  const view2 = tf.reshape(p2, [-1, d]) as tf.Tensor2D;
  const groups = negativeGroups(b, cells, meta.negatives ?? 'batch');
  let pdGroups: Int32Array | undefined;
  if (groups.pd) {
    pdGroups = new Int32Array(2 * keep.length);
    keep.forEach((r, i) => (pdGroups![i] = pdGroups![keep.length + i] = groups.pd![r]));
  }
  const pd = batchCriterion(tf.concat([selectRows(view1, keep), selectRows(view2, keep)], 0), PATCH_TAU, pdGroups);

  const w = tf.reshape(tf.tensor1d(meta.w), [b, 1, 1]);
  const target: tf.Tensor3D = stopGradient(
    l2normalize<tf.Tensor3D>(tf.add(tf.mul(tf.slice(p1, [0, 0, 0], [b, cells, d]), w), tf.mul(tf.slice(p1, [b, 0, 0], [b, cells, d]), tf.sub(1, w)))),
  );
  const mixed = tf.slice(p1, [4 * b, 0, 0], [b, cells, d]);
  const mix = batchCriterion(tf.concat([tf.reshape(mixed, [-1, d]), tf.reshape(target, [-1, d])], 0) as tf.Tensor2D, PATCH_TAU, groups.mix);
  return { pd, mix };
}

export function ldLosses(out: { z: Tensor4D; a?: Tensor4D }, meta: BatchMeta): LossTerms {
  const { pd, mix } = meta.warps ? warpedPatchLosses(out.z, meta) : patchAndMixLosses(out.z, meta);
  if (!out.a) return { pd, mix, total: tf.add(pd, mix) };
  const m = 4 * meta.pairs;
  const a = tf.slice(out.a, [0, 0, 0, 0], [m, ...out.a.shape.slice(1)] as [number, number, number, number]);
  const z = tf.slice(out.z, [0, 0, 0, 0], [m, ...out.z.shape.slice(1)] as [number, number, number, number]);
  const rd = regionDiscrimination(regionEmbeddings(a, z));
  const ent = binaryEntropy(a);
  const total = tf.addN([tf.mul(pd, WEIGHTS.pd), tf.mul(mix, WEIGHTS.mix), tf.mul(rd, WEIGHTS.rd), tf.mul(ent, WEIGHTS.ent)]) as tf.Scalar;
  return { pd, mix, rd, ent, total };
}
