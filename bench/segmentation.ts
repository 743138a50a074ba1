/**
 * `npm run bench -- segmentation [--work DIR] [--parts ld,few-shot,otsu] [--test-images N]
 *                                 [--size 192] [--batch 2] [--steps 300] [--init RUN] [--slope S] [--select-images N] [--no-train]
 *                                 [--few-shot-k 2,5,10] [--few-shot-init model,scratch] [--few-shot-steps 300]
 *                                 [--few-shot-model RUN] [--few-shot-size HxW] [--few-shot-seed 0]`
 *
 * Segmentation of the vertebral bodies on the spine set (AASCE / SpineWeb 16): the reference is the
 * quadrilaterals of each vertebra's 4 corner landmarks (main/engine/shapeGuided/quadMasks.ts).
 * `--parts` picks which rows run (default all three); `--test-images N` scores the first N test images
 * (default all 128).
 *
 * ld — shape-guided LD (ld-method.md §5) against plain LD:
 * 1. Priors: the training split's quadrilateral masks (long side 768 px) → <work>/priors/*.png.
 * 2. Training (PyTorch engine, CPU): two stage-2 runs from the same stage-1 checkpoint (--init, default
 *    /work/runs/spine-cs256), same size, batch, steps and K = 8: "shape-guided" (--shape-prior <work>/priors)
 *    and "plain LD" (no prior). A run already complete in <work> is reused; a partial one is resumed.
 * 3. Test split: scores against the quadrilateral masks at the original image size for
 *    - shape-guided, cluster 0 (the one the prior constrains): attention a_0 > 0.5 and embedding/cos
 *      s_0 > 0.5 (§5.5), and the hard assignment argmax_k a_k = 0;
 *    - plain LD: for each of the three rules, the single cluster with the best mean Dice on the TRAINING
 *      split (at the network size), then its test scores; a short run's clusters are seldom crisp enough
 *      for a_k > 0.5, so the hard assignment is the fair reading of a plain LD model;
 *    - the same train-split choice for the shape-guided model (is cluster 0 the vertebrae?).
 *
 * few-shot — a segmentation head fine-tuned from k corrected masks (bench/fewShotSegmentation.ts, the
 * path of `ld-studio segment --train-images`): for each k in --few-shot-k, the first k TRAINING images
 * with their quadrilaterals; one row per init in --few-shot-init: "LD init" starts from
 * --few-shot-model (an LD run directory or .safetensors; default: --init), "from scratch" is the
 * control; --few-shot-steps (default 300) steps, seed --few-shot-seed (default 0), network
 * --few-shot-size (default the CLI's: long side 256 from the training images' median aspect, 256x80 on
 * spine). Training folders and heads under <work>/few-shot/.
 *
 * otsu — Otsu's threshold of the image (bright = foreground).
 *
 * Every row: Dice mean ± SD and HD95 (main/engine/shapeGuided/surfaceDistance.ts: 95th-percentile
 * boundary distance, the larger of the two directions) in original pixels and as % of the image's
 * height, per test image at its original size; images where a mask is empty are counted apart (Dice:
 * both empty; HD95: either empty); the steps, network size, training and inference seconds. Prints the
 * table; JSON in out/bench/segmentation.json.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { PNG } from 'pngjs';
import { baseSizeFor } from '../main/engine/data/prepare';
import { LdOnnxModel } from '../main/engine/infer/onnxModel';
import { dice, fillPolygons, vertebraMask, vertebraQuads } from '../main/engine/shapeGuided/quadMasks';
import type { HeadShape } from '../main/jobs/segmentationHead';
import { argmaxMap, DEFAULT_THRESHOLD, otsuThreshold, predictImage, toOriginalSize, type Prediction } from '../main/engine/shapeGuided/segment';
import { insideOf } from '../common/mask';
import { resampleToUnit } from '../main/engine/data/prepare';
import { readImage } from '../main/io';
import { readImageSize, readSpineCsvFiles, type LandmarkTable } from '../main/io/landmarks';
import { resolveModel } from '../main/jobs/modelSource';
import { dataDir } from './landmarks';
import { fewShotRows, type FewShotInit, type FewShotResult } from './fewShotSegmentation';
import { Scores, type MethodRow } from './segmentationScores';

export { formatSegmentationTable, type MethodRow } from './segmentationScores';

const log = (s: string) => process.stderr.write(s + '\n');

export interface SegmentationBenchOptions {
  work: string;
  size: number;
  batch: number;
  steps: number;
  init: string;
  clusters: number;
  slope?: number;
  selectImages?: number;
  testImages?: number;
  train: boolean;
  /** Which rows run (default all). */
  parts?: SegmentationPart[];
  fewShot?: {
    ks: number[];
    inits: FewShotInit[];
    steps: number;
    /** Default: `init`. */
    model?: string;
    shape?: HeadShape;
    seed: number;
  };
}

export type SegmentationPart = 'ld' | 'few-shot' | 'otsu';
export const SEGMENTATION_PARTS: readonly SegmentationPart[] = ['ld', 'few-shot', 'otsu'];

function writeGreyPng(path: string, data: Uint8Array, width: number, height: number): void {
  const png = new PNG({ width, height, colorType: 0, inputColorType: 0, inputHasAlpha: false });
  png.data = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  writeFileSync(path, PNG.sync.write(png, { colorType: 0, inputColorType: 0, inputHasAlpha: false }));
}

async function spineTables(): Promise<{ dir: string; training: LandmarkTable; test: LandmarkTable }> {
  const dir = join(dataDir(), 'landmarks', 'spine');
  const read = (split: string) =>
    readSpineCsvFiles(join(dir, 'labels', split, 'landmarks.csv'), join(dir, 'labels', split, 'filenames.csv'), (name) => readImageSize(join(dir, 'images', split, name)));
  return { dir, training: await read('training'), test: await read('test') };
}

/** The training split's vertebral-body masks as PNGs (long side 768), the shape prior. */
function writePriors(table: LandmarkTable, out: string): number {
  mkdirSync(out, { recursive: true });
  const existing = readdirSync(out).filter((f) => f.endsWith('.png')).length;
  if (existing === table.images.length) return existing;
  for (const [i, im] of table.images.entries()) {
    const scale = 768 / Math.max(im.width!, im.height!);
    const m = vertebraMask(im.points, im.width!, im.height!, scale);
    writeGreyPng(join(out, `${String(i).padStart(4, '0')}.png`), m.mask, m.width, m.height);
  }
  return table.images.length;
}

interface RunResult {
  status?: string;
  completedSteps?: number;
  seconds?: number;
}

function runCli(args: string[], logFile: string): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [join(__dirname, 'cli.js'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => {
      stderr += d;
      process.stderr.write(d);
    });
    child.on('error', reject);
    child.on('close', (code) => {
      writeFileSync(logFile, stderr);
      if (code !== 0) reject(new Error(`pretrain ${args.join(' ')} failed (exit ${code}); log: ${logFile}`));
      else resolvePromise(JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as RunResult);
    });
  });
}

/** Train (or resume, or reuse) one stage-2 run; returns its training seconds (summed over the sessions that made it). */
async function ensureRun(name: string, runDir: string, imagesDir: string, opts: SegmentationBenchOptions, extra: string[]): Promise<number> {
  const timesFile = join(runDir, 'bench-seconds.json');
  const times: number[] = existsSync(timesFile) ? JSON.parse(readFileSync(timesFile, 'utf8')) : [];
  const info = existsSync(join(runDir, 'run.json')) ? JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8')) : undefined;
  const done = info?.completedSteps ?? 0;
  if (done >= opts.steps) {
    log(`${name}: reusing ${runDir} (${done} steps)`);
    return times.reduce((a, b) => a + b, 0);
  }
  if (!opts.train) throw new Error(`${name}: ${runDir} has ${done} of ${opts.steps} steps and --no-train was given`);
  const common = ['--images', imagesDir, '--out', runDir, '--steps', String(opts.steps)];
  const args = info
    ? ['pretrain', ...common, '--resume']
    : ['pretrain', '--engine', 'torch', ...common, '--stage', '2', '--init-from', opts.init, '--size', String(opts.size), '--batch', String(opts.batch),
      '--clusters', String(opts.clusters), '--checkpoint-every', '50', ...extra];
  log(`${name}: ${info ? `resuming ${runDir} from ${done} steps` : `training ${runDir}`} (${opts.steps} steps)…`);
  const t0 = performance.now();
  await runCli(args, join(opts.work, `${name}.log`));
  times.push((performance.now() - t0) / 1000);
  writeFileSync(timesFile, JSON.stringify(times));
  return times.reduce((a, b) => a + b, 0);
}

/** Quadrilateral masks at the network size (the image squeezed to w × h, as the network sees it). */
function networkTruth(points: LandmarkTable['images'][number]['points'], width: number, height: number, w: number, h: number): Uint8Array {
  const sx = w / width;
  const sy = h / height;
  const quads = vertebraQuads(points).map((q) => q.map((p) => ({ x: (p.x + 0.5) * sx - 0.5, y: (p.y + 0.5) * sy - 0.5 })));
  return fillPolygons(quads, w, h);
}

export type Rule = 'attention' | 'cos' | 'argmax';
export const RULES: readonly Rule[] = ['attention', 'cos', 'argmax'];
const RULE_LABEL: Record<Rule, (k: number) => string> = {
  attention: (k) => `attention a_${k} > 0.5`,
  cos: (k) => `embedding cos s_${k} > 0.5`,
  argmax: (k) => `hard assignment argmax = ${k}`,
};

/** The probability-like map of cluster k under a rule, at the network size. */
function ruleMap(pred: Prediction, rule: Rule, k: number): Float32Array {
  const n = pred.width * pred.height;
  if (rule === 'attention') return pred.clusters.subarray(k * n, (k + 1) * n);
  if (rule === 'cos') return pred.softLabels.subarray(k * n, (k + 1) * n);
  return argmaxMap(pred.clusters, pred.clusterCount, k);
}

/** Per rule, the cluster with the best mean Dice over the given (training) images, at the network size. */
async function pickClusters(model: LdOnnxModel, images: Array<{ path: string; im: LandmarkTable['images'][number] }>, size: number): Promise<Record<Rule, { cluster: number; perCluster: number[] }>> {
  const sums = {} as Record<Rule, number[]>;
  const counts = {} as Record<Rule, number[]>;
  for (const [i, { path, im }] of images.entries()) {
    if (i % 50 === 0) log(`  cluster choice: image ${i + 1}/${images.length}`);
    const record = await readImage(path);
    const pred = await predictImage(model, record, { size, fit: 'square', cluster: 0 });
    const truth = networkTruth(im.points, record.width, record.height, pred.width, pred.height);
    for (const rule of RULES) {
      sums[rule] ??= new Array(pred.clusterCount).fill(0);
      counts[rule] ??= new Array(pred.clusterCount).fill(0);
      for (let k = 0; k < pred.clusterCount; k++) {
        const d = dice(insideOf(ruleMap(pred, rule, k), DEFAULT_THRESHOLD), truth);
        if (Number.isFinite(d)) {
          sums[rule][k] += d;
          counts[rule][k]++;
        }
      }
    }
  }
  const out = {} as Record<Rule, { cluster: number; perCluster: number[] }>;
  for (const rule of RULES) {
    const perCluster = sums[rule].map((sum, k) => sum / Math.max(1, counts[rule][k]));
    out[rule] = { cluster: perCluster.indexOf(Math.max(...perCluster)), perCluster };
  }
  return out;
}

type Case = { path: string; im: LandmarkTable['images'][number] };

/** Test Dice and HD95 at the original image size, per rule, each with its own cluster. */
async function testScores(model: LdOnnxModel, tests: Case[], size: number, clusters: Record<Rule, number>): Promise<{ scores: Record<Rule, Scores>; seconds: number }> {
  const out = { scores: { attention: new Scores(), cos: new Scores(), argmax: new Scores() } as Record<Rule, Scores>, seconds: 0 };
  const t0 = performance.now();
  for (const { path, im } of tests) {
    const record = await readImage(path);
    const truth = vertebraMask(im.points, record.width, record.height).mask;
    const pred = await predictImage(model, record, { size, fit: 'square', cluster: 0 });
    for (const rule of RULES) {
      const prob = toOriginalSize(ruleMap(pred, rule, clusters[rule]), pred.width, pred.height, record.width, record.height);
      out.scores[rule].add(insideOf(prob, DEFAULT_THRESHOLD), truth, record.width, record.height);
    }
  }
  out.seconds = (performance.now() - t0) / 1000;
  return out;
}

/** The shape-guided and plain LD rows (trains or resumes the two stage-2 runs in <work> first). */
async function ldRows(opts: SegmentationBenchOptions, dir: string, training: LandmarkTable, tests: Case[], rows: MethodRow[], notes: string[], details: Record<string, unknown>): Promise<void> {
  const priorsDir = join(opts.work, 'priors');
  const nPriors = writePriors(training, priorsDir);
  log(`priors: ${nPriors} training-split quadrilateral masks in ${priorsDir}`);

  const imagesDir = join(dir, 'images', 'training');
  const sgRun = join(opts.work, 'shape-guided');
  const ldRun = join(opts.work, 'plain-ld');
  const sgExtra = ['--shape-prior', priorsDir, ...(opts.slope !== undefined ? ['--disc-leaky-slope', String(opts.slope)] : [])];
  const sgTrain = await ensureRun('shape-guided', sgRun, imagesDir, opts, sgExtra);
  const ldTrain = await ensureRun('plain-ld', ldRun, imagesDir, opts, []);
  const sgInfo = JSON.parse(readFileSync(join(sgRun, 'run.json'), 'utf8'));
  const ldInfo = JSON.parse(readFileSync(join(ldRun, 'run.json'), 'utf8'));
  // inference at the base size the training crops came from (size·512/448, rounded to 16)
  const inferSize = Math.round(baseSizeFor(opts.size) / 16) * 16;
  const selectFrom = training.images.slice(0, opts.selectImages ?? training.images.length).map((im) => ({ path: join(dir, 'images', 'training', im.image), im }));
  Object.assign(details, { inferSize, priors: nPriors, selectImages: selectFrom.length });

  const sgModel = await LdOnnxModel.load(resolveModel(sgRun, undefined).source);
  const ldModel = await LdOnnxModel.load(resolveModel(ldRun, undefined).source);
  const fmt = (xs: number[]) => xs.map((d) => d.toFixed(3)).join(', ');
  try {
    log('shape-guided: test set, cluster 0…');
    const sg = await testScores(sgModel, tests, inferSize, { attention: 0, cos: 0, argmax: 0 });
    const sgSteps = sgInfo.completedSteps;
    for (const rule of RULES) {
      rows.push({ method: `shape-guided LD, ${RULE_LABEL[rule](0)}`, ...sg.scores[rule].summary(), steps: sgSteps, size: opts.size, trainSeconds: sgTrain, inferSeconds: sg.seconds });
    }

    log('plain LD: choosing the cluster on the training split…');
    const t0 = performance.now();
    const ldPick = await pickClusters(ldModel, selectFrom, inferSize);
    const pickSeconds = (performance.now() - t0) / 1000;
    for (const rule of RULES) log(`plain LD, ${rule}: cluster ${ldPick[rule].cluster} (training-split Dice per cluster ${fmt(ldPick[rule].perCluster)})`);
    const ld = await testScores(ldModel, tests, inferSize, { attention: ldPick.attention.cluster, cos: ldPick.cos.cluster, argmax: ldPick.argmax.cluster });
    const ldSteps = ldInfo.completedSteps;
    for (const rule of RULES) {
      rows.push({
        method: `plain LD, best cluster, ${RULE_LABEL[rule](ldPick[rule].cluster)}`, ...ld.scores[rule].summary(), steps: ldSteps, size: opts.size,
        trainSeconds: ldTrain, inferSeconds: ld.seconds + pickSeconds, detail: `chosen on ${selectFrom.length} training images (${pickSeconds.toFixed(0)} s)`,
      });
      notes.push(`plain LD, ${rule}: training-split Dice per cluster ${fmt(ldPick[rule].perCluster)}`);
    }
    details.plainLdTrainDice = ldPick;

    log('shape-guided: the same training-split choice (is cluster 0 the vertebrae?)…');
    const sgPick = await pickClusters(sgModel, selectFrom, inferSize);
    details.shapeGuidedTrainDice = sgPick;
    for (const rule of RULES) notes.push(`shape-guided, ${rule}: training-split Dice per cluster ${fmt(sgPick[rule].perCluster)} (best: ${sgPick[rule].cluster})`);
    if (RULES.some((rule) => sgPick[rule].cluster !== 0)) {
      const sgBest = await testScores(sgModel, tests, inferSize, { attention: sgPick.attention.cluster, cos: sgPick.cos.cluster, argmax: sgPick.argmax.cluster });
      for (const rule of RULES.filter((r) => sgPick[r].cluster !== 0)) {
        rows.push({ method: `shape-guided LD, best cluster (check), ${RULE_LABEL[rule](sgPick[rule].cluster)}`, ...sgBest.scores[rule].summary(), steps: sgSteps, size: opts.size, trainSeconds: sgTrain, inferSeconds: sgBest.seconds });
      }
    }
  } finally {
    await sgModel.dispose();
    await ldModel.dispose();
  }
  notes.push(`LD rows: inference at ${inferSize}² (the image squeezed to a square, as in training), probabilities resampled to the original size, threshold 0.5`);
  notes.push(`both LD runs: PyTorch engine on CPU, stage 2 from ${opts.init}, K = ${opts.clusters}, batch ${opts.batch}, ${opts.steps} steps at ${opts.size}²${opts.slope !== undefined ? `, discriminator slope ${opts.slope}` : ''}`);
}

/** Otsu's threshold of each test image (bright = foreground). */
async function otsuRow(tests: Case[]): Promise<MethodRow> {
  log('Otsu…');
  const t1 = performance.now();
  const scores = new Scores();
  for (const { path, im } of tests) {
    const record = await readImage(path);
    const grey = resampleToUnit(record, { width: record.width, height: record.height, channels: 1 });
    const t = otsuThreshold(grey);
    const pred = new Uint8Array(grey.length);
    for (let i = 0; i < grey.length; i++) pred[i] = grey[i] >= t ? 1 : 0;
    scores.add(pred, vertebraMask(im.points, record.width, record.height).mask, record.width, record.height);
  }
  return { method: 'Otsu threshold of the image', ...scores.summary(), steps: null, size: null, trainSeconds: null, inferSeconds: (performance.now() - t1) / 1000 };
}

export async function segmentationBench(opts: SegmentationBenchOptions): Promise<{ rows: MethodRow[]; notes: string[]; details: Record<string, unknown> }> {
  const started = performance.now();
  const parts = opts.parts ?? SEGMENTATION_PARTS;
  mkdirSync(opts.work, { recursive: true });
  const { dir, training, test } = await spineTables();
  const notes: string[] = [];
  const tests = test.images.slice(0, opts.testImages ?? test.images.length).map((im) => ({ path: join(dir, 'images', 'test', im.image), im }));
  const rows: MethodRow[] = [];
  const details: Record<string, unknown> = { parts, testImages: tests.length };

  if (parts.includes('ld')) await ldRows(opts, dir, training, tests, rows, notes, details);
  if (parts.includes('few-shot')) {
    const fs = opts.fewShot ?? { ks: [2, 5, 10], inits: ['model', 'scratch'], steps: 300, seed: 0 };
    const trainCases = training.images.slice(0, Math.max(...fs.ks)).map((im) => ({ path: join(dir, 'images', 'training', im.image), im }));
    const r: FewShotResult = await fewShotRows(
      { work: opts.work, model: fs.model ?? opts.init, ks: fs.ks, inits: fs.inits, steps: fs.steps, seed: fs.seed, shape: fs.shape },
      trainCases, tests, join(dir, 'images', 'test'),
    );
    rows.push(...r.rows);
    notes.push(...r.notes);
    details.fewShot = r.details;
  }
  if (parts.includes('otsu')) rows.push(await otsuRow(tests));

  notes.push(
    `scores per test image at its original size (${tests.length} image(s)): Dice; HD95 = the larger of the two directed 95th percentiles of ` +
      'boundary-to-boundary distances (4-neighbour boundaries), in pixels and % of the image height; "empty" = left out: Dice with both masks empty, HD95 with either empty',
  );
  details.totalSeconds = (performance.now() - started) / 1000;
  return { rows, notes, details };
}

export function segmentationHeader(): string {
  return `Segmentation of vertebral bodies, spine test split (${new Date().toISOString()}, ${cpus().length} CPU cores, ${cpus()[0]?.model ?? ''})`;
}

export const defaultWorkDir = () => resolve(process.env.LD_STUDIO_RUNS ?? '/work/runs', 'seg-bench');
