/**
 * Several templates' answers for one landmark fused into one (multi-atlas fusion).
 *
 * One template's answer carries that template's own errors: how its anatomy differs from the target's,
 * where its point sits on a blurred edge. Answers from several templates err differently, and a robust
 * centre of them cancels part of it. The weighted geometric median (Weiszfeld) is that centre: one
 * template that lands on a look-alike (the next vertebra) moves it by little, unlike a mean, and it
 * treats x and y together, unlike a per-axis median. The votes' spread around it says how much the
 * templates agree, which is a confidence cue of its own.
 */
import type { Point } from './types';

export interface Vote {
  point: Point;
  weight: number;
}

export interface FusedPoint {
  point: Point;
  /** Weighted median distance of the votes from `point` (the votes' units). */
  spread: number;
}

/**
 * Weighted geometric median: a vote is the answer when its weight outweighs the pull of all the
 * others (the optimality condition at a vote, where the iteration below converges slowly);
 * otherwise Weiszfeld's iteration from the weighted mean.
 */
export function geometricMedian(votes: readonly Vote[], iterations = 100, tolerance = 1e-6): Point {
  const used = votes.filter((v) => v.weight > 0 && Number.isFinite(v.point.x) && Number.isFinite(v.point.y));
  if (!used.length) throw new Error('geometric median of no votes');
  for (const v of used) {
    let px = 0;
    let py = 0;
    let own = 0;
    for (const u of used) {
      const d = Math.hypot(u.point.x - v.point.x, u.point.y - v.point.y);
      if (d < 1e-12) own += u.weight;
      else {
        px += (u.weight * (u.point.x - v.point.x)) / d;
        py += (u.weight * (u.point.y - v.point.y)) / d;
      }
    }
    // strictly: with two equal votes every point between them is optimal, and the midpoint (below) is fair to both
    if (Math.hypot(px, py) < own - 1e-12) return { x: v.point.x, y: v.point.y };
  }
  const total = used.reduce((s, v) => s + v.weight, 0);
  let x = used.reduce((s, v) => s + v.weight * v.point.x, 0) / total;
  let y = used.reduce((s, v) => s + v.weight * v.point.y, 0) / total;
  for (let it = 0; it < iterations; it++) {
    let wx = 0;
    let wy = 0;
    let w = 0;
    for (const v of used) {
      const d = Math.max(1e-12, Math.hypot(v.point.x - x, v.point.y - y));
      wx += (v.weight * v.point.x) / d;
      wy += (v.weight * v.point.y) / d;
      w += v.weight / d;
    }
    const moved = Math.hypot(wx / w - x, wy / w - y);
    x = wx / w;
    y = wy / w;
    if (moved < tolerance) break;
  }
  return { x, y };
}

/** Weighted median of values. */
function weightedMedian(values: Array<{ value: number; weight: number }>): number {
  const sorted = values.filter((v) => v.weight > 0).sort((a, b) => a.value - b.value);
  const half = sorted.reduce((s, v) => s + v.weight, 0) / 2;
  let acc = 0;
  for (const v of sorted) {
    acc += v.weight;
    if (acc >= half) return v.value;
  }
  return sorted.length ? sorted[sorted.length - 1].value : NaN;
}

/** The fused point of one landmark, or null when no template voted. */
export function fuseVotes(votes: readonly Vote[]): FusedPoint | null {
  const used = votes.filter((v) => v.weight > 0 && Number.isFinite(v.point.x) && Number.isFinite(v.point.y));
  if (!used.length) return null;
  const point = geometricMedian(used);
  const spread = weightedMedian(used.map((v) => ({ value: Math.hypot(v.point.x - point.x, v.point.y - point.y), weight: v.weight })));
  return { point, spread };
}

/**
 * The images whose propagated points are most trusted (highest mean confidence over their placed
 * points), best first: they serve as extra templates. Images with no score are never chosen.
 */
export function choosePseudoTemplates(meanConfidence: ReadonlyArray<number | null>, count: number): number[] {
  return meanConfidence
    .map((c, i) => ({ c, i }))
    .filter((e): e is { c: number; i: number } => e.c !== null && Number.isFinite(e.c))
    .sort((a, b) => b.c - a.c || a.i - b.i)
    .slice(0, Math.max(0, count))
    .map((e) => e.i);
}

/**
 * One image's landmarks fused over its template's answer (`own`, weighted `templateWeight`) and other
 * templates' answers (weight 1 each), landmark by landmark. The votes are fused in a frame scaled by
 * `scale` per axis (network pixels, say), where a unit means the same along x and y; the spread is in
 * that frame too. A landmark the template did not answer stays unanswered.
 */
export function fuseAnswers(
  own: ReadonlyArray<Point | null>,
  others: ReadonlyArray<ReadonlyArray<Point | null>>,
  templateWeight: number,
  scale: { x: number; y: number } = { x: 1, y: 1 },
): Array<FusedPoint | null> {
  return own.map((p, k) => {
    if (!p) return null;
    const votes: Vote[] = [{ point: { x: p.x * scale.x, y: p.y * scale.y }, weight: templateWeight }];
    for (const answer of others) {
      const q = answer[k];
      if (q) votes.push({ point: { x: q.x * scale.x, y: q.y * scale.y }, weight: 1 });
    }
    const fused = fuseVotes(votes);
    return fused && { point: { x: fused.point.x / scale.x, y: fused.point.y / scale.y }, spread: fused.spread };
  });
}
