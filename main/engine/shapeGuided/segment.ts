/**
 * Segmentation with a trained LD / shape-guided model (ld-method.md §5.5), on the outputs of the
 * ONNX model (embedding z (D, h, w), clusters a (K, h, w)) — no tfjs:
 *
 * - "attention": the cluster's own map, a_c · m;
 * - "cos" (embedding): a' = a·m, r_k = L2norm(mean_p a'_k(p) z(p)), s_k(p) = softmax_k(z(p)·r_k / 0.2),
 *   prediction s_c · m;
 *
 * with m the field-of-view mask (the reference: any raw channel > 20 of 255; off by default here, since
 * radiographs rarely have fundus photographs' black surround). Either probability map is resampled back
 * to the original image size and thresholded there (default 0.5).
 */
import type { PixelImage } from '../image';
import { resampleToUnit } from '../data/prepare';
import { resizeHWC } from '../data/resample';
import type { LdOnnxModel } from '../infer/onnxModel';
import { preprocessForNetwork, type InputFit } from '../infer/preprocess';

export type SegmentMethod = 'attention' | 'cos';
export const SEGMENT_METHODS: readonly SegmentMethod[] = ['attention', 'cos'];
/** Temperature of the embedding soft labels (the reference's 0.2, = REGION_TAU). */
export const COS_TAU = 0.2;
export const DEFAULT_THRESHOLD = 0.5;

/** Soft labels s (K, n) of every pixel from z (D, n) and a (K, n), with an optional FOV mask m (n). */
export function cosSoftLabels(z: Float32Array, a: Float32Array, embedDim: number, clusters: number, fov?: Float32Array | null): Float32Array {
  const n = z.length / embedDim;
  if (a.length !== clusters * n) throw new Error(`cosSoftLabels: ${a.length} cluster values for ${clusters}×${n}`);
  // r_k = L2norm(mean_p a'_k(p) z(p)) (the mean's 1/n does not survive the normalisation)
  const r = new Float64Array(clusters * embedDim);
  for (let k = 0; k < clusters; k++) {
    for (let d = 0; d < embedDim; d++) {
      let acc = 0;
      const zo = d * n;
      const ao = k * n;
      for (let p = 0; p < n; p++) acc += a[ao + p] * (fov ? fov[p] : 1) * z[zo + p];
      r[k * embedDim + d] = acc / n;
    }
    let norm = 0;
    for (let d = 0; d < embedDim; d++) norm += r[k * embedDim + d] ** 2;
    norm = Math.sqrt(norm) + 1e-10;
    for (let d = 0; d < embedDim; d++) r[k * embedDim + d] /= norm;
  }
  const s = new Float32Array(clusters * n);
  const logits = new Float64Array(clusters);
  for (let p = 0; p < n; p++) {
    let max = -Infinity;
    for (let k = 0; k < clusters; k++) {
      let dot = 0;
      for (let d = 0; d < embedDim; d++) dot += z[d * n + p] * r[k * embedDim + d];
      logits[k] = dot / COS_TAU;
      if (logits[k] > max) max = logits[k];
    }
    let sum = 0;
    for (let k = 0; k < clusters; k++) {
      logits[k] = Math.exp(logits[k] - max);
      sum += logits[k];
    }
    for (let k = 0; k < clusters; k++) s[k * n + p] = logits[k] / sum;
  }
  return s;
}

export interface Prediction {
  /** Network input size. */
  width: number;
  height: number;
  /** a_c · m and s_c · m at the network size (h·w each). */
  attention: Float32Array;
  cos: Float32Array;
  /** Every cluster's map a (K, h, w) (unmasked), for picking a cluster. */
  clusters: Float32Array;
  /** Every cluster's embedding soft label s (K, h, w) (unmasked). */
  softLabels: Float32Array;
  clusterCount: number;
  /** The FOV mask used (null: none). */
  fov: Float32Array | null;
}

export interface PredictOptions {
  /** Long side (or square side) of the network input, rounded to a multiple of 16. */
  size: number;
  fit: InputFit;
  /** The cluster to predict (shape-guided: 0). */
  cluster: number;
  /** FOV mask threshold on the [0, 1]-scaled image (the reference's 20/255 ≈ 0.078); 0 = no mask. */
  fovThreshold?: number;
}

export async function predictImage(model: LdOnnxModel, record: PixelImage, opts: PredictOptions): Promise<Prediction> {
  if (model.clusters === 0) throw new Error('the model has no clustering branch (a stage-1 model); segmentation needs a stage-2 or shape-guided model');
  const input = preprocessForNetwork(record, { channels: model.channels, size: opts.size, fit: opts.fit });
  const out = await model.run(input.data, 1, input.height, input.width);
  const { embedDim, clusters: K, h, w } = out.shape;
  if (!out.clusters) throw new Error('the model gave no clusters output');
  if (!(opts.cluster >= 0 && opts.cluster < K)) throw new Error(`--cluster ${opts.cluster}: the model has clusters 0..${K - 1}`);
  const n = h * w;
  let fov: Float32Array | null = null;
  if (opts.fovThreshold && opts.fovThreshold > 0) {
    const unit = resampleToUnit(record, { width: w, height: h, channels: record.channels === 3 ? 3 : 1 });
    const c = record.channels === 3 ? 3 : 1;
    fov = new Float32Array(n);
    for (let p = 0; p < n; p++) {
      let on = 0;
      for (let k = 0; k < c; k++) if (unit[p * c + k] > opts.fovThreshold) on = 1;
      fov[p] = on;
    }
  }
  const attention = new Float32Array(n);
  const a = out.clusters;
  for (let p = 0; p < n; p++) attention[p] = a[opts.cluster * n + p] * (fov ? fov[p] : 1);
  const s = cosSoftLabels(out.embedding, a, embedDim, K, fov);
  const cos = new Float32Array(n);
  for (let p = 0; p < n; p++) cos[p] = s[opts.cluster * n + p] * (fov ? fov[p] : 1);
  return { width: w, height: h, attention, cos, clusters: a, softLabels: s, clusterCount: K, fov };
}

/** 1 where cluster k is the most likely one (hard assignment, first maximum on ties), else 0; maps (K, n). */
export function argmaxMap(maps: Float32Array, clusters: number, k: number): Float32Array {
  const n = maps.length / clusters;
  const out = new Float32Array(n);
  for (let p = 0; p < n; p++) {
    let best = 0;
    for (let j = 1; j < clusters; j++) if (maps[j * n + p] > maps[best * n + p]) best = j;
    out[p] = best === k ? 1 : 0;
  }
  return out;
}

/** A probability map at the network size → the original image size (pixel centres map linearly). */
export function toOriginalSize(prob: Float32Array, width: number, height: number, outWidth: number, outHeight: number): Float32Array {
  const r = width === outWidth && height === outHeight ? prob.slice() : resizeHWC(prob, width, height, 1, outWidth, outHeight);
  for (let i = 0; i < r.length; i++) r[i] = r[i] < 0 ? 0 : r[i] > 1 ? 1 : r[i];
  return r;
}

/** Otsu's threshold of values in [0, 1] (256-bin histogram): the bin edge maximising between-class variance. */
export function otsuThreshold(values: ArrayLike<number>, bins = 256): number {
  const hist = new Float64Array(bins);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    hist[Math.min(bins - 1, Math.max(0, Math.floor(v * bins)))]++;
  }
  const total = values.length;
  let sumAll = 0;
  for (let b = 0; b < bins; b++) sumAll += b * hist[b];
  let w0 = 0;
  let sum0 = 0;
  let best = -1;
  let bestT = 0;
  for (let t = 0; t < bins - 1; t++) {
    w0 += hist[t];
    sum0 += t * hist[t];
    const w1 = total - w0;
    if (w0 === 0 || w1 === 0) continue;
    const m0 = sum0 / w0;
    const m1 = (sumAll - sum0) / w1;
    const between = w0 * w1 * (m0 - m1) ** 2;
    if (between > best) {
      best = between;
      bestT = t;
    }
  }
  return (bestT + 1) / bins; // foreground: values ≥ this
}
