/**
 * Where a trained model comes from, for every inference command: a run directory (its newest whole
 * checkpoint — a newer one cut short is passed over with a note — or a given step; the ONNX export is cached beside it as model-step-NNNNNNNN.onnx), a
 * checkpoint (.safetensors, exported in memory) or an .onnx file. Also the training settings that
 * inference must match (training size, centre-sensitive σ), read from the run's run.json.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { buildLdOnnx, inferLdConfig, type LdOnnxConfig } from '../engine/onnx/exportOnnx';
import { writeFileAtomic } from '../io/atomicWrite';
import { readSafetensors } from '../io/safetensors';
import { passedOverCheckpointNote, RunDir, skippedText } from './runDir';
import { NotFoundError } from '../../common/errors';

/** A model argument that is well-formed but cannot be combined as asked (exit code 2). */
export class ModelUsageError extends Error {}

export interface ResolvedModel {
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
  /** The run directory the model belongs to, when there is one. */
  runDir: string | null;
  /** Newer checkpoints of the run passed over as not whole, one line each, for the user. */
  notes?: string[];
}

const pad8 = (step: number) => String(step).padStart(8, '0');

/** The run directory holding a path: itself, or the parent of checkpoints/, or the folder of an export. */
function runDirOf(path: string): string | null {
  for (const dir of [path, dirname(path), dirname(dirname(path))]) {
    if (existsSync(join(dir, 'run.json'))) return dir;
  }
  return null;
}

export function resolveModel(modelArg: string, stepArg: number | undefined): ResolvedModel {
  const path = resolve(modelArg);
  if (!existsSync(path)) throw new NotFoundError(`model not found: ${path}`);
  if (statSync(path).isDirectory()) {
    const run = new RunDir(path);
    if (!existsSync(run.checkpointDir)) throw new Error(`${path}: not a run directory (no checkpoints/ folder)`);
    const whole = stepArg === undefined ? run.newestWholeCheckpoint() : { step: stepArg, skipped: [] };
    const step = whole.step;
    if (step === undefined) {
      if (whole.skipped.length) throw new Error(`${path}: the run has no whole checkpoint${skippedText(whole.skipped)}`);
      throw new Error(`${path}: the run has no checkpoints yet (${run.checkpointDir} is empty)`);
    }
    const notes = whole.skipped.map((s) => passedOverCheckpointNote(s, step));
    const checkpoint = run.checkpointPath(step);
    if (!existsSync(checkpoint)) {
      const steps = readdirSync(run.checkpointDir).filter((f) => /^step-\d+\.safetensors$/.test(f));
      throw new NotFoundError(`checkpoint not found: ${checkpoint} (available: ${steps.join(', ') || 'none'})`);
    }
    const onnxPath = join(path, `model-step-${pad8(step)}.onnx`);
    if (existsSync(onnxPath) && statSync(onnxPath).mtimeMs >= statSync(checkpoint).mtimeMs) {
      return { source: onnxPath, path: onnxPath, checkpoint, step, exported: false, cached: true, runDir: path, ...(notes.length ? { notes } : {}) };
    }
    exportCheckpointToOnnx(checkpoint, onnxPath);
    return { source: onnxPath, path: onnxPath, checkpoint, step, exported: true, cached: false, runDir: path, ...(notes.length ? { notes } : {}) };
  }
  if (stepArg !== undefined) throw new ModelUsageError('--step needs a run directory as --model');
  const ext = extname(path).toLowerCase();
  const stepOf = (file: string) => {
    const m = /step-(\d+)\.(safetensors|onnx)$/.exec(basename(file));
    return m ? Number(m[1]) : null;
  };
  if (ext === '.onnx') return { source: path, path, checkpoint: null, step: stepOf(path), exported: false, cached: false, runDir: runDirOf(dirname(path)) };
  if (ext === '.safetensors') {
    const { bytes } = checkpointToOnnxBytes(path);
    return { source: bytes, path, checkpoint: path, step: stepOf(path), exported: true, cached: false, runDir: runDirOf(dirname(path)) };
  }
  throw new Error(`${path}: not a model (expected a run directory, a .safetensors checkpoint or an .onnx file)`);
}

export interface TrainingSettings {
  /** Training crop side in px, when known. */
  size?: number;
  /** Centre-sensitive σ in px at the training size; 0 = trained with uniform patch averaging. */
  centreSigma?: number;
}

/** The settings recorded in the model's run.json (empty when the model has no run directory). */
export function trainingSettings(model: ResolvedModel): TrainingSettings {
  if (!model.runDir || !existsSync(join(model.runDir, 'run.json'))) return {};
  const settings = new RunDir(model.runDir).readInfo().settings;
  const out: TrainingSettings = {};
  if (typeof settings.size === 'number') out.size = settings.size;
  out.centreSigma = typeof settings.centreSigma === 'number' ? settings.centreSigma : 0;
  return out;
}

export interface ExportResult extends LdOnnxConfig {
  path: string;
  bytes: number;
}

/** Reads a safetensors checkpoint and writes its ONNX model to `outPath` (atomically). */
export function exportCheckpointToOnnx(checkpointPath: string, outPath: string, opts: { foldBatchNorm?: boolean } = {}): ExportResult {
  if (!existsSync(checkpointPath)) throw new Error(`checkpoint not found: ${checkpointPath}`);
  const { bytes, config } = checkpointToOnnxBytes(checkpointPath, opts);
  writeFileAtomic(outPath, bytes);
  return { path: outPath, bytes: bytes.length, ...config };
}

/** The ONNX model of a safetensors checkpoint, in memory. */
export function checkpointToOnnxBytes(checkpointPath: string, opts: { foldBatchNorm?: boolean } = {}): { bytes: Uint8Array; config: LdOnnxConfig } {
  const { tensors, metadata } = readSafetensors(checkpointPath);
  const config = inferLdConfig(tensors, checkpointPath);
  const meta: Record<string, string> = { 'ld.checkpoint': checkpointPath };
  for (const key of ['engine', 'step', 'stage']) if (metadata[key] !== undefined) meta[`ld.checkpoint_${key}`] = metadata[key];
  const bytes = buildLdOnnx(tensors, { ...config, foldBatchNorm: opts.foldBatchNorm, metadata: meta });
  return { bytes, config };
}
