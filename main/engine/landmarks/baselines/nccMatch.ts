/**
 * One-shot landmarks by multi-scale patch matching (normalised cross-correlation), a baseline for
 * the learned embeddings. For each template landmark:
 *
 * 1. Search: both images resized so their long side is `searchLongSide`; the template additionally
 *    by each relative scale s (target anatomy s times the template's); the patch around the landmark
 *    (side `patchFraction`·searchLongSide) is matched against every window of the target. The best
 *    (scale, window) wins.
 * 2. Refine: at `refineLongSide`, a smaller patch (side `refinePatchFraction`·refineLongSide) of the
 *    template at the chosen scale is matched within `refineRadius` search pixels of the found point,
 *    and the peak located to a fraction of a pixel by a quadratic fit.
 *
 * Confidence combines the refined NCC peak with how distinct the search's peak was (see
 * `distinctiveness`). With `consensus: 'none'` (the default) each landmark is matched independently:
 * no shape constraint, so a finger joint can be confused with its neighbour. `consensus: 'affine'` is
 * the control for LD's shape consensus (propagate.ts), with the same rule: every landmark's three best
 * windows (over all scales), and the identity, vote for an affine map between the images' normalised
 * frames (RANSAC); each landmark then takes its best window within a radius of where the map puts it.
 * `consensus: 'dense'` is the control for LD's dense consensus (denseConsensus.ts): a grid of template
 * patches is matched over the whole target, mutual matches (the target window's best match lands back
 * on the grid point) vote for the affine, and its local residuals correct each prediction.
 */
import { applyAffine, IDENTITY, ransacAffine, type Affine } from '../affine';
import { consensusFromMatches, predictDense, type Match } from '../denseConsensus';
import { topPeaks } from '../search';
import type { PlacedPoint, Point } from '../types';
import { mapPoint, resizeGrey, sizeWithLongSide, type GreyImage, type Size } from './greyImage';
import { cutPatch, NccSearch, refinePeak, WindowSums, type NccPeak, type Patch } from './ncc';
import { scaledTemplate } from './scaledTemplate';

export interface NccOptions {
  /** Long side in px both images are resized to for the whole-image search (default 256). */
  searchLongSide?: number;
  /** Search patch side as a fraction of `searchLongSide` (default 1/8: 32 px at 256). */
  patchFraction?: number;
  /** Relative scales target/template tried by the search (default 0.8, 0.9, 1, 1.1, 1.25). */
  scales?: number[];
  /** Long side for the refinement (default 1024; never more than the target's own). */
  refineLongSide?: number;
  /** Refinement patch side as a fraction of the refinement long side (default 1/16: 64 px at 1024). */
  refinePatchFraction?: number;
  /** Half-width of the refinement window, in search pixels (default 3). */
  refineRadius?: number;
  /** Windows with a standard deviation below this (intensities in [0, 1]) never match (default 0.01). */
  minStd?: number;
  /** Shape consensus (see the header); default 'none'. */
  consensus?: 'none' | 'affine' | 'dense';
  /**
   * The search radius around the consensus prediction, as a fraction of the long side (as LD: 0.06
   * for affine, also its RANSAC threshold and minimum; 0.04 for dense). Default: by consensus.
   */
  consensusRadius?: number;
}

export const DEFAULT_NCC_OPTIONS: Required<NccOptions> = {
  searchLongSide: 256,
  patchFraction: 1 / 8,
  scales: [0.8, 0.9, 1, 1.1, 1.25],
  refineLongSide: 1024,
  refinePatchFraction: 1 / 16,
  refineRadius: 3,
  minStd: 0.01,
  consensus: 'none',
  consensusRadius: Number.NaN, // by consensus
};

export interface NccMatch extends PlacedPoint {
  /**
   * In [0, 1]: the refined NCC peak (clamped at 0) times the search's distinctiveness (how much better
   * the best window is than the best one elsewhere); 0 when the patch could not be matched at all.
   */
  confidence: number;
  /** The relative scale the search chose. */
  scale: number;
  /** NCC of the best search window, in [−1, 1]. */
  searchScore: number;
  /** NCC of the best search window elsewhere (half a search patch or more away, any scale); null if none. */
  runnerUpScore: number | null;
  /** NCC peak of the refinement, in [−1, 1]; null when it could not run (the search point is kept). */
  refineScore: number | null;
}

/** One scale's search result for one landmark, in search-resolution target pixels. */
interface Candidate {
  scale: number;
  score: number;
  point: Point;
  runnerUp: { score: number; point: Point } | null;
}

/** The best candidate over the scales, and the best score of a different place (≥ `distinct` px away). */
function bestCandidate(candidates: readonly Candidate[], distinct: number): { scale: number; score: number; point: Point; runnerUpScore: number | null } | null {
  if (candidates.length === 0) return null;
  const best = candidates.reduce((a, b) => (b.score > a.score ? b : a));
  const far = (p: Point) => Math.hypot(p.x - best.point.x, p.y - best.point.y) >= distinct;
  let runnerUpScore: number | null = null;
  for (const c of candidates) {
    // a scale's own peak is a rival if it lies elsewhere; otherwise its runner-up may be
    const rival = far(c.point) ? c.score : c.runnerUp && far(c.runnerUp.point) ? c.runnerUp.score : null;
    if (rival !== null && (runnerUpScore === null || rival > runnerUpScore)) runnerUpScore = rival;
  }
  return { scale: best.scale, score: best.score, point: best.point, runnerUpScore };
}

interface ScaledTemplate {
  scale: number;
  /** Search patches by landmark; null where the template has no point or the patch is flat. */
  patches: Array<Patch | null>;
}

function checkOptions(o: Required<NccOptions>): void {
  const positive = (v: number, name: string) => {
    if (!(Number.isFinite(v) && v > 0)) throw new Error(`NCC option ${name} must be a positive number, got ${v}`);
  };
  positive(o.searchLongSide, 'searchLongSide');
  positive(o.refineLongSide, 'refineLongSide');
  positive(o.patchFraction, 'patchFraction');
  positive(o.refinePatchFraction, 'refinePatchFraction');
  if (!(o.refineRadius >= 0)) throw new Error(`NCC option refineRadius must be ≥ 0, got ${o.refineRadius}`);
  if (!(o.minStd >= 0)) throw new Error(`NCC option minStd must be ≥ 0, got ${o.minStd}`);
  if (o.scales.length === 0) throw new Error('NCC option scales is empty');
  for (const s of o.scales) positive(s, 'scales');
}

/** A template prepared once (search patches at every scale), matched against any number of targets. */
export class NccMatcher {
  readonly options: Required<NccOptions>;
  private readonly searchPatchSize: number;
  /** The template at the search resolution and scale 1 (the dense consensus's grid). */
  private readonly searchTemplate: GreyImage;
  private readonly scaled: ScaledTemplate[];
  /** Template resized for refinement, by long side (lazily, as targets need them). */
  private readonly refineTemplates = new Map<number, GreyImage>();

  constructor(
    readonly template: GreyImage,
    readonly points: ReadonlyArray<Point | null>,
    options: NccOptions = {},
  ) {
    this.options = { ...DEFAULT_NCC_OPTIONS, ...options };
    checkOptions(this.options);
    const { searchLongSide, patchFraction, scales } = this.options;
    this.searchPatchSize = Math.max(3, Math.round(searchLongSide * patchFraction));
    const searchSize = sizeWithLongSide(template, searchLongSide);
    this.searchTemplate = resizeGrey(template, searchSize.width, searchSize.height);
    this.scaled = scales.map((scale) => {
      const size = sizeWithLongSide(template, searchLongSide * scale);
      const image = resizeGrey(template, size.width, size.height);
      const patches = points.map((p) => {
        const patch = p ? cutPatch(image, mapPoint(p, template, size), this.searchPatchSize) : null;
        return patch && patch.norm > 0 ? patch : null;
      });
      return { scale, patches };
    });
  }

  /** One match per template point (null where the template has none). */
  match(target: GreyImage): Array<NccMatch | null> {
    const { searchLongSide, refineLongSide, refinePatchFraction, refineRadius, minStd } = this.options;
    const searchSize = sizeWithLongSide(target, searchLongSide);
    const fallback = scaledTemplate(this.points, this.template, target);
    if (this.searchPatchSize > Math.min(searchSize.width, searchSize.height)) return fallback.map((p) => p && unmatched(p));

    const search = new NccSearch(resizeGrey(target, searchSize.width, searchSize.height), this.searchPatchSize, minStd);
    const candidates = this.points.map((): Candidate[] => []);
    for (const { scale, patches } of this.scaled) {
      const indices = patches.flatMap((p, i) => (p ? [i] : []));
      const peaks = search.search(indices.map((i) => patches[i]!));
      indices.forEach((landmark, k) => {
        const peak = peaks[k];
        if (!peak) return;
        const { offset } = patches[landmark]!;
        const at = (p: NccPeak) => ({ x: p.x + offset.x, y: p.y + offset.y });
        candidates[landmark].push({ scale, score: peak.score, point: at(peak), runnerUp: peak.runnerUp && { score: peak.runnerUp.score, point: at(peak.runnerUp) } });
      });
    }
    let found = candidates.map((c) => bestCandidate(c, this.searchPatchSize / 2));
    if (this.options.consensus !== 'none') found = this.withConsensus(search, searchSize, target, found) ?? found;

    const fineLongSide = Math.min(refineLongSide, Math.max(target.width, target.height));
    const fineSize = sizeWithLongSide(target, fineLongSide);
    const fineTarget = new WindowSums(resizeGrey(target, fineSize.width, fineSize.height));
    const finePatchSize = Math.max(3, Math.round(fineLongSide * refinePatchFraction));
    const fineRadius = Math.ceil((refineRadius * fineLongSide) / searchLongSide);

    return this.points.map((templatePoint, landmark) => {
      if (!templatePoint) return null;
      if (!found[landmark]) return unmatched(fallback[landmark]!);
      const { scale, score, point, runnerUpScore } = found[landmark]!;
      const coarse = mapPoint(point, searchSize, fineSize);
      const distinct = distinctiveness(score, runnerUpScore);
      const result: NccMatch = { ...mapPoint(point, searchSize, target), confidence: clamp01(score) * distinct, scale, searchScore: score, runnerUpScore, refineScore: null };
      const fineTemplate = this.refineTemplate(fineLongSide * scale);
      const patch = cutPatch(fineTemplate, mapPoint(templatePoint, this.template, fineTemplate), finePatchSize);
      if (!patch || !(patch.norm > 0)) return result;
      const peak = refinePeak(fineTarget, patch, { x: coarse.x - patch.offset.x, y: coarse.y - patch.offset.y }, fineRadius, minStd);
      if (!peak) return result;
      const refined = mapPoint({ x: peak.x + patch.offset.x, y: peak.y + patch.offset.y }, fineSize, target);
      return { ...result, ...refined, confidence: clamp01(peak.score) * distinct, refineScore: peak.score };
    });
  }

  /**
   * The affine consensus over every landmark's best windows (see the header), or null when too few
   * landmarks agree (then each keeps its own best window, as without consensus).
   */
  private withConsensus(search: NccSearch, searchSize: Size, target: GreyImage, found: ReturnType<typeof bestCandidate>[]): ReturnType<typeof bestCandidate>[] | null {
    const { width: mw, height: mh } = search.mapSize;
    const half = this.searchPatchSize / 2;
    // per landmark, the best score over the scales at every window, and which scale gave it
    const best = this.points.map(() => null as null | { map: Float32Array; scale: Float32Array; offset: Point });
    for (const { scale, patches } of this.scaled) {
      const indices = patches.flatMap((p, i) => (p ? [i] : []));
      const maps = search.scoreMaps(indices.map((i) => patches[i]!));
      indices.forEach((landmark, k) => {
        const map = maps[k];
        if (!map) return;
        const entry = (best[landmark] ??= { map: new Float32Array(map.length).fill(-Infinity), scale: new Float32Array(map.length), offset: patches[landmark]!.offset });
        for (let i = 0; i < map.length; i++) {
          if (map[i] > entry.map[i]) {
            entry.map[i] = map[i];
            entry.scale[i] = scale;
          }
        }
      });
    }
    const unit = (p: Point, size: Size) => ({ x: (p.x + 0.5) / size.width, y: (p.y + 0.5) / size.height });
    const minDistance = Math.max(1, Math.round(half));
    const used = this.points.flatMap((p, i) => (p && best[i] ? [i] : []));
    if (used.length < (this.options.consensus === 'dense' ? 1 : 4)) return null;
    const peaks = used.map((i) => topPeaks(best[i]!.map, mw, mh, 3, minDistance));
    let predict: (p: Point) => Point;
    let radius: number;
    const long = Math.max(searchSize.width, searchSize.height);
    if (this.options.consensus === 'dense') {
      const dc = consensusFromMatches(this.denseMatches(search, resizeGrey(target, searchSize.width, searchSize.height)));
      if (!dc) return null;
      predict = (p) => predictDense(dc, p);
      radius = (Number.isFinite(this.options.consensusRadius) ? this.options.consensusRadius : 0.04) * long;
    } else {
      const src = used.map((i) => unit(this.points[i]!, this.template));
      const candidates = used.map((i, k) => peaks[k].map((p) => ({ p: unit({ x: p.x + best[i]!.offset.x, y: p.y + best[i]!.offset.y }, searchSize), w: Math.max(1e-3, p.score) })));
      const minRadius = Number.isFinite(this.options.consensusRadius) ? this.options.consensusRadius : 0.06;
      const fit = ransacAffine(src, candidates, minRadius, { hypotheses: [IDENTITY] });
      if (!fit || fit.inliers.filter(Boolean).length < Math.max(3, Math.ceil(used.length / 3))) return null;
      const affine: Affine = fit.affine;
      predict = (p) => applyAffine(affine, p);
      radius = Math.max(minRadius, 2.5 * fit.rms) * long;
    }
    return found.map((f, landmark) => {
      const entry = best[landmark];
      const p = this.points[landmark];
      if (!entry || !p) return f;
      const u = predict(unit(p, this.template));
      // predicted landmark → the top-left of its window
      const cx = u.x * searchSize.width - 0.5 - entry.offset.x;
      const cy = u.y * searchSize.height - 0.5 - entry.offset.y;
      let k = -1;
      for (let y = Math.max(0, Math.floor(cy - radius)); y <= Math.min(mh - 1, Math.ceil(cy + radius)); y++) {
        for (let x = Math.max(0, Math.floor(cx - radius)); x <= Math.min(mw - 1, Math.ceil(cx + radius)); x++) {
          if ((x - cx) ** 2 + (y - cy) ** 2 > radius * radius) continue;
          const i = y * mw + x;
          if (k < 0 || entry.map[i] > entry.map[k]) k = i;
        }
      }
      if (k < 0 || !(entry.map[k] > -Infinity)) return f;
      const x = k % mw;
      const y = (k - x) / mw;
      const point = { x: x + entry.offset.x, y: y + entry.offset.y };
      // the runner-up: the best window elsewhere (at least half a patch away), over all scales
      let runnerUpScore: number | null = null;
      for (const q of peaks[used.indexOf(landmark)] ?? []) {
        if (Math.hypot(q.x - x, q.y - y) >= half && (runnerUpScore === null || q.score > runnerUpScore)) runnerUpScore = q.score;
      }
      return { scale: entry.scale[k], score: entry.map[k], point, runnerUpScore };
    });
  }

  /**
   * Mutual matches of a grid of template patches (every half patch, at scale 1) over the whole target,
   * in normalised coordinates: the target window's own best match in the template must land within a
   * quarter patch of the grid point.
   */
  private denseMatches(search: NccSearch, targetSearch: GreyImage): Match[] {
    const p = this.searchPatchSize;
    const stride = Math.max(1, Math.round(p / 2));
    const tpl = this.searchTemplate;
    const grid: Point[] = [];
    for (let y = p / 2; y <= tpl.height - p / 2; y += stride) for (let x = p / 2; x <= tpl.width - p / 2; x += stride) grid.push({ x, y });
    const patches = grid.map((g) => cutPatch(tpl, g, p));
    const usable = grid.flatMap((g, i) => (patches[i] && patches[i]!.norm > 0 ? [i] : []));
    const forward = search.search(usable.map((i) => patches[i]!));
    const back = new NccSearch(tpl, p, this.options.minStd);
    const hits = usable.flatMap((i, k) => (forward[k] ? [{ i, at: { x: forward[k]!.x + patches[i]!.offset.x, y: forward[k]!.y + patches[i]!.offset.y }, score: forward[k]!.score }] : []));
    const reverse = hits.map((h) => cutPatch(targetSearch, h.at, p));
    const ok = hits.flatMap((h, k) => (reverse[k] && reverse[k]!.norm > 0 ? [k] : []));
    const backPeaks = back.search(ok.map((k) => reverse[k]!));
    const unit = (q: Point, size: Size) => ({ x: (q.x + 0.5) / size.width, y: (q.y + 0.5) / size.height });
    return ok.flatMap((k, j) => {
      const b = backPeaks[j];
      const h = hits[k];
      if (!b) return [];
      const bp = { x: b.x + reverse[k]!.offset.x, y: b.y + reverse[k]!.offset.y };
      if (Math.max(Math.abs(bp.x - grid[h.i].x), Math.abs(bp.y - grid[h.i].y)) > p / 4) return [];
      return [{ src: unit(grid[h.i], tpl), dst: unit(h.at, targetSearch), score: h.score }];
    });
  }

  private refineTemplate(longSide: number): GreyImage {
    const key = Math.round(longSide);
    let image = this.refineTemplates.get(key);
    if (!image) {
      const size: Size = sizeWithLongSide(this.template, key);
      image = resizeGrey(this.template, size.width, size.height);
      if (this.refineTemplates.size >= 4 * this.options.scales.length) this.refineTemplates.clear(); // targets of many sizes
      this.refineTemplates.set(key, image);
    }
    return image;
  }
}

const clamp01 = (v: number) => Math.min(1, Math.max(0, v));

/**
 * How far the best search window stands out from the best one elsewhere: the share of the gap between
 * the runner-up and a perfect match (NCC 1) that the best closes, in [0, 1]. Repeated structures (the
 * joints of neighbouring fingers) give a runner-up almost as good, hence a low value; on the hand set
 * this, not the NCC peak itself, is what ranks the errors.
 */
function distinctiveness(score: number, runnerUp: number | null): number {
  if (runnerUp === null) return 1;
  return runnerUp >= 1 ? 0 : clamp01((score - runnerUp) / (1 - runnerUp));
}

/** The scaled-template position, with no confidence, for a landmark the search could not match. */
function unmatched(p: Point): NccMatch {
  return { x: p.x, y: p.y, confidence: 0, scale: 1, searchScore: 0, runnerUpScore: null, refineScore: null };
}

/** Convenience for a single target; use NccMatcher to reuse the template for several. */
export function matchLandmarksNcc(template: GreyImage, templatePoints: ReadonlyArray<Point | null>, target: GreyImage, options?: NccOptions): Array<NccMatch | null> {
  return new NccMatcher(template, templatePoints, options).match(target);
}
