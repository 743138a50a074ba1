/**
 * 2-D affine fits for the shape-consensus step: least squares and a deterministic RANSAC.
 * An affine A maps (x, y) → (a0·x + a1·y + a2, a3·x + a4·y + a5).
 */
import type { Point } from './types';

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

/** A small deterministic PRNG (mulberry32) so that propagation is reproducible. */
function mulberry32(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface RansacResult {
  affine: Affine;
  inliers: boolean[];
  /** RMS residual of the inliers under the final fit. */
  rms: number;
}

/**
 * RANSAC over minimal 3-point samples; a correspondence is an inlier when the fit maps it within
 * `threshold`; the model with the largest inlier weight wins and is refitted on its inliers.
 */
export function ransacAffine(src: Point[], dst: Point[], weights: number[], threshold: number, iterations = 500, seed = 1): RansacResult | null {
  const n = src.length;
  if (n < 3) return null;
  const rand = mulberry32(seed);
  let best: { inliers: boolean[]; weight: number } | null = null;
  const evaluate = (a: Affine) => {
    const inliers = src.map((p, i) => {
      const q = applyAffine(a, p);
      return Math.hypot(q.x - dst[i].x, q.y - dst[i].y) <= threshold;
    });
    const weight = inliers.reduce((s, ok, i) => s + (ok ? weights[i] : 0), 0);
    return { inliers, weight };
  };
  for (let it = 0; it < iterations; it++) {
    const i = Math.floor(rand() * n);
    const j = Math.floor(rand() * n);
    const k = Math.floor(rand() * n);
    if (i === j || j === k || i === k) continue;
    const a = fitAffine([src[i], src[j], src[k]], [dst[i], dst[j], dst[k]]);
    if (!a) continue;
    const e = evaluate(a);
    if (!best || e.weight > best.weight) best = e;
  }
  if (!best) return null;
  const keep = best.inliers.map((ok, i) => (ok ? i : -1)).filter((i) => i >= 0);
  const affine = fitAffine(keep.map((i) => src[i]), keep.map((i) => dst[i]), keep.map((i) => weights[i]));
  if (!affine) return null;
  const final = evaluate(affine);
  const residuals = src.map((p, i) => {
    const q = applyAffine(affine, p);
    return Math.hypot(q.x - dst[i].x, q.y - dst[i].y);
  });
  const used = final.inliers.some(Boolean) ? final.inliers : best.inliers;
  const sq = residuals.filter((_, i) => used[i]).map((r) => r * r);
  return { affine, inliers: used, rms: Math.sqrt(sq.reduce((s, v) => s + v, 0) / Math.max(1, sq.length)) };
}
