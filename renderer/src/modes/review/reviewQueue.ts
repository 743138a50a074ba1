/**
 * The review queue's order, held still while the user works: correcting a point must not move the
 * image list or the point list under the cursor. The order is taken when a propagation ends, when the
 * user asks to re-sort, and for the point list when an image is opened; between those, items keep
 * their places (new images go to the end, removed ones drop out).
 */
import type { ImageLandmarks, LandmarkPoint } from '../../../../common/api';

/** A corrected point is certain; a point without a score is the least certain. */
export const pointConfidence = (p: Pick<LandmarkPoint, 'status' | 'confidence'>): number => (p.status === 'corrected' ? 1 : p.confidence ?? 0);

export interface QueueEntry {
  imageId: string;
  accepted: boolean;
  /** Lowest confidence of the image's points (1 when every point is corrected). */
  minConfidence: number;
}

/** What the queue reads of an image's landmarks (the app's ImageLandmarks, or a benchmark's simulation of them). */
export type QueueInput = Pick<ImageLandmarks, 'imageId' | 'accepted'> & { points: ReadonlyArray<Pick<LandmarkPoint, 'status' | 'confidence'>> };

export function queueEntries(results: Iterable<QueueInput>, templateImageId: string | undefined): QueueEntry[] {
  return [...results]
    .filter((l) => l.imageId !== templateImageId)
    .map((l) => ({ imageId: l.imageId, accepted: l.accepted, minConfidence: Math.min(1, ...l.points.map(pointConfidence)) }));
}

/** Images to review: open ones least confident first, accepted ones at the end. */
export function sortedImageIds(entries: readonly QueueEntry[]): string[] {
  return [...entries]
    .sort((a, b) => Number(a.accepted) - Number(b.accepted) || a.minConfidence - b.minConfidence || a.imageId.localeCompare(b.imageId))
    .map((e) => e.imageId);
}

/** `previous` with the ids that are gone removed and the new ones appended in `sorted` order. */
export function keepOrder(previous: readonly string[], sorted: readonly string[]): string[] {
  const present = new Set(sorted);
  const kept = previous.filter((id) => present.has(id));
  const known = new Set(kept);
  return [...kept, ...sorted.filter((id) => !known.has(id))];
}

/** Point names least confident first, corrected ones last (ties keep the scheme's order). */
export function sortedPointNames(points: ReadonlyArray<Pick<LandmarkPoint, 'name' | 'status' | 'confidence'>>): string[] {
  return points
    .map((p, i) => ({ name: p.name, c: pointConfidence(p), i }))
    .sort((a, b) => a.c - b.c || a.i - b.i)
    .map((p) => p.name);
}

export interface PointRef {
  imageId: string;
  name: string;
}

/**
 * The next point under `threshold` that still needs a look (not corrected, on an image not
 * accepted), after `from`, walking the images in `order` (wrapping) and each image's points least
 * confident first. Undefined when there is none.
 */
export function nextLowConfidence(
  order: readonly string[],
  results: ReadonlyMap<string, ImageLandmarks>,
  from: PointRef | null,
  threshold: number,
): PointRef | undefined {
  const candidates: PointRef[] = [];
  for (const imageId of order) {
    const l = results.get(imageId);
    if (!l || l.accepted) continue;
    const byName = new Map(l.points.map((p) => [p.name, p]));
    for (const name of sortedPointNames(l.points)) {
      const p = byName.get(name)!;
      if (p.status !== 'corrected' && pointConfidence(p) < threshold) candidates.push({ imageId, name });
    }
  }
  if (!candidates.length) return undefined;
  if (!from) return candidates[0];
  const at = candidates.findIndex((c) => c.imageId === from.imageId && c.name === from.name);
  if (at >= 0) return candidates.length > 1 ? candidates[(at + 1) % candidates.length] : undefined;
  // `from` is not a candidate itself: the first candidate on its image or after it
  const imageAt = order.indexOf(from.imageId);
  const rank = (c: PointRef) => (order.indexOf(c.imageId) - imageAt + order.length) % order.length;
  return [...candidates].sort((a, b) => rank(a) - rank(b))[0];
}
