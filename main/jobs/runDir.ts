/**
 * The run directory: run.json (settings, versions, backend, status), loss.csv (one row per step),
 * checkpoints/step-NNNNNNNN.safetensors. Every write is atomic or append-only, so a crash loses at
 * most the steps after the last checkpoint, and resume trims loss.csv back to that checkpoint.
 */
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Checkpoint, StepReport } from '../engine/trainer/trainer';
import { writeFileAtomic } from '../io/atomicWrite';
import { jsonSyntaxError } from '../io/jsonSyntax';
import { readSafetensors, writeSafetensors } from '../io/safetensors';

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

  latestCheckpointStep(): number | undefined {
    if (!existsSync(this.checkpointDir)) return undefined;
    const steps = readdirSync(this.checkpointDir)
      .map((f) => /^step-(\d+)\.safetensors$/.exec(f))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => Number(m[1]));
    return steps.length ? Math.max(...steps) : undefined;
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
