/**
 * Dense shape consensus: where the anatomy of the template lies in the target, estimated from the
 * whole image rather than from the landmarks alone. Every `stride`-th pixel of the template's coarse
 * map is matched to its most similar target pixel; a match is kept when it is mutual (the target
 * pixel's best match lands back next to the grid point — FM-OSD's bidirectional check). RANSAC fits an
 * affine map to the kept matches (the identity is a hypothesis too), and each landmark's prediction is
 * that map plus the distance-weighted mean residual of the inlier matches around it, which follows
 * local deformation (a bent spine, spread fingers) that one affine cannot.
 *
 * Why: landmarks on repeated structures (vertebrae, finger joints) have look-alikes one structure
 * away, and a consensus of the landmarks alone can settle on a shifted solution; the matches of the
 * whole image (ends of the spine, pelvis, wrist, image borders) anchor it.
 * Coordinates are normalised ([0, 1] per axis) in both images.
 */
import { applyAffine, IDENTITY, ransacAffine, type Affine } from './affine';
import type { CoarseMap } from './features';
import type { Point } from './types';

export interface DenseConsensusOptions {
  /** Grid step on the template's coarse map, px (default 2). */
  stride?: number;
  /** RANSAC inlier threshold, normalised units (default 0.03). */
  threshold?: number;
  /** Residuals of matches within this of the affine count for the local correction (default 0.08). */
  localThreshold?: number;
  /** σ of the distance weights of the local correction, normalised units (default 0.12). */
  localSigma?: number;
}

export interface Match {
  src: Point;
  dst: Point;
  score: number;
}

export interface DenseConsensus {
  affine: Affine;
  /** Matches within `localThreshold` of the affine (they shape the local correction). */
  inliers: Match[];
  matches: number;
}

const unitOf = (x: number, y: number, m: CoarseMap): Point => ({ x: (x + 0.5) / m.width, y: (y + 0.5) / m.height });

function bestPixel(map: CoarseMap, q: Float32Array, qOffset: number): { index: number; score: number } {
  const c = map.channels;
  const n = map.width * map.height;
  const d = map.data;
  let best = -1;
  let score = -Infinity;
  for (let i = 0; i < n; i++) {
    let s = 0;
    const o = i * c;
    for (let k = 0; k < c; k++) s += d[o + k] * q[qOffset + k];
    if (s > score) {
      score = s;
      best = i;
    }
  }
  return { index: best, score };
}

/** Mutual nearest-neighbour matches of the template grid in the target (normalised coordinates). */
export function mutualMatches(template: CoarseMap, target: CoarseMap, stride = 2): Match[] {
  const out: Match[] = [];
  const c = template.channels;
  const off = Math.floor(stride / 2);
  for (let y = off; y < template.height; y += stride) {
    for (let x = off; x < template.width; x += stride) {
      const fwd = bestPixel(target, template.data, (y * template.width + x) * c);
      if (fwd.index < 0) continue;
      const back = bestPixel(template, target.data, fwd.index * c);
      const bx = back.index % template.width;
      const by = Math.floor(back.index / template.width);
      if (Math.max(Math.abs(bx - x), Math.abs(by - y)) > 1) continue;
      const tx = fwd.index % target.width;
      const ty = Math.floor(fwd.index / target.width);
      out.push({ src: unitOf(x, y, template), dst: unitOf(tx, ty, target), score: fwd.score });
    }
  }
  return out;
}

export function denseConsensus(template: CoarseMap, target: CoarseMap, opts: DenseConsensusOptions = {}): DenseConsensus | null {
  return consensusFromMatches(mutualMatches(template, target, opts.stride ?? 2), opts);
}

/** RANSAC affine and local residuals from mutual matches, whatever found them (LD features or NCC patches). */
export function consensusFromMatches(matches: Match[], opts: DenseConsensusOptions = {}): DenseConsensus | null {
  if (matches.length < 6) return null;
  const threshold = opts.threshold ?? 0.03;
  const fit = ransacAffine(
    matches.map((m) => m.src),
    matches.map((m) => [{ p: m.dst, w: Math.max(1e-3, m.score) }]),
    threshold,
    { hypotheses: [IDENTITY], iterations: 1000 },
  );
  if (!fit || fit.inliers.filter(Boolean).length < Math.max(6, Math.ceil(matches.length / 10))) return null;
  const local = opts.localThreshold ?? 0.08;
  const inliers = matches.filter((m) => {
    const q = applyAffine(fit.affine, m.src);
    return Math.hypot(q.x - m.dst.x, q.y - m.dst.y) <= local;
  });
  return { affine: fit.affine, inliers, matches: matches.length };
}

/** Where the consensus puts a template point (normalised): the affine plus the local mean residual. */
export function predictDense(c: DenseConsensus, p: Point, sigma = 0.12): Point {
  const a = applyAffine(c.affine, p);
  let sw = 0;
  let rx = 0;
  let ry = 0;
  for (const m of c.inliers) {
    const d2 = (m.src.x - p.x) ** 2 + (m.src.y - p.y) ** 2;
    const w = Math.max(1e-3, m.score) * Math.exp(-d2 / (2 * sigma * sigma));
    const q = applyAffine(c.affine, m.src);
    rx += w * (m.dst.x - q.x);
    ry += w * (m.dst.y - q.y);
    sw += w;
  }
  // with little support nearby the correction fades towards the affine (a prior weight of 1 match)
  const prior = 0.5;
  return { x: a.x + rx / (sw + prior), y: a.y + ry / (sw + prior) };
}
