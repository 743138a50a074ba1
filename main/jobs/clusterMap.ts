/**
 * What the model sees in one image, as a coloured overlay: each pixel's cluster. A stage-2 model has a
 * clustering branch (`clusters` output): its argmax. A stage-1 model has only the embedding: k-means
 * (k = 8, k-means++ seeded with a fixed seed, so the same model and image give the same map) on the
 * per-pixel embedding. Labels are computed at the network's resolution and drawn, nearest neighbour,
 * at the image's size as a semi-transparent palette PNG.
 */
import { LdOnnxModel } from '../engine/infer/onnxModel';
import { preprocessForNetwork } from '../engine/infer/preprocess';
import { Rng } from '../engine/rng';
import type { ImageRecord } from '../io/imageRecord';
import { propagationSettings } from './landmarkPropagation';
import type { ResolvedModel } from './modelSource';
import { encodePng, pngDataUrl } from '../io/raster/pngEncode';

export const KMEANS_CLUSTERS = 8;
const OVERLAY_ALPHA = 120;

/** A fixed, distinguishable palette (Tableau 20 order); cluster i gets colour i mod 20. */
const PALETTE_RGB = [
  [31, 119, 180], [255, 127, 14], [44, 160, 44], [214, 39, 40], [148, 103, 189], [140, 86, 75], [227, 119, 194], [127, 127, 127],
  [188, 189, 34], [23, 190, 207], [174, 199, 232], [255, 187, 120], [152, 223, 138], [255, 152, 150], [197, 176, 213], [196, 156, 148],
  [247, 182, 210], [199, 199, 199], [219, 219, 141], [158, 218, 229],
];

export function paletteRgba(count: number, alpha = OVERLAY_ALPHA): Uint8Array {
  const out = new Uint8Array(count * 4);
  for (let i = 0; i < count; i++) out.set([...PALETTE_RGB[i % PALETTE_RGB.length], alpha], i * 4);
  return out;
}

/** Per-pixel argmax over K channel planes (K, n). */
export function argmaxPlanes(planes: Float32Array, k: number, n: number): Uint8Array {
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    let bestValue = planes[i];
    for (let c = 1; c < k; c++) {
      const v = planes[c * n + i];
      if (v > bestValue) {
        bestValue = v;
        best = c;
      }
    }
    labels[i] = best;
  }
  return labels;
}

/**
 * k-means of the n pixel vectors of CHW data (d channels). Deterministic: k-means++ seeding with a
 * fixed seed, then Lloyd iterations; clusters are renumbered largest first so colours are stable.
 */
export function kMeansLabels(chw: Float32Array, d: number, n: number, k = KMEANS_CLUSTERS, iterations = 25, seed = 0): Uint8Array {
  const rng = new Rng(seed);
  const k2 = Math.min(k, n);
  const centres = new Float64Array(k2 * d);
  const pixel = (i: number, c: number) => chw[c * n + i];
  const dist2 = (i: number, j: number) => {
    let s = 0;
    for (let c = 0; c < d; c++) {
      const t = pixel(i, c) - centres[j * d + c];
      s += t * t;
    }
    return s;
  };
  // k-means++ seeding
  const first = rng.int(n);
  for (let c = 0; c < d; c++) centres[c] = pixel(first, c);
  const nearest = new Float64Array(n).fill(Infinity);
  for (let j = 1; j < k2; j++) {
    let total = 0;
    for (let i = 0; i < n; i++) {
      nearest[i] = Math.min(nearest[i], dist2(i, j - 1));
      total += nearest[i];
    }
    let pick = n - 1;
    let r = rng.next() * total;
    for (let i = 0; i < n; i++) {
      r -= nearest[i];
      if (r <= 0) {
        pick = i;
        break;
      }
    }
    for (let c = 0; c < d; c++) centres[j * d + c] = pixel(pick, c);
  }
  const labels = new Uint8Array(n);
  const sums = new Float64Array(k2 * d);
  const counts = new Float64Array(k2);
  for (let it = 0; it < iterations; it++) {
    let changed = 0;
    for (let i = 0; i < n; i++) {
      let best = 0;
      let bestD = Infinity;
      for (let j = 0; j < k2; j++) {
        const dd = dist2(i, j);
        if (dd < bestD) {
          bestD = dd;
          best = j;
        }
      }
      if (labels[i] !== best || it === 0) changed++;
      labels[i] = best;
    }
    sums.fill(0);
    counts.fill(0);
    for (let i = 0; i < n; i++) {
      const j = labels[i];
      counts[j]++;
      for (let c = 0; c < d; c++) sums[j * d + c] += pixel(i, c);
    }
    for (let j = 0; j < k2; j++) if (counts[j] > 0) for (let c = 0; c < d; c++) centres[j * d + c] = sums[j * d + c] / counts[j];
    if (changed === 0) break;
  }
  // renumber: largest cluster first (ties by old index)
  const order = Array.from(counts.keys()).sort((a, b) => counts[b] - counts[a] || a - b);
  const rank = new Uint8Array(k2);
  order.forEach((old, i) => (rank[old] = i));
  for (let i = 0; i < n; i++) labels[i] = rank[labels[i]];
  return labels;
}

/** Labels at h×w → palette indices at W×H (nearest neighbour on pixel centres). */
export function upsampleLabels(labels: Uint8Array, w: number, h: number, W: number, H: number): Uint8Array {
  const out = new Uint8Array(W * H);
  const xs = new Int32Array(W);
  for (let x = 0; x < W; x++) xs[x] = Math.min(w - 1, Math.floor(((x + 0.5) * w) / W));
  for (let y = 0; y < H; y++) {
    const sy = Math.min(h - 1, Math.floor(((y + 0.5) * h) / H));
    const row = sy * w;
    const base = y * W;
    for (let x = 0; x < W; x++) out[base + x] = labels[row + xs[x]];
  }
  return out;
}

export interface ClusterMap {
  dataUrl: string;
  clusters: number;
  source: 'clustering-branch' | 'k-means-of-embedding';
}

export async function clusterMapOf(model: ResolvedModel, record: ImageRecord, opts: { threads?: number } = {}): Promise<ClusterMap> {
  const { size } = propagationSettings(model, {});
  const session = await LdOnnxModel.load(model.source, { threads: opts.threads });
  try {
    const input = preprocessForNetwork(record, { channels: session.channels, size, fit: 'square' });
    const out = await session.run(input.data, 1, input.height, input.width);
    const { h, w } = out.shape;
    let labels: Uint8Array;
    let clusters: number;
    let source: ClusterMap['source'];
    if (out.clusters && out.shape.clusters > 0) {
      clusters = out.shape.clusters;
      labels = argmaxPlanes(out.clusters, clusters, h * w);
      source = 'clustering-branch';
    } else {
      clusters = KMEANS_CLUSTERS;
      labels = kMeansLabels(out.embedding, out.shape.embedDim, h * w, clusters);
      source = 'k-means-of-embedding';
    }
    const full = upsampleLabels(labels, w, h, record.width, record.height);
    const png = await encodePng({ width: record.width, height: record.height, data: full, palette: paletteRgba(Math.min(256, clusters)) }, 3);
    return { dataUrl: pngDataUrl(png), clusters, source };
  } finally {
    await session.dispose();
  }
}
