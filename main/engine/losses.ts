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

export function ldLosses(out: { z: Tensor4D; a?: Tensor4D }, meta: BatchMeta): LossTerms {
  const { pd, mix } = patchAndMixLosses(out.z, meta);
  if (!out.a) return { pd, mix, total: tf.add(pd, mix) };
  const m = 4 * meta.pairs;
  const a = tf.slice(out.a, [0, 0, 0, 0], [m, ...out.a.shape.slice(1)] as [number, number, number, number]);
  const z = tf.slice(out.z, [0, 0, 0, 0], [m, ...out.z.shape.slice(1)] as [number, number, number, number]);
  const rd = regionDiscrimination(regionEmbeddings(a, z));
  const ent = binaryEntropy(a);
  const total = tf.addN([tf.mul(pd, WEIGHTS.pd), tf.mul(mix, WEIGHTS.mix), tf.mul(rd, WEIGHTS.rd), tf.mul(ent, WEIGHTS.ent)]) as tf.Scalar;
  return { pd, mix, rd, ent, total };
}
