/** Worker-thread entry: runs one training job and talks to its parent through messages. */
import { parentPort, workerData } from 'node:worker_threads';
import { runTraining, type TrainRequest } from './trainRun';

const port = parentPort;
if (!port) throw new Error('trainWorker must run in a worker thread');

// The trainer's awaits resolve as microtasks, so a 'cancel' message could wait until the job ends;
// the parent flips a shared flag instead, read between steps.
const { request, cancelFlag } = workerData as { request: TrainRequest; cancelFlag: SharedArrayBuffer };
const flag = new Int32Array(cancelFlag);
const cancel = {
  get cancelled() {
    return Atomics.load(flag, 0) === 1;
  },
};

runTraining(request, (event) => port.postMessage({ kind: 'event', event }), cancel).then(
  (result) => port.postMessage({ kind: 'result', result }),
  (err: Error) => port.postMessage({ kind: 'error', message: err?.message ?? String(err), stack: err?.stack }),
);
