/**
 * `ld-studio export-onnx --model <run-dir|checkpoint.safetensors> --out <model.onnx> [--step N]`:
 * the checkpoint (from either engine: they share one format) as an ONNX model for onnxruntime and
 * other tools. Input `image` N×C×H×W (dynamic N, H, W), outputs `embedding` and `clusters`.
 */
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { exportCheckpointToOnnx } from '../jobs/modelSource';
import { passedOverCheckpointNote, RunDir, skippedText } from '../jobs/runDir';
import { parseCommandArgs, UsageError } from './args';

export const EXPORT_ONNX_USAGE = `  ld-studio export-onnx --model <run-dir|checkpoint.safetensors> --out <model.onnx> [--step N]
      Export a checkpoint (from either engine) to ONNX: input image N×C×H×W, outputs embedding and
      clusters (BatchNorm in eval mode, folded into the convolutions).
`;

export function exportOnnxCommand(args: string[]): number {
  const values = parseCommandArgs(args, { model: { type: 'string' }, out: { type: 'string' }, step: { type: 'string' } } as const);
  if (!values.model) throw new UsageError('--model <run-dir|checkpoint.safetensors> is required');
  if (!values.out) throw new UsageError('--out <model.onnx> is required');
  const model = resolve(values.model);
  if (!existsSync(model)) throw new Error(`model not found: ${model}`);
  let checkpoint = model;
  if (statSync(model).isDirectory()) {
    const run = new RunDir(model);
    // without --step: the newest whole checkpoint, passing over one cut short (with a note)
    const whole = values.step !== undefined ? { step: Number(values.step), skipped: [] } : run.newestWholeCheckpoint();
    const step = whole.step;
    if (step === undefined || !Number.isInteger(step)) throw new Error(`${model}: no whole checkpoint to export${skippedText(whole.skipped) || ` (${run.checkpointDir} is empty or missing)`}`);
    for (const s of whole.skipped) process.stderr.write(`export-onnx: note: ${passedOverCheckpointNote(s, step)}\n`);
    checkpoint = run.checkpointPath(step);
  } else if (values.step !== undefined) {
    throw new UsageError('--step needs a run directory as --model');
  }
  const t0 = performance.now();
  const result = exportCheckpointToOnnx(checkpoint, resolve(values.out));
  process.stdout.write(JSON.stringify({ out: resolve(values.out), checkpoint, ...result, ms: Math.round(performance.now() - t0) }) + '\n');
  return 0;
}
