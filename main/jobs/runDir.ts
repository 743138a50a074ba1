/**
 * The run directory: run.json (settings, versions, backend, status), loss.csv (one row per step),
 * checkpoints/step-NNNNNNNN.safetensors. Every write is atomic or append-only, so a crash loses at
 * most the steps after the last checkpoint, and resume trims loss.csv back to that checkpoint.
 */
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Checkpoint, StepReport } from '../engine/trainer/trainer';
import { removeStaleTempFiles, writeFileAtomic } from '../io/atomicWrite';
import { jsonSyntaxError } from '../io/jsonSyntax';
import { readSafetensors, safetensorsFileProblem, writeSafetensors } from '../io/safetensors';

export const LOSS_COLUMNS = ['step', 'stage', 'l_pd', 'l_mix', 'l_rd', 'l_ent', 'loss'] as const;

export interface RunInfo {
  schema: 'ld-studio/run@1';
  status: 'running' | 'completed' | 'cancelled' | 'failed';
  createdAt: string;
  updatedAt: string;
  engine: 'tfjs' | 'torch';
  backend: string;
  backendReason: string;
  versions: Record<string, string | undefined>;
  images: { dir: string; count: number; failures: number };
  settings: Record<string, unknown>;
  completedSteps: number;
  error?: string;
}

export interface ResumePoint {
  step: number;
  path: string;
  /** Newer checkpoints that are not whole, with why: each is a note for the user. */
  skipped: Array<{ file: string; reason: string }>;
}

/** What `newestWholeCheckpoint` found: the checkpoint (absent when none is whole) and what it passed over. */
export interface CheckpointChoice {
  step?: number;
  path?: string;
  skipped: ResumePoint['skipped'];
}

/** The one-line note for a checkpoint resume passed over. */
export const skippedCheckpointNote = (s: { file: string; reason: string }, step: number) =>
  `skipped checkpoint ${s.file} (${s.reason}); resuming from step ${step}`;

/** ` (passed over: <file>: <why>; …)` for a message, or '' when nothing was passed over. */
export const skippedText = (skipped: CheckpointChoice['skipped']) =>
  skipped.length ? ` (passed over as not whole: ${skipped.map((s) => `${basename(s.file)}: ${s.reason}`).join('; ')})` : '';

/** The same note for a checkpoint passed over when a model is picked from a run (not a resume). */
export const passedOverCheckpointNote = (s: { file: string; reason: string }, step: number) =>
  `skipped checkpoint ${s.file} (${s.reason}); using step ${step}`;

const fmt = (v: number | undefined) => (v === undefined ? '' : String(v));

export class RunDir {
  constructor(readonly dir: string) {}

  get runJson() {
    return join(this.dir, 'run.json');
  }
  get lossCsv() {
    return join(this.dir, 'loss.csv');
  }
  get checkpointDir() {
    return join(this.dir, 'checkpoints');
  }

  exists(): boolean {
    return existsSync(this.runJson);
  }

  create(): void {
    mkdirSync(this.checkpointDir, { recursive: true });
    writeFileAtomic(this.lossCsv, LOSS_COLUMNS.join(',') + '\n');
  }

  readInfo(): RunInfo {
    let text: string;
    try {
      text = readFileSync(this.runJson, 'utf8');
    } catch (err) {
      throw new Error(`${this.runJson}: cannot read the run description (${(err as Error).message})`);
    }
    try {
      return JSON.parse(text) as RunInfo;
    } catch {
      throw new Error(`${this.runJson}: the run description is ${jsonSyntaxError(text)}`);
    }
  }

  writeInfo(info: RunInfo): void {
    writeFileAtomic(this.runJson, JSON.stringify({ ...info, updatedAt: new Date().toISOString() }, null, 2) + '\n');
  }

  appendLoss(r: StepReport): void {
    const l = r.losses;
    appendFileSync(this.lossCsv, [r.step, r.stage, fmt(l.pd), fmt(l.mix), fmt(l.rd), fmt(l.ent), fmt(l.loss)].join(',') + '\n');
  }

  /** Keep the header and the rows up to `step` (rows written after the last checkpoint are redone). */
  truncateLoss(step: number): void {
    const lines = existsSync(this.lossCsv) ? readFileSync(this.lossCsv, 'utf8').split('\n').filter(Boolean) : [];
    const kept = lines.slice(1).filter((line) => Number(line.split(',')[0]) <= step);
    writeFileAtomic(this.lossCsv, [LOSS_COLUMNS.join(','), ...kept].join('\n') + '\n');
  }

  readLoss(): Array<Record<string, number | undefined>> {
    const [header, ...rows] = readFileSync(this.lossCsv, 'utf8').split('\n').filter(Boolean);
    const cols = header.split(',');
    return rows.map((row) => Object.fromEntries(row.split(',').map((v, i) => [cols[i], v === '' ? undefined : Number(v)])));
  }

  checkpointPath(step: number): string {
    return join(this.checkpointDir, `step-${String(step).padStart(8, '0')}.safetensors`);
  }

  writeCheckpoint(c: Checkpoint, reason: string): string {
    const path = this.checkpointPath(c.step);
    writeSafetensors(path, c.tensors, {
      format: 'ld-studio/checkpoint@1',
      layout: 'conv weights HWIO (TensorFlow); BN running_var unbiased (PyTorch)',
      step: String(c.step),
      stage: String(c.stage),
      rng: JSON.stringify(c.rng),
      adam_step: String(c.adamStep),
      reason,
    });
    return path;
  }

  /** The steps that have a checkpoint file, newest first (whole or not: see resumePoint). */
  checkpointSteps(): number[] {
    if (!existsSync(this.checkpointDir)) return [];
    return readdirSync(this.checkpointDir)
      .map((f) => /^step-(\d+)\.safetensors$/.exec(f))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => Number(m[1]))
      .sort((a, b) => b - a);
  }

  latestCheckpointStep(): number | undefined {
    return this.checkpointSteps()[0];
  }

  /**
   * The newest checkpoint that is whole, for everything that picks one from a run (resume, running
   * or exporting the trained model, "the run already has N steps"). A power cut can leave the newest
   * cut short (or empty); it is passed over and named in `skipped` with why. Reads headers only.
   */
  newestWholeCheckpoint(): CheckpointChoice {
    const skipped: ResumePoint['skipped'] = [];
    for (const step of this.checkpointSteps()) {
      const path = this.checkpointPath(step);
      const problem = safetensorsFileProblem(path);
      if (!problem) return { step, path, skipped };
      skipped.push({ file: path, reason: problem });
    }
    return { skipped };
  }

  /**
   * The checkpoint a resumed run continues from, for both engines: the newest whole one, so the run
   * continues from the one before a cut-short newest instead of failing. Throws when none is whole.
   */
  resumePoint(): ResumePoint {
    const { step, path, skipped } = this.newestWholeCheckpoint();
    if (step !== undefined && path !== undefined) return { step, path, skipped };
    if (skipped.length === 0) throw new Error(`${this.checkpointDir}: no checkpoint to resume from; start the run without --resume`);
    const why = skipped.map((s) => `${basename(s.file)}: ${s.reason}`).join('; ');
    throw new Error(`${this.checkpointDir}: no whole checkpoint to resume from (${why}); start the run again without --resume, in a new folder`);
  }

  /** Remove the temporary files that a run killed while writing left (checkpoints, run.json, loss.csv). */
  async removeStaleTempFiles(): Promise<void> {
    await removeStaleTempFiles(this.checkpointDir, (target) => /^step-\d+\.safetensors$/.test(target));
    await removeStaleTempFiles(this.dir, (target) => target === 'run.json' || target === 'loss.csv');
  }

  readCheckpoint(step: number): Checkpoint {
    const { tensors, metadata } = readSafetensors(this.checkpointPath(step));
    return {
      step: Number(metadata.step),
      stage: Number(metadata.stage) as 1 | 2,
      rng: JSON.parse(metadata.rng),
      adamStep: Number(metadata.adam_step),
      tensors,
    };
  }
}
