/**
 * Turns `pretrain` command-line values into a validated TrainConfig, including the rules for
 * --resume (settings come from the run directory; only --steps and --backend may change).
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { BACKEND_REQUESTS, type BackendRequest } from '../engine/backends';
import { centreSigmaFor } from '../engine/losses';
import { defaultShapeGuided, SHAPE_GUIDED_CLUSTERS } from '../engine/shapeGuided/config';
import {
  NEGATIVES_CHOICES, PAPER_AUGMENT, PAPER_DEFAULTS, PRESET_NAMES, PRESETS, runLength, validateConfig,
  type AugmentSettings, type NegativesChoice, type PresetName, type StageChoice, type TrainConfig,
} from '../engine/trainer/config';
import { passedOverCheckpointNote, RunDir, skippedText } from '../jobs/runDir';
import { numberArg, oneOf, UsageError } from './args';

export type RawOptions = Record<string, string | boolean | undefined>;

// A boolean where a string option is expected reads as 'true', which no parser below accepts.
const text = (v: string | boolean | undefined) => (v === undefined ? undefined : String(v));

const intOption = (raw: RawOptions, name: string) => numberArg(text(raw[name]), name, { integer: true });

const choice = <T extends string>(raw: RawOptions, name: string, allowed: readonly T[]) => oneOf(text(raw[name]), name, allowed);

const numberOption = (raw: RawOptions, name: string) => numberArg(text(raw[name]), name);

export type EngineRequest = 'auto' | 'tfjs' | 'torch';

export interface TorchOptions {
  python?: string;
  device: string;
  /** Processes per node through torchrun (one per GPU; CPU processes with gloo when device is cpu). */
  gpus?: number;
  nnodes?: number;
  nodeRank?: number;
  masterAddr?: string;
  masterPort?: number;
}

export interface PretrainPlan {
  imagesDir: string;
  runDir: string;
  config: Omit<TrainConfig, 'filterGrad'>;
  engine: EngineRequest;
  backend: BackendRequest;
  torch: TorchOptions;
  resume: boolean;
  /** The engine that wrote the run being resumed. */
  previousEngine?: 'tfjs' | 'torch';
}

function torchOptions(raw: RawOptions): TorchOptions {
  const device = typeof raw.device === 'string' ? raw.device : 'auto';
  if (!/^(auto|cpu|cuda(:\d+)?)$/.test(device)) throw new UsageError(`--device must be auto, cpu, cuda or cuda:N, got '${device}'`);
  const gpus = intOption(raw, 'gpus');
  const nnodes = intOption(raw, 'nnodes');
  if (gpus !== undefined && gpus < 1) throw new UsageError('--gpus must be at least 1');
  if (nnodes !== undefined && nnodes < 1) throw new UsageError('--nnodes must be at least 1');
  return {
    python: typeof raw.python === 'string' ? raw.python : undefined,
    device, gpus, nnodes,
    nodeRank: intOption(raw, 'node-rank'),
    masterAddr: typeof raw['master-addr'] === 'string' ? raw['master-addr'] : undefined,
    masterPort: intOption(raw, 'master-port'),
  };
}

/** `pretrain` options of shape-guided training and of initialising stage 2 from a checkpoint (registered in cli.ts). */
export const SHAPE_GUIDED_OPTIONS = {
  'shape-prior': { type: 'string' },
  'disc-leaky-slope': { type: 'string' },
  'init-from': { type: 'string' },
} as const;

/** `pretrain` options of the augmentation and the negatives (registered in cli.ts). */
export const AUGMENT_OPTIONS = {
  rotation: { type: 'string' },
  flip: { type: 'string' },
  'view2-turns': { type: 'string' },
  'crop-scale': { type: 'string' },
  'view-warp': { type: 'string' },
  negatives: { type: 'string' },
} as const;

const SETTINGS_FIXED_ON_RESUME = [
  'stage', 'stage1-steps', 'size', 'batch', 'micro-batch', 'channels', 'clusters', 'lr', 'lr-halve-every', 'seed', 'centre-sensitive', 'centre-sigma',
  'shape-prior', 'disc-leaky-slope', 'init-from', 'preset', 'minutes', ...(Object.keys(AUGMENT_OPTIONS) as Array<keyof typeof AUGMENT_OPTIONS>),
] as const;

/** --rotation, --flip, --view2-turns, --crop-scale over `base`; undefined when none is given and base is undefined. */
function augmentSettings(raw: RawOptions, base: AugmentSettings | undefined): AugmentSettings | undefined {
  const given = ['rotation', 'flip', 'view2-turns', 'crop-scale', 'view-warp'].some((k) => raw[k] !== undefined);
  if (!given) return base;
  const a: AugmentSettings = { ...(base ?? PAPER_AUGMENT), cropScale: [...(base ?? PAPER_AUGMENT).cropScale] };
  const rotation = numberArg(text(raw.rotation), 'rotation', { min: 0, max: 180 });
  if (rotation !== undefined) a.rotationDeg = rotation;
  const flip = numberArg(text(raw.flip), 'flip', { min: 0, max: 1 });
  if (flip !== undefined) a.hflipP = a.vflipP = flip;
  const turns = choice(raw, 'view2-turns', ['on', 'off']);
  if (turns !== undefined) a.view2Turns = turns === 'on';
  const scale = text(raw['crop-scale']);
  if (scale !== undefined) {
    const parts = scale.split(',').map((v) => Number(v.trim()));
    if (parts.length !== 2 || !parts.every(Number.isFinite) || !(parts[0] > 0 && parts[0] <= parts[1] && parts[1] <= 1)) {
      throw new UsageError(`--crop-scale expects MIN,MAX area fractions with 0 < MIN ≤ MAX ≤ 1 (paper 0.9,1), got '${scale}'`);
    }
    a.cropScale = [parts[0], parts[1]];
  }
  const warp = text(raw['view-warp']);
  if (warp === 'off') delete a.viewWarp;
  else if (warp !== undefined) {
    const parts = warp.split(',').map((v) => Number(v.trim()));
    if (parts.length !== 3 || !parts.every(Number.isFinite) || !(parts[0] >= 1 && parts[1] >= 0 && parts[2] >= 0 && parts[2] < 0.5)) {
      throw new UsageError(`--view-warp expects SCALE,DEGREES,SHIFT (e.g. 1.25,10,0.1: scale up to ×1.25, ±10°, shifts up to 10 % of the crop) or off, got '${warp}'`);
    }
    a.viewWarp = [parts[0], parts[1], parts[2]];
  }
  return a;
}

/** --init-from: a run directory (its latest checkpoint) or a .safetensors checkpoint → the checkpoint's absolute path. */
function initCheckpoint(arg: string): string {
  const path = resolve(arg);
  if (!existsSync(path)) throw new UsageError(`--init-from ${arg}: not found (give a run directory or a .safetensors checkpoint)`);
  if (statSync(path).isDirectory()) {
    const run = new RunDir(path);
    const whole = run.newestWholeCheckpoint();
    if (whole.path === undefined) throw new UsageError(`--init-from ${arg}: no whole checkpoint in ${run.checkpointDir}${skippedText(whole.skipped)}`);
    for (const s of whole.skipped) process.stderr.write(`pretrain: note: ${passedOverCheckpointNote(s, whole.step!)}\n`);
    return whole.path;
  }
  if (!path.endsWith('.safetensors')) throw new UsageError(`--init-from ${arg}: expected a run directory or a .safetensors checkpoint`);
  return path;
}

/** --shape-prior: the folder must exist and hold files (which of them are masks is checked when they are read). */
function priorFolder(arg: string): string {
  const dir = resolve(arg);
  if (!existsSync(dir)) throw new UsageError(`--shape-prior ${arg}: folder not found (give the folder of binary reference masks)`);
  if (!statSync(dir).isDirectory()) throw new UsageError(`--shape-prior ${arg}: this is a file; give the folder that holds the mask images`);
  if (!readdirSync(dir).some((f) => !f.startsWith('.'))) throw new UsageError(`--shape-prior ${arg}: the folder is empty; put the binary reference masks (PNG, JPEG, TIFF or DICOM) in it`);
  return dir;
}

type FixedSetting = (typeof SETTINGS_FIXED_ON_RESUME)[number];

/** A fixed setting given on a --resume command line: its stored and asked values when they differ, else null. */
function changedOnResume(raw: RawOptions, name: FixedSetting, stored: Omit<TrainConfig, 'filterGrad'>): { stored: string; asked: string } | null {
  const show = (v: unknown) => (v === undefined ? 'none' : typeof v === 'string' ? v : JSON.stringify(v));
  const compare = (storedValue: unknown, asked: unknown) => (JSON.stringify(storedValue) === JSON.stringify(asked) ? null : { stored: show(storedValue), asked: show(asked) });
  const storedAugment = stored.augment ?? PAPER_AUGMENT;
  switch (name) {
    case 'stage': return compare(stored.stage, choice(raw, 'stage', ['1', '2', 'both']));
    case 'stage1-steps': return compare(stored.stage1Steps, intOption(raw, name));
    case 'size': case 'batch': case 'clusters': case 'seed': return compare(stored[name], intOption(raw, name));
    case 'micro-batch': return compare(stored.microBatch, intOption(raw, name));
    case 'channels': return compare(stored.channels, Number(choice(raw, 'channels', ['1', '3'])));
    case 'lr': return compare(stored.lr, numberOption(raw, name));
    case 'lr-halve-every': return compare(stored.lrHalveEvery, intOption(raw, name));
    case 'centre-sensitive': return stored.centreSigma === undefined ? { stored: 'off', asked: 'on' } : null;
    case 'centre-sigma': return compare(stored.centreSigma, numberOption(raw, name));
    case 'shape-prior': return compare(stored.shapeGuided?.priorDir, resolve(String(raw[name])));
    case 'disc-leaky-slope': return compare(stored.shapeGuided?.discLeakySlope, numberOption(raw, name));
    case 'init-from': return compare(stored.initFrom, initCheckpoint(String(raw[name])));
    case 'preset': return compare(stored.preset ?? 'paper', choice<PresetName>(raw, 'preset', PRESET_NAMES));
    case 'minutes': return compare(stored.minutes, numberOption(raw, name));
    case 'negatives': return compare(stored.negatives ?? 'batch', choice<NegativesChoice>(raw, 'negatives', NEGATIVES_CHOICES));
    default: return compare(storedAugment, augmentSettings(raw, storedAugment));
  }
}

export function planPretrain(raw: RawOptions): PretrainPlan {
  const images = raw.images;
  const out = raw.out;
  if (typeof images !== 'string' || !images) throw new UsageError('--images <dir> is required: the folder of images to learn from');
  if (typeof out !== 'string' || !out) throw new UsageError('--out <run-dir> is required: where to write run.json, loss.csv and checkpoints');
  const imagesDir = resolve(images);
  if (!existsSync(imagesDir)) throw new UsageError(`--images ${images}: folder not found`);
  if (!statSync(imagesDir).isDirectory()) throw new UsageError(`--images ${images}: this is a file; give the folder that holds the images`);
  const runDir = resolve(out);
  const run = new RunDir(runDir);
  const backend = choice(raw, 'backend', BACKEND_REQUESTS) ?? 'auto';
  const engine = choice<EngineRequest>(raw, 'engine', ['auto', 'tfjs', 'torch']) ?? 'auto';
  const torch = torchOptions(raw);
  if (engine === 'tfjs' && (torch.gpus || torch.nnodes || raw.device !== undefined || raw.python !== undefined)) {
    throw new UsageError('--device, --gpus, --nnodes and --python apply to the PyTorch engine; drop them or use --engine torch');
  }
  if (engine === 'torch' && raw.backend !== undefined) throw new UsageError('--backend chooses a tfjs backend; the PyTorch engine takes --device');
  const steps = intOption(raw, 'steps');
  const checkpointEvery = intOption(raw, 'checkpoint-every');

  if (raw.resume) {
    if (!run.exists()) throw new UsageError(`--resume: ${out} holds no run (run.json is missing); start it without --resume`);
    const storedInfo = run.readInfo();
    const stored = storedInfo.settings as Omit<TrainConfig, 'filterGrad'>;
    // re-running the same command line with --resume is fine: refuse only a value that differs
    for (const name of SETTINGS_FIXED_ON_RESUME) {
      if (raw[name] === undefined) continue;
      const change = changedOnResume(raw, name, stored);
      if (change) throw new UsageError(`--${name} cannot change when resuming (the run has ${change.stored}, the command asks for ${change.asked}); the run keeps the settings in ${run.runJson}`);
    }
    const config = { ...stored, steps: steps ?? stored.steps, checkpointEvery: checkpointEvery ?? stored.checkpointEvery };
    // the step the resume continues from: a newest checkpoint cut short does not count (RunDir.resumePoint)
    const done = run.newestWholeCheckpoint().step ?? 0;
    if (config.steps <= done) throw new UsageError(`--steps ${config.steps}: the run already has ${done} steps; ask for more to continue`);
    const errors = validateConfig({ ...config, filterGrad: 'im2col' });
    if (errors.length) throw new UsageError(errors.join('; '));
    return { imagesDir, runDir, config, engine, backend, torch, resume: true, previousEngine: storedInfo.engine };
  }

  if (run.exists()) throw new UsageError(`--out ${out} already holds a run; add --resume to continue it, or choose another folder`);
  if (raw['shape-prior'] === '' || raw['init-from'] === '') throw new UsageError('--shape-prior and --init-from need a path');
  const shapePrior = typeof raw['shape-prior'] === 'string' ? priorFolder(raw['shape-prior']) : undefined;
  const initFrom = typeof raw['init-from'] === 'string' ? initCheckpoint(raw['init-from']) : undefined;
  const slope = numberOption(raw, 'disc-leaky-slope');
  if (slope !== undefined && !shapePrior) throw new UsageError('--disc-leaky-slope sets the shape-guided discriminator; add --shape-prior <dir>');
  const presetName = choice<PresetName>(raw, 'preset', PRESET_NAMES) ?? 'paper';
  const preset = PRESETS[presetName];
  // --init-from starts stage 2 from a checkpoint (the reference's step 2); without --stage it implies stage 2
  const stage = choice<StageChoice>(raw, 'stage', ['1', '2', 'both']) ?? (initFrom ? '2' : preset.stage);
  if (initFrom && stage !== '2') throw new UsageError(`--init-from initialises a stage-2 run; use --stage 2 (got --stage ${stage})`);
  if (shapePrior && stage === '1') {
    throw new UsageError('--shape-prior needs the clustering branch: use --stage 2 with --init-from <stage-1 run>, or --stage both (stage 1, then shape-guided stage 2)');
  }
  const minutesArg = numberOption(raw, 'minutes');
  if (minutesArg !== undefined && !(minutesArg > 0)) throw new UsageError(`--minutes expects a positive number, got '${String(raw.minutes)}'`);
  if (minutesArg !== undefined && steps !== undefined) throw new UsageError('--minutes and --steps both set the length of the run: give one');
  const minutes = minutesArg ?? (steps === undefined ? preset.minutes : undefined);
  const length = runLength(stage, { steps, minutes, stage1Steps: intOption(raw, 'stage1-steps') });
  const config: Omit<TrainConfig, 'filterGrad'> = {
    stage,
    steps: length.steps,
    stage1Steps: length.stage1Steps,
    size: intOption(raw, 'size') ?? preset.size,
    batch: intOption(raw, 'batch') ?? preset.batch,
    microBatch: intOption(raw, 'micro-batch'),
    channels: (choice(raw, 'channels', ['1', '3']) === '3' ? 3 : 1) as 1 | 3,
    clusters: intOption(raw, 'clusters') ?? (shapePrior ? SHAPE_GUIDED_CLUSTERS : PAPER_DEFAULTS.clusters),
    embedDim: PAPER_DEFAULTS.embedDim,
    lr: numberOption(raw, 'lr') ?? preset.lr,
    lrHalveEvery: intOption(raw, 'lr-halve-every') ?? preset.lrHalveEvery,
    seed: intOption(raw, 'seed') ?? PAPER_DEFAULTS.seed,
    checkpointEvery: checkpointEvery ?? PAPER_DEFAULTS.checkpointEvery,
  };
  if (presetName !== 'paper') config.preset = presetName;
  if (length.minutes !== undefined) {
    config.minutes = length.minutes;
    if (length.stage1Share !== undefined) config.stage1Share = length.stage1Share;
  }
  const centreSigma = numberOption(raw, 'centre-sigma');
  if (centreSigma !== undefined && !raw['centre-sensitive'] && !preset.centreSensitive) throw new UsageError('--centre-sigma sets the σ of --centre-sensitive; add --centre-sensitive');
  if (raw['centre-sensitive'] || preset.centreSensitive) config.centreSigma = centreSigma ?? centreSigmaFor(config.size);
  const augment = augmentSettings(raw, preset.augment);
  if (augment) config.augment = augment;
  const negatives = choice<NegativesChoice>(raw, 'negatives', NEGATIVES_CHOICES) ?? preset.negatives;
  if (negatives) config.negatives = negatives;
  if (initFrom) config.initFrom = initFrom;
  if (shapePrior) {
    config.shapeGuided = defaultShapeGuided(shapePrior, config.size);
    if (slope !== undefined) config.shapeGuided.discLeakySlope = slope;
  }
  if (stage !== 'both' && raw['stage1-steps'] !== undefined) throw new UsageError('--stage1-steps only applies with --stage both');
  if (config.stage1Steps > config.steps) throw new UsageError(`--stage1-steps ${config.stage1Steps} is more than --steps ${config.steps}`);
  const errors = validateConfig({ ...config, filterGrad: 'im2col' });
  if (errors.length) throw new UsageError(errors.join('; '));
  return { imagesDir, runDir, config, engine, backend, torch, resume: false };
}
