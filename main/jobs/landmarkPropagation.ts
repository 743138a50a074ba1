/**
 * One-shot landmark propagation as a job: model + template image with its points + target images →
 * every target's landmarks with a confidence. Features come from ONNX Runtime and are cached on disk
 * (main/jobs/featureCache.ts), so a second run — after moving a template point, say — skips the
 * network. A failure on one image is reported for that image and the others go on.
 */
import { createHash } from 'node:crypto';
import { basename } from 'node:path';
import { LdOnnxModel, type OrtExecutionProvider } from '../engine/infer/onnxModel';
import { DEFAULT_INFER_SIZE, preprocessForNetwork, type InputFit } from '../engine/infer/preprocess';
import { baseSizeFor } from '../engine/data/prepare';
import { greyFromRecord, type GreyImage } from '../engine/landmarks/baselines/greyImage';
import { cascadeLevelsFor, refineInCascade, templateLevelQueries, type CascadeLevel, type CascadeSettings, type LevelQueries, type RegionEmbedder } from '../engine/landmarks/cascade';
import { featuresFromEmbedding, fullMapFromHwc, withDenseCentreEmbedding, type ImageFeatures } from '../engine/landmarks/features';
import { nccRefine, templatePatches, type NccRefineSettings } from '../engine/landmarks/nccRefine';
import { affineScale, propagateGlobal, templateQueries, type ConsensusMode, type PropagatedPoint } from '../engine/landmarks/propagate';
import { sampleRegion } from '../engine/landmarks/regions';
import { hwcToChw, chwToHwc } from '../engine/infer/preprocess';
import { normalise } from '../engine/data/augment';
import type { ImageGeometry, ImageLandmarks, LandmarkTable, Point } from '../engine/landmarks/types';
import { readImage } from '../io';
import { imageGeometryOf } from '../io/landmarks/formats/dicomGeometry';
import { FeatureCache, featureKey } from './featureCache';
import { DEFAULT_PSEUDO_TEMPLATES, fuseWithExtraTemplates, LABELLED_TEMPLATE_FUSION, pseudoTemplates, type ExtraTemplate, type FineLevels, type PseudoTemplateOptions } from './extraTemplates';
import { resolveModel, trainingSettings, type ResolvedModel } from './modelSource';

export interface PropagationImage {
  path: string;
  /** Name written to files (default: the file name). */
  name?: string;
}

export interface PropagationJobOptions {
  /** Run directory, checkpoint or .onnx file. */
  model: string;
  step?: number;
  templateImage: string;
  landmarks: string[];
  /** Template points in the template image's original pixels, aligned with `landmarks`. */
  templatePoints: Array<Point | null>;
  images: PropagationImage[];
  /** Network input side (default: the training base size, size·512/448, else 512). */
  size?: number;
  /** Centre-sensitive σ in network pixels (default: the run's σ scaled to `size`, else size/32). */
  sigma?: number;
  fit?: InputFit;
  consensus?: ConsensusMode;
  /** Affine consensus search radius as a fraction of the image side (default 0.06). */
  consensusRadius?: number;
  /** Multi-scale cascade after the global search (default on); false = the global level only. */
  cascade?: CascadeRequest | false;
  /** Final NCC refinement at about the original resolution (default on: 'ncc'). */
  refine?: 'none' | 'ncc';
  /** More labelled templates (image path, points aligned with `landmarks`): every image takes the fused answer of all templates (extraTemplates.ts). */
  extraTemplates?: Array<{ image: string; points: Array<Point | null> }>;
  /** Run the learned fine levels (the cascade) for extra templates too (default: for labelled ones, not for pseudo-templates; false: global level and NCC only). */
  extraTemplateLevels?: boolean;
  /** Extra templates from the most confident propagated images, fused with the template (extraTemplates.ts); absent or false = the template alone (default). */
  pseudoTemplates?: Partial<PseudoTemplateOptions> | false;
  threads?: number;
  executionProviders?: OrtExecutionProvider[];
  /** Feature cache folder; null disables it. */
  cacheDir?: string | null;
  onProgress?: (e: { done: number; total: number; image: string; cached: boolean }) => void;
  cancel?: { cancelled: boolean };
}

export interface CascadeRequest {
  /** Region side cut around each landmark, in network pixels (default 64). */
  inputSize?: number;
  /** Search half-width per level, in that level's network pixels (default 4). */
  radius?: number;
  /** Stop when a network pixel is about this many original pixels (default 1). */
  finest?: number;
  /** At most this many levels (default 2: ×2 and ×4, the magnifications a model trained on 5–100 % crops has seen). */
  maxLevels?: number;
  /** Size the target's regions by the global affine's local scale (default true). */
  affineScale?: boolean;
}

export const DEFAULT_CASCADE: Required<CascadeRequest> = { inputSize: 64, radius: 4, finest: 1, maxLevels: 2, affineScale: true };

export interface PropagationSettings {
  size: number;
  sigma: number;
  fit: InputFit;
  consensus: ConsensusMode;
  cascade: Required<CascadeRequest> | false;
  refine: 'none' | 'ncc';
  pseudoTemplates: PseudoTemplateOptions | false;
  extraTemplateLevels: boolean | undefined;
  model: { path: string; checkpoint: string | null; step: number | null; trainingSize?: number; centreSigma?: number };
}

export interface PropagationJobResult {
  table: LandmarkTable & { images: Array<ImageLandmarks & { points: Array<PropagatedPoint | null>; geometry?: ImageGeometry }> };
  failures: Array<{ image: string; error: string }>;
  settings: PropagationSettings;
  cancelled: boolean;
  timing: {
    totalMs: number;
    networkMs: number;
    /** Network time of the global level, then of each cascade level (ms). */
    levelNetworkMs: number[];
    /** (image, landmark) pairs that went through the fine levels; the others came from the cache. */
    fineLandmarks: number;
    propagateMs: number;
    /** The extra-template pass (network included), ms; 0 without it. */
    extraTemplateMs: number;
    cachedImages: number;
    executionProvider: string;
  };
}

/**
 * NCC refinement in two steps: at 512 px on the long side (±8 px, a 31-px patch: a basin of ±1.6 %
 * of the image), then at the original resolution or 1024 px if that is less (±4 px, 63-px patch).
 */
export function nccRefineSettings(baseSize: number, template: { width: number; height: number }): NccRefineSettings[] {
  const long = Math.max(template.width, template.height);
  const steps = [
    { longSide: Math.min(512, long), radius: 8, patch: 31 },
    { longSide: Math.min(1024, long), radius: 4, patch: 63 },
  ];
  return steps.map((s) => {
    const level: CascadeLevel = { magnification: s.longSide / baseSize, inputSize: s.patch + 2 * s.radius + 2, radius: s.radius };
    return { baseSize, level, patch: s.patch };
  });
}

/** The inference settings that match how the model was trained. */
export function propagationSettings(model: ResolvedModel, opts: Pick<PropagationJobOptions, 'size' | 'sigma' | 'fit' | 'consensus' | 'cascade' | 'refine' | 'pseudoTemplates' | 'extraTemplateLevels'>): PropagationSettings {
  const trained = trainingSettings(model);
  const size = opts.size ?? (trained.size ? Math.round(baseSizeFor(trained.size) / 16) * 16 : DEFAULT_INFER_SIZE);
  // σ scales with the image: training σ at crop size S ↔ σ·base/S at the base size the crops came from.
  const trainedSigma = trained.size && trained.centreSigma ? (trained.centreSigma * size) / trained.size : undefined;
  const sigma = opts.sigma ?? trainedSigma ?? size / 32; // the spec's 16 px at 512
  if (!(sigma > 0)) throw new Error(`centre-sensitive σ must be positive, got ${sigma}`);
  return {
    size,
    sigma,
    fit: opts.fit ?? 'square',
    consensus: opts.consensus ?? 'dense',
    cascade: opts.cascade === false ? false : { ...DEFAULT_CASCADE, ...(opts.cascade ?? {}) },
    refine: opts.refine ?? 'ncc',
    // off unless asked for: on the team's sets it changed the error by a few per cent (README → Benchmarks)
    pseudoTemplates: opts.pseudoTemplates ? { ...DEFAULT_PSEUDO_TEMPLATES, ...opts.pseudoTemplates } : false,
    extraTemplateLevels: opts.extraTemplateLevels,
    model: { path: model.path, checkpoint: model.checkpoint, step: model.step, trainingSize: trained.size, centreSigma: trained.centreSigma },
  };
}

/**
 * Regions of a grey image through the network, in batches of same-sized inputs. The cascade calls it
 * once per level, in order: `onNetwork` gets the call's index (the level − 1) and the time.
 */
function regionEmbedder(session: LdOnnxModel, grey: GreyImage, onNetwork: (call: number, ms: number) => void): RegionEmbedder {
  const channels = session.channels;
  let calls = 0;
  return async (samplings) => {
    const call = calls++;
    const maps: ReturnType<typeof fullMapFromHwc>[] = new Array(samplings.length);
    const batch = 32;
    for (let start = 0; start < samplings.length; start += batch) {
      const chunk = samplings.slice(start, start + batch);
      const { width: w, height: h } = chunk[0];
      if (chunk.some((c) => c.width !== w || c.height !== h)) throw new Error('internal: regions of one batch differ in size');
      const per = channels * w * h;
      const input = new Float32Array(chunk.length * per);
      chunk.forEach((sampling, k) => {
        const g = sampleRegion(grey, sampling);
        let hwc = g;
        if (channels === 3) {
          hwc = new Float32Array(g.length * 3);
          for (let i = 0; i < g.length; i++) hwc[3 * i] = hwc[3 * i + 1] = hwc[3 * i + 2] = g[i];
        }
        normalise(hwc, channels);
        input.set(channels === 1 ? hwc : hwcToChw(hwc, h, w, 3), k * per);
      });
      const t = performance.now();
      const out = await session.run(input, chunk.length, h, w);
      onNetwork(call, performance.now() - t);
      const d = out.shape.embedDim;
      chunk.forEach((_, k) => {
        const chw = out.embedding.subarray(k * d * w * h, (k + 1) * d * w * h);
        maps[start + k] = fullMapFromHwc(chwToHwc(chw, d, h, w), w, h, d);
      });
    }
    return maps;
  };
}

/** The cascade for any template (extraTemplates.ts): its levels from its own size, the same network. */
function cascadeFor(session: LdOnnxModel, base: CascadeSettings, onNetwork: (call: number, ms: number) => void): FineLevels<{ levels: CascadeSettings; queries: LevelQueries }> {
  return {
    async prepare(grey, points) {
      const levels = { ...base, levels: base.levels.map((l) => ({ ...l })) };
      return { levels, queries: await templateLevelQueries(regionEmbedder(session, grey, onNetwork), grey, points, levels) };
    },
    async refine(prepared, grey, starts, scale) {
      const refined = await refineInCascade(regionEmbedder(session, grey, onNetwork), grey, starts, prepared.queries, prepared.levels, starts.map(() => scale));
      return refined.map((r, k) => (r ? r.point : starts[k]));
    },
  };
}

export async function runPropagation(opts: PropagationJobOptions): Promise<PropagationJobResult> {
  const t0 = performance.now();
  if (opts.templatePoints.length !== opts.landmarks.length) throw new Error(`${opts.templatePoints.length} template points for ${opts.landmarks.length} landmarks`);
  if (!opts.templatePoints.some(Boolean)) throw new Error('the template has no placed landmarks: place at least one point on the template image');
  const model = resolveModel(opts.model, opts.step);
  const settings = propagationSettings(model, opts);
  const cache = opts.cacheDir ? new FeatureCache(opts.cacheDir) : null;
  const session = await LdOnnxModel.load(model.source, { executionProviders: opts.executionProviders, threads: opts.threads });
  let networkMs = 0;
  const levelNetworkMs = [0];
  let propagateMs = 0;
  let extraTemplateMs = 0;
  let cachedImages = 0;
  try {
    const keySettings = { size: settings.size, sigma: settings.sigma, fit: settings.fit, format: 1 };
    const keyOf = (path: string) => featureKey({ model: model.checkpoint ?? model.path, image: path, settings: keySettings });
    const featuresOf = async (path: string): Promise<{ features: ImageFeatures; cached: boolean }> => {
      const key = cache ? keyOf(path) : '';
      const hit = cache?.get(key);
      if (hit) return { features: hit, cached: true };
      const t = performance.now();
      const record = await readImage(path);
      const input = preprocessForNetwork(record, { channels: session.channels, size: settings.size, fit: settings.fit });
      const out = await session.run(input.data, 1, input.height, input.width);
      levelNetworkMs[0] += performance.now() - t;
      const features = featuresFromEmbedding(out.embedding, { channels: out.shape.embedDim, height: out.shape.h, width: out.shape.w }, { source: { ...input.source, geometry: imageGeometryOf(record) }, scale: input.scale, sigma: settings.sigma });
      networkMs += performance.now() - t;
      cache?.put(key, features);
      return { features, cached: false };
    };

    const template = withDenseCentreEmbedding((await featuresOf(opts.templateImage)).features);
    const queries = templateQueries(template, opts.templatePoints);
    // the fine levels and the refinement cut regions from the original images
    const needsPixels = settings.cascade !== false || settings.refine === 'ncc';
    const countNetwork = (call: number, ms: number) => {
      networkMs += ms;
      levelNetworkMs[call + 1] = (levelNetworkMs[call + 1] ?? 0) + ms;
    };
    const templateGrey = needsPixels ? greyFromRecord(await readImage(opts.templateImage)) : null;
    const cascade: CascadeSettings | null =
      settings.cascade && templateGrey
        ? { baseSize: settings.size, sigma: settings.sigma, levels: cascadeLevelsFor(settings.size, templateGrey, settings.cascade) }
        : null;
    // the template's regions are embedded once, when the first landmark needs the fine levels
    let levelQueries: Promise<LevelQueries> | null = null;
    const templateQueriesByLevel = () => (levelQueries ??= templateLevelQueries(regionEmbedder(session, templateGrey!, countNetwork), templateGrey!, opts.templatePoints, cascade!));
    let fineLandmarks = 0;
    const refineSteps = settings.refine === 'ncc' && templateGrey ? nccRefineSettings(settings.size, templateGrey) : [];
    const refinePatches = templateGrey ? refineSteps.map((r) => templatePatches(templateGrey, opts.templatePoints, r)) : [];
    // The refined position of a landmark depends on its template point (and, with affine consensus, on
    // every template point) and the settings: cached per image under that key, so moving one template
    // point re-runs the fine levels for that landmark only.
    const fineKey = JSON.stringify({ template: cache ? keyOf(opts.templateImage) : '', consensus: settings.consensus, radius: opts.consensusRadius ?? null, cascade: settings.cascade, refine: settings.refine, format: 1 });
    const everyPoint = settings.consensus === 'affine' ? JSON.stringify(opts.templatePoints) : '';
    const pointKeys = opts.templatePoints.map((p, k) => (p ? createHash('sha256').update(`${fineKey}|${k}|${p.x},${p.y}|${everyPoint}`).digest('hex').slice(0, 24) : ''));
    const images: PropagationJobResult['table']['images'] = [];
    const paths: string[] = [];
    const scales: Array<{ x: number; y: number }> = [];
    const failures: PropagationJobResult['failures'] = [];
    let cancelled = false;
    // with extra templates a second pass follows: the progress counts both
    const labelled = opts.extraTemplates ?? [];
    labelled.forEach((t, k) => {
      if (t.points.length !== opts.landmarks.length) throw new Error(`extra template ${k + 1} (${basename(t.image)}) has ${t.points.length} points for ${opts.landmarks.length} landmarks`);
    });
    const pseudo = settings.pseudoTemplates !== false && settings.pseudoTemplates.count > 0 && opts.images.length > 1 ? settings.pseudoTemplates : null;
    const fusing = Boolean(pseudo) || labelled.length > 0;
    const total = fusing ? 2 * opts.images.length : opts.images.length;
    for (const [i, img] of opts.images.entries()) {
      if (opts.cancel?.cancelled) {
        cancelled = true;
        break;
      }
      const name = img.name ?? basename(img.path);
      try {
        const { features, cached } = await featuresOf(img.path);
        if (cached) cachedImages++;
        const t = performance.now();
        const global = propagateGlobal(template, queries, features, { consensus: settings.consensus, consensusRadius: opts.consensusRadius });
        // the anatomy's scale for the fine levels and NCC (kept for the extra-template pass)
        const scale = settings.cascade && settings.cascade.affineScale ? affineScale(global.affine) : { x: 1, y: 1 };
        const points = global.points;
        const starts = points.map((p) => (p ? { x: p.x, y: p.y } : null));
        const refinedKey = cache && needsPixels ? `${keyOf(img.path)}-${createHash('sha256').update(fineKey).digest('hex').slice(0, 12)}` : '';
        const known = (refinedKey && cache?.getRefined(refinedKey)) || {};
        const todo = points.map((p, k) => Boolean(p) && !known[pointKeys[k]]);
        if (needsPixels && todo.some(Boolean)) {
          const grey = greyFromRecord(await readImage(img.path));
          fineLandmarks += todo.filter(Boolean).length;
          if (cascade) {
            const starts = points.map((p, k) => (todo[k] ? p : null));
            const refined = await refineInCascade(regionEmbedder(session, grey, countNetwork), grey, starts, await templateQueriesByLevel(), cascade, points.map(() => scale));
            refined.forEach((r, k) => {
              if (r && points[k]) points[k] = { ...points[k]!, x: r.point.x, y: r.point.y };
            });
          }
          refineSteps.forEach((step, j) => {
            points.forEach((p, k) => {
              const patch = refinePatches[j][k];
              if (!p || !patch || !todo[k]) return;
              const r = nccRefine(grey, p, patch, step, scale);
              if (r) points[k] = { ...p, x: r.point.x, y: r.point.y };
            });
          });
        }
        if (needsPixels) {
          points.forEach((p, k) => {
            const hit = known[pointKeys[k]];
            if (p && hit && !todo[k]) points[k] = { ...p, x: hit[0], y: hit[1] };
          });
          if (refinedKey && todo.some(Boolean)) {
            const record: Record<string, [number, number]> = { ...known };
            points.forEach((p, k) => p && (record[pointKeys[k]] = [p.x, p.y]));
            cache!.putRefined(refinedKey, record);
          }
          // a point the fine levels moved far from the global match is less certain: ×exp(−½(d/2)²), d in global network px
          points.forEach((p, k) => {
            const s0 = starts[k];
            if (!p || !s0) return;
            const d = Math.hypot((p.x - s0.x) * features.scale.x, (p.y - s0.y) * features.scale.y);
            points[k] = { ...p, confidence: p.confidence * Math.exp(-0.5 * (d / 2) ** 2) };
          });
        }
        // the viewer's bounds: an answer off the image is never the anatomy, and a drag could not reach it
        points.forEach((p, k) => {
          if (p) points[k] = { ...p, x: Math.min(Math.max(p.x, -0.5), features.source.width - 0.5), y: Math.min(Math.max(p.y, -0.5), features.source.height - 0.5) };
        });
        propagateMs += performance.now() - t;
        images.push({ image: name, width: features.source.width, height: features.source.height, geometry: features.source.geometry, points });
        paths.push(img.path);
        scales.push(scale);
        opts.onProgress?.({ done: i + 1, total, image: name, cached });
      } catch (err) {
        failures.push({ image: img.path, error: err instanceof Error ? err.message : String(err) });
        opts.onProgress?.({ done: i + 1, total, image: name, cached: false });
      }
    }
    if (fusing && !cancelled && images.length > 0) {
      const t = performance.now();
      const networkBefore = networkMs;
      const propagated = images.map((im, k) => ({ path: paths[k], points: im.points as Array<PropagatedPoint | null>, scale: scales[k] }));
      const extras: ExtraTemplate[] = [
        ...labelled.map((e) => ({ path: e.image, points: e.points, imageIndex: paths.indexOf(e.image) >= 0 ? paths.indexOf(e.image) : undefined, cascade: settings.extraTemplateLevels ?? true })),
        ...(pseudo ? pseudoTemplates(propagated, pseudo.count, settings.extraTemplateLevels ?? false) : []),
      ];
      const fused = await fuseWithExtraTemplates(
        propagated,
        extras,
        pseudo ?? LABELLED_TEMPLATE_FUSION,
        {
          featuresOf: async (path) => (await featuresOf(path)).features,
          greyOf: async (path) => greyFromRecord(await readImage(path)),
          consensus: settings.consensus,
          consensusRadius: opts.consensusRadius,
          refineSteps,
          templatePatches: refinePatches,
          fineLevels: cascade ? cascadeFor(session, cascade, countNetwork) : undefined,
          affineScale: settings.cascade ? settings.cascade.affineScale : false,
          cancel: opts.cancel,
          onProgress: (done) => opts.onProgress?.({ done: opts.images.length + done, total, image: images[done - 1].image, cached: true }),
        },
      );
      if (!fused) cancelled = true;
      else
        fused.forEach((points, k) => {
          const { width, height } = images[k];
          images[k].points = points.map((p) => (p ? { ...p, x: Math.min(Math.max(p.x, -0.5), width! - 0.5), y: Math.min(Math.max(p.y, -0.5), height! - 0.5) } : null));
        });
      extraTemplateMs = performance.now() - t;
      propagateMs += extraTemplateMs - (networkMs - networkBefore);
    }
    return {
      table: { landmarks: opts.landmarks, images },
      failures,
      settings,
      cancelled,
      timing: { totalMs: performance.now() - t0, networkMs, levelNetworkMs, fineLandmarks, propagateMs: propagateMs - (networkMs - levelNetworkMs[0]), extraTemplateMs, cachedImages, executionProvider: session.executionProvider },
    };
  } finally {
    await session.dispose();
  }
}
