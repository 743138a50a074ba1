/**
 * Landmark propagation in a worker thread (the trainer worker's bundle): reading radiographs, the
 * centre-sensitive features and the search are seconds of synchronous work per batch, which must not
 * run on the app's main event loop. Progress and the result come back as messages; the caller's
 * cancel token is mirrored into a shared flag. Falls back to the calling thread when the bundle is absent.
 */
import { existsSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { runPropagation, type PropagationJobOptions, type PropagationJobResult } from './landmarkPropagation';
import { defaultWorkerPath } from './trainJob';
import { workerOutcome } from './workerOutcome';

type ProgressEvent = Parameters<NonNullable<PropagationJobOptions['onProgress']>>[0];

export function runPropagationInWorker(opts: PropagationJobOptions, workerPath = defaultWorkerPath()): Promise<PropagationJobResult> {
  if (!existsSync(workerPath)) return runPropagation(opts);
  const { onProgress, cancel, ...options } = opts;
  const cancelFlag = new SharedArrayBuffer(4);
  const flag = new Int32Array(cancelFlag);
  const mirror = cancel ? setInterval(() => cancel.cancelled && Atomics.store(flag, 0, 1), 50) : undefined;
  const worker = new Worker(workerPath, { workerData: { propagate: { options, cancelFlag } } });
  return workerOutcome<PropagationJobResult>(
    worker,
    { kind: 'propagated', key: 'result' },
    (event) => onProgress?.(event as ProgressEvent),
    (code) => `the landmark-propagation worker stopped unexpectedly (exit code ${code})`,
  ).finally(() => clearInterval(mirror));
}
