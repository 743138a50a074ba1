/**
 * The one place an engine is chosen and started, for `ld-studio pretrain` and the app's Train mode:
 * PyTorch (the fast path) when asked for, or under `auto` when a Python with torch is found and no
 * tfjs backend was named; otherwise tfjs on the best available backend. Each choice is reported as
 * one line a person can read (which engine, which device or backend, and why).
 */
import { chooseBackend, type BackendProbe, type BackendRequest } from '../engine/backends';
import { filterGradFor, type TrainConfig } from '../engine/trainer/config';
import { startTrainingJob, type TrainJob } from './trainJob';
import { describeMissingTorch, findTorchAsync } from './torch/findPython';
import { startTorchTrainingJob, type DistributedOptions } from './torch/torchJob';

export type EngineRequest = 'auto' | 'torch' | 'tfjs';

export interface TrainingLaunch {
  engine: EngineRequest;
  /** tfjs backend; naming one (not 'auto') keeps `auto` on tfjs. */
  backend: BackendRequest;
  imagesDir: string;
  /** Train on exactly these files instead of every image in `imagesDir`. */
  imageFiles?: string[];
  runDir: string;
  config: Omit<TrainConfig, 'filterGrad'>;
  resume: boolean;
  torch?: { python?: string; device?: string; distributed?: DistributedOptions };
  /** Backend probes already made (the app keeps them); probed here otherwise. */
  probes?: BackendProbe[];
  /** Why the engine cannot run, as the caller words it (e.g. `--engine torch: …`); default names the engine. */
  unavailable?: (reason: string) => Error;
}

export interface StartedTraining {
  job: TrainJob;
  engine: 'torch' | 'tfjs';
  /** The device (torch) or backend (tfjs) it runs on. */
  on: string;
  /** What was chosen and why, one line per decision. */
  notes: string[];
}

export async function startTraining(l: TrainingLaunch): Promise<StartedTraining> {
  const notes: string[] = [];
  const unavailable = l.unavailable ?? ((reason: string) => new Error(`the PyTorch engine is unavailable: ${reason}`));
  if (l.engine !== 'tfjs' && l.backend === 'auto') {
    const discovery = await findTorchAsync(l.torch?.python);
    if (discovery.found) {
      const { found } = discovery;
      const wanted = l.torch?.device ?? 'auto';
      const device = wanted === 'auto' ? (found.cuda ? 'cuda' : 'cpu') : wanted;
      if (device.startsWith('cuda') && !found.cuda) throw new Error(`device ${device}: torch ${found.torch} in ${found.interpreter} sees no CUDA device`);
      notes.push(`engine: PyTorch ${found.torch} (${found.interpreter}) on ${device}`);
      const job = startTorchTrainingJob({
        imagesDir: l.imagesDir, imageFiles: l.imageFiles, runDir: l.runDir, config: l.config, python: found.interpreter, torch: found, device, resume: l.resume,
        distributed: l.torch?.distributed,
      });
      return { job, engine: 'torch', on: device, notes };
    }
    if (l.engine === 'torch') throw unavailable(describeMissingTorch(discovery));
    notes.push(`engine: tfjs (${describeMissingTorch(discovery)})`);
  }
  const choice = chooseBackend(l.backend, l.probes);
  notes.push(`engine: tfjs, backend ${choice.name} (${choice.reason})`);
  const job = startTrainingJob({
    imagesDir: l.imagesDir, imageFiles: l.imageFiles, runDir: l.runDir, config: { ...l.config, filterGrad: filterGradFor(choice.name) },
    backend: choice.name, backendReason: choice.reason, resume: l.resume,
  });
  return { job, engine: 'tfjs', on: choice.name, notes };
}
