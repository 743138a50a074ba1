/**
 * Starts a training job in a worker thread so the caller's event loop (the Electron main process,
 * the CLI's progress bar) never blocks. Events stream out; cancel() asks the trainer to checkpoint
 * and stop after the current step.
 */
import { EventEmitter } from 'node:events';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { TrainEvent, TrainRequest, TrainResult } from './trainRun';
import { workerOutcome } from './workerOutcome';

export interface TrainJob {
  events: EventEmitter<{ event: [TrainEvent] }>;
  cancel(): void;
  result: Promise<TrainResult>;
}

/** The bundled worker sits next to the bundled caller (out/cli); tests point at the same file. */
export function defaultWorkerPath(): string {
  const beside = join(__dirname, 'trainer-worker.js');
  if (existsSync(beside)) return beside;
  return join(__dirname, '..', '..', 'out', 'cli', 'trainer-worker.js');
}

export function startTrainingJob(request: TrainRequest, workerPath = defaultWorkerPath()): TrainJob {
  if (!existsSync(workerPath)) throw new Error(`trainer worker not built (${workerPath} is missing); run \`npm run build:cli\``);
  const events = new EventEmitter<{ event: [TrainEvent] }>();
  const cancelFlag = new SharedArrayBuffer(4);
  const worker = new Worker(workerPath, { workerData: { request, cancelFlag } });
  const result = workerOutcome<TrainResult>(
    worker,
    { kind: 'result', key: 'result' },
    (event) => events.emit('event', event as TrainEvent),
    (code) => `training worker stopped unexpectedly (exit code ${code}); the run directory keeps every checkpoint written so far`,
  );
  return { events, cancel: () => Atomics.store(new Int32Array(cancelFlag), 0, 1), result };
}
