/**
 * Worker-thread entry (bundled as out/cli/trainer-worker.js): runs one task of workerTasks.ts —
 * training, preparing training images, landmark propagation or segmentation — so that the caller's
 * event loop (the app's main process, the CLI's progress bar) never stalls on seconds of synchronous
 * work, and talks to its parent in WorkerMessages.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { cancelTokenOf, workerTasks, type WorkerInput, type WorkerMessage, type WorkerTask } from './workerTasks';

const port = parentPort;
if (!port) throw new Error('trainWorker must run in a worker thread');

const post = (message: WorkerMessage, transfer: ArrayBuffer[] = []) => port.postMessage(message, transfer);
const { task, request, cancelFlag } = workerData as WorkerInput;
const t = workerTasks[task] as WorkerTask<unknown, unknown, unknown> | undefined;
if (!t) post({ kind: 'error', message: `unknown worker task '${String(task)}'` });
else {
  t.run(request, (event, transfer) => post({ kind: 'event', event }, transfer), cancelTokenOf(cancelFlag)).then(
    (result) => post({ kind: 'result', result }, t.transfer?.(result) ?? []),
    (err: Error) => post({ kind: 'error', message: err?.message ?? String(err), stack: err?.stack }),
  );
}
