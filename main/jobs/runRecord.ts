/** Creating or reopening a run directory's run.json, shared by the tfjs and PyTorch engines. */
import { versions } from '../engine/backends';
import type { TrainConfig } from '../engine/trainer/config';
import { RunDir, type RunInfo } from './runDir';

export interface RunStart {
  imagesDir: string;
  config: TrainConfig | Omit<TrainConfig, 'filterGrad'>;
  engine: RunInfo['engine'];
  backend: string;
  backendReason: string;
  images: number;
  failures: number;
  extraVersions?: Record<string, string | undefined>;
}

/** For a new run: create the folder and loss.csv. For a resumed one: keep its history. Marks it running. */
export function beginRun(run: RunDir, resume: boolean, start: RunStart): RunInfo {
  if (!resume) run.create();
  const previous = resume ? run.readInfo() : undefined;
  const info: RunInfo = {
    schema: 'ld-studio/run@1',
    createdAt: previous?.createdAt ?? new Date().toISOString(),
    updatedAt: '',
    status: 'running',
    engine: start.engine,
    backend: start.backend,
    backendReason: start.backendReason,
    versions: { ...versions(), ...start.extraVersions },
    images: { dir: start.imagesDir, count: start.images, failures: start.failures },
    settings: { ...start.config },
    completedSteps: previous?.completedSteps ?? 0,
  };
  run.writeInfo(info);
  return info;
}
