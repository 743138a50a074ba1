/**
 * 2-D affine fits for the shape-consensus step: least squares and a deterministic RANSAC.
 * An affine A maps (x, y) → (a0·x + a1·y + a2, a3·x + a4·y + a5).
 */
import type { Point } from './types';
import { mulberry32 } from '../rng';

export type Affine = [number, number, number, number, number, number];

export const applyAffine = (a: Affine, p: Point): Point => ({ x: a[0] * p.x + a[1] * p.y + a[2], y: a[3] * p.x + a[4] * p.y + a[5] });

/** Solve a 3×3 system by Cramer's rule; null when singular. */
function solve3(m: number[][], b: number[]): number[] | null {
  const det = (q: number[][]) => q[0][0] * (q[1][1] * q[2][2] - q[1][2] * q[2][1]) - q[0][1] * (q[1][0] * q[2][2] - q[1][2] * q[2][0]) + q[0][2] * (q[1][0] * q[2][1] - q[1][1] * q[2][0]);
  const d = det(m);
  if (Math.abs(d) < 1e-12) return null;
  return [0, 1, 2].map((col) => det(m.map((row, i) => row.map((v, j) => (j === col ? b[i] : v)))) / d);
}

/** Least-squares affine from ≥ 3 correspondences (weights optional); null when degenerate. */
export function fitAffine(src: Point[], dst: Point[], weights?: number[]): Affine | null {
  if (src.length < 3 || src.length !== dst.length) return null;
  const ata = [
    [0, 0, 0],
    [0, 0, 0],
    [0, 0, 0],
  ];
  const atx = [0, 0, 0];
  const aty = [0, 0, 0];
  src.forEach((p, i) => {
    const w = weights?.[i] ?? 1;
    const row = [p.x, p.y, 1];
    for (let r = 0; r < 3; r++) {
      for (let c = 0; c < 3; c++) ata[r][c] += w * row[r] * row[c];
      atx[r] += w * row[r] * dst[i].x;
      aty[r] += w * row[r] * dst[i].y;
    }
  });
  const px = solve3(ata, atx);
  const py = solve3(ata, aty);
  if (!px || !py) return null;
  return [px[0], px[1], px[2], py[0], py[1], py[2]];
}


export interface Candidate {
  p: Point;
  /** Vote weight (e.g. the match's similarity). */
  w: number;
}

export interface RansacResult {
  affine: Affine;
  /** For each correspondence: the index of its inlier candidate, or −1. */
  chosen: number[];
  inliers: boolean[];
  /** RMS residual of the inliers under the final fit. */
  rms: number;
}

export const IDENTITY: Affine = [1, 0, 0, 0, 1, 0];

/**
 * RANSAC over minimal 3-point samples where each source point has several candidate matches (e.g. a
 * landmark's top similarity peaks: the right one is often the second). A source point is an inlier
 * when one of its candidates lies within `threshold` of where the fit maps it (its best-weighted such
 * candidate votes). `hypotheses` are also scored (e.g. the identity: "the anatomy sits where it sits in
 * the template"). The winner is refitted on its inliers.
 */
export function ransacAffine(src: Point[], candidates: Candidate[][], threshold: number, opts: { iterations?: number; seed?: number; hypotheses?: Affine[] } = {}): RansacResult | null {
  const n = src.length;
  if (n < 3) return null;
  const rand = mulberry32(opts.seed ?? 1);
  const evaluate = (a: Affine) => {
    let weight = 0;
    const chosen = src.map((p, i) => {
      const q = applyAffine(a, p);
      let best = -1;
      candidates[i].forEach((c, k) => {
        if (Math.hypot(q.x - c.p.x, q.y - c.p.y) <= threshold && (best < 0 || c.w > candidates[i][best].w)) best = k;
      });
      if (best >= 0) weight += candidates[i][best].w;
      return best;
    });
    return { chosen, weight };
  };
  let best: { chosen: number[]; weight: number } | null = null;
  const consider = (a: Affine | null) => {
    if (!a) return;
    const e = evaluate(a);
    if (!best || e.weight > best.weight) best = e;
  };
  for (const h of opts.hypotheses ?? []) consider(h);
  const pick = (i: number) => {
    const list = candidates[i];
    // the top candidate half of the time, otherwise any
    return list[rand() < 0.5 ? 0 : Math.floor(rand() * list.length)];
  };
  for (let it = 0; it < (opts.iterations ?? 500); it++) {
    const i = Math.floor(rand() * n);
    const j = Math.floor(rand() * n);
    const k = Math.floor(rand() * n);
    if (i === j || j === k || i === k || !candidates[i].length || !candidates[j].length || !candidates[k].length) continue;
    const [ci, cj, ck] = [pick(i), pick(j), pick(k)];
    consider(fitAffine([src[i], src[j], src[k]], [ci.p, cj.p, ck.p]));
  }
  if (!best) return null;
  const refit = (chosen: number[]) => {
    const keep = chosen.map((c, i) => (c >= 0 ? i : -1)).filter((i) => i >= 0);
    return keep.length >= 3 ? fitAffine(keep.map((i) => src[i]), keep.map((i) => candidates[i][chosen[i]].p), keep.map((i) => candidates[i][chosen[i]].w)) : null;
  };
  const winner: { chosen: number[]; weight: number } = best;
  const affine = refit(winner.chosen);
  if (!affine) return null;
  const final = evaluate(affine);
  const chosen = final.chosen.some((c) => c >= 0) ? final.chosen : winner.chosen;
  const sq = chosen.flatMap((c, i) => {
    if (c < 0) return [];
    const q = applyAffine(affine, src[i]);
    return [(q.x - candidates[i][c].p.x) ** 2 + (q.y - candidates[i][c].p.y) ** 2];
  });
  return { affine, chosen, inliers: chosen.map((c) => c >= 0), rms: Math.sqrt(sq.reduce((s, v) => s + v, 0) / Math.max(1, sq.length)) };
}
