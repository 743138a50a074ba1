/**
 * Optional last step of propagation: normalised cross-correlation of the template's patch around its
 * point, within a small window around the estimate, on regions cut like a cascade level at (about)
 * the original resolution — both images sampled to the same relative scale, so the patch needs no
 * scale search. The benchmark's "NCC + shape consensus" control shows what the learned levels add
 * before it.
 */
import { cutPatch, refinePeak, WindowSums } from './baselines/ncc';
import type { GreyImage } from './baselines/greyImage';
import { levelSampling, type CascadeLevel } from './cascade';
import { fromRegion, sampleRegion, toRegion } from './regions';
import type { Point } from './types';

export interface NccRefineSettings {
  /** Side of the global level's square input, as in CascadeSettings. */
  baseSize: number;
  /** Where the patches are cut: magnification and region side (network pixels of that level). */
  level: CascadeLevel;
  /** Patch side in the level's pixels (odd). */
  patch: number;
  /** Windows with a standard deviation below this never match. */
  minStd?: number;
}

export interface NccRefined {
  point: Point;
  score: number;
}

/** The template side, cut once: one patch per landmark. */
export function templatePatches(template: GreyImage, points: Array<Point | null>, s: NccRefineSettings) {
  return points.map((p) => {
    if (!p) return null;
    const sampling = levelSampling(p, template, s.baseSize, s.level);
    const grey = { width: sampling.width, height: sampling.height, data: sampleRegion(template, sampling) };
    const patch = cutPatch(grey, toRegion(p, sampling), s.patch);
    return patch && patch.norm > 0 ? patch : null;
  });
}

export function nccRefine(
  target: GreyImage,
  estimate: Point,
  patch: NonNullable<ReturnType<typeof templatePatches>[number]>,
  s: NccRefineSettings,
  scale: { x: number; y: number } = { x: 1, y: 1 },
): NccRefined | null {
  const sampling = levelSampling(estimate, target, s.baseSize, s.level, scale);
  const grey = { width: sampling.width, height: sampling.height, data: sampleRegion(target, sampling) };
  const at = toRegion(estimate, sampling);
  const peak = refinePeak(new WindowSums(grey), patch, { x: at.x - patch.offset.x, y: at.y - patch.offset.y }, Math.max(1, Math.round(s.level.radius)), s.minStd ?? 0.01);
  if (!peak) return null;
  return { point: fromRegion({ x: peak.x + patch.offset.x, y: peak.y + patch.offset.y }, sampling), score: peak.score };
}
