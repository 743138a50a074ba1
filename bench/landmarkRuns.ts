/**
 * The pretraining runs of the landmark benchmark: which runs exist (roles), how each is trained from
 * the command line, and which checkpoint stands for which time budget.
 *
 * The product default is trained once for the longest budget, in resumed segments: `--minutes B₁`
 * times the first steps and fixes N₁ = ⌊60·B₁ / s⌋ (s: seconds per step, recorded in run.json); then
 * `--resume --steps ⌊60·Bₖ / s⌋` for each longer budget. Resume is exact and the learning-rate schedule
 * does not depend on the total, so each budget's checkpoint is the model an uninterrupted `--minutes Bₖ`
 * run with that speed would end with, and every budget shares one measurement of the speed.
 * Ablations change one setting back to the paper's (or to the other choice) and train for the
 * ablation budget; they are compared with the default's checkpoint for the same budget.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PRESETS } from '../main/engine/trainer/config';

export interface RunRole {
  /** Folder name under <work>/<set>/. */
  role: string;
  /** What the row says. */
  label: string;
  /** `pretrain` options besides --images/--out/--minutes. */
  args: string[];
}

const landmarks = PRESETS.landmarks;

/** The one-setting-at-a-time training ablations of the landmark preset (and the paper's recipe). */
export function trainingAblations(): RunRole[] {
  const a = landmarks.augment!;
  const paperScale = a.cropScale[0] === 0.9 && a.cropScale[1] === 1;
  const roles: RunRole[] = [
    { role: 'paper', label: 'LD plain (paper): paper augmentation and negatives, plain argmax', args: ['--preset', 'paper', '--stage', '1', '--size', String(landmarks.size), '--batch', String(landmarks.batch), '--centre-sensitive'] },
    // view-2 quarter turns cannot go with the view warp, so this row changes T0 only
    { role: 'ablate-orientation', label: 'default, but T0 flips (0.5 each) and rotations of ±180° (paper)', args: ['--preset', 'landmarks', '--flip', '0.5', '--rotation', '180'] },
    paperScale
      ? { role: 'ablate-scale', label: 'default, but crops of 5–100 % of the area (paper 90–100 %)', args: ['--preset', 'landmarks', '--crop-scale', '0.05,1'] }
      : { role: 'ablate-scale', label: 'default, but the paper’s crop scale (90–100 % of the area)', args: ['--preset', 'landmarks', '--crop-scale', '0.9,1'] },
    {
      role: 'ablate-negatives',
      label: `default, but ${landmarks.negatives === 'image' ? 'in-batch negatives (paper)' : 'same-image negatives'}`,
      args: ['--preset', 'landmarks', '--negatives', landmarks.negatives === 'image' ? 'batch' : 'image'],
    },
    a.viewWarp
      ? { role: 'ablate-warp', label: 'default, but no view-2 warp (paper: both views share T0)', args: ['--preset', 'landmarks', '--view-warp', 'off'] }
      : { role: 'ablate-warp', label: 'default, plus a view-2 warp (×1.25, ±10°, 10 %)', args: ['--preset', 'landmarks', '--view-warp', '1.25,10,0.1'] },
  ];
  return roles;
}

export interface RunInfoLite {
  completedSteps: number;
  settings: { budget?: { secondsPerStep: number }; steps?: number; minutes?: number };
}

export function readRunInfo(dir: string): RunInfoLite | null {
  const path = join(dir, 'run.json');
  if (!existsSync(path)) return null;
  return JSON.parse(readFileSync(path, 'utf8')) as RunInfoLite;
}

/** Steps of budget `minutes` at the run's measured speed. */
export function stepsForBudget(info: RunInfoLite, minutes: number): number {
  const s = info.settings.budget?.secondsPerStep;
  if (!s) throw new Error('the run has no measured speed (run.json settings.budget): train it with --minutes');
  return Math.floor((minutes * 60) / s);
}

export interface TrainContext {
  cli: string;
  /** Engine of new runs (default torch: the table's CPU minutes are the PyTorch engine's; a missing torch fails loudly). */
  engine?: 'torch' | 'tfjs';
  images: string;
  log: (s: string) => void;
}

/** Wall time of each training segment, kept beside the run (bench-wall.json): steps reached, seconds. */
const WALL_FILE = 'bench-wall.json';
type WallSegments = Array<{ toStep: number; seconds: number }>;

function readWall(dir: string): WallSegments {
  const path = join(dir, WALL_FILE);
  return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as WallSegments) : [];
}

/** Wall minutes of training up to `step` (the segments that reached it), or null if not timed here. */
export function wallMinutesTo(dir: string, step: number): number | null {
  const segments = readWall(dir).filter((s) => s.toStep <= step);
  if (!segments.length || segments[segments.length - 1].toStep !== step) return null;
  return Math.round(segments.reduce((sum, s) => sum + s.seconds, 0) / 6) / 10;
}

function pretrain(ctx: TrainContext, dir: string, args: string[]): void {
  if (!args.includes('--resume')) args = ['--engine', ctx.engine ?? 'torch', ...args];
  ctx.log(`  ld-studio pretrain ${args.join(' ')}`);
  const t = performance.now();
  const res = spawnSync(process.execPath, [ctx.cli, 'pretrain', '--images', ctx.images, '--out', dir, ...args], { stdio: ['ignore', 'ignore', 'inherit'] });
  if (res.status !== 0) throw new Error(`pretrain ${args.join(' ')} failed (exit ${res.status ?? res.signal})`);
  const toStep = readRunInfo(dir)?.completedSteps ?? 0;
  writeFileSync(join(dir, WALL_FILE), JSON.stringify([...readWall(dir), { toStep, seconds: (performance.now() - t) / 1000 }]) + '\n');
}

/** Train (or complete) the default run through every budget; returns the checkpoint step of each. */
export function trainDefault(ctx: TrainContext, dir: string, budgets: number[], train: boolean): Map<number, number> | null {
  const sorted = [...budgets].sort((a, b) => a - b);
  let info = readRunInfo(dir);
  if (!info && train) {
    pretrain(ctx, dir, ['--preset', 'landmarks', '--minutes', String(sorted[0]), '--checkpoint-every', '100000']);
    info = readRunInfo(dir);
  }
  if (!info) return null;
  const steps = new Map<number, number>();
  for (const b of sorted) {
    const n = b === info.settings.minutes ? info.settings.steps ?? stepsForBudget(info, b) : stepsForBudget(info, b);
    if (info.completedSteps < n) {
      if (!train) break;
      pretrain(ctx, dir, ['--resume', '--steps', String(n)]);
      info = readRunInfo(dir)!;
    }
    if (existsSync(join(dir, 'checkpoints', `step-${String(n).padStart(8, '0')}.safetensors`))) steps.set(b, n);
  }
  return steps;
}

/** Train an ablation run for `minutes` unless it exists. */
export function trainRole(ctx: TrainContext, dir: string, role: RunRole, minutes: number, train: boolean): boolean {
  if (readRunInfo(dir)?.completedSteps) return true;
  if (!train) return false;
  pretrain(ctx, dir, [...role.args, '--minutes', String(minutes), '--checkpoint-every', '100000']);
  return Boolean(readRunInfo(dir)?.completedSteps);
}
