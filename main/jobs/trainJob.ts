/**
 * Starts a training job in a worker thread (runInWorker.ts) so the caller's event loop (the Electron
 * main process, the CLI's progress bar) never blocks. Events stream out; cancel() asks the trainer to
 * checkpoint and stop after the current step.
 */
import { EventEmitter } from 'node:events';
import { startInWorker } from './runInWorker';
import type { TrainEvent, TrainRequest, TrainResult } from './trainRun';

export interface TrainJob {
  events: EventEmitter<{ event: [TrainEvent] }>;
  cancel(): void;
  result: Promise<TrainResult>;
}

export function startTrainingJob(request: TrainRequest, workerPath?: string): TrainJob {
  const events = new EventEmitter<{ event: [TrainEvent] }>();
  const { result, cancel } = startInWorker('train', request, {
    workerPath,
    onEvent: (event) => events.emit('event', event),
    exitMessage: (code) => `training worker stopped unexpectedly (exit code ${code}); the run directory keeps every checkpoint written so far`,
  });
  return { events, cancel, result };
}
