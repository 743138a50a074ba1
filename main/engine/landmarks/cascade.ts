/**
 * The fine levels of one-shot propagation: after the global search (propagate.ts) has put every
 * landmark near its place, each level cuts a region around the current estimate in the target and
 * around the template point in the template, at `magnification`× the global map's resolution, embeds
 * both with the same fully convolutional network, and moves the estimate to the best match of the
 * template point's centre-sensitive embedding within `radius` network pixels (sub-pixel peak).
 *
 * Why: the global map of a 2000-px radiograph has ~10 original pixels per network pixel, which is the
 * error floor of a single-scale search; each level divides it by its magnification. Regions are taken
 * at the same relative scale in both images (the square-fit frame of the global level), optionally
 * corrected by the local scale of the global level's affine consensus, so the anatomy has the same
 * size in pixels on both sides — the scale the network was trained on when its crops spanned it.
 *
 * The network is reached only through a `RegionEmbedder` (the job layer runs ONNX Runtime), so this
 * module is arrays in, arrays out.
 */
import { centreEmbeddingAt, type FullResolutionMap } from './features';
import { fromRegion, regionAround, toRegion, wholeImage, type RegionSampling } from './regions';
import { refinePeak } from './search';
import type { Point } from './types';

export interface CascadeLevel {
  /** Network pixels per network pixel of the global level (> 1). */
  magnification: number;
  /** Side of the network input cut around each landmark, px (a multiple of 16). */
  inputSize: number;
  /** Search half-width in this level's network pixels. */
  radius: number;
}

export interface CascadeSettings {
  /** Side of the global level's (square) network input: level magnifications are relative to it. */
  baseSize: number;
  levels: CascadeLevel[];
  /** Centre-sensitive σ in network pixels (the same at every level: the network's own scale). */
  sigma: number;
  /**
   * A level whose whole image is at most this many pixels on its long side is embedded whole (one
   * network run for every landmark, and the same framing in both images); larger levels cut one
   * region per landmark (default 640).
   */
  wholeUpTo?: number;
  /** Searches per level, each re-centred on the last (default 2): regions framed around a wrong estimate pull towards it. */
  iterations?: number;
}

const DEFAULT_WHOLE_UP_TO = 640;
const roundTo16 = (v: number) => Math.max(16, Math.round(v / 16) * 16);

/** The whole image at a level's magnification (square fit, per-axis anatomy scale), or null when too large. */
function wholeLevelSampling(image: ImageSize, s: CascadeSettings, level: CascadeLevel, scale: { x: number; y: number } = { x: 1, y: 1 }): RegionSampling | null {
  const width = roundTo16((s.baseSize * level.magnification) / scale.x);
  const height = roundTo16((s.baseSize * level.magnification) / scale.y);
  if (Math.max(width, height) > (s.wholeUpTo ?? DEFAULT_WHOLE_UP_TO)) return null;
  return { region: wholeImage(image), width, height };
}

/** Embeds regions of one image: z (unit norm per pixel) at each sampling's network size. */
export type RegionEmbedder = (samplings: RegionSampling[]) => Promise<FullResolutionMap[]>;

export interface ImageSize {
  width: number;
  height: number;
}

/** Levels for a given final resolution: magnifications 2, 4, … until a network pixel is about `finest` original pixels. */
export function cascadeLevelsFor(baseSize: number, image: ImageSize, opts: { inputSize: number; radius: number; finest?: number; maxLevels?: number }): CascadeLevel[] {
  const finest = opts.finest ?? 1;
  const levels: CascadeLevel[] = [];
  const pixel = Math.max(image.width, image.height) / baseSize; // original px per global network px
  for (let m = 2; levels.length < (opts.maxLevels ?? 4); m *= 2) {
    levels.push({ magnification: m, inputSize: opts.inputSize, radius: opts.radius });
    if (pixel / m <= finest) break;
  }
  return levels;
}

/** The region sampled at a level around a point: inputSize network pixels at magnification m of the global square fit. */
export function levelSampling(centre: Point, image: ImageSize, baseSize: number, level: CascadeLevel, scale: { x: number; y: number } = { x: 1, y: 1 }): RegionSampling {
  const w = (level.inputSize * image.width * scale.x) / (level.magnification * baseSize);
  const h = (level.inputSize * image.height * scale.y) / (level.magnification * baseSize);
  return { region: regionAround(centre, w, h, image), width: level.inputSize, height: level.inputSize };
}

/** Template side: per level, per landmark, the centre-sensitive embedding at the template point. */
export type LevelQueries = Array<Array<Float32Array | null>>;

export async function templateLevelQueries(embed: RegionEmbedder, image: ImageSize, points: Array<Point | null>, s: CascadeSettings): Promise<LevelQueries> {
  const out: LevelQueries = [];
  for (const level of s.levels) {
    const used = points.flatMap((p, i) => (p ? [i] : []));
    const whole = wholeLevelSampling(image, s, level);
    const samplings = used.map((i) => whole ?? levelSampling(points[i]!, image, s.baseSize, level));
    let maps: FullResolutionMap[] = [];
    if (samplings.length) {
      const wholeMap = whole ? (await embed([whole]))[0] : null;
      maps = wholeMap ? used.map(() => wholeMap) : await embed(samplings);
    }
    const queries: Array<Float32Array | null> = points.map(() => null);
    used.forEach((i, k) => {
      const at = toRegion(points[i]!, samplings[k]);
      const m = maps[k];
      queries[i] = centreEmbeddingAt(m, clamp(at.x, 0, m.width - 1), clamp(at.y, 0, m.height - 1), s.sigma);
    });
    out.push(queries);
  }
  return out;
}

export interface CascadeStep {
  point: Point;
  /** Cosine similarity at the level's peak. */
  score: number;
}

export interface CascadeResult {
  point: Point;
  /** One entry per level, in order. */
  steps: CascadeStep[];
}

/**
 * Moves each start point through the levels. `scale` (per landmark, optional): the target/template
 * size ratio of the anatomy around it along x and y (from the global affine fit); 1 when absent.
 */
export async function refineInCascade(
  embed: RegionEmbedder,
  image: ImageSize,
  starts: Array<Point | null>,
  queries: LevelQueries,
  s: CascadeSettings,
  scale?: Array<{ x: number; y: number } | null>,
): Promise<Array<CascadeResult | null>> {
  const current = starts.map((p) => (p ? { ...p } : null));
  const steps: CascadeStep[][] = starts.map(() => []);
  const iterations = Math.max(1, s.iterations ?? 2);
  for (const [l, level] of s.levels.entries()) {
    const used = current.flatMap((p, i) => (p && queries[l][i] ? [i] : []));
    if (!used.length) continue;
    // one shared anatomy scale per image when the whole image is embedded (the global affine's)
    const whole = wholeLevelSampling(image, s, level, scale?.[used[0]] ?? undefined);
    const wholeMap = whole ? (await embed([whole]))[0] : null;
    const score = used.map(() => 0);
    for (let it = 0; it < iterations; it++) {
      const samplings = used.map((i) => whole ?? levelSampling(current[i]!, image, s.baseSize, level, scale?.[i] ?? undefined));
      // with per-landmark regions each iteration re-cuts them around the moved estimates
      const maps = wholeMap ? used.map(() => wholeMap) : await embed(samplings);
      const before = used.map((i) => current[i]!);
      used.forEach((i, k) => {
        const sampling = samplings[k];
        const at = toRegion(current[i]!, sampling);
        const m = maps[k];
        const peak = refinePeak({ full: m, sigma: s.sigma }, queries[l][i]!, clamp(at.x, 0, m.width - 1), clamp(at.y, 0, m.height - 1), Math.max(1, Math.round(level.radius)));
        const p = fromRegion(peak, sampling);
        current[i] = { x: clamp(p.x, -0.5, image.width - 0.5), y: clamp(p.y, -0.5, image.height - 0.5) };
        score[k] = peak.score;
      });
      // a whole-image map is framed the same whatever the estimate: one search is the answer
      if (wholeMap) break;
      if (used.every((i, k) => Math.hypot(current[i]!.x - before[k].x, current[i]!.y - before[k].y) < 0.25)) break;
    }
    used.forEach((i, k) => steps[i].push({ point: current[i]!, score: score[k] }));
  }
  return current.map((p, i) => (p ? { point: p, steps: steps[i] } : null));
}

const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), hi);
