/**
 * One-shot landmark propagation as a job: model + template image with its points + target images →
 * every target's landmarks with a confidence. Features come from ONNX Runtime and are cached on disk
 * (main/project/featureCache.ts), so a second run — after moving a template point, say — skips the
 * network. A failure on one image is reported for that image and the others go on.
 */
import { basename } from 'node:path';
import { LdOnnxModel, type OrtExecutionProvider } from '../engine/infer/onnxModel';
import { DEFAULT_INFER_SIZE, preprocessForNetwork, type InputFit } from '../engine/infer/preprocess';
import { baseSizeFor } from '../engine/data/prepare';
import { featuresFromEmbedding, withDenseCentreEmbedding, type ImageFeatures } from '../engine/landmarks/features';
import { propagateToImage, templateQueries, type ConsensusMode, type PropagatedPoint } from '../engine/landmarks/propagate';
import type { ImageGeometry, ImageLandmarks, LandmarkTable, Point } from '../engine/landmarks/types';
import { readImage } from '../io';
import { imageGeometryOf } from '../landmarks/formats/dicomGeometry';
import { FeatureCache, featureKey } from '../project/featureCache';
import { resolveModel, trainingSettings, type ResolvedModel } from '../project/modelSource';

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
  threads?: number;
  executionProviders?: OrtExecutionProvider[];
  /** Feature cache folder; null disables it. */
  cacheDir?: string | null;
  onProgress?: (e: { done: number; total: number; image: string; cached: boolean }) => void;
  cancel?: { cancelled: boolean };
}

export interface PropagationSettings {
  size: number;
  sigma: number;
  fit: InputFit;
  consensus: ConsensusMode;
  model: { path: string; checkpoint: string | null; step: number | null; trainingSize?: number; centreSigma?: number };
}

export interface PropagationJobResult {
  table: LandmarkTable & { images: Array<ImageLandmarks & { points: Array<PropagatedPoint | null>; geometry?: ImageGeometry }> };
  failures: Array<{ image: string; error: string }>;
  settings: PropagationSettings;
  cancelled: boolean;
  timing: { totalMs: number; networkMs: number; propagateMs: number; cachedImages: number; executionProvider: string };
}

/** The inference settings that match how the model was trained. */
export function propagationSettings(model: ResolvedModel, opts: Pick<PropagationJobOptions, 'size' | 'sigma' | 'fit' | 'consensus'>): PropagationSettings {
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
    consensus: opts.consensus ?? 'affine',
    model: { path: model.path, checkpoint: model.checkpoint, step: model.step, trainingSize: trained.size, centreSigma: trained.centreSigma },
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
  let propagateMs = 0;
  let cachedImages = 0;
  try {
    const keySettings = { size: settings.size, sigma: settings.sigma, fit: settings.fit, format: 1 };
    const featuresOf = async (path: string): Promise<{ features: ImageFeatures; cached: boolean }> => {
      const key = cache ? featureKey({ model: model.checkpoint ?? model.path, image: path, settings: keySettings }) : '';
      const hit = cache?.get(key);
      if (hit) return { features: hit, cached: true };
      const t = performance.now();
      const record = await readImage(path);
      const input = preprocessForNetwork(record, { channels: session.channels, size: settings.size, fit: settings.fit });
      const out = await session.run(input.data, 1, input.height, input.width);
      const features = featuresFromEmbedding(out.embedding, { channels: out.shape.embedDim, height: out.shape.h, width: out.shape.w }, { source: { ...input.source, geometry: imageGeometryOf(record) }, scale: input.scale, sigma: settings.sigma });
      networkMs += performance.now() - t;
      cache?.put(key, features);
      return { features, cached: false };
    };

    const template = withDenseCentreEmbedding((await featuresOf(opts.templateImage)).features);
    const queries = templateQueries(template, opts.templatePoints);
    const images: PropagationJobResult['table']['images'] = [];
    const failures: PropagationJobResult['failures'] = [];
    let cancelled = false;
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
        const points = propagateToImage(template, queries, features, { consensus: settings.consensus, consensusRadius: opts.consensusRadius });
        propagateMs += performance.now() - t;
        images.push({ image: name, width: features.source.width, height: features.source.height, geometry: features.source.geometry, points });
        opts.onProgress?.({ done: i + 1, total: opts.images.length, image: name, cached });
      } catch (err) {
        failures.push({ image: img.path, error: err instanceof Error ? err.message : String(err) });
        opts.onProgress?.({ done: i + 1, total: opts.images.length, image: name, cached: false });
      }
    }
    return {
      table: { landmarks: opts.landmarks, images },
      failures,
      settings,
      cancelled,
      timing: { totalMs: performance.now() - t0, networkMs, propagateMs, cachedImages, executionProvider: session.executionProvider },
    };
  } finally {
    await session.dispose();
  }
}
