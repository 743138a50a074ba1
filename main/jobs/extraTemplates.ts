/**
 * Extra templates: besides the template, other images with landmarks answer for every image, and each
 * image's landmarks become the robust centre of all the answers (engine/landmarks/fusion.ts).
 * - Templates the user labelled (`propagate --template-images`): a template whose answer disagrees with
 *   the others loses its vote, and the errors that belong to one template (how its anatomy differs
 *   from the target's, where its point sits on a blurred edge) partly cancel.
 * - Pseudo-templates (`--pseudo-templates N`): after the template alone has been propagated, the
 *   images it reached most confidently serve as templates with their propagated points as labels.
 *   Nothing is added by hand; as in multi-atlas methods, the unlabelled images themselves vote.
 * An extra template is searched like the template: shape consensus and global search, the learned
 * fine levels when the job provides them (`fineLevels`), and NCC with its own patches.
 */
import type { GreyImage } from '../engine/landmarks/baselines/greyImage';
import { withDenseCentreEmbedding, type ImageFeatures } from '../engine/landmarks/features';
import { choosePseudoTemplates, fuseAnswers } from '../engine/landmarks/fusion';
import { nccRefine, templatePatches, type NccRefineSettings } from '../engine/landmarks/nccRefine';
import { affineScale, propagateGlobal, templateQueries, type ConsensusMode, type PropagatedPoint } from '../engine/landmarks/propagate';
import type { Point } from '../engine/landmarks/types';

export interface PseudoTemplateOptions {
  /** Extra templates taken from the propagated images (0 = none, as the paper). */
  count: number;
  /** Vote of the real template against each extra template's vote of 1. */
  templateWeight: number;
  /**
   * null: every landmark takes the fused point. A number g: a landmark keeps the template's own answer
   * unless it lies more than g·σ (network px) from the fused point — the templates then outvote it as
   * an outlier, and the fused point, refined by the template's NCC patches, replaces it.
   */
  gate: number | null;
}

export const DEFAULT_PSEUDO_TEMPLATES: PseudoTemplateOptions = { count: 4, templateWeight: 1, gate: 1 };

/**
 * Labelled templates: each image hears at most this many extra ones, those whose images look most
 * like it as a whole (cosine of the mean embedding), so that a project with many accepted images
 * still propagates in about the time of a few.
 */
export const MAX_VOTING_EXTRA_TEMPLATES = 4;

export interface FusionOptions extends Omit<PseudoTemplateOptions, 'count'> {
  /** At most this many extra templates vote on an image, the most similar to it (absent: all). */
  nearest?: number;
}

/** Fusion of labelled extra templates: each as good as the template, every point takes the fused point. */
export const LABELLED_TEMPLATE_FUSION: FusionOptions = { templateWeight: 1, gate: null, nearest: MAX_VOTING_EXTRA_TEMPLATES };

export interface ExtraTemplate {
  path: string;
  /** Its landmarks in its original pixels, aligned with the template's. */
  points: Array<Point | null>;
  /** When it is one of the propagated images: that image's index (it does not vote on itself). */
  imageIndex?: number;
  /** Run the fine levels (ctx.fineLevels) for its answers. */
  cascade: boolean;
}

/** The learned fine levels (the cascade) for any template: prepared once per template, run per target. */
export interface FineLevels<Prepared = unknown> {
  prepare(templateGrey: GreyImage, points: Array<Point | null>): Promise<Prepared>;
  refine(prepared: Prepared, targetGrey: GreyImage, starts: Array<Point | null>, scale: { x: number; y: number }): Promise<Array<Point | null>>;
}

export interface ExtraTemplateContext {
  featuresOf(path: string): Promise<ImageFeatures>;
  greyOf(path: string): Promise<GreyImage>;
  consensus: ConsensusMode;
  consensusRadius?: number;
  /** NCC refinement steps of each extra template's answer (none: the global match alone). */
  refineSteps: NccRefineSettings[];
  /** The template's own NCC patches per refine step (for a gated landmark's new position). */
  templatePatches: Array<ReturnType<typeof templatePatches>>;
  /** Size the NCC regions by the consensus's local scale, as the job does. */
  affineScale: boolean;
  /** The cascade, run for the answers of the extra templates that ask for it (absent: global level and NCC only). */
  fineLevels?: FineLevels;
  cancel?: { cancelled: boolean };
  onProgress?: (done: number, total: number) => void;
}

export interface PropagatedImage {
  path: string;
  points: Array<PropagatedPoint | null>;
  /** The template → image consensus's local scale (NCC regions are sized by it). */
  scale: { x: number; y: number };
}

function meanConfidence(points: ReadonlyArray<PropagatedPoint | null>): number | null {
  const placed = points.filter((p): p is PropagatedPoint => Boolean(p));
  return placed.length ? placed.reduce((s, p) => s + p.confidence, 0) / placed.length : null;
}

/** The `count` images propagated most confidently (mean confidence of their points), as extra templates. */
export function pseudoTemplates(images: PropagatedImage[], count: number, cascade: boolean): ExtraTemplate[] {
  return choosePseudoTemplates(images.map((im) => meanConfidence(im.points)), count).map((index) => ({
    path: images[index].path,
    points: images[index].points.map((p) => (p ? { x: p.x, y: p.y } : null)),
    imageIndex: index,
    cascade,
  }));
}

/** The image as a whole: the mean of its coarse embedding, unit length. */
export function globalDescriptor(f: Pick<ImageFeatures, 'coarse'>): Float32Array {
  const { data, channels } = f.coarse;
  const out = new Float32Array(channels);
  for (let i = 0; i < data.length; i++) out[i % channels] += data[i];
  const norm = Math.hypot(...out) || 1;
  return out.map((v) => v / norm);
}

const dot = (a: Float32Array, b: Float32Array) => a.reduce((s, v, i) => s + v * b[i], 0);

/** The `limit` templates whose global descriptors are most like `descriptor` (all of them when there are no more). */
export function nearestTemplates<T extends { descriptor: Float32Array }>(templates: T[], descriptor: Float32Array, limit: number): T[] {
  if (templates.length <= limit) return templates;
  return templates
    .map((t, i) => ({ t, i, s: dot(t.descriptor, descriptor) }))
    .sort((a, b) => b.s - a.s || a.i - b.i)
    .slice(0, Math.max(0, limit))
    .map((e) => e.t);
}

interface PreparedTemplate {
  imageIndex?: number;
  descriptor: Float32Array;
  fine?: unknown;
  features: ImageFeatures;
  queries: ReturnType<typeof templateQueries>;
  patches: Array<ReturnType<typeof templatePatches>>;
}

/**
 * Every image's points fused over the template's answer and the extra templates' answers. Returns the
 * new points per image, or null when cancelled. Confidence: the template's, times exp(−½(s/σ)²) with
 * s the votes' spread in network pixels (templates that disagree make a point doubtful).
 */
export async function fuseWithExtraTemplates(
  images: PropagatedImage[],
  extras: ExtraTemplate[],
  fusion: FusionOptions,
  ctx: ExtraTemplateContext,
): Promise<Array<Array<PropagatedPoint | null>> | null> {
  if (!extras.length) return images.map((im) => im.points);
  const prepared: PreparedTemplate[] = [];
  for (const e of extras) {
    const features = withDenseCentreEmbedding(await ctx.featuresOf(e.path));
    const fine = e.cascade ? ctx.fineLevels : undefined;
    const grey = ctx.refineSteps.length || fine ? await ctx.greyOf(e.path) : null;
    prepared.push({
      imageIndex: e.imageIndex,
      descriptor: globalDescriptor(features),
      features,
      queries: templateQueries(features, e.points),
      patches: grey && ctx.refineSteps.length ? ctx.refineSteps.map((s) => templatePatches(grey, e.points, s)) : [],
      fine: grey && fine ? await fine.prepare(grey, e.points) : undefined,
    });
  }
  const out: Array<Array<PropagatedPoint | null>> = [];
  for (const [i, im] of images.entries()) {
    if (ctx.cancel?.cancelled) return null;
    const others = prepared.filter((e) => e.imageIndex !== i);
    if (!others.length) {
      out.push(im.points);
      ctx.onProgress?.(i + 1, images.length);
      continue;
    }
    const target = await ctx.featuresOf(im.path);
    const descriptor = globalDescriptor(target);
    const voters = nearestTemplates(others, descriptor, fusion.nearest ?? others.length);
    const grey = ctx.refineSteps.length || ctx.fineLevels ? await ctx.greyOf(im.path) : null;
    const answers: Array<Array<Point | null>> = [];
    for (const e of voters) {
      const global = propagateGlobal(e.features, e.queries, target, { consensus: ctx.consensus, consensusRadius: ctx.consensusRadius });
      const scale = ctx.affineScale ? affineScale(global.affine) : { x: 1, y: 1 };
      let starts: Array<Point | null> = global.points.map((g) => (g ? { x: g.x, y: g.y } : null));
      if (ctx.fineLevels && grey && e.fine !== undefined) starts = await ctx.fineLevels.refine(e.fine, grey, starts, scale);
      answers.push(
        starts.map((g, k) => {
          if (!g) return null;
          let p: Point = { x: g.x, y: g.y };
          ctx.refineSteps.forEach((step, j) => {
            const patch = e.patches[j][k];
            const r = patch && grey ? nccRefine(grey, p, patch, step, scale) : null;
            if (r) p = r.point;
          });
          return p;
        }),
      );
    }
    // fused in network pixels, where one unit means the same in x and y as the network saw them
    const fused = fuseAnswers(im.points, answers, fusion.templateWeight, target.scale);
    const gate = fusion.gate;
    out.push(
      im.points.map((p, k) => {
        const f = fused[k];
        if (!p || !f) return p;
        const confidence = p.confidence * Math.exp(-0.5 * (f.spread / target.sigma) ** 2);
        if (gate === null) return { ...p, x: f.point.x, y: f.point.y, confidence };
        const off = Math.hypot((p.x - f.point.x) * target.scale.x, (p.y - f.point.y) * target.scale.y);
        if (off <= gate * target.sigma) return { ...p, confidence };
        let q: Point = f.point;
        ctx.refineSteps.forEach((step, j) => {
          const patch = ctx.templatePatches[j]?.[k];
          const r = patch && grey ? nccRefine(grey, q, patch, step, im.scale) : null;
          if (r) q = r.point;
        });
        return { ...p, x: q.x, y: q.y, confidence };
      }),
    );
    ctx.onProgress?.(i + 1, images.length);
  }
  return out;
}
