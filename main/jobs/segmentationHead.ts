/**
 * Few-shot segmentation from corrected masks (issue 14): fine-tune a segmentation head on the LD network
 * with k (image, mask) pairs — the PyTorch engine's `finetune-seg` (resources/torch/PROTOCOL.md) — export
 * it to ONNX, then segment other images with it through the one segmentation loop (segmentImages.ts).
 *
 * Node reads every image and mask (any format the project reads; masks through the one mask reader) and
 * resizes both to the network size; Python only trains. One job (runJob): progress counts the training
 * steps, then the segmented images; cancel stops the engine after its step (it checkpoints) or the loop
 * after its image.
 *
 * The head's run directory: checkpoints/ (the shared format + seg_head), cache/ (the prepared pairs and
 * the request), segmentation.onnx, head.json (settings, the pairs, status, last losses).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { extname, join, resolve } from 'node:path';
import type { Mask } from '../../common/mask';
import { resampleToUnit } from '../engine/data/prepare';
import { resizeHWC } from '../engine/data/resample';
import { readImage } from '../io';
import { writeFileAtomic } from '../io/atomicWrite';
import { readMaskFiles, type MaskFiles } from '../io/raster/maskPng';
import { RunDir, skippedText } from './runDir';
import type { Job, JobProgress } from './runJob';
import { segmentImages, type SegmentedImage, type SegmentImagesOptions, type SegmentModelInfo } from './segmentImages';
import { readEngine } from './torch/engineProcess';
import { engineEnv } from './torch/findPython';
import type { CancelToken } from './workerTasks';

/** Default long side of the network input; the short side follows the training images' aspect ratio. */
export const DEFAULT_HEAD_LONG_SIDE = 256;
export const DEFAULT_HEAD_STEPS = 300;
export const HEAD_ONNX = 'segmentation.onnx';

export interface HeadShape {
  width: number;
  height: number;
}

export interface TrainingPair {
  id: string;
  /** The image file. */
  path: string;
  /** Its mask: files (read at the image's size) or one in memory. */
  mask: MaskFiles | Mask;
}

export interface SegmentationHeadRequest {
  pairs: TrainingPair[];
  /** The head's run directory (created; an earlier head there is replaced). */
  runDir: string;
  /** The LD checkpoint the network starts from; null = random init (the from-scratch control). */
  init: string | null;
  /** Network input; default: long side 256, the other side from the pairs' median aspect ratio. */
  shape?: HeadShape;
  steps: number;
  batch?: number;
  lr?: number;
  seed?: number;
  checkpointEvery?: number;
  python: string;
  device?: string;
}

export interface SegmentationHeadResult {
  status: 'completed' | 'cancelled';
  completedSteps: number;
  shape: HeadShape;
  runDir: string;
  checkpoint?: string;
  /** The exported model (completed runs). */
  onnx?: string;
  lastLosses?: Record<string, number>;
  seconds: number;
}

const roundTo16 = (v: number) => Math.max(16, Math.round(v / 16) * 16);

/** Long side `longSide`, the other from the median width/height ratio of `sizes` (multiples of 16). */
export function defaultHeadShape(sizes: HeadShape[], longSide = DEFAULT_HEAD_LONG_SIDE): HeadShape {
  const ratios = sizes.map((s) => s.width / s.height).sort((a, b) => a - b);
  const r = ratios.length ? ratios[Math.floor(ratios.length / 2)] : 1;
  const long = roundTo16(longSide);
  return r >= 1 ? { width: long, height: Math.min(long, roundTo16(long / r)) } : { width: Math.min(long, roundTo16(long * r)), height: long };
}

/** `HxW` → a shape (multiples of 16). */
export function parseHeadShape(text: string): HeadShape {
  const m = /^(\d+)[x×](\d+)$/i.exec(text.trim());
  if (!m) throw new Error(`'${text}': give the network size as HxW, e.g. 256x96`);
  const height = Number(m[1]);
  const width = Number(m[2]);
  if (height % 16 || width % 16 || height < 16 || width < 16) throw new Error(`'${text}': height and width must be multiples of 16 (at least 16)`);
  return { width, height };
}

/** The LD checkpoint a head starts from: a run directory's newest whole checkpoint, or a .safetensors file. */
export function initCheckpointOf(model: string): string {
  const path = resolve(model);
  if (!existsSync(path)) throw new Error(`model not found: ${path}`);
  if (statSync(path).isDirectory()) {
    const run = new RunDir(path);
    if (!existsSync(run.checkpointDir)) throw new Error(`${path}: not a run directory (no checkpoints/ folder)`);
    const whole = run.newestWholeCheckpoint();
    if (whole.step === undefined) throw new Error(`${path}: the run has no whole checkpoint${skippedText(whole.skipped)}`);
    return run.checkpointPath(whole.step);
  }
  if (extname(path).toLowerCase() !== '.safetensors') throw new Error(`${path}: a segmentation head is fine-tuned from a run directory or a .safetensors checkpoint (not an ONNX file)`);
  return path;
}

const isMask = (m: MaskFiles | Mask): m is Mask => (m as Mask).inside !== undefined;

/** A 0/1 mask at its image's size → 0/1 at the network size (area / bilinear resampling, then > 0.5). */
export function maskToShape(mask: Mask, shape: HeadShape): Uint8Array {
  const src = new Float32Array(mask.inside.length);
  for (let i = 0; i < src.length; i++) src[i] = mask.inside[i] ? 1 : 0;
  const r = resizeHWC(src, mask.width, mask.height, 1, shape.width, shape.height);
  const out = new Uint8Array(r.length);
  for (let i = 0; i < r.length; i++) out[i] = r[i] > 0.5 ? 1 : 0;
  return out;
}

type EngineEvent =
  | { type: 'ready'; images: number; startStep: number; device: string }
  | { type: 'step'; step: number; losses: Record<string, number>; seconds: number }
  | { type: 'checkpoint'; step: number; path: string; reason: string }
  | { type: 'export'; path: string; checkpoint: string };

/**
 * Trains a head (progress: done = steps so far, of `job.total`, which the caller sets — training steps
 * plus whatever comes after). Throws when the engine fails, naming its message.
 */
export async function trainSegmentationHead(req: SegmentationHeadRequest, job: Job<JobProgress>): Promise<SegmentationHeadResult> {
  const started = Date.now();
  if (req.pairs.length === 0) throw new Error('no training pairs: a segmentation head needs at least one image with its mask');
  job.progress(0, `reading ${req.pairs.length} training image(s) and mask(s)`);
  const records = [];
  for (const pair of req.pairs) {
    const record = await readImage(pair.path, { id: pair.id });
    const mask = isMask(pair.mask) ? pair.mask : await readMaskFiles(pair.mask, record.width, record.height);
    if (mask.width !== record.width || mask.height !== record.height) {
      throw new Error(`${pair.id}: its mask is ${mask.width}×${mask.height}, the image ${record.width}×${record.height}; a mask covers the whole image at its size`);
    }
    records.push({ record, mask });
    if (job.cancelled) break;
  }
  const shape = req.shape ?? defaultHeadShape(records.map(({ record }) => record));
  const run = resolve(req.runDir);
  const cache = join(run, 'cache');
  rmSync(join(run, 'checkpoints'), { recursive: true, force: true }); // a new head replaces an earlier one
  rmSync(join(run, HEAD_ONNX), { force: true });
  mkdirSync(cache, { recursive: true });
  const n = shape.width * shape.height;
  const images = new Float32Array(n * records.length);
  const masks = new Uint8Array(n * records.length);
  const index = records.map(({ record, mask }, i) => {
    images.set(resampleToUnit(record, { width: shape.width, height: shape.height, channels: 1 }), i * n);
    masks.set(maskToShape(mask, shape), i * n);
    return { id: record.id, offset: i * n };
  });
  const data = { images: join(cache, 'seg-images.f32'), masks: join(cache, 'seg-masks.u8'), index };
  writeFileSync(data.images, Buffer.from(images.buffer, images.byteOffset, images.byteLength));
  writeFileSync(data.masks, masks);
  const config = {
    height: shape.height, width: shape.width, steps: req.steps, batch: req.batch ?? 4, lr: req.lr ?? 1e-3, seed: req.seed ?? 0,
    init: req.init, checkpointEvery: req.checkpointEvery ?? 100,
  };
  const onnx = join(run, HEAD_ONNX);
  const requestFile = join(cache, 'finetune-seg-request.json');
  writeFileAtomic(requestFile, JSON.stringify({ runDir: run, data, config, device: req.device ?? 'auto', resumeFrom: null, onnx }, null, 2));
  const headJson = (extra: Record<string, unknown>) =>
    writeFileAtomic(join(run, 'head.json'), JSON.stringify({ kind: 'segmentation-head', init: req.init, shape, config, pairs: req.pairs.map((p) => p.id), ...extra }, null, 2) + '\n');
  headJson({ status: 'running' });
  if (job.cancelled) {
    headJson({ status: 'cancelled', completedSteps: 0 });
    return { status: 'cancelled', completedSteps: 0, shape, runDir: run, seconds: (Date.now() - started) / 1000 };
  }

  const proc = spawn(req.python, ['-m', 'ld_torch', 'finetune-seg', '--request', requestFile], { env: engineEnv(), stdio: ['pipe', 'pipe', 'pipe'] });
  proc.stdin.on('error', () => undefined); // the engine may be gone when we say cancel
  let checkpoint: string | undefined;
  let exported: string | undefined;
  let lastLosses: Record<string, number> | undefined;
  const engine = readEngine<EngineEvent>(proc, (e) => {
    if (e.type === 'step') {
      lastLosses = e.losses;
      job.progress(e.step, `training the segmentation head: step ${e.step}/${req.steps}, loss ${e.losses.loss.toFixed(3)}`);
    } else if (e.type === 'checkpoint') checkpoint = e.path;
    else if (e.type === 'export') exported = e.path;
  });
  // the job's cancel token is polled (the CLI's and the app's hosts both set it): the engine finishes its step and checkpoints
  let cancelSent = false;
  const poll = setInterval(() => {
    if (job.cancelled && !cancelSent && proc.stdin.writable) {
      cancelSent = true;
      proc.stdin.write('cancel\n');
    }
  }, 200);
  const exit = await engine.exit.finally(() => clearInterval(poll));
  const done = engine.done;
  if (exit.code !== 0 || !done) {
    const why = engine.error ?? (exit.signal ? `killed by ${exit.signal}` : `exit code ${exit.code}`);
    headJson({ status: 'failed', error: why });
    const log = join(run, 'engine-stderr.log');
    writeFileAtomic(log, engine.stderrTail.join('\n') + '\n');
    throw new Error(`the PyTorch engine stopped while fine-tuning the segmentation head: ${why} (the engine's output is in ${log})`);
  }
  headJson({ status: done.status, completedSteps: done.completedSteps, checkpoint, onnx: exported, lastLosses });
  return {
    status: done.status, completedSteps: done.completedSteps, shape, runDir: run, checkpoint, onnx: exported, lastLosses,
    seconds: (Date.now() - started) / 1000,
  };
}

/** How the segmentation loop runs: here (the CLI) or in a worker thread (the app: runInWorker('segment', …)). */
export type SegmentLoop = (opts: SegmentImagesOptions, onImage: (r: SegmentedImage) => void | Promise<void>, cancel: CancelToken) => Promise<SegmentModelInfo>;

export const segmentHere: SegmentLoop = (opts, onImage, cancel) => segmentImages(opts, onImage, cancel);

export interface LearnAndSegmentRequest extends SegmentationHeadRequest {
  /** The images to segment with the trained head. */
  targets: Array<{ id: string; path: string; width?: number; height?: number }>;
  threshold?: number;
  threads?: number;
}

/**
 * Trains the head, then segments `targets` with it (each result to `onImage`, in order). One job: its
 * total is steps + targets. A cancelled training segments nothing.
 */
export async function learnAndSegment(
  req: LearnAndSegmentRequest,
  job: Job<JobProgress>,
  onImage: (r: SegmentedImage) => void | Promise<void>,
  loop: SegmentLoop = segmentHere,
): Promise<SegmentationHeadResult & { segmented: number }> {
  job.total = req.steps + req.targets.length;
  const head = await trainSegmentationHead(req, job);
  if (head.status !== 'completed' || !head.onnx || job.cancelled) return { ...head, segmented: 0 };
  let done = 0;
  if (req.targets.length) job.progress(req.steps, `segmenting ${req.targets.length} image(s)`);
  await loop(
    {
      model: head.onnx, size: Math.max(head.shape.width, head.shape.height), shape: head.shape, method: 'attention', threshold: req.threshold ?? 0.5,
      threads: req.threads, noClusteringMessage: '', images: req.targets,
    },
    async (r) => {
      await onImage(r);
      done++;
      job.progress(req.steps + done, r.id);
    },
    job.token,
  );
  return { ...head, segmented: done };
}
