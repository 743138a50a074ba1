/**
 * Run-directory files of shape-guided training, shared by both engines' job code:
 * `gan.csv` (step, l_g, l_d — loss.csv keeps its fixed columns; its `loss` includes 1·L_G) and the
 * checkpoint a stage-2 run is initialised from (`initFrom`).
 */
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../io/atomicWrite';
import { readSafetensors } from '../io/safetensors';
import type { NamedArray } from '../engine/model/params';

export const GAN_COLUMNS = ['step', 'l_g', 'l_d'] as const;

export const ganCsvPath = (runDir: string) => join(runDir, 'gan.csv');

export function appendGanRow(runDir: string, step: number, losses: { g?: number; d?: number }): void {
  if (losses.g === undefined && losses.d === undefined) return;
  const file = ganCsvPath(runDir);
  if (!existsSync(file)) writeFileAtomic(file, GAN_COLUMNS.join(',') + '\n');
  appendFileSync(file, [step, losses.g ?? '', losses.d ?? ''].join(',') + '\n');
}

/** Keep the rows up to `step` (resume redoes the steps after the last checkpoint). */
export function truncateGan(runDir: string, step: number): void {
  const file = ganCsvPath(runDir);
  if (!existsSync(file)) return;
  const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean);
  const kept = lines.slice(1).filter((line) => Number(line.split(',')[0]) <= step);
  writeFileAtomic(file, [GAN_COLUMNS.join(','), ...kept].join('\n') + '\n');
}

export function readInitCheckpoint(path: string): Map<string, NamedArray> {
  if (!existsSync(path)) throw new Error(`initialisation checkpoint not found: ${path}`);
  return readSafetensors(path).tensors;
}
