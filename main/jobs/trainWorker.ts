/**
 * Worker-thread entry: runs one training job and talks to its parent through messages. With
 * `workerData.prepare` it only reads and prepares training images (for the PyTorch engine, whose
 * caller must not decode large radiographs on its own event loop) and sends them back; with
 * `workerData.propagate` it runs a landmark propagation (decoding, ONNX inference and the search),
 * which would otherwise hold the app's main event loop for seconds at a time; with `workerData.segment`
 * it segments images one by one, sending each mask and probability map back as it is done.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { runPropagation, type PropagationJobOptions } from './landmarkPropagation';
import { segmentImages, type SegmentImagesOptions } from './segmentImages';
import { runTraining, type TrainRequest } from './trainRun';
import { loadTrainingImages, type TrainingImageOptions } from './trainingImages';

const port = parentPort;
if (!port) throw new Error('trainWorker must run in a worker thread');

type WorkerInput =
  | { request: TrainRequest; cancelFlag: SharedArrayBuffer }
  | { prepare: { dir: string; options: TrainingImageOptions } }
  | { propagate: { options: Omit<PropagationJobOptions, 'onProgress' | 'cancel'>; cancelFlag: SharedArrayBuffer } }
  | { segment: { options: SegmentImagesOptions; cancelFlag: SharedArrayBuffer } };
const input = workerData as WorkerInput;
const fail = (err: Error) => port.postMessage({ kind: 'error', message: err?.message ?? String(err), stack: err?.stack });

// Awaits resolve as microtasks, so a 'cancel' message could wait until the job ends; the parent flips a
// shared flag instead, read between steps (training) or images (propagation).
const cancelTokenOf = (cancelFlag: SharedArrayBuffer) => {
  const flag = new Int32Array(cancelFlag);
  return {
    get cancelled() {
      return Atomics.load(flag, 0) === 1;
    },
  };
};

if ('prepare' in input) {
  const { dir, options } = input.prepare;
  loadTrainingImages(dir, options, (done, total, file) => port.postMessage({ kind: 'event', event: { type: 'loading', done, total, file } })).then((loaded) => {
    // hand the pixel buffers over instead of copying them
    const buffers = [...new Set(loaded.images.map((im) => im.data.buffer as ArrayBuffer))];
    port.postMessage({ kind: 'prepared', loaded }, buffers);
  }, fail);
} else if ('propagate' in input) {
  const { options, cancelFlag } = input.propagate;
  runPropagation({ ...options, cancel: cancelTokenOf(cancelFlag), onProgress: (event) => port.postMessage({ kind: 'event', event }) }).then(
    (result) => port.postMessage({ kind: 'propagated', result }),
    fail,
  );
} else if ('segment' in input) {
  const { options, cancelFlag } = input.segment;
  segmentImages(
    options,
    (result) => port.postMessage({ kind: 'event', event: result }, result.mask ? [result.mask.buffer as ArrayBuffer, result.probability.buffer as ArrayBuffer] : []),
    cancelTokenOf(cancelFlag),
  ).then(() => port.postMessage({ kind: 'segmented' }), fail);
} else {
  const { request, cancelFlag } = input;
  runTraining(request, (event) => port.postMessage({ kind: 'event', event }), cancelTokenOf(cancelFlag)).then((result) => port.postMessage({ kind: 'result', result }), fail);
}
