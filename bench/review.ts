/**
 * `npm run bench -- review --work <dir> [--sets spine,hand] [--reviewed 0,1,2,4,8,16] [--spine-targets N]
 *                          [--hand-folds N] [--model-spine RUN] [--model-hand RUN]`
 *
 * "Review that teaches", simulated: a user reviews the images in the app's queue order (least confident
 * first, renderer/src/modes/review/reviewQueue.ts) and moves every point to the truth; each reviewed
 * image becomes a labelled template, and the rest is propagated again from all of them (as Review's
 * "Improve the rest" does: main/jobs/extraTemplates.ts fuses the templates' answers). After r reviewed
 * images (r = 0 is one-shot) it reports, for the images NOT yet reviewed: MRE, median, SDR, Spearman ρ
 * of confidence vs error; the points a user would still have to move (error above the app's default
 * tolerance, calibration.ts) and the points moved so far; and calibration: P(off | confidence) fitted
 * (isotonic) on the reviewed images' predictions, against the observed rate on the rest, per bin.
 *
 * Spine: template = the first training image, queue over the test images (or the first N). Hand:
 * leave-one-out — each of the 9 images is the template once, the queue is the other 8; the folds'
 * points are pooled. Models: <work>/<set>/default (bench landmarks' product default), or --model-*.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { calibrate, defaultTolerancePx, offRateAt } from '../main/engine/landmarks/calibration';
import { errorStats, evaluateLandmarks, imageStem, spearmanRho, type PointError } from '../main/engine/landmarks/metrics';
import type { ImageLandmarks, Point } from '../main/engine/landmarks/types';
import { readLandmarkFile } from '../main/io/landmarks';
import { runPropagation } from '../main/jobs/landmarkPropagation';
import { queueEntries, sortedImageIds } from '../renderer/src/modes/review/reviewQueue';
import { dataDir, spineSet, type LandmarkSet } from './landmarks';

const log = (s: string) => process.stderr.write(s + '\n');

export interface ReviewBenchOptions {
  work: string;
  sets: Array<'hand' | 'spine'>;
  /** Numbers of reviewed images at which the rest is measured (ascending; 0 = one-shot). */
  reviewed: number[];
  spineTargets?: number;
  /** Hand: how many leave-one-out folds (default all 9). */
  handFolds?: number;
  models?: Partial<Record<'hand' | 'spine', string>>;
  cacheDir: string;
}

/** Observed against expected share of points off by more than the tolerance, per confidence bin. */
export interface CalibrationBin {
  from: number;
  to: number;
  points: number;
  expected: number | null;
  observed: number;
}

export interface ReviewRow {
  set: string;
  method: string;
  reviewed: number;
  /** Images measured (not yet reviewed), summed over folds. */
  images: number;
  points: number;
  mrePx: number;
  medianPx: number;
  /** As % of the image height (spine). */
  mreHeight?: number;
  medianHeight?: number;
  sdr: Array<{ radiusPx: number; rate: number }>;
  rho: number | null;
  tolerancePx: number;
  /** Points of the rest off by more than the tolerance: what the user still has to move. */
  toCorrect: number;
  /** Points the user moved on the reviewed images (off by more than the tolerance when reviewed). */
  corrected: number;
  calibration: CalibrationBin[];
  /** The reviewed images, in the order the user took them (per fold). */
  reviewedImages: string[][];
  seconds: number;
}

const RADII = [10, 20, 40];
const BIN_EDGES = [0, 0.2, 0.4, 0.6, 0.8, 1.0001];

export interface FoldState {
  set: LandmarkSet;
  /** Current predictions of every target (reviewed ones keep the prediction they had when reviewed). */
  predictions: Map<string, ImageLandmarks>;
  reviewed: string[];
  corrected: number;
  /** (confidence, error) of the reviewed images' points as predicted: what calibration learns from. */
  history: Array<{ confidence: number; error: number }>;
}

function truthOf(set: LandmarkSet, name: string): Array<Point | null> {
  const im = set.truth.images.find((i) => i.image === name);
  if (!im) throw new Error(`${set.name}: no truth for ${name}`);
  return im.points;
}

function pointErrors(set: LandmarkSet, images: ImageLandmarks[]): PointError[] {
  const names = new Set(images.map((i) => i.image));
  const truth = { landmarks: set.truth.landmarks, images: set.truth.images.filter((i) => names.has(i.image)) };
  return evaluateLandmarks({ landmarks: set.landmarks, images }, truth, { heightFraction: set.heightFraction, radiiPx: RADII }).points;
}

async function propagate(set: LandmarkSet, model: string, state: FoldState, cacheDir: string): Promise<number> {
  const t = performance.now();
  const remaining = set.targets.filter((x) => !state.reviewed.includes(x.name));
  const extraTemplates = state.reviewed.map((name) => ({ image: set.targets.find((x) => x.name === name)!.path, points: truthOf(set, name) }));
  const res = await runPropagation({
    model, templateImage: set.templateImage, landmarks: set.landmarks, templatePoints: set.templatePoints, images: remaining, cacheDir,
    extraTemplates: extraTemplates.length ? extraTemplates : undefined,
    onProgress: (e) => e.done % 32 === 0 && log(`  ${set.name}, ${state.reviewed.length} reviewed: ${e.done}/${e.total}`),
  });
  if (res.failures.length) log(`  ${set.name}: ${res.failures.length} images failed: ${res.failures[0].error}`);
  for (const im of res.table.images) state.predictions.set(im.image, im);
  return (performance.now() - t) / 1000;
}

/** The user reviews the next `count` images of the queue: every point off by more than the tolerance is moved to the truth. */
export function review(state: FoldState, count: number, tolerancePx: number) {
  const open = [...state.predictions.values()].filter((im) => !state.reviewed.includes(im.image));
  const entries = queueEntries(
    open.map((im) => ({ imageId: im.image, accepted: false, points: im.points.map((p) => ({ status: 'predicted' as const, confidence: p?.confidence ?? undefined })) })),
    undefined,
  );
  const next = sortedImageIds(entries).slice(0, count);
  const errors = pointErrors(state.set, next.map((n) => state.predictions.get(n)!));
  for (const e of errors) {
    state.history.push({ confidence: e.predicted.confidence ?? 0, error: e.errorPx });
    if (e.errorPx > tolerancePx) state.corrected++;
  }
  state.reviewed.push(...next);
}

export function calibrationBins(history: FoldState['history'], rest: PointError[], tolerancePx: number): CalibrationBin[] {
  const fit = history.length ? calibrate(history, tolerancePx) : null;
  const bins: CalibrationBin[] = [];
  for (let b = 0; b + 1 < BIN_EDGES.length; b++) {
    const inBin = rest.filter((p) => (p.predicted.confidence ?? 0) >= BIN_EDGES[b] && (p.predicted.confidence ?? 0) < BIN_EDGES[b + 1]);
    if (!inBin.length) continue;
    const expected = fit ? inBin.reduce((s, p) => s + (offRateAt(fit, p.predicted.confidence ?? 0) ?? 0), 0) / inBin.length : null;
    bins.push({ from: BIN_EDGES[b], to: Math.min(1, BIN_EDGES[b + 1]), points: inBin.length, expected, observed: inBin.filter((p) => p.errorPx > tolerancePx).length / inBin.length });
  }
  return bins;
}

function row(set: string, method: string, reviewed: number, folds: Array<{ state: FoldState; rest: PointError[] }>, tolerancePx: number, seconds: number): ReviewRow {
  const points = folds.flatMap((f) => f.rest);
  const px = errorStats(points.map((p) => p.errorPx));
  const height = points.every((p) => p.errorHeightFraction !== undefined) ? errorStats(points.map((p) => p.errorHeightFraction! * 100)) : null;
  const withConfidence = points.filter((p) => Number.isFinite(p.predicted.confidence));
  return {
    set, method, reviewed,
    images: folds.reduce((s, f) => s + new Set(f.rest.map((p) => p.image)).size, 0),
    points: points.length,
    mrePx: px.mean ?? NaN, medianPx: px.median ?? NaN,
    mreHeight: height?.mean ?? undefined, medianHeight: height?.median ?? undefined,
    sdr: RADII.map((r) => ({ radiusPx: r, rate: points.filter((p) => p.errorPx <= r).length / Math.max(1, points.length) })),
    rho: spearmanRho(withConfidence.map((p) => p.predicted.confidence!), withConfidence.map((p) => p.errorPx)),
    tolerancePx,
    toCorrect: points.filter((p) => p.errorPx > tolerancePx).length,
    corrected: folds.reduce((s, f) => s + f.state.corrected, 0),
    calibration: calibrationBins(folds.flatMap((f) => f.state.history), points, tolerancePx),
    reviewedImages: folds.map((f) => [...f.state.reviewed]),
    seconds,
  };
}

/** One queue, reviewed step by step; the rest measured after each count in `counts`. */
async function simulate(sets: LandmarkSet[], model: string, counts: number[], cacheDir: string, label: string): Promise<ReviewRow[]> {
  const heights = sets.flatMap((s) => s.truth.images.map((i) => i.height ?? 0)).filter((h) => h > 0);
  const tolerancePx = defaultTolerancePx(heights);
  const states: FoldState[] = sets.map((set) => ({ set, predictions: new Map(), reviewed: [], corrected: 0, history: [] }));
  const rows: ReviewRow[] = [];
  for (const r of [...counts].sort((a, b) => a - b)) {
    let seconds = 0;
    const folds: Array<{ state: FoldState; rest: PointError[] }> = [];
    for (const state of states) {
      const n = Math.min(r, state.set.targets.length - 1);
      if (state.predictions.size === 0) seconds += await propagate(state.set, model, state, cacheDir);
      if (n > state.reviewed.length) {
        review(state, n - state.reviewed.length, tolerancePx);
        seconds += await propagate(state.set, model, state, cacheDir);
      }
      const rest = [...state.predictions.values()].filter((im) => !state.reviewed.includes(im.image));
      folds.push({ state, rest: pointErrors(state.set, rest) });
    }
    const out = row(label, 'fusion of the reviewed images', r, folds, tolerancePx, seconds);
    log(`row ${JSON.stringify({ ...out, calibration: undefined, reviewedImages: undefined })}`);
    rows.push(out);
  }
  return rows;
}

/** Hand, leave-one-out: fold k's template is the k-th image of the truth file, its queue the other 8. */
async function handFolds(limit?: number): Promise<LandmarkSet[]> {
  const dir = join(dataDir(), 'landmarks', 'hand');
  const truth = await readLandmarkFile(join(dir, 'landmarks.csv'));
  const file = (name: string) => join(dir, `${imageStem(name)}.png`);
  return truth.images.slice(0, limit ?? truth.images.length).map((entry) => {
    const others = truth.images.filter((i) => i !== entry);
    return {
      name: `hand-${imageStem(entry.image)}`, trainImages: dir, templateImage: file(entry.image), templatePoints: entry.points, landmarks: truth.landmarks,
      targets: others.map((i) => ({ path: file(i.image), name: i.image })),
      truth: { ...truth, images: others }, heightFraction: false,
    };
  });
}

export async function reviewBench(o: ReviewBenchOptions): Promise<{ rows: ReviewRow[]; notes: string[] }> {
  if (!existsSync(dataDir())) throw new Error(`real data folder not found at ${dataDir()} (set LD_STUDIO_DATA)`);
  const rows: ReviewRow[] = [];
  const notes: string[] = [];
  for (const name of o.sets) {
    const model = o.models?.[name] ?? join(o.work, name, 'default');
    if (!existsSync(model)) {
      notes.push(`${name}: no model at ${model} (train it with \`npm run bench -- landmarks --train\`, or pass --model-${name})`);
      continue;
    }
    const sets = name === 'spine' ? [await spineSet(o.spineTargets)] : await handFolds(o.handFolds);
    log(`review: ${name}, ${sets.length} queue(s) of ${sets[0].targets.length} images, reviewed ${o.reviewed.join(', ')}`);
    rows.push(...(await simulate(sets, model, o.reviewed, join(o.cacheDir, name), name === 'spine' ? 'spine' : `hand (leave-one-out, ${sets.length} folds)`)));
  }
  return { rows, notes };
}

export function formatReviewTable(rows: ReviewRow[]): string {
  const pct = (v: number) => `${Math.round(v * 100)}`;
  const f1 = (v: number | undefined) => (v === undefined ? '' : v.toFixed(2));
  const lines = ['| set | method | reviewed | images | MRE px (% h) | median px (% h) | SDR 10/20/40 % | ρ | to correct / points (tol px) | moved so far | s |', '|---|---|---|---|---|---|---|---|---|---|---|'];
  for (const r of rows) {
    lines.push(
      `| ${r.set} | ${r.method} | ${r.reviewed} | ${r.images} | ${r.mrePx.toFixed(1)}${r.mreHeight !== undefined ? ` (${f1(r.mreHeight)} %)` : ''} | ${r.medianPx.toFixed(1)}${r.medianHeight !== undefined ? ` (${f1(r.medianHeight)} %)` : ''} | ${r.sdr.map((s) => pct(s.rate)).join(' / ')} | ${r.rho === null ? '—' : r.rho.toFixed(2)} | ${r.toCorrect} / ${r.points} (${r.tolerancePx}) | ${r.corrected} | ${r.seconds.toFixed(0)} |`,
    );
  }
  lines.push('', 'Calibration (fitted on the reviewed images, observed on the rest): share off by more than the tolerance per confidence bin, expected / observed %');
  for (const r of rows.filter((x) => x.reviewed > 0)) {
    lines.push(`- ${r.set}, ${r.reviewed} reviewed: ${r.calibration.map((b) => `[${b.from.toFixed(1)}, ${b.to.toFixed(1)}) n=${b.points}: ${b.expected === null ? '—' : pct(b.expected)} / ${pct(b.observed)}`).join('; ')}`);
  }
  return lines.join('\n');
}
