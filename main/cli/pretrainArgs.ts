/**
 * Turns `pretrain` command-line values into a validated TrainConfig, including the rules for
 * --resume (settings come from the run directory; only --steps and --backend may change).
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { BACKEND_REQUESTS, type BackendRequest } from '../engine/backends';
import { centreSigmaFor } from '../engine/losses';
import { defaultShapeGuided, SHAPE_GUIDED_CLUSTERS } from '../engine/shapeGuided/config';
import { defaultStage1Steps, PAPER_DEFAULTS, validateConfig, type StageChoice, type TrainConfig } from '../engine/trainer/config';
import { RunDir } from '../project/runDir';
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

const SETTINGS_FIXED_ON_RESUME = [
  'stage', 'stage1-steps', 'size', 'batch', 'micro-batch', 'channels', 'clusters', 'lr', 'lr-halve-every', 'seed', 'centre-sensitive', 'centre-sigma',
  'shape-prior', 'disc-leaky-slope', 'init-from',
] as const;

/** --init-from: a run directory (its latest checkpoint) or a .safetensors checkpoint → the checkpoint's absolute path. */
function initCheckpoint(arg: string): string {
  const path = resolve(arg);
  if (!existsSync(path)) throw new UsageError(`--init-from ${arg}: not found (give a run directory or a .safetensors checkpoint)`);
  if (statSync(path).isDirectory()) {
    const run = new RunDir(path);
    const step = run.latestCheckpointStep();
    if (step === undefined) throw new UsageError(`--init-from ${arg}: no checkpoints in ${run.checkpointDir}`);
    return run.checkpointPath(step);
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
    for (const name of SETTINGS_FIXED_ON_RESUME) {
      if (raw[name] !== undefined) throw new UsageError(`--${name} cannot change when resuming; the run keeps the settings in ${run.runJson}`);
    }
    const config = { ...stored, steps: steps ?? stored.steps, checkpointEvery: checkpointEvery ?? stored.checkpointEvery };
    const done = run.latestCheckpointStep() ?? 0;
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
  // --init-from starts stage 2 from a checkpoint (the reference's step 2); without --stage it implies stage 2
  const stage = choice<StageChoice>(raw, 'stage', ['1', '2', 'both']) ?? (initFrom ? '2' : PAPER_DEFAULTS.stage);
  if (initFrom && stage !== '2') throw new UsageError(`--init-from initialises a stage-2 run; use --stage 2 (got --stage ${stage})`);
  if (shapePrior && stage === '1') {
    throw new UsageError('--shape-prior needs the clustering branch: use --stage 2 with --init-from <stage-1 run>, or --stage both (stage 1, then shape-guided stage 2)');
  }
  const totalSteps = steps ?? (stage === 'both' ? PAPER_DEFAULTS.steps : stage === '1' ? PAPER_DEFAULTS.stage1Steps : PAPER_DEFAULTS.steps - PAPER_DEFAULTS.stage1Steps);
  const config: Omit<TrainConfig, 'filterGrad'> = {
    stage,
    steps: totalSteps,
    stage1Steps: intOption(raw, 'stage1-steps') ?? defaultStage1Steps(stage, totalSteps),
    size: intOption(raw, 'size') ?? PAPER_DEFAULTS.size,
    batch: intOption(raw, 'batch') ?? PAPER_DEFAULTS.batch,
    microBatch: intOption(raw, 'micro-batch'),
    channels: (choice(raw, 'channels', ['1', '3']) === '3' ? 3 : 1) as 1 | 3,
    clusters: intOption(raw, 'clusters') ?? (shapePrior ? SHAPE_GUIDED_CLUSTERS : PAPER_DEFAULTS.clusters),
    embedDim: PAPER_DEFAULTS.embedDim,
    lr: numberOption(raw, 'lr') ?? PAPER_DEFAULTS.lr,
    lrHalveEvery: intOption(raw, 'lr-halve-every') ?? PAPER_DEFAULTS.lrHalveEvery,
    seed: intOption(raw, 'seed') ?? PAPER_DEFAULTS.seed,
    checkpointEvery: checkpointEvery ?? PAPER_DEFAULTS.checkpointEvery,
  };
  const centreSigma = numberOption(raw, 'centre-sigma');
  if (centreSigma !== undefined && !raw['centre-sensitive']) throw new UsageError('--centre-sigma sets the σ of --centre-sensitive; add --centre-sensitive');
  if (raw['centre-sensitive']) config.centreSigma = centreSigma ?? centreSigmaFor(config.size);
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
