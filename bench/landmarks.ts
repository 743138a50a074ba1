/**
 * `npm run bench -- landmarks [--hand-model <run>] [--spine-model <run>] [--spine-targets N] [--speed-images N]`
 *
 * One-shot landmark accuracy of LD propagation against two baselines on the team's real data:
 * (a) the template's coordinates scaled to the target's size, (b) multi-scale NCC patch matching.
 * Hand: template 3167, the other 8 images as targets. Spine: the first training image as template,
 * the 128 test images as targets (errors in px and as a fraction of image height). Plus the speed
 * goal: 19 landmarks propagated to 150 radiographs with a loaded model, features not cached.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { greyFromRecord, NccMatcher, scaledTemplate } from '../main/engine/landmarks/baselines';
import { evaluateLandmarks, imageStem, type LandmarkEvaluation } from '../main/engine/landmarks/metrics';
import type { ConsensusMode } from '../main/engine/landmarks/propagate';
import type { ImageLandmarks, LandmarkTable, Point } from '../main/engine/landmarks/types';
import { readImage } from '../main/io';
import { runPropagation } from '../main/jobs/landmarkPropagation';
import { readImageSize, readLandmarkFile, readSpineCsvFiles } from '../main/landmarks';

const log = (s: string) => process.stderr.write(s + '\n');

export const dataDir = () => resolve(process.env.LD_STUDIO_DATA ?? join(__dirname, '..', '..', '..', 'shared', 'data'));

export interface LandmarkSet {
  name: string;
  templateImage: string;
  templatePoints: Array<Point | null>;
  landmarks: string[];
  targets: Array<{ path: string; name: string }>;
  truth: LandmarkTable;
  heightFraction: boolean;
}


export async function handSet(): Promise<LandmarkSet> {
  const dir = join(dataDir(), 'landmarks', 'hand');
  const truth = await readLandmarkFile(join(dir, 'landmarks.csv'));
  const entry = truth.images.find((i) => imageStem(i.image) === '3167')!;
  const targets = truth.images.filter((i) => i !== entry).map((i) => ({ path: join(dir, `${imageStem(i.image)}.png`), name: `${imageStem(i.image)}.png` }));
  return { name: 'hand', templateImage: join(dir, '3167.png'), templatePoints: entry.points, landmarks: truth.landmarks, targets, truth: { ...truth, images: truth.images.filter((i) => i !== entry) }, heightFraction: false };
}

export async function spineSet(limit?: number): Promise<LandmarkSet> {
  const dir = join(dataDir(), 'landmarks', 'spine');
  const read = (split: string) =>
    readSpineCsvFiles(join(dir, 'labels', split, 'landmarks.csv'), join(dir, 'labels', split, 'filenames.csv'), (name) => readImageSize(join(dir, 'images', split, name)));
  const [training, test] = [await read('training'), await read('test')];
  const template = training.images[0];
  const images = test.images.slice(0, limit ?? test.images.length);
  return {
    name: 'spine',
    templateImage: join(dir, 'images', 'training', template.image),
    templatePoints: template.points,
    landmarks: test.landmarks,
    targets: images.map((i) => ({ path: join(dir, 'images', 'test', i.image), name: i.image })),
    truth: { landmarks: test.landmarks, images },
    heightFraction: true,
  };
}

export interface MethodResult {
  set: string;
  method: string;
  seconds: number;
  evaluation: LandmarkEvaluation;
}

function evaluate(set: LandmarkSet, method: string, seconds: number, images: ImageLandmarks[]): MethodResult {
  const evaluation = evaluateLandmarks({ landmarks: set.landmarks, images }, set.truth, { heightFraction: set.heightFraction });
  return { set: set.name, method, seconds, evaluation };
}

async function baselines(set: LandmarkSet): Promise<MethodResult[]> {
  const templateRecord = await readImage(set.templateImage);
  const templateSize = { width: templateRecord.width, height: templateRecord.height };
  let t = performance.now();
  const scaled: ImageLandmarks[] = [];
  for (const target of set.targets) {
    const size = await readImageSize(target.path);
    scaled.push({ image: target.name, width: size.width, height: size.height, points: scaledTemplate(set.templatePoints, templateSize, size) });
  }
  const out = [evaluate(set, 'template scaled to the target', (performance.now() - t) / 1000, scaled)];

  t = performance.now();
  const matcher = new NccMatcher(greyFromRecord(templateRecord), set.templatePoints);
  const ncc: ImageLandmarks[] = [];
  for (const [i, target] of set.targets.entries()) {
    const record = await readImage(target.path);
    ncc.push({ image: target.name, width: record.width, height: record.height, points: matcher.match(greyFromRecord(record)) });
    if ((i + 1) % 16 === 0) log(`  ncc ${set.name}: ${i + 1}/${set.targets.length}`);
  }
  out.push(evaluate(set, 'multi-scale NCC patch matching', (performance.now() - t) / 1000, ncc));
  return out;
}

async function ld(set: LandmarkSet, model: string, consensus: ConsensusMode, cacheDir: string): Promise<MethodResult> {
  const t = performance.now();
  const res = await runPropagation({
    model, templateImage: set.templateImage, landmarks: set.landmarks, templatePoints: set.templatePoints, images: set.targets, consensus, cacheDir,
    onProgress: (e) => e.done % 16 === 0 && log(`  LD ${set.name} (${consensus}): ${e.done}/${e.total}`),
  });
  if (res.failures.length) log(`  LD ${set.name}: ${res.failures.length} images failed: ${res.failures[0].error}`);
  const r = evaluate(set, `LD (${consensus === 'affine' ? 'affine consensus' : 'plain argmax, as the paper'})`, (performance.now() - t) / 1000, res.table.images);
  return r;
}

/** Training description of a run directory, for the report. */
export function describeRun(runDir: string): string {
  const path = join(runDir, 'run.json');
  if (!existsSync(path)) return runDir;
  const info = JSON.parse(readFileSync(path, 'utf8')) as { engine: string; backend: string; completedSteps: number; settings: Record<string, unknown>; createdAt: string; updatedAt: string };
  const s = info.settings;
  const hours = (Date.parse(info.updatedAt) - Date.parse(info.createdAt)) / 3.6e6;
  return `${info.engine} on ${info.backend}, ${info.completedSteps} steps of stage ${String(s.stage)}, ${String(s.size)}², batch ${String(s.batch)}, centre σ ${String(s.centreSigma ?? 0)}, ${hours.toFixed(2)} h wall`;
}

export interface SpeedResult {
  images: number;
  landmarks: number;
  seconds: number;
  networkSeconds: number;
  propagateSeconds: number;
  meanSourceSize: string;
}

/** The speed goal: 19 landmarks, 150 radiographs (the hand images, cycled), no feature cache. */
export async function speed(model: string, count: number): Promise<SpeedResult> {
  const set = await handSet();
  const sources = [set.templateImage, ...set.targets.map((t) => t.path)];
  const images = Array.from({ length: count }, (_, i) => ({ path: sources[i % sources.length], name: `${i}.png` }));
  const sizes = await Promise.all(sources.map((p) => readImageSize(p)));
  const t = performance.now();
  const res = await runPropagation({ model, templateImage: set.templateImage, landmarks: set.landmarks.slice(0, 19), templatePoints: set.templatePoints.slice(0, 19), images, cacheDir: null });
  return {
    images: res.table.images.length,
    landmarks: 19,
    seconds: (performance.now() - t) / 1000,
    networkSeconds: res.timing.networkMs / 1000,
    propagateSeconds: res.timing.propagateMs / 1000,
    meanSourceSize: `${Math.round(sizes.reduce((s, z) => s + z.width, 0) / sizes.length)}×${Math.round(sizes.reduce((s, z) => s + z.height, 0) / sizes.length)}`,
  };
}

export interface LandmarkBenchOptions {
  handModel?: string;
  spineModel?: string;
  spineTargets?: number;
  speedImages?: number;
  cacheDir: string;
  /** Runs the speed case (default: in this process). */
  timeSpeed?: (model: string, images: number) => SpeedResult | Promise<SpeedResult>;
}

export async function landmarkBench(o: LandmarkBenchOptions) {
  if (!existsSync(dataDir())) throw new Error(`real data folder not found at ${dataDir()} (set LD_STUDIO_DATA)`);
  const results: MethodResult[] = [];
  const models: Record<string, string> = {};
  const notes: string[] = [];
  for (const [set, model] of [[await handSet(), o.handModel], [await spineSet(o.spineTargets), o.spineModel]] as const) {
    log(`landmarks: ${set.name}, ${set.targets.length} targets, ${set.landmarks.length} landmarks`);
    results.push(...(await baselines(set)));
    if (!model) {
      notes.push(`${set.name}: no --${set.name}-model given, so no LD rows (pretrain one, e.g. npx ld-studio pretrain --images <the set's images> --out <run> --centre-sensitive --stage 1)`);
      continue;
    }
    models[set.name] = describeRun(model);
    for (const consensus of ['none', 'affine'] as const) results.push(await ld(set, model, consensus, join(o.cacheDir, set.name)));
  }
  const speedModel = o.handModel ?? o.spineModel;
  const speedResult = speedModel && o.speedImages ? await (o.timeSpeed ?? speed)(speedModel, o.speedImages) : null;
  return { results, models, speed: speedResult, notes };
}
