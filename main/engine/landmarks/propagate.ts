/**
 * One-shot landmark propagation (ld-method.md §6.2): each template landmark's centre-sensitive
 * embedding is searched in the target — globally on the coarse map, then in a full-resolution window
 * with a sub-pixel peak — and scored with a confidence.
 *
 * Confidence (in [0, 1], for ranking points to review) multiplies three cues:
 * - the peak's cosine similarity (clamped at 0);
 * - distinctiveness: 1 − (1 − s₁)/(1 − s₂), a ratio test on cosine distances, where s₂ is the best
 *   other local maximum of the coarse similarity map (a landmark with a look-alike elsewhere, e.g. the
 *   next vertebra, scores low; the ratio does not depend on how similar the whole image looks);
 * - cycle consistency: the match, searched back in the template, should land on the template point:
 *   exp(−½(d/σ)²) with d the distance in network pixels and σ the centre-sensitive σ.
 *
 * With `consensus: 'affine'` (this function's default; 'none' is the paper's plain argmax) the
 * template→target correspondences of all landmarks (each landmark's three best peaks, and the identity
 * "same place in the normalised frame") vote for an affine map (RANSAC); each landmark is then searched
 * only within a radius of where that map sends it, which removes matches on look-alike structures far
 * from where the anatomy puts the point. `consensus: 'dense'` (the propagation job's default) lets
 * mutual matches of the whole image vote instead, with a local correction (denseConsensus.ts), so a
 * landmark's prediction depends on no other landmark; 'prior' searches around the template's own
 * position. The job then refines each point through the cascade (cascade.ts) and NCC (nccRefine.ts).
 */
import { toNetwork, toOriginal } from '../infer/preprocess';
import { applyAffine, IDENTITY, ransacAffine, type Affine } from './affine';
import { denseConsensus, predictDense, type DenseConsensusOptions } from './denseConsensus';
import { centreEmbeddingAt, type ImageFeatures } from './features';
import { coarseToFull, refinePeak, similarityMap, topPeaks, type Peak } from './search';
import type { PlacedPoint, Point } from './types';

export type ConsensusMode = 'none' | 'affine' | 'dense' | 'prior';

export interface PropagationOptions {
  consensus?: ConsensusMode;
  /** Full-resolution refinement window half-width in network pixels (default: the coarse factor — twice the distance to the nearest coarse sample — and at least 4). */
  refineRadius?: number;
  /** With dense consensus: its settings (denseConsensus.ts). */
  dense?: DenseConsensusOptions;
  /**
   * With affine consensus: search radius around the map's prediction as a fraction of the network
   * image's long side, at least (default 0.06); it grows with the fit's residual.
   */
  consensusRadius?: number;
}

export interface PropagatedPoint extends PlacedPoint {
  confidence: number;
  /** Cosine similarity at the refined peak. */
  similarity: number;
  /** Best other local maximum of the coarse similarity map. */
  secondPeak: number;
  /** Template → target → template distance, in template pixels. */
  cycleError: number;
}

export interface TemplateQuery {
  /** Template point in original pixels. */
  point: Point;
  /** The same point in the template's network pixels. */
  net: Point;
  /** ṡ_t: centre-sensitive embedding at the point. */
  vector: Float32Array;
}


export function templateQueries(template: ImageFeatures, points: Array<Point | null>): Array<TemplateQuery | null> {
  return points.map((p) => {
    if (!p) return null;
    if (!(p.x >= -0.5 && p.y >= -0.5 && p.x <= template.source.width - 0.5 && p.y <= template.source.height - 0.5)) {
      throw new Error(`template point (${p.x}, ${p.y}) lies outside the ${template.source.width}×${template.source.height} template image`);
    }
    const net = toNetwork(p, template);
    const cx = Math.min(Math.max(net.x, 0), template.full.width - 1);
    const cy = Math.min(Math.max(net.y, 0), template.full.height - 1);
    return { point: p, net: { x: cx, y: cy }, vector: centreEmbeddingAt(template.full, cx, cy, template.sigma) };
  });
}

interface CoarseSearch {
  peaks: Peak[];
  map: Float32Array;
}

function coarseSearch(f: ImageFeatures, q: Float32Array): CoarseSearch {
  const { coarse } = f;
  const map = similarityMap(coarse, q);
  const minDistance = Math.max(1, Math.round((2 * f.sigma) / coarse.factor));
  return { map, peaks: topPeaks(map, coarse.width, coarse.height, 3, minDistance) };
}

/** Best coarse pixel within `radius` (network px) of `centre` (network px). */
function bestWithin(f: ImageFeatures, map: Float32Array, centre: Point, radius: number): Peak {
  const { coarse } = f;
  const cx = (centre.x + 0.5) / coarse.factor - 0.5;
  const cy = (centre.y + 0.5) / coarse.factor - 0.5;
  const r = radius / coarse.factor;
  let best: Peak = { x: Math.min(Math.max(Math.round(cx), 0), coarse.width - 1), y: Math.min(Math.max(Math.round(cy), 0), coarse.height - 1), score: -Infinity };
  best.score = map[best.y * coarse.width + best.x];
  for (let y = Math.max(0, Math.floor(cy - r)); y <= Math.min(coarse.height - 1, Math.ceil(cy + r)); y++) {
    for (let x = Math.max(0, Math.floor(cx - r)); x <= Math.min(coarse.width - 1, Math.ceil(cx + r)); x++) {
      if ((x - cx) ** 2 + (y - cy) ** 2 > r * r) continue;
      const v = map[y * coarse.width + x];
      if (v > best.score) best = { x, y, score: v };
    }
  }
  return best;
}

function refineFrom(f: ImageFeatures, q: Float32Array, coarsePeak: Peak, radius: number) {
  return refinePeak(f, q, coarseToFull(coarsePeak.x, f.coarse.factor), coarseToFull(coarsePeak.y, f.coarse.factor), radius);
}

/** Normalised network coordinates ([0, 1] per axis), so that template and target frames compare. */
const unit = (p: Point, f: ImageFeatures): Point => ({ x: (p.x + 0.5) / f.full.width, y: (p.y + 0.5) / f.full.height });
const fromUnit = (p: Point, f: ImageFeatures): Point => ({ x: p.x * f.full.width - 0.5, y: p.y * f.full.height - 0.5 });

export function propagateToImage(
  template: ImageFeatures,
  queries: Array<TemplateQuery | null>,
  target: ImageFeatures,
  opts: PropagationOptions = {},
): Array<PropagatedPoint | null> {
  return propagateGlobal(template, queries, target, opts).points;
}

export interface GlobalPropagation {
  points: Array<PropagatedPoint | null>;
  /** The consensus map between the images' normalised frames ([0, 1] per axis), when one was found. */
  affine: Affine | null;
}

/** The target/template size ratio of the anatomy along x and y that an affine between normalised frames implies. */
export function affineScale(a: Affine | null): { x: number; y: number } {
  if (!a) return { x: 1, y: 1 };
  const clampScale = (v: number) => Math.min(1.5, Math.max(1 / 1.5, v));
  return { x: clampScale(Math.hypot(a[0], a[3])), y: clampScale(Math.hypot(a[1], a[4])) };
}

export function propagateGlobal(
  template: ImageFeatures,
  queries: Array<TemplateQuery | null>,
  target: ImageFeatures,
  opts: PropagationOptions = {},
): GlobalPropagation {
  const radius = opts.refineRadius ?? Math.max(4, target.coarse.factor);
  const searches = queries.map((q) => (q ? coarseSearch(target, q.vector) : null));

  // Shape consensus: an affine map voted for by every landmark's best coarse match ('affine'), or by
  // mutual matches of the whole image with a local correction ('dense', denseConsensus.ts).
  let affine: Affine | null = null;
  let predict: ((p: Point) => Point) | null = null;
  let searchRadius = 0;
  const mode = opts.consensus ?? 'affine';
  if (mode === 'prior') {
    // the template's own position in the normalised frame (images framed alike), searched around
    predict = (p) => p;
    searchRadius = (opts.consensusRadius ?? 0.04) * Math.max(target.full.width, target.full.height);
  } else if (mode === 'dense') {
    const dc = denseConsensus(template.coarse, target.coarse, opts.dense);
    if (dc) {
      affine = dc.affine;
      predict = (p) => predictDense(dc, p, opts.dense?.localSigma);
      searchRadius = (opts.consensusRadius ?? 0.04) * Math.max(target.full.width, target.full.height);
    }
  } else if (mode === 'affine') {
    const used = queries.map((q, i) => (q && searches[i]!.peaks.length ? i : -1)).filter((i) => i >= 0);
    const src = used.map((i) => unit(queries[i]!.net, template));
    const candidates = used.map((i) =>
      searches[i]!.peaks.map((p) => ({ p: unit({ x: coarseToFull(p.x, target.coarse.factor), y: coarseToFull(p.y, target.coarse.factor) }, target), w: Math.max(1e-3, p.score) })),
    );
    const minRadius = opts.consensusRadius ?? 0.06;
    const fit = used.length >= 4 ? ransacAffine(src, candidates, minRadius, { hypotheses: [IDENTITY] }) : null;
    if (fit && fit.inliers.filter(Boolean).length >= Math.max(3, Math.ceil(used.length / 3))) {
      const a = fit.affine;
      affine = a;
      predict = (p) => applyAffine(a, p);
      searchRadius = Math.max(minRadius, 2.5 * fit.rms) * Math.max(target.full.width, target.full.height);
    }
  }

  const points = queries.map((q, i) => {
    if (!q) return null;
    const s = searches[i]!;
    if (!s.peaks.length) return null;
    let start = s.peaks[0];
    if (predict) {
      const predicted = fromUnit(predict(unit(q.net, template)), target);
      start = bestWithin(target, s.map, predicted, searchRadius);
    }
    const hit = refineFrom(target, q.vector, start, radius);
    const second = s.peaks.find((p) => Math.max(Math.abs(p.x - start.x), Math.abs(p.y - start.y)) >= Math.max(1, Math.round((2 * target.sigma) / target.coarse.factor)));
    const s2 = second?.score ?? -1;

    // cycle: the match's own embedding, searched back in the template
    const back = centreEmbeddingAt(target.full, hit.x, hit.y, target.sigma);
    const tSearch = coarseSearch(template, back);
    const tHit = tSearch.peaks.length ? refineFrom(template, back, tSearch.peaks[0], Math.max(4, template.coarse.factor)) : { x: NaN, y: NaN };
    const dNet = Math.hypot(tHit.x - q.net.x, tHit.y - q.net.y);
    const tBack = toOriginal(tHit, template);
    const cycleError = Math.hypot(tBack.x - q.point.x, tBack.y - q.point.y);

    const similarity = hit.score;
    // Lowe's ratio test on cosine distances: independent of how similar the whole image looks.
    const distinct = Math.max(0, Math.min(1, 1 - (1 - start.score) / Math.max(1e-9, 1 - s2)));
    const cycle = Number.isFinite(dNet) ? Math.exp(-0.5 * (dNet / template.sigma) ** 2) : 0;
    const confidence = Math.max(0, similarity) * distinct * cycle;
    const p = toOriginal(hit, target);
    return { x: p.x, y: p.y, confidence, similarity, secondPeak: s2, cycleError: Number.isFinite(cycleError) ? cycleError : Infinity };
  });
  return { points, affine };
}
