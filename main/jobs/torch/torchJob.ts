/**
 * Runs the PyTorch engine as a supervised child process (or several, through torchrun) behind the
 * same job interface as the tfjs worker: same events, cancel, run directory and resume. A crash
 * surfaces as an error with the tail of the engine's stderr; checkpoints already written stay.
 */
import { spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { join } from 'node:path';
import type { TrainConfig } from '../../engine/trainer/config';
import type { LossValues } from '../../engine/trainer/step';
import type { TrainJob } from '../trainJob';
import { beginRun } from '../runRecord';
import { recordBudget, type TrainEvent, type TrainResult } from '../trainRun';
import { runInWorker } from '../runInWorker';
import { loadPriorMasks, writePreparedPriors } from '../../io/priorMasks';
import { appendGanRow, truncateGan } from '../shapeGuidedRunFiles';
import { writeFileAtomic } from '../../io/atomicWrite';
import { RunDir, skippedCheckpointNote, type ResumePoint } from '../runDir';
import { engineEnv, type TorchInfo } from './findPython';
import { readEngine } from './engineProcess';
import { writePreparedImages } from './preparedImages';

export interface DistributedOptions {
  /** Processes per node (one per GPU, or CPU processes with gloo). */
  procsPerNode: number;
  nnodes?: number;
  nodeRank?: number;
  masterAddr?: string;
  masterPort?: number;
}

export interface TorchTrainRequest {
  imagesDir: string;
  /** Train on exactly these files instead of every image in `imagesDir`. */
  imageFiles?: string[];
  runDir: string;
  config: Omit<TrainConfig, 'filterGrad'>;
  python: string;
  torch: TorchInfo;
  device: string;
  resume: boolean;
  distributed?: DistributedOptions;
}

type EngineEvent =
  | { type: 'ready'; images: number; startStep: number; device: string; worldSize: number }
  | { type: 'step'; step: number; stage: 1 | 2; lr: number; seconds: number; losses: LossValues }
  | { type: 'checkpoint'; step: number; path: string; reason: string }
  | { type: 'budget'; steps: number; stage1Steps: number; secondsPerStep: number; timedSteps: number };

function engineCommand(req: TorchTrainRequest, requestFile: string): string[] {
  const d = req.distributed;
  if (!d || (d.procsPerNode <= 1 && (d.nnodes ?? 1) <= 1)) return [req.python, '-m', 'ld_torch', 'train', '--request', requestFile];
  return [
    req.python, '-m', 'torch.distributed.run', `--nproc_per_node=${d.procsPerNode}`, `--nnodes=${d.nnodes ?? 1}`,
    `--node_rank=${d.nodeRank ?? 0}`, `--master_addr=${d.masterAddr ?? '127.0.0.1'}`, `--master_port=${d.masterPort ?? 29500}`,
    '-m', 'ld_torch', 'train', '--request', requestFile,
  ];
}

export function startTorchTrainingJob(req: TorchTrainRequest): TrainJob {
  const events = new EventEmitter<{ event: [TrainEvent] }>();
  let cancelRequested = false;
  let child: ReturnType<typeof spawn> | undefined;

  const result = (async (): Promise<TrainResult> => {
    const started = Date.now();
    const run = new RunDir(req.runDir);
    // the engine is handed a whole checkpoint: the choice (and the note on a damaged one) is made here, once for both engines
    let resumeFrom: ResumePoint | null = null;
    if (req.resume) {
      await run.removeStaleTempFiles();
      resumeFrom = run.resumePoint();
      for (const s of resumeFrom.skipped) events.emit('event', { type: 'note', message: skippedCheckpointNote(s, resumeFrom.step) });
    }
    const source = { cropSize: req.config.size, channels: req.config.channels, files: req.imageFiles };
    // decoded in a worker thread: the caller (the app's main process) stays responsive
    const { images, failures } = await runInWorker('prepare', { dir: req.imagesDir, options: source }, {
      onEvent: ({ done, total, file }) => events.emit('event', { type: 'loading', done, total, file }),
    });
    // shape-guided: the prior masks are read before the run directory is touched, so a bad folder leaves no run behind
    const sg = req.config.shapeGuided;
    const priors = sg ? await loadPriorMasks(sg.priorDir, { maxSide: sg.priorMaxSide }, (done, total, file) => events.emit('event', { type: 'loading', done, total, file })) : undefined;
    const info = beginRun(run, req.resume, {
      imagesDir: req.imagesDir, config: req.config, engine: 'torch', backend: req.device,
      backendReason: `PyTorch ${req.torch.torch} via ${req.python}${req.distributed ? `, ${req.distributed.procsPerNode} process(es) per node` : ''}`,
      images: images.length, failures: failures.length, extraVersions: { torch: req.torch.torch, python: req.torch.python.split(' ')[0] },
    });
    if (resumeFrom) {
      run.truncateLoss(resumeFrom.step);
      truncateGan(req.runDir, resumeFrom.step);
    }
    const cacheDir = join(req.runDir, 'cache');
    const prepared = writePreparedImages(cacheDir, images, req.config.size, req.config.channels);
    const priorsFile = priors ? writePreparedPriors(cacheDir, priors.priors) : undefined;
    const requestFile = join(cacheDir, 'torch-request.json');
    writeFileAtomic(requestFile, JSON.stringify({ runDir: req.runDir, images: prepared, config: req.config, device: req.device, resumeFrom: resumeFrom?.path ?? null, ...(priorsFile ? { priors: priorsFile } : {}) }, null, 2));

    const [cmd, ...args] = engineCommand(req, requestFile);
    const proc = spawn(cmd, args, { env: engineEnv(), stdio: ['pipe', 'pipe', 'pipe'] });
    child = proc;
    if (cancelRequested) proc.stdin.write('cancel\n');
    let startStep = 0;
    let lastLosses: LossValues | undefined;
    let lastCheckpoint: string | undefined;
    let completed = info.completedSteps;
    let totalSteps = req.config.steps;
    const engine = readEngine<EngineEvent>(proc, (e) => {
      if (e.type === 'ready') {
        startStep = e.startStep;
        events.emit('event', {
          type: 'ready', images: images.length, failures, startStep,
          ...(priors ? { priors: { count: priors.priors.length, failures: priors.failures, meanForeground: priors.meanForeground } } : {}),
        });
      } else if (e.type === 'step') {
        run.appendLoss(e);
        appendGanRow(req.runDir, e.step, e.losses);
        lastLosses = e.losses;
        const elapsed = (Date.now() - started) / 1000;
        const perStep = elapsed / Math.max(1, e.step - startStep);
        events.emit('event', {
          step: e.step, stage: e.stage, lr: e.lr, seconds: e.seconds, losses: e.losses,
          type: 'progress', totalSteps,
          imagesPerSecond: (5 * req.config.batch * (req.distributed?.procsPerNode ?? 1)) / Math.max(e.seconds, 1e-6),
          etaSeconds: perStep * (totalSteps - e.step),
        });
      } else if (e.type === 'budget') {
        const { type: _type, ...budget } = e;
        totalSteps = budget.steps;
        recordBudget(info, budget);
        run.writeInfo({ ...info, completedSteps: completed });
        events.emit('event', { type: 'budget', ...budget });
      } else if (e.type === 'checkpoint') {
        lastCheckpoint = e.path;
        completed = e.step;
        run.writeInfo({ ...info, completedSteps: e.step });
        events.emit('event', { type: 'checkpoint', step: e.step, path: e.path, reason: e.reason });
      }
    });

    const exit = await engine.exit;
    const { done, error: engineError, stderrTail } = engine;
    if (exit.code !== 0 || !done) {
      const why = engineError ?? (exit.signal ? `killed by ${exit.signal}` : `exit code ${exit.code}`);
      const kept = `checkpoints written so far are kept in ${run.checkpointDir}`;
      run.writeInfo({ ...info, status: 'failed', completedSteps: completed, error: why });
      if (engineError) {
        // the engine said what went wrong in one line: that is the message; its traceback goes to a file, for a bug report
        const log = join(req.runDir, 'engine-stderr.log');
        writeFileAtomic(log, stderrTail.join('\n') + '\n');
        throw new Error(`the PyTorch engine stopped: ${why}; ${kept} (the engine's own output is in ${log})`);
      }
      // a crash (killed, out of memory) said nothing itself: its last stderr lines are all there is
      throw new Error(`the PyTorch engine stopped: ${why}; ${kept}.\n--- engine stderr (last lines) ---\n${stderrTail.join('\n')}`);
    }
    run.writeInfo({ ...info, status: done.status, completedSteps: done.completedSteps });
    return {
      status: done.status, runDir: req.runDir, completedSteps: done.completedSteps, checkpoint: lastCheckpoint, lastLosses,
      engine: 'torch', backend: req.device, images: images.length, seconds: (Date.now() - started) / 1000,
    };
  })();

  return {
    events,
    cancel: () => {
      cancelRequested = true;
      if (child?.stdin?.writable) child.stdin.write('cancel\n');
    },
    result,
  };
}
