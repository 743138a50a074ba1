/**
 * `npm run bench -- landmarks --work <dir> [--train] [--budgets 10,30,60] [--ablation-minutes 10]
 *                             [--sets hand,spine] [--ablation-sets hand] [--spine-targets N] [--speed-images N]
 *                             [--engine torch|tfjs] [--training-roles paper,ablate-…|none] [--variants pseudo,affine,…|none]`
 *
 * One-shot landmark accuracy of LD propagation beside its baselines, all in one process, on the team's
 * real data: hand (template 3167 → the other 8 images) and spine (the first training image → the 128
 * test images; errors also as a fraction of image height).
 * Rows: the template's coordinates scaled to the target, multi-scale NCC, NCC with the same affine
 * shape consensus as LD (and with the same pseudo-templates), LD plain (the paper's recipe and its plain argmax), the product default
 * (`--preset landmarks`, default propagation) at each pretraining budget, one row per training
 * ablation (one setting back to the paper's, same budget) and per propagation ablation (consensus,
 * cascade, refinement). Runs live in <work>/<set>/<role> (landmarkRuns.ts); `--train` trains the
 * missing ones first (hours on a CPU: one at a time). Plus the speed goal: 19 landmarks propagated to
 * 150 radiographs with a loaded model, features not cached, in a fresh process.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { greyFromRecord, NccMatcher, scaledTemplate } from '../main/engine/landmarks/baselines';
import { evaluateLandmarks, imageStem, type LandmarkEvaluation } from '../main/engine/landmarks/metrics';
import type { ImageLandmarks, LandmarkTable, Point } from '../main/engine/landmarks/types';
import { choosePseudoTemplates, fuseAnswers } from '../main/engine/landmarks/fusion';
import { readImage } from '../main/io';
import { DEFAULT_PSEUDO_TEMPLATES, type PseudoTemplateOptions } from '../main/jobs/extraTemplates';
import { runPropagation, type PropagationJobOptions } from '../main/jobs/landmarkPropagation';
import { readImageSize, readLandmarkFile, readSpineCsvFiles } from '../main/io/landmarks';
import { readRunInfo, trainDefault, trainingAblations, trainRole, wallMinutesTo, type TrainContext } from './landmarkRuns';

const log = (s: string) => process.stderr.write(s + '\n');

export const dataDir = () => resolve(process.env.LD_STUDIO_DATA ?? join(__dirname, '..', '..', '..', 'shared', 'data'));

export interface LandmarkSet {
  name: string;
  /** Folder of the images the set's LD models are pretrained on (unlabelled use). */
  trainImages: string;
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
  return {
    name: 'hand', trainImages: dir, templateImage: join(dir, '3167.png'), templatePoints: entry.points, landmarks: truth.landmarks, targets,
    truth: { ...truth, images: truth.images.filter((i) => i !== entry) }, heightFraction: false,
  };
}

/** Spine: template = the first training image; targets = the test split (or, with `split: 'validation'`, training images 1… for choosing settings). */
export async function spineSet(limit?: number, split: 'test' | 'validation' = 'test'): Promise<LandmarkSet> {
  const dir = join(dataDir(), 'landmarks', 'spine');
  const read = (s: string) =>
    readSpineCsvFiles(join(dir, 'labels', s, 'landmarks.csv'), join(dir, 'labels', s, 'filenames.csv'), (name) => readImageSize(join(dir, 'images', s, name)));
  const training = await read('training');
  const template = training.images[0];
  const source = split === 'test' ? await read('test') : { ...training, images: training.images.slice(1) };
  const folder = split === 'test' ? 'test' : 'training';
  const images = source.images.slice(0, limit ?? source.images.length);
  return {
    name: split === 'test' ? 'spine' : 'spine-validation',
    trainImages: join(dir, 'images', 'training'),
    templateImage: join(dir, 'images', 'training', template.image),
    templatePoints: template.points,
    landmarks: source.landmarks,
    targets: images.map((i) => ({ path: join(dir, 'images', folder, i.image), name: i.image })),
    truth: { landmarks: source.landmarks, images },
    heightFraction: true,
  };
}

export interface MethodResult {
  set: string;
  method: string;
  /** Pretraining: budget minutes and steps, when the row has a model. */
  training?: { minutes: number | null; steps: number; wallMinutes: number | null };
  seconds: number;
  evaluation: LandmarkEvaluation;
}

export const BENCH_RADII_PX = [10, 20, 40];

function evaluate(set: LandmarkSet, images: ImageLandmarks[]): LandmarkEvaluation {
  return evaluateLandmarks({ landmarks: set.landmarks, images }, set.truth, { heightFraction: set.heightFraction, radiiPx: BENCH_RADII_PX });
}

async function baselines(set: LandmarkSet, pseudo: PseudoTemplateOptions | false): Promise<MethodResult[]> {
  const templateRecord = await readImage(set.templateImage);
  const templateSize = { width: templateRecord.width, height: templateRecord.height };
  let t = performance.now();
  const scaled: ImageLandmarks[] = [];
  for (const target of set.targets) {
    const size = await readImageSize(target.path);
    scaled.push({ image: target.name, width: size.width, height: size.height, points: scaledTemplate(set.templatePoints, templateSize, size) });
  }
  const out: MethodResult[] = [{ set: set.name, method: 'template scaled to the target', seconds: (performance.now() - t) / 1000, evaluation: evaluate(set, scaled) }];
  const grey = greyFromRecord(templateRecord);
  for (const consensus of ['none', 'affine', 'dense'] as const) {
    t = performance.now();
    const matcher = new NccMatcher(grey, set.templatePoints, { consensus });
    const found: ImageLandmarks[] = [];
    for (const [i, target] of set.targets.entries()) {
      const record = await readImage(target.path);
      found.push({ image: target.name, width: record.width, height: record.height, points: matcher.match(greyFromRecord(record)) });
      if ((i + 1) % 16 === 0) log(`  ncc (${consensus}) ${set.name}: ${i + 1}/${set.targets.length}`);
    }
    const method = consensus === 'none' ? 'multi-scale NCC' : `multi-scale NCC + shape consensus (${consensus}, as LD's ${consensus === 'dense' ? 'default' : 'affine option'})`;
    out.push({ set: set.name, method, seconds: (performance.now() - t) / 1000, evaluation: evaluate(set, found) });
    if (consensus === 'dense' && pseudo) {
      t = performance.now();
      const fused = await nccWithPseudoTemplates(set, found, pseudo);
      out.push({ set: set.name, method: `${method} + ${pseudo.count} pseudo-templates (as LD's)`, seconds: (performance.now() - t) / 1000 + out[out.length - 1].seconds, evaluation: evaluate(set, fused) });
    }
  }
  return out;
}

/**
 * NCC's control for LD's pseudo-templates (main/jobs/pseudoTemplates.ts): the same choice of extra
 * templates (NCC's own most confident answers) and the same fusion, over NCC + dense consensus.
 */
async function nccWithPseudoTemplates(set: LandmarkSet, firstPass: ImageLandmarks[], opts: PseudoTemplateOptions): Promise<ImageLandmarks[]> {
  const mean = (im: ImageLandmarks) => {
    const c = im.points.filter((p) => p).map((p) => p!.confidence ?? 0);
    return c.length ? c.reduce((a, b) => a + b, 0) / c.length : null;
  };
  const chosen = choosePseudoTemplates(firstPass.map(mean), opts.count);
  const matchers = await Promise.all(
    chosen.map(async (k) => ({ k, matcher: new NccMatcher(greyFromRecord(await readImage(set.targets[k].path)), firstPass[k].points, { consensus: 'dense' }) })),
  );
  const out: ImageLandmarks[] = [];
  for (const [i, target] of set.targets.entries()) {
    const grey = greyFromRecord(await readImage(target.path));
    const answers = matchers.filter((m) => m.k !== i).map((m) => m.matcher.match(grey));
    const im = firstPass[i];
    const fused = fuseAnswers(im.points, answers, opts.templateWeight, { x: 1 / grey.width, y: 1 / grey.height });
    out.push({ ...im, points: im.points.map((p, k) => (p && fused[k] ? { ...p, ...fused[k]!.point } : p)) });
    if ((i + 1) % 16 === 0) log(`  ncc (dense, pseudo-templates) ${set.name}: ${i + 1}/${set.targets.length}`);
  }
  return out;
}

export type Propagation = Pick<PropagationJobOptions, 'consensus' | 'cascade' | 'refine' | 'pseudoTemplates'>;

/** The product's propagation defaults (PropagationJobOptions): what `propagate` does without options. */
export const DEFAULT_PROPAGATION: Propagation = {};
/** The paper's one-shot search: plain argmax, no cascade. */
export const PAPER_PROPAGATION: Propagation = { consensus: 'none', cascade: false, refine: 'none', pseudoTemplates: false };

/** The pseudo-template row's settings, shared with NCC's control row. */
const PSEUDO_ROW: PseudoTemplateOptions = { ...DEFAULT_PSEUDO_TEMPLATES, gate: null };

/** One propagation setting at a time away from the default: key (for --variants), label, options. */
export const PROPAGATION_VARIANTS: Array<[string, string, Propagation]> = [
  // every point fused (no gate), as NCC's control row can do it too
  ['pseudo', `plus ${PSEUDO_ROW.count} pseudo-templates, every point fused (--pseudo-templates ${PSEUDO_ROW.count} --pseudo-gate none)`, { pseudoTemplates: PSEUDO_ROW }],
  ['affine', 'consensus: affine instead of dense', { consensus: 'affine' }],
  ['none', 'consensus: none (plain argmax)', { consensus: 'none' }],
  ['cascade-off', 'cascade off', { cascade: false }],
  ['refine-off', 'NCC refinement off', { refine: 'none' }],
  ['global-only', 'cascade and refinement off (global level only)', { cascade: false, refine: 'none' }],
];

async function ld(set: LandmarkSet, run: string, step: number | undefined, method: string, p: Propagation, cacheDir: string): Promise<MethodResult> {
  const t = performance.now();
  const res = await runPropagation({
    model: run, step, templateImage: set.templateImage, landmarks: set.landmarks, templatePoints: set.templatePoints, images: set.targets, cacheDir, ...p,
    onProgress: (e) => e.done % 16 === 0 && log(`  ${method} (${set.name}): ${e.done}/${e.total}`),
  });
  if (res.failures.length) log(`  ${method} (${set.name}): ${res.failures.length} images failed: ${res.failures[0].error}`);
  const info = readRunInfo(run)!;
  const perStep = (info.settings.budget as { secondsPerStep?: number } | undefined)?.secondsPerStep;
  const steps = step ?? info.completedSteps;
  return {
    set: set.name, method, seconds: (performance.now() - t) / 1000, evaluation: evaluate(set, res.table.images),
    training: { minutes: perStep ? Math.round((steps * perStep) / 6) / 10 : null, steps, wallMinutes: wallMinutesTo(run, steps) },
  };
}

export interface SpeedResult {
  images: number;
  landmarks: number;
  seconds: number;
  networkSeconds: number;
  propagateSeconds: number;
  meanSourceSize: string;
  /** Network time of the global level and of each cascade level, seconds. */
  levels?: number[];
  /** The extra-template pass, seconds (network included). */
  extraTemplateSeconds?: number;
}

/** The speed goal: 19 landmarks, 150 radiographs (the hand images, cycled), no feature cache. */
export async function speed(model: string, count: number, p: Propagation = DEFAULT_PROPAGATION): Promise<SpeedResult> {
  const set = await handSet();
  const sources = [set.templateImage, ...set.targets.map((t) => t.path)];
  const images = Array.from({ length: count }, (_, i) => ({ path: sources[i % sources.length], name: `${i}.png` }));
  const sizes = await Promise.all(sources.map((path) => readImageSize(path)));
  const t = performance.now();
  const res = await runPropagation({ model, templateImage: set.templateImage, landmarks: set.landmarks.slice(0, 19), templatePoints: set.templatePoints.slice(0, 19), images, cacheDir: null, ...p });
  return {
    images: res.table.images.length,
    landmarks: 19,
    seconds: (performance.now() - t) / 1000,
    networkSeconds: res.timing.networkMs / 1000,
    propagateSeconds: res.timing.propagateMs / 1000,
    meanSourceSize: `${Math.round(sizes.reduce((s, z) => s + z.width, 0) / sizes.length)}×${Math.round(sizes.reduce((s, z) => s + z.height, 0) / sizes.length)}`,
    levels: res.timing.levelNetworkMs?.map((ms) => ms / 1000),
    extraTemplateSeconds: res.timing.extraTemplateMs / 1000,
  };
}

export interface LandmarkBenchOptions {
  /** Folder of the benchmark's runs: <work>/<set>/<role>. */
  work: string;
  /** Train the runs that are missing (hours on a CPU). */
  train: boolean;
  /** Pretraining budgets of the product default, minutes. */
  budgets: number[];
  /** Budget of each training ablation, minutes (compared with the default's checkpoint for it). */
  ablationMinutes: number;
  sets: Array<'hand' | 'spine'>;
  /** Sets that get the one-change training ablations (default: every set; the paper's row always runs). */
  ablationSets?: Array<'hand' | 'spine'>;
  /** Training roles to run (landmarkRuns.ts: paper, ablate-…; default all). */
  trainingRoles?: string[];
  /** Propagation ablations to run, by key (PROPAGATION_VARIANTS; default all). */
  variants?: string[];
  spineTargets?: number;
  speedImages?: number;
  cacheDir: string;
  /** The CLI bundle that trains (out/cli/cli.js). */
  cli: string;
  /** Engine of the runs it trains (default torch). */
  engine?: 'torch' | 'tfjs';
  /** Runs the speed case (default: in this process). */
  timeSpeed?: (model: string, images: number) => SpeedResult | Promise<SpeedResult>;
}

export async function landmarkBench(o: LandmarkBenchOptions) {
  if (!existsSync(dataDir())) throw new Error(`real data folder not found at ${dataDir()} (set LD_STUDIO_DATA)`);
  const results: MethodResult[] = [];
  // each row as it is measured: a run of hours keeps what it measured if it is stopped
  const push = results.push.bind(results);
  results.push = (...rows: MethodResult[]) => {
    for (const r of rows) log(`row ${JSON.stringify({ ...r, evaluation: { ...r.evaluation, points: undefined } })}`);
    return push(...rows);
  };
  const notes: string[] = [];
  const budgets = [...o.budgets].sort((a, b) => a - b);
  const main = budgets.includes(30) ? 30 : budgets[budgets.length - 1];
  let speedModel: { run: string; step?: number } | null = null;
  for (const name of o.sets) {
    const set = name === 'hand' ? await handSet() : await spineSet(o.spineTargets);
    log(`landmarks: ${set.name}, ${set.targets.length} targets, ${set.landmarks.length} landmarks`);
    results.push(...(await baselines(set, !o.variants || o.variants.includes('pseudo') ? PSEUDO_ROW : false)));
    const ctx: TrainContext = { cli: o.cli, engine: o.engine, images: set.trainImages, log };
    const dir = (role: string) => join(o.work, set.name, role);
    const cache = join(o.cacheDir, set.name);

    const defaultRun = dir('default');
    const steps = trainDefault(ctx, defaultRun, budgets, o.train);
    if (!steps?.size) {
      notes.push(`${set.name}: no default run in ${defaultRun} (add --train to train it: ${budgets[budgets.length - 1]} minutes, then the ablations)`);
      continue;
    }
    for (const b of budgets) {
      if (steps.has(b)) results.push(await ld(set, defaultRun, steps.get(b), `LD default (--preset landmarks), ${b} min`, DEFAULT_PROPAGATION, cache));
    }
    const mainStep = steps.get(main);
    if (mainStep !== undefined) {
      speedModel ??= { run: defaultRun, step: mainStep };
      // one propagation setting at a time away from the default (dense consensus, cascade, NCC refinement)
      for (const [key, label, p] of PROPAGATION_VARIANTS) {
        if (!o.variants || o.variants.includes(key)) results.push(await ld(set, defaultRun, mainStep, `  ${main} min, ${label}`, p, cache));
      }
    }
    const a = o.ablationMinutes;
    const base = steps.get(a);
    if (base === undefined) notes.push(`${set.name}: the ablations compare with the default at ${a} min, which is not among the budgets`);
    for (const role of trainingAblations()) {
      if (o.trainingRoles && !o.trainingRoles.includes(role.role)) continue;
      if (role.role !== 'paper' && o.ablationSets && !o.ablationSets.includes(set.name as 'hand' | 'spine')) continue;
      const run = dir(role.role);
      if (!trainRole(ctx, run, role, a, o.train)) {
        notes.push(`${set.name}: ${role.role} not trained (--train)`);
        continue;
      }
      const p = role.role === 'paper' ? PAPER_PROPAGATION : DEFAULT_PROPAGATION;
      results.push(await ld(set, run, undefined, `${role.label}, ${a} min`, p, cache));
    }
  }
  const speedResult = speedModel && o.speedImages ? await (o.timeSpeed ?? ((m, n) => speed(m, n)))(speedModel.run, o.speedImages) : null;
  return { results, speed: speedResult, notes };
}
