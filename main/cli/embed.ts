/**
 * `ld-studio embed`: the per-pixel embedding of one image with a trained LD model, through ONNX
 * Runtime. The model may be a run directory (its latest checkpoint, or --step; the ONNX export is
 * cached as <run-dir>/model-step-NNNNNNNN.onnx), a checkpoint (.safetensors, exported in memory) or
 * an .onnx file (ours or the PyTorch engine's). Output: a NumPy .npy (float32, [D, H, W]) or a .png
 * picture of the embedding's first three principal components.
 *
 * Prints one JSON line on stdout; messages go to stderr. Exit codes: 0 done, 1 failed, 2 bad arguments.
 */
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { dirname, extname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { PNG } from 'pngjs';
import { encodeNpy } from '../engine/infer/npy';
import { LdOnnxModel, type OrtExecutionProvider } from '../engine/infer/onnxModel';
import { DEFAULT_INFER_SIZE, preprocessForNetwork } from '../engine/infer/preprocess';
import { embeddingToRgba } from '../engine/infer/visualise';
import { checkpointToOnnxBytes, exportCheckpointToOnnx } from '../engine/onnx/exportOnnx';
import { readImage } from '../io';
import { writeFileAtomic } from '../project/atomicWrite';
import { RunDir } from '../project/runDir';

export const EMBED_USAGE = `  ld-studio embed --model <run-dir|checkpoint.safetensors|model.onnx> --image <file> --out <file.npy|file.png> [options]
      Per-pixel embedding of one image with a trained model (ONNX Runtime). From a run directory
      the latest checkpoint is used (or --step) and its ONNX export is cached there as
      model-step-NNNNNNNN.onnx. .npy: float32 [32, H, W]; .png: first 3 principal components as RGB.
      --size N             long side of the network input, rounded to a multiple of 16 (default ${DEFAULT_INFER_SIZE})
      --step N             with a run directory: the checkpoint of step N (default: the latest)
      --ep auto|cpu|cuda   ONNX Runtime execution provider (default auto: CUDA if it loads, else CPU)
      --threads N          CPU threads (default: one per physical core)
`;

class EmbedUsageError extends Error {}

const OPTIONS = {
  model: { type: 'string' },
  image: { type: 'string' },
  out: { type: 'string' },
  size: { type: 'string' },
  step: { type: 'string' },
  ep: { type: 'string' },
  threads: { type: 'string' },
} as const;

function intArg(value: string | undefined, name: string, min: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isInteger(n) || n < min) throw new EmbedUsageError(`--${name} expects an integer ≥ ${min}, got '${value}'`);
  return n;
}

const pad8 = (step: number) => String(step).padStart(8, '0');

interface ResolvedModel {
  /** What to load: an .onnx path, or bytes exported in memory. */
  source: string | Uint8Array;
  /** The .onnx file (or the checkpoint when exported in memory). */
  path: string;
  checkpoint: string | null;
  step: number | null;
  /** The ONNX model was written (or built) by this call. */
  exported: boolean;
  /** A cached export in the run directory was reused. */
  cached: boolean;
}

function resolveModel(modelArg: string, stepArg: number | undefined): ResolvedModel {
  const path = resolve(modelArg);
  if (!existsSync(path)) throw new Error(`model not found: ${path}`);
  if (statSync(path).isDirectory()) {
    const run = new RunDir(path);
    if (!existsSync(run.checkpointDir)) throw new Error(`${path}: not a run directory (no checkpoints/ folder)`);
    const step = stepArg ?? run.latestCheckpointStep();
    if (step === undefined) throw new Error(`${path}: the run has no checkpoints yet (${run.checkpointDir} is empty)`);
    const checkpoint = run.checkpointPath(step);
    if (!existsSync(checkpoint)) {
      const steps = readdirSync(run.checkpointDir).filter((f) => /^step-\d+\.safetensors$/.test(f));
      throw new Error(`checkpoint not found: ${checkpoint} (available: ${steps.join(', ') || 'none'})`);
    }
    const onnxPath = join(path, `model-step-${pad8(step)}.onnx`);
    if (existsSync(onnxPath) && statSync(onnxPath).mtimeMs >= statSync(checkpoint).mtimeMs) {
      return { source: onnxPath, path: onnxPath, checkpoint, step, exported: false, cached: true };
    }
    exportCheckpointToOnnx(checkpoint, onnxPath);
    return { source: onnxPath, path: onnxPath, checkpoint, step, exported: true, cached: false };
  }
  if (stepArg !== undefined) throw new EmbedUsageError('--step needs a run directory as --model');
  const ext = extname(path).toLowerCase();
  if (ext === '.onnx') return { source: path, path, checkpoint: null, step: null, exported: false, cached: false };
  if (ext === '.safetensors') {
    const { bytes } = checkpointToOnnxBytes(path);
    return { source: bytes, path, checkpoint: path, step: null, exported: true, cached: false };
  }
  throw new Error(`${path}: not a model (expected a run directory, a .safetensors checkpoint or an .onnx file)`);
}

function providersFor(ep: string): OrtExecutionProvider[] {
  switch (ep) {
    case 'auto':
      return ['cuda', 'cpu'];
    case 'cpu':
      return ['cpu'];
    case 'cuda':
      return ['cuda'];
    default:
      throw new EmbedUsageError(`--ep must be auto, cpu or cuda, got '${ep}'`);
  }
}

const ms = (t0: number) => Math.round((performance.now() - t0) * 10) / 10;

async function embed(args: string[]): Promise<number> {
  let values: Record<string, string | undefined>;
  try {
    values = parseArgs({ args, options: OPTIONS, strict: true, allowPositionals: false }).values;
  } catch (err) {
    throw new EmbedUsageError((err as Error).message.replace(/^TypeError \[[A-Z_]+\]: /, ''));
  }
  for (const name of ['model', 'image', 'out'] as const) if (!values[name]) throw new EmbedUsageError(`--${name} is required`);
  const out = resolve(values.out!);
  const format = extname(out).toLowerCase().slice(1);
  if (format !== 'npy' && format !== 'png') throw new EmbedUsageError(`--out must end in .npy or .png, got '${values.out}'`);
  const size = intArg(values.size, 'size', 16) ?? DEFAULT_INFER_SIZE;
  const step = intArg(values.step, 'step', 0);
  const threads = intArg(values.threads, 'threads', 0);
  const ep = values.ep ?? 'auto';
  const providers = providersFor(ep);
  const imagePath = resolve(values.image!);
  if (!existsSync(imagePath)) throw new Error(`image not found: ${imagePath}`);

  const t0 = performance.now();
  const timing: Record<string, number> = {};
  let t = performance.now();
  const model = resolveModel(values.model!, step);
  timing.exportMs = model.exported ? ms(t) : 0;

  t = performance.now();
  const record = await readImage(imagePath);
  timing.readMs = ms(t);

  t = performance.now();
  const session = await LdOnnxModel.load(model.source, { executionProviders: providers, threads });
  timing.loadMs = ms(t);
  if (ep === 'cuda') for (const note of session.notes) process.stderr.write(`embed: ${note}\n`);
  try {
    t = performance.now();
    const input = preprocessForNetwork(record, { channels: session.channels, size });
    timing.preprocessMs = ms(t);

    t = performance.now();
    const result = await session.run(input.data, 1, input.height, input.width);
    timing.runMs = ms(t);

    t = performance.now();
    const { embedDim, h, w } = result.shape;
    const shape = [embedDim, h, w];
    mkdirSync(dirname(out), { recursive: true });
    if (format === 'npy') {
      writeFileAtomic(out, encodeNpy(result.embedding, shape));
    } else {
      const png = new PNG({ width: w, height: h });
      png.data = Buffer.from(embeddingToRgba(result.embedding, embedDim, h, w));
      writeFileAtomic(out, PNG.sync.write(png));
    }
    timing.writeMs = ms(t);
    timing.totalMs = ms(t0);

    const report = {
      out,
      format,
      shape,
      clusters: result.shape.clusters,
      image: { path: record.path, width: record.width, height: record.height, channels: record.channels },
      input: { channels: input.channels, height: input.height, width: input.width },
      scale: input.scale,
      model: { path: model.path, checkpoint: model.checkpoint, step: model.step, exported: model.exported, cached: model.cached },
      executionProvider: session.executionProvider,
      notes: session.notes,
      timing,
    };
    process.stdout.write(JSON.stringify(report) + '\n');
    return 0;
  } finally {
    await session.dispose();
  }
}

/** `ld-studio embed …`; returns the exit code (0 done, 1 failed, 2 bad arguments). */
export async function embedCommand(args: string[]): Promise<number> {
  try {
    return await embed(args);
  } catch (err) {
    if (err instanceof EmbedUsageError) {
      process.stderr.write(`ld-studio embed: ${err.message}\n\nUsage:\n${EMBED_USAGE}`);
      return 2;
    }
    process.stderr.write(`ld-studio embed: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}
