/**
 * One training job from start to finish, as it runs inside the worker thread: choose and start the
 * backend, load the images, create or resume the run directory, train, and report.
 */
import { activateBackend, type BackendName } from '../engine/backends';
import { loadPriorMasks, type LoadedPriors } from '../io/priorMasks';
import { appendGanRow, readInitCheckpoint, truncateGan } from './shapeGuidedRunFiles';
import type { TrainConfig } from '../engine/trainer/config';
import { Trainer, type BudgetReport, type CancelToken, type ProgressEvent } from '../engine/trainer/trainer';
import type { LossValues } from '../engine/trainer/step';
import { RunDir, skippedCheckpointNote, type RunInfo } from './runDir';
import { beginRun } from './runRecord';
import { loadTrainingImages, type ImageFailure } from './trainingImages';

export interface TrainRequest {
  /** The folder of images (or, with `imageFiles`, the folder they are named relative to, e.g. the project's). */
  imagesDir: string;
  /** Train on exactly these files instead of every image in `imagesDir`. */
  imageFiles?: string[];
  runDir: string;
  config: TrainConfig;
  backend: BackendName;
  backendReason: string;
  /** Continue from the run directory's last checkpoint up to config.steps. */
  resume: boolean;
}

export type TrainEvent =
  | { type: 'loading'; done: number; total: number; file: string }
  | { type: 'ready'; images: number; failures: ImageFailure[]; startStep: number; priors?: { count: number; failures: ImageFailure[]; meanForeground: number } }
  | ({ type: 'progress' } & ProgressEvent)
  | ({ type: 'budget' } & BudgetReport)
  | { type: 'checkpoint'; step: number; path: string; reason: string }
  /** Something the user should know that changes nothing they asked for (a damaged checkpoint passed over). */
  | { type: 'note'; message: string };

export interface TrainResult {
  status: 'completed' | 'cancelled';
  runDir: string;
  completedSteps: number;
  checkpoint?: string;
  lastLosses?: LossValues;
  engine: 'tfjs' | 'torch';
  /** tfjs backend, or the torch device. */
  backend: string;
  images: number;
  seconds: number;
}

/** A time budget fixed by the engine (TrainConfig.minutes) goes into run.json's settings. */
export function recordBudget(info: RunInfo, b: BudgetReport): void {
  info.settings = { ...info.settings, steps: b.steps, stage1Steps: b.stage1Steps, budget: { secondsPerStep: b.secondsPerStep, timedSteps: b.timedSteps } };
}

export async function runTraining(req: TrainRequest, emit: (e: TrainEvent) => void, cancel: CancelToken): Promise<TrainResult> {
  const started = Date.now();
  await activateBackend(req.backend);
  const source = { cropSize: req.config.size, channels: req.config.channels, files: req.imageFiles };
  const { images, failures } = await loadTrainingImages(req.imagesDir, source, (done, total, file) =>
    emit({ type: 'loading', done, total, file }),
  );

  let priors: LoadedPriors | undefined;
  const sg = req.config.shapeGuided;
  if (sg) priors = await loadPriorMasks(sg.priorDir, { maxSide: sg.priorMaxSide }, (done, total, file) => emit({ type: 'loading', done, total, file }));

  const run = new RunDir(req.runDir);
  let trainer: Trainer;
  if (req.resume) {
    await run.removeStaleTempFiles();
    const { step, skipped } = run.resumePoint();
    for (const s of skipped) emit({ type: 'note', message: skippedCheckpointNote(s, step) });
    trainer = new Trainer(req.config, images, run.readCheckpoint(step), { priors: priors?.priors });
    run.truncateLoss(step);
    truncateGan(req.runDir, step);
  } else {
    const init = req.config.initFrom ? readInitCheckpoint(req.config.initFrom) : undefined;
    trainer = new Trainer(req.config, images, undefined, { priors: priors?.priors, init });
  }
  const info = beginRun(run, req.resume, {
    imagesDir: req.imagesDir, config: req.config, engine: 'tfjs', backend: req.backend, backendReason: req.backendReason,
    images: images.length, failures: failures.length,
  });
  emit({
    type: 'ready', images: images.length, failures, startStep: trainer.completedSteps,
    ...(priors ? { priors: { count: priors.priors.length, failures: priors.failures, meanForeground: priors.meanForeground } } : {}),
  });

  let lastLosses: LossValues | undefined;
  let lastCheckpoint: string | undefined;
  try {
    const status = await trainer.run(
      {
        onStep: (r) => {
          run.appendLoss(r);
          appendGanRow(req.runDir, r.step, r.losses);
          lastLosses = r.losses;
        },
        onProgress: (p) => emit({ type: 'progress', ...p }),
        onBudget: (b) => {
          recordBudget(info, b);
          run.writeInfo(info);
          emit({ type: 'budget', ...b });
        },
        onCheckpoint: (c, reason) => {
          lastCheckpoint = run.writeCheckpoint(c, reason);
          run.writeInfo({ ...info, completedSteps: c.step });
          emit({ type: 'checkpoint', step: c.step, path: lastCheckpoint, reason });
        },
      },
      cancel,
    );
    run.writeInfo({ ...info, status, completedSteps: trainer.completedSteps });
    return {
      status,
      runDir: req.runDir,
      completedSteps: trainer.completedSteps,
      checkpoint: lastCheckpoint,
      lastLosses,
      engine: 'tfjs',
      backend: req.backend,
      images: images.length,
      seconds: (Date.now() - started) / 1000,
    };
  } catch (err) {
    run.writeInfo({ ...info, status: 'failed', completedSteps: trainer.completedSteps, error: (err as Error).message });
    throw err;
  } finally {
    trainer.dispose();
  }
}
