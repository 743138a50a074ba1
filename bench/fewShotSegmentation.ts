/**
 * The segmentation benchmark's few-shot rows (issue 14, README → Shape-guided segmentation → few-shot):
 * for each k and each init, a segmentation head fine-tuned on k (image, mask) pairs — the first k spine
 * TRAINING images with their vertebral-body quadrilaterals — then the test images segmented with it;
 * Dice and HD95 against the test images' quadrilaterals at the original size.
 *
 * It runs the product's path, in this process: the same job code `ld-studio segment --train-images …`
 * runs (jobs/segmentationHead.ts learnAndSegment under runJob with the CLI's job host; the PyTorch
 * engine's `finetune-seg`; the one segmentation loop). Per k the training set is a folder as the CLI
 * takes it, under the work folder: `<work>/few-shot/k<k>/train-images/` (links to the images, read in
 * place) and `train-masks/<stem>.png` (0/255); each head goes to `<work>/few-shot/k<k>-<init>/segmentation-head/`
 * (replaced on every run). The notes give the equivalent CLI command.
 */
import { mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { basename, extname, join, resolve } from 'node:path';
import { vertebraMask } from '../main/engine/shapeGuided/quadMasks';
import { writeMaskFiles } from '../main/io/raster/maskPng';
import type { LandmarkTable } from '../main/io/landmarks';
import { cliJobHost } from '../main/cli/jobHost';
import { runJob } from '../main/jobs/runJob';
import { DEFAULT_HEAD_STEPS, initCheckpointOf, learnAndSegment, type HeadShape, type TrainingPair } from '../main/jobs/segmentationHead';
import { describeMissingTorch, findTorch } from '../main/jobs/torch/findPython';
import { Scores, type MethodRow } from './segmentationScores';

const log = (s: string) => process.stderr.write(s + '\n');

export type FewShotInit = 'model' | 'scratch';
export const FEW_SHOT_INITS: readonly FewShotInit[] = ['model', 'scratch'];
export const DEFAULT_FEW_SHOT_K = [2, 5, 10];

export interface FewShotOptions {
  /** The benchmark's work folder; everything goes under <work>/few-shot/. */
  work: string;
  /** The LD run (or .safetensors checkpoint) the 'model' heads start from. */
  model: string;
  ks: number[];
  inits: FewShotInit[];
  steps: number;
  seed: number;
  /** Network input (default: the CLI's — long side 256, the other from the training images' median aspect). */
  shape?: HeadShape;
  batch?: number;
  /** A Python with torch (default: found as the CLI finds it). */
  python?: string;
}

export interface SpineCase {
  path: string;
  im: LandmarkTable['images'][number];
}

export interface FewShotResult {
  rows: MethodRow[];
  notes: string[];
  details: Array<{ k: number; init: FewShotInit; runDir: string; trainImages: string; trainMasks: string; status: string; shape: string; lastLosses: Record<string, number> | null; perImage: Array<{ image: string; dice: number; hd95: number }>; failed: Array<{ image: string; reason: string }> }>;
}

/** `2,5,10` → [2, 5, 10] (positive integers). */
export function parseKs(text: string): number[] {
  const ks = text.split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  if (!ks.length || ks.some((k) => !Number.isInteger(k) || k < 1)) throw new Error(`--few-shot-k ${text}: give positive whole numbers, e.g. 2,5,10`);
  return ks;
}

/** `model,scratch` → the inits (each once, in the order given). */
export function parseInits(text: string): FewShotInit[] {
  const inits = [...new Set(text.split(',').map((s) => s.trim()).filter(Boolean))];
  const bad = inits.filter((i) => !FEW_SHOT_INITS.includes(i as FewShotInit));
  if (!inits.length || bad.length) throw new Error(`--few-shot-init ${text}: give model, scratch or both (model,scratch)`);
  return inits as FewShotInit[];
}

export const initLabel = (init: FewShotInit) => (init === 'model' ? 'LD init' : 'from scratch');

/** The CLI's training folders for k: links to the first k training images and their quadrilateral masks (0/255). */
async function trainingFolders(cases: SpineCase[], dir: string): Promise<{ images: string; masks: string; pairs: TrainingPair[] }> {
  const images = join(dir, 'train-images');
  const masks = join(dir, 'train-masks');
  // a fresh folder each time: a k of an earlier run with other images must not leave extra pairs behind
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(images, { recursive: true });
  mkdirSync(masks, { recursive: true });
  const pairs: TrainingPair[] = [];
  for (const { path, im } of cases) {
    const link = join(images, basename(path));
    symlinkSync(resolve(path), link);
    const { mask, width, height } = vertebraMask(im.points, im.width!, im.height!);
    const maskPath = join(masks, `${basename(path, extname(path))}.png`);
    await writeMaskFiles({ width, height, inside: mask.map((v) => (v ? 1 : 0)) }, { mask: maskPath });
    // as the CLI pairs them (cli/segment.ts trainingPairs): the image in --train-images, its <stem>.png
    pairs.push({ id: link, path: link, mask: { mask: maskPath } });
  }
  return { images, masks, pairs };
}

/**
 * The few-shot rows: for each k (ascending) and init, train a head on the first k of `training` and
 * score it on `tests`. Rows are named "few-shot k=<k>, LD init" / "…, from scratch".
 */
export async function fewShotRows(opts: FewShotOptions, training: SpineCase[], tests: SpineCase[], testDir: string): Promise<FewShotResult> {
  const out: FewShotResult = { rows: [], notes: [], details: [] };
  const discovery = findTorch(opts.python);
  if (!discovery.found) {
    out.notes.push(`few-shot rows skipped: they need the PyTorch engine: ${describeMissingTorch(discovery)}`);
    return out;
  }
  const python = discovery.found.interpreter;
  const needsModel = opts.inits.includes('model');
  const initCheckpoint = needsModel ? initCheckpointOf(opts.model) : null;
  const root = join(opts.work, 'few-shot');
  const ks = [...new Set(opts.ks)].sort((a, b) => a - b);
  const tooMany = ks.filter((k) => k > training.length);
  if (tooMany.length) throw new Error(`--few-shot-k ${tooMany.join(',')}: the training split has ${training.length} images`);
  const steps = opts.steps || DEFAULT_HEAD_STEPS;
  for (const k of ks) {
    const folders = await trainingFolders(training.slice(0, k), join(root, `k${k}`));
    for (const init of opts.inits) {
      const name = `few-shot k=${k}, ${initLabel(init)}`;
      const outDir = join(root, `k${k}-${init}`);
      mkdirSync(outDir, { recursive: true });
      log(`${name}: training ${steps} steps on ${k} image(s), then segmenting ${tests.length} test image(s)…`);
      const truthOf = new Map(tests.map((t) => [t.path, t.im]));
      const scores = new Scores();
      const perImage: FewShotResult['details'][number]['perImage'] = [];
      const failed: FewShotResult['details'][number]['failed'] = [];
      const host = cliJobHost({ stopping: 'stopping after this step or image' });
      const t0 = performance.now();
      const head = await runJob(host, (job) =>
        learnAndSegment(
          {
            pairs: folders.pairs, runDir: join(outDir, 'segmentation-head'), init: init === 'model' ? initCheckpoint : null, shape: opts.shape,
            steps, batch: opts.batch, seed: opts.seed, python, targets: tests.map((t) => ({ id: t.path, path: t.path })),
          },
          job,
          (r) => {
            if (r.error !== undefined) {
              failed.push({ image: basename(r.id), reason: r.error });
              return;
            }
            const im = truthOf.get(r.id)!;
            const truth = vertebraMask(im.points, r.mask.width, r.mask.height).mask;
            const s = scores.add(r.mask.inside, truth, r.mask.width, r.mask.height);
            perImage.push({ image: basename(r.id), ...s });
          },
        ),
      );
      const wall = (performance.now() - t0) / 1000;
      if (host.cancelled || head.status !== 'completed') throw new Error(`${name}: cancelled (${head.completedSteps} of ${steps} steps)`);
      const shape = `${head.shape.height}x${head.shape.width}`;
      out.rows.push({
        method: name, ...scores.summary(), steps: head.completedSteps, size: shape, trainSeconds: head.seconds, inferSeconds: wall - head.seconds,
        detail: `${k} training image(s), seed ${opts.seed}${failed.length ? `; ${failed.length} test image(s) failed` : ''}`,
      });
      out.details.push({
        k, init, runDir: head.runDir, trainImages: folders.images, trainMasks: folders.masks, status: head.status, shape, lastLosses: head.lastLosses ?? null, perImage, failed,
      });
      for (const f of failed) out.notes.push(`${name}: ${f.image} failed: ${f.reason}`);
    }
  }
  const modelText = needsModel ? `${resolve(opts.model)} (checkpoint ${initCheckpoint})` : '(none: from scratch only)';
  out.notes.push(
    `few-shot: the first k spine training images with their vertebral-body quadrilaterals; ${steps} steps, batch ${opts.batch ?? 4}, seed ${opts.seed}, ` +
      `network ${opts.shape ? `${opts.shape.height}x${opts.shape.width}` : "the CLI's default (long side 256, the training images' median aspect)"}, threshold 0.5; LD init from ${modelText}`,
  );
  out.notes.push(
    `few-shot rows as the CLI runs them: ld-studio segment --model <run> --train-images ${join(root, 'k<k>', 'train-images')} --train-masks ${join(root, 'k<k>', 'train-masks')} ` +
      `--images ${testDir} --out <dir> --init model|scratch --steps ${steps} --seed ${opts.seed}${opts.shape ? ` --size ${opts.shape.height}x${opts.shape.width}` : ''}${opts.batch ? ` --batch ${opts.batch}` : ''} (the bench scores the first ${tests.length} test image(s) in memory and writes no mask files)`,
  );
  return out;
}
