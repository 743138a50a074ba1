/**
 * Worker-thread entry: runs one training job and talks to its parent through messages. With
 * `workerData.prepare` it only reads and prepares training images (for the PyTorch engine, whose
 * caller must not decode large radiographs on its own event loop) and sends them back.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { runTraining, type TrainRequest } from './trainRun';
import { loadTrainingImages, type TrainingImageOptions } from './trainingImages';

const port = parentPort;
if (!port) throw new Error('trainWorker must run in a worker thread');

type WorkerInput = { request: TrainRequest; cancelFlag: SharedArrayBuffer } | { prepare: { dir: string; options: TrainingImageOptions } };
const input = workerData as WorkerInput;
const fail = (err: Error) => port.postMessage({ kind: 'error', message: err?.message ?? String(err), stack: err?.stack });

if ('prepare' in input) {
  const { dir, options } = input.prepare;
  loadTrainingImages(dir, options, (done, total, file) => port.postMessage({ kind: 'event', event: { type: 'loading', done, total, file } })).then((loaded) => {
    // hand the pixel buffers over instead of copying them
    const buffers = [...new Set(loaded.images.map((im) => im.data.buffer as ArrayBuffer))];
    port.postMessage({ kind: 'prepared', loaded }, buffers);
  }, fail);
} else {
  // The trainer's awaits resolve as microtasks, so a 'cancel' message could wait until the job ends;
  // the parent flips a shared flag instead, read between steps.
  const { request, cancelFlag } = input;
  const flag = new Int32Array(cancelFlag);
  const cancel = {
    get cancelled() {
      return Atomics.load(flag, 0) === 1;
    },
  };

  runTraining(request, (event) => port.postMessage({ kind: 'event', event }), cancel).then((result) => port.postMessage({ kind: 'result', result }), fail);
}
