/**
 * `ld-studio embed`: the per-pixel embedding of one image with a trained LD model, through ONNX
 * Runtime. The model may be a run directory (its latest checkpoint, or --step; the ONNX export is
 * cached as <run-dir>/model-step-NNNNNNNN.onnx), a checkpoint (.safetensors, exported in memory) or
 * an .onnx file (ours or the PyTorch engine's). Output: a NumPy .npy (float32, [D, H, W]) or a .png
 * picture of the embedding's first three principal components.
 *
 * Prints one JSON line on stdout; messages go to stderr. Exit codes: 0 done, 1 failed, 2 bad arguments.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, extname, resolve } from 'node:path';
import { PNG } from 'pngjs';
import { encodeNpy } from '../engine/infer/npy';
import { LdOnnxModel } from '../engine/infer/onnxModel';
import { DEFAULT_INFER_SIZE, preprocessForNetwork } from '../engine/infer/preprocess';
import { embeddingToRgba } from '../engine/infer/visualise';
import { readImage } from '../io';
import { writeFileAtomic } from '../io/atomicWrite';
import { resolveModel } from '../jobs/modelSource';
import { executionProvidersArg, intArg, parseCommandArgs, runSubcommand, UsageError } from './args';

export const EMBED_USAGE = `  ld-studio embed --model <run-dir|checkpoint.safetensors|model.onnx> --image <file> --out <file.npy|file.png> [options]
      Per-pixel embedding of one image with a trained model (ONNX Runtime). From a run directory
      the latest checkpoint is used (or --step) and its ONNX export is cached there as
      model-step-NNNNNNNN.onnx. .npy: float32 [32, H, W]; .png: first 3 principal components as RGB.
      --size N             long side of the network input, rounded to a multiple of 16 (default ${DEFAULT_INFER_SIZE})
      --step N             with a run directory: the checkpoint of step N (default: the latest)
      --ep auto|cpu|cuda   ONNX Runtime execution provider (default auto: CUDA if it loads, else CPU)
      --threads N          CPU threads (default: one per physical core)
`;

const OPTIONS = {
  model: { type: 'string' },
  image: { type: 'string' },
  out: { type: 'string' },
  size: { type: 'string' },
  step: { type: 'string' },
  ep: { type: 'string' },
  threads: { type: 'string' },
} as const;

const ms = (t0: number) => Math.round((performance.now() - t0) * 10) / 10;

async function embed(args: string[]): Promise<number> {
  const values = parseCommandArgs(args, OPTIONS);
  for (const name of ['model', 'image', 'out'] as const) if (!values[name]) throw new UsageError(`--${name} is required`);
  const out = resolve(values.out!);
  const format = extname(out).toLowerCase().slice(1);
  if (format !== 'npy' && format !== 'png') throw new UsageError(`--out must end in .npy or .png, got '${values.out}'`);
  const size = intArg(values.size, 'size', 16) ?? DEFAULT_INFER_SIZE;
  const step = intArg(values.step, 'step', 0);
  const threads = intArg(values.threads, 'threads', 0);
  const { ep, providers } = executionProvidersArg(values.ep, 'auto');
  const imagePath = resolve(values.image!);
  if (!existsSync(imagePath)) throw new Error(`image not found: ${imagePath}`);

  const t0 = performance.now();
  const timing: Record<string, number> = {};
  let t = performance.now();
  const model = resolveModel(values.model!, step);
  for (const note of model.notes ?? []) process.stderr.write(`embed: note: ${note}\n`);
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
  return runSubcommand('embed', () => embed(args), { afterUsageError: `\nUsage:\n${EMBED_USAGE}` });
}
