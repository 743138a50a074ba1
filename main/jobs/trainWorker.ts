/** Worker-thread entry: runs one training job and talks to its parent through messages. */
import { parentPort, workerData } from 'node:worker_threads';
import { runTraining, type TrainRequest } from './trainRun';

const port = parentPort;
if (!port) throw new Error('trainWorker must run in a worker thread');

const cancel = { cancelled: false };
port.on('message', (msg: { type: string }) => {
  if (msg?.type === 'cancel') cancel.cancelled = true;
});

runTraining(workerData as TrainRequest, (event) => port.postMessage({ kind: 'event', event }), cancel).then(
  (result) => port.postMessage({ kind: 'result', result }),
  (err: Error) => port.postMessage({ kind: 'error', message: err?.message ?? String(err), stack: err?.stack }),
);
