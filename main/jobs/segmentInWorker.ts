/**
 * `segmentImages` in a worker thread (the trainer worker's bundle): decoding radiographs and resampling
 * probability maps to their full size take hundreds of milliseconds per image, which must not run on
 * the app's main event loop. Each image's mask and probability map come back as transferred buffers.
 * Falls back to the calling thread when the bundle is absent.
 */
import { existsSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { segmentImages, type SegmentedImage, type SegmentImagesOptions } from './segmentImages';
import { defaultWorkerPath } from './trainJob';
import { workerOutcome } from './workerOutcome';

export function segmentImagesInWorker(
  opts: SegmentImagesOptions,
  onImage: (result: SegmentedImage) => void,
  cancel: { readonly cancelled: boolean },
  workerPath = defaultWorkerPath(),
): Promise<void> {
  if (!existsSync(workerPath)) return segmentImages(opts, onImage, cancel);
  const cancelFlag = new SharedArrayBuffer(4);
  const flag = new Int32Array(cancelFlag);
  const mirror = setInterval(() => cancel.cancelled && Atomics.store(flag, 0, 1), 50);
  const worker = new Worker(workerPath, { workerData: { segment: { options: opts, cancelFlag } } });
  return workerOutcome<void>(
    worker,
    { kind: 'segmented', key: 'result' },
    (event) => onImage(event as SegmentedImage),
    (code) => `the segmentation worker stopped unexpectedly (exit code ${code})`,
  ).finally(() => clearInterval(mirror));
}
