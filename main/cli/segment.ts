/**
 * `ld-studio segment`: segmentation masks for a folder of images with a shape-guided (or any stage-2)
 * LD model, through ONNX Runtime (ld-method.md §5.5). Per image it writes, at the ORIGINAL image size,
 * `<stem>_prob.png` (the probability, 16-bit by default) and `<stem>_mask.png` (0/255, probability >
 * --threshold). The probability is the clustering map of --cluster (default 0, the channel the shape
 * prior constrains: "attention") or the embedding soft label of that cluster ("cos").
 *
 * With --train-images and --train-masks it first fine-tunes a segmentation head on the LD network from
 * those corrected masks (jobs/segmentationHead.ts, the PyTorch engine), then segments --images with
 * it through the same loop and writes the same files.
 *
 * Prints one JSON line on stdout; a progress bar and messages go to stderr. Unreadable images are
 * skipped and named. Ctrl+C stops after the image in hand and keeps the files written (segment.json
 * lists them). Exit codes: 0 done, 1 failed, 2 bad arguments, 130 cancelled.
 */
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { basename, extname, join, resolve } from 'node:path';
import { foregroundOf } from '../../common/mask';
import { baseSizeFor } from '../engine/data/prepare';
import { DEFAULT_INFER_SIZE, type InputFit } from '../engine/infer/preprocess';
import { DEFAULT_THRESHOLD, SEGMENT_METHODS, type SegmentMethod } from '../engine/shapeGuided/segment';
import { scanFolder } from '../io/listImageFiles';
import { writeFileAtomic } from '../io/atomicWrite';
import { refuseToReplace } from '../io/noClobber';
import { writeMaskFiles, type ProbabilityBits } from '../io/raster/maskPng';
import { resolveModel, trainingSettings } from '../jobs/modelSource';
import { runJob } from '../jobs/runJob';
import { segmentImages, type SegmentedImage } from '../jobs/segmentImages';
import { executionProvidersArg, intArg, numberArg, oneOf, parseCommandArgs, runSubcommand, UsageError } from './args';
import { cliJobHost, type CliJobHost } from './jobHost';
import { DEFAULT_HEAD_LONG_SIDE, DEFAULT_HEAD_STEPS, initCheckpointOf, learnAndSegment, parseHeadShape, type HeadShape, type TrainingPair } from '../jobs/segmentationHead';
import { describeMissingTorch, findTorch } from '../jobs/torch/findPython';

export const SEGMENT_USAGE = `  ld-studio segment --model <run-dir|checkpoint.safetensors|model.onnx> --images <dir> --out <dir> [options]
      Segment every image of a folder with a shape-guided (or any stage-2) model, ld-method.md §5.5.
      Writes <stem>_prob.png and <stem>_mask.png at each image's original size, and segment.json.
      --method attention|cos  attention (default): the cluster's map a_c; cos: the embedding soft
                           label s_c = softmax_k(z·r_k / 0.2) with r_k the cluster's mean embedding
      --threshold T        mask = probability > T (default ${DEFAULT_THRESHOLD})
      --cluster C          which cluster (default 0: the one the shape prior constrains)
      --size N             network input side, rounded to a multiple of 16 (default: the training
                           size's base size, size·512/448, from the run; else ${DEFAULT_INFER_SIZE})
      --fit square|long-side  square (default): squeezed to size×size as in training; long-side keeps
                           the aspect ratio
      --fov T              field-of-view mask: pixels darker than T (of the [0, 1] range) are never
                           foreground; the reference uses 0.078 (20/255) on fundus photographs (default off)
      --prob-bits 16|8     bit depth of <stem>_prob.png (default 16)
      --step N             with a run directory: the checkpoint of step N (default: the latest)
      --ep auto|cpu|cuda   ONNX Runtime execution provider (default auto)
      --threads N          CPU threads (default: one per physical core)
      --overwrite          replace files of an earlier run in --out (default: refuse, naming them)

  ld-studio segment --model <run-dir|checkpoint.safetensors> --train-images <dir> --train-masks <dir>
                    --images <dir> --out <dir> [options]
      Few-shot: fine-tune a segmentation head on the LD network (the PyTorch engine) from a few
      corrected masks, then segment --images with it. Each training image's mask is in --train-masks,
      named after the image's stem (<stem>.png or <stem>_mask.png; non-zero = inside), at the image's
      size. Writes <stem>_prob.png and <stem>_mask.png as above, the head in <out>/segmentation-head/
      (checkpoints, segmentation.onnx, head.json) and segment.json.
      --init model|scratch start from --model's weights (default) or from random init (a control)
      --steps N            training steps (default ${DEFAULT_HEAD_STEPS})
      --size HxW           network input, multiples of 16 (default: long side ${DEFAULT_HEAD_LONG_SIDE}, the other side
                           from the training images' median aspect ratio, e.g. 256x80 for the AP spine set)
      --batch N            images per step (default 4);  --lr X  Adam learning rate (default 0.001)
      --seed N             batches and augmentation (default 0)
      --threshold T        mask = probability > T (default ${DEFAULT_THRESHOLD})
      --python <path>      the Python with torch (default: found as for pretrain --engine torch)
      --device auto|cpu|cuda  where the engine trains (default auto)
      --prob-bits, --ep, --threads, --overwrite as above
`;

const OPTIONS = {
  model: { type: 'string' },
  images: { type: 'string' },
  out: { type: 'string' },
  method: { type: 'string' },
  threshold: { type: 'string' },
  cluster: { type: 'string' },
  size: { type: 'string' },
  fit: { type: 'string' },
  fov: { type: 'string' },
  'prob-bits': { type: 'string' },
  step: { type: 'string' },
  ep: { type: 'string' },
  threads: { type: 'string' },
  overwrite: { type: 'boolean' },
  'train-images': { type: 'string' },
  'train-masks': { type: 'string' },
  init: { type: 'string' },
  steps: { type: 'string' },
  batch: { type: 'string' },
  lr: { type: 'string' },
  seed: { type: 'string' },
  python: { type: 'string' },
  device: { type: 'string' },
} as const;

const LEARN_ONLY = ['train-images', 'train-masks', 'init', 'steps', 'batch', 'lr', 'seed', 'python', 'device'] as const;
const LD_ONLY = ['method', 'cluster', 'fit', 'fov', 'step'] as const;

const ms = (t0: number) => Math.round(performance.now() - t0);

/** Each image's output stem: its name without the extension, or with dots as _ where two stems meet. */
function outputStems(paths: string[]): Map<string, string> {
  const used = new Set<string>();
  const stems = new Map<string, string>();
  for (const path of paths) {
    let stem = basename(path, extname(path));
    if (used.has(stem)) stem = basename(path).replace(/\./g, '_');
    used.add(stem);
    stems.set(path, stem);
  }
  return stems;
}

function folderArg(value: string | undefined, name: string): string {
  const dir = resolve(value!);
  if (!existsSync(dir)) throw new UsageError(`--${name} ${value}: folder not found`);
  if (!statSync(dir).isDirectory()) throw new UsageError(`--${name} ${value}: this is a file; give the folder that holds the images`);
  return dir;
}

type Values = ReturnType<typeof parseCommandArgs<typeof OPTIONS>>;

/** Writes each result's files as they come (one write waiting at a time) and collects the report's lists. */
function resultWriter(outDir: string, stems: Map<string, string>, bits: ProbabilityBits, host: CliJobHost) {
  const results: Array<Record<string, unknown>> = [];
  const skipped: Array<{ file: string; reason: string }> = [];
  const write = async (r: SegmentedImage) => {
    if (r.error !== undefined) {
      skipped.push({ file: r.id, reason: r.error });
      host.message(`skipped ${r.id}: ${r.error}`);
      return;
    }
    const stem = stems.get(r.id)!;
    const probPath = join(outDir, `${stem}_prob.png`);
    const maskPath = join(outDir, `${stem}_mask.png`);
    try {
      await writeMaskFiles(r.mask, { mask: maskPath, probability: probPath }, bits);
      const agreement = r.agreement ?? NaN;
      results.push({
        image: r.id, width: r.mask.width, height: r.mask.height, prob: probPath, mask: maskPath,
        foreground: foregroundOf(r.mask), agreement: Number.isFinite(agreement) ? agreement : null, ms: r.ms,
      });
    } catch (err) {
      // a file that cannot be written fails its image, as one that cannot be read does
      skipped.push({ file: r.id, reason: (err as Error).message });
      host.message(`skipped ${r.id}: ${(err as Error).message}`);
    }
  };
  // an image's files are written while the next image runs, and only one write waits at a time
  // (so memory holds two masks at most, and Ctrl+C stops the loop with at most one write to finish)
  let writing = Promise.resolve();
  const onImage = (r: SegmentedImage) => {
    const previous = writing;
    writing = previous.then(() => write(r));
    return previous;
  };
  return { results, skipped, onImage, finished: () => writing };
}

/** Training pairs: each image of `imagesDir` with its mask in `masksDir` (<stem>.png or <stem>_mask.png). */
async function trainingPairs(imagesDir: string, masksDir: string, host: CliJobHost): Promise<TrainingPair[]> {
  const scan = await scanFolder(imagesDir);
  const pairs: TrainingPair[] = [];
  const missing: string[] = [];
  for (const f of scan.files) {
    const stem = basename(f.path, extname(f.path));
    const mask = [`${stem}.png`, `${stem}_mask.png`].map((n) => join(masksDir, n)).find((p) => existsSync(p) && resolve(p) !== resolve(f.path));
    if (mask) pairs.push({ id: f.path, path: f.path, mask: { mask } });
    else missing.push(basename(f.path));
  }
  if (pairs.length === 0) {
    throw new UsageError(`--train-masks: no mask for any of the ${scan.files.length} image(s) in ${imagesDir}; name each mask after its image's stem (<stem>.png or <stem>_mask.png)`);
  }
  if (missing.length) host.message(`no mask for ${missing.length} training image(s), left out: ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', …' : ''}`);
  return pairs;
}

async function learnAndSegmentCommand(values: Values): Promise<number> {
  for (const name of LD_ONLY) if (values[name] !== undefined) throw new UsageError(`--${name} applies to segmenting with an LD model, not with --train-images`);
  if (!values['train-masks']) throw new UsageError('--train-masks is required with --train-images');
  const trainImages = folderArg(values['train-images'], 'train-images');
  const trainMasks = folderArg(values['train-masks'], 'train-masks');
  const imagesDir = folderArg(values.images, 'images');
  const outDir = resolve(values.out!);
  const init = oneOf(values.init, 'init', ['model', 'scratch'] as const) ?? 'model';
  const steps = intArg(values.steps, 'steps', 1) ?? DEFAULT_HEAD_STEPS;
  const batch = intArg(values.batch, 'batch', 1) ?? 4;
  const lr = numberArg(values.lr, 'lr', { min: 1e-8, max: 1 }) ?? 1e-3;
  const seed = intArg(values.seed, 'seed', 0) ?? 0;
  const threshold = numberArg(values.threshold, 'threshold', { min: 0, max: 1 }) ?? DEFAULT_THRESHOLD;
  const bits = Number(oneOf(values['prob-bits'], 'prob-bits', ['8', '16'] as const) ?? '16') as ProbabilityBits;
  const threads = intArg(values.threads, 'threads', 0);
  const device = oneOf(values.device, 'device', ['auto', 'cpu', 'cuda'] as const) ?? 'auto';
  let shape: HeadShape | undefined;
  if (values.size !== undefined) {
    try {
      shape = parseHeadShape(values.size);
    } catch (err) {
      throw new UsageError(`--size ${(err as Error).message}`);
    }
  }
  const initCheckpoint = initCheckpointOf(values.model!);
  const discovery = findTorch(values.python);
  if (!discovery.found) throw new Error(`segment --train-images needs the PyTorch engine: ${describeMissingTorch(discovery)}`);

  const t0 = performance.now();
  const host = cliJobHost({ stopping: 'stopping after this step or image' });
  const pairs = await trainingPairs(trainImages, trainMasks, host);
  const scan = await scanFolder(imagesDir);
  if (scan.files.length === 0) throw new Error(`${imagesDir}: no DICOM, PNG, JPEG or TIFF images in this folder`);
  const stems = outputStems(scan.files.map((f) => f.path));
  const planned = [...stems.values()].flatMap((stem) => [join(outDir, `${stem}_prob.png`), join(outDir, `${stem}_mask.png`)]);
  refuseToReplace([join(outDir, 'segment.json'), ...planned], values.overwrite, 'choose another --out folder, or add --overwrite');
  mkdirSync(outDir, { recursive: true });
  const writer = resultWriter(outDir, stems, bits, host);
  const head = await runJob(host, (job) =>
    learnAndSegment(
      {
        pairs, runDir: join(outDir, 'segmentation-head'), init: init === 'model' ? initCheckpoint : null, shape, steps, batch, lr, seed,
        python: discovery.found!.interpreter, device, targets: scan.files.map((f) => ({ id: f.path, path: f.path })), threshold, threads,
      },
      job,
      writer.onImage,
    ).finally(writer.finished),
  );
  const report = {
    out: outDir,
    threshold, probBits: bits,
    model: { path: resolve(values.model!), checkpoint: initCheckpoint, kind: 'segmentation-head' },
    head: {
      runDir: head.runDir, onnx: head.onnx ?? null, checkpoint: head.checkpoint ?? null, init: init === 'model' ? initCheckpoint : null,
      shape: `${head.shape.height}x${head.shape.width}`, steps, completedSteps: head.completedSteps, batch, lr, seed,
      trainImages: pairs.length, lastLosses: head.lastLosses ?? null, seconds: head.seconds,
    },
    images: { found: scan.files.length, written: writer.results.length, skipped: writer.skipped },
    cancelled: host.cancelled,
    results: writer.results,
    totalMs: ms(t0),
  };
  writeFileAtomic(join(outDir, 'segment.json'), JSON.stringify(report, null, 2) + '\n');
  process.stdout.write(JSON.stringify(report) + '\n');
  if (host.cancelled) {
    process.stderr.write(`cancelled: ${head.status === 'cancelled' ? `the head stopped at step ${head.completedSteps} (kept in ${head.runDir})` : `wrote the ${writer.results.length} image(s) done of ${scan.files.length}`}\n`);
    return 130;
  }
  return writer.results.length > 0 ? 0 : 1;
}

async function segment(args: string[]): Promise<number> {
  const values = parseCommandArgs(args, OPTIONS);
  for (const name of ['model', 'images', 'out'] as const) if (!values[name]) throw new UsageError(`--${name} is required`);
  if (values['train-images'] !== undefined) return learnAndSegmentCommand(values);
  for (const name of LEARN_ONLY) if (values[name] !== undefined) throw new UsageError(`--${name} needs --train-images (few-shot segmentation from corrected masks)`);
  const method: SegmentMethod = oneOf(values.method, 'method', SEGMENT_METHODS) ?? 'attention';
  const threshold = numberArg(values.threshold, 'threshold', { min: 0, max: 1 }) ?? DEFAULT_THRESHOLD;
  const cluster = intArg(values.cluster, 'cluster', 0) ?? 0;
  const fit: InputFit = oneOf(values.fit, 'fit', ['square', 'long-side'] as const) ?? 'square';
  const fovThreshold = numberArg(values.fov, 'fov', { min: 0, max: 1 }) ?? 0;
  const bits = Number(oneOf(values['prob-bits'], 'prob-bits', ['8', '16'] as const) ?? '16') as ProbabilityBits;
  const step = intArg(values.step, 'step', 0);
  const threads = intArg(values.threads, 'threads', 0);
  const { ep, providers } = executionProvidersArg(values.ep, 'auto');
  const imagesDir = resolve(values.images!);
  if (!existsSync(imagesDir)) throw new UsageError(`--images ${values.images}: folder not found`);
  if (!statSync(imagesDir).isDirectory()) throw new UsageError(`--images ${values.images}: this is a file; give the folder that holds the images`);
  const outDir = resolve(values.out!);

  const t0 = performance.now();
  const model = resolveModel(values.model!, step);
  for (const note of model.notes ?? []) process.stderr.write(`segment: note: ${note}\n`);
  const trained = trainingSettings(model);
  const size = intArg(values.size, 'size', 16) ?? (trained.size ? Math.round(baseSizeFor(trained.size) / 16) * 16 : DEFAULT_INFER_SIZE);
  const scan = await scanFolder(imagesDir);
  if (scan.files.length === 0) throw new Error(`${imagesDir}: no DICOM, PNG, JPEG or TIFF images in this folder`);
  // the names are fixed, so a second run into the same folder would replace the first one's files
  const stems = outputStems(scan.files.map((f) => f.path));
  const planned = [...stems.values()].flatMap((stem) => [join(outDir, `${stem}_prob.png`), join(outDir, `${stem}_mask.png`)]);
  refuseToReplace([join(outDir, 'segment.json'), ...planned], values.overwrite, 'choose another --out folder, or add --overwrite');
  const host = cliJobHost({ stopping: 'stopping after this image' });
  const files = scan.files;
  const writer = resultWriter(outDir, stems, bits, host);
  const { results, skipped } = writer;
  const info = await runJob(host, async (job) => {
    job.total = files.length;
    let done = 0;
    job.progress(0, basename(files[0].path));
    return segmentImages(
      {
        model: model.source, executionProviders: providers, threads, size, fit, method, cluster, threshold, fovThreshold, agreement: true,
        noClusteringMessage: `${model.path}: the model has no clustering branch (a stage-1 model); segment needs a stage-2 or shape-guided model`,
        images: files.map((f) => ({ id: f.path, path: f.path })),
      },
      async (r) => {
        await writer.onImage(r);
        done++;
        job.progress(done, done < files.length ? basename(files[done].path) : 'done');
      },
      job.token,
      (m) => {
        if (ep === 'cuda') for (const note of m.notes) host.message(`segment: ${note}`);
        if (m.kind === 'segmentation') throw new UsageError(`${model.path} is a fine-tuned segmentation head: it is trained and used with --train-images / --train-masks`);
        if (cluster >= m.clusters) throw new UsageError(`--cluster ${cluster}: the model has clusters 0..${m.clusters - 1}`);
        mkdirSync(outDir, { recursive: true });
      },
    ).finally(writer.finished);
  });
  const report = {
    out: outDir,
    method, threshold, cluster, size, fit, fov: fovThreshold || null, probBits: bits,
    model: { path: model.path, checkpoint: model.checkpoint, step: model.step, exported: model.exported, cached: model.cached, clusters: info.clusters },
    executionProvider: info.executionProvider,
    images: { found: scan.files.length, written: results.length, skipped },
    cancelled: host.cancelled,
    results,
    totalMs: ms(t0),
  };
  writeFileAtomic(join(outDir, 'segment.json'), JSON.stringify(report, null, 2) + '\n');
  process.stdout.write(JSON.stringify(report) + '\n');
  if (host.cancelled) {
    process.stderr.write(`cancelled: wrote the ${results.length} image(s) done of ${files.length}\n`);
    return 130;
  }
  return results.length > 0 ? 0 : 1;
}

/** `ld-studio segment …`; returns the exit code (0 done, 1 failed, 2 bad arguments, 130 cancelled). */
export async function segmentCommand(args: string[]): Promise<number> {
  return runSubcommand('segment', () => segment(args), { afterUsageError: `\nUsage:\n${SEGMENT_USAGE}` });
}
