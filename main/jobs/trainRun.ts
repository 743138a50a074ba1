/**
 * One training job from start to finish, as it runs inside the worker thread: choose and start the
 * backend, load the images, create or resume the run directory, train, and report.
 */
import { activateBackend, versions, type BackendName } from '../engine/backends';
import type { TrainConfig } from '../engine/trainer/config';
import { Trainer, type CancelToken, type ProgressEvent } from '../engine/trainer/trainer';
import type { LossValues } from '../engine/trainer/step';
import { RunDir, type RunInfo } from '../project/runDir';
import { loadTrainingImages, type ImageFailure } from './trainingImages';

export interface TrainRequest {
  imagesDir: string;
  runDir: string;
  config: TrainConfig;
  backend: BackendName;
  backendReason: string;
  /** Continue from the run directory's last checkpoint up to config.steps. */
  resume: boolean;
}

export type TrainEvent =
  | { type: 'loading'; done: number; total: number; file: string }
  | { type: 'ready'; images: number; failures: ImageFailure[]; startStep: number }
  | ({ type: 'progress' } & ProgressEvent)
  | { type: 'checkpoint'; step: number; path: string; reason: string };

export interface TrainResult {
  status: 'completed' | 'cancelled';
  runDir: string;
  completedSteps: number;
  checkpoint?: string;
  lastLosses?: LossValues;
  backend: BackendName;
  images: number;
  seconds: number;
}

export async function runTraining(req: TrainRequest, emit: (e: TrainEvent) => void, cancel: CancelToken): Promise<TrainResult> {
  const started = Date.now();
  await activateBackend(req.backend);
  const { images, failures } = await loadTrainingImages(req.imagesDir, { cropSize: req.config.size, channels: req.config.channels }, (done, total, file) =>
    emit({ type: 'loading', done, total, file }),
  );

  const run = new RunDir(req.runDir);
  let trainer: Trainer;
  let info: RunInfo;
  if (req.resume) {
    const step = run.latestCheckpointStep();
    if (step === undefined) throw new Error(`${run.checkpointDir}: no checkpoint to resume from; start the run without --resume`);
    info = run.readInfo();
    trainer = new Trainer(req.config, images, run.readCheckpoint(step));
    run.truncateLoss(step);
  } else {
    run.create();
    trainer = new Trainer(req.config, images);
    info = {
      schema: 'ld-studio/run@1',
      status: 'running',
      createdAt: new Date().toISOString(),
      updatedAt: '',
      engine: 'tfjs',
      backend: req.backend,
      backendReason: req.backendReason,
      versions: versions(),
      images: { dir: req.imagesDir, count: images.length, failures: failures.length },
      settings: { ...req.config },
      completedSteps: 0,
    };
  }
  info = { ...info, status: 'running', backend: req.backend, backendReason: req.backendReason, settings: { ...req.config } };
  run.writeInfo(info);
  emit({ type: 'ready', images: images.length, failures, startStep: trainer.completedSteps });

  let lastLosses: LossValues | undefined;
  let lastCheckpoint: string | undefined;
  try {
    const status = await trainer.run(
      {
        onStep: (r) => {
          run.appendLoss(r);
          lastLosses = r.losses;
        },
        onProgress: (p) => emit({ type: 'progress', ...p }),
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
