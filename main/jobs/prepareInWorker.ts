/**
 * Training images read and prepared in a worker thread (the trainer worker's bundle), so that the
 * caller's event loop — the app's main process while the PyTorch engine starts — never stalls on
 * decoding multi-megabyte radiographs. Falls back to the calling thread when the bundle is absent.
 */
import { existsSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { defaultWorkerPath } from './trainJob';
import { loadTrainingImages, type LoadedImages, type TrainingImageOptions } from './trainingImages';

export function loadTrainingImagesInWorker(
  dir: string,
  options: TrainingImageOptions,
  onProgress?: (done: number, total: number, file: string) => void,
  workerPath = defaultWorkerPath(),
): Promise<LoadedImages> {
  if (!existsSync(workerPath)) return loadTrainingImages(dir, options, onProgress);
  const worker = new Worker(workerPath, { workerData: { prepare: { dir, options: { ...options, files: options.files ? [...options.files] : undefined } } } });
  return new Promise<LoadedImages>((resolve, reject) => {
    let settled = false;
    worker.on('message', (msg: { kind: string; event?: { type: string; done: number; total: number; file: string }; loaded?: LoadedImages; message?: string }) => {
      if (msg.kind === 'event' && msg.event?.type === 'loading') onProgress?.(msg.event.done, msg.event.total, msg.event.file);
      else if (msg.kind === 'prepared' && msg.loaded) {
        settled = true;
        resolve(msg.loaded);
      } else if (msg.kind === 'error') {
        settled = true;
        reject(new Error(msg.message));
      }
    });
    worker.on('error', (err) => {
      settled = true;
      reject(err);
    });
    worker.on('exit', (code) => {
      if (!settled) reject(new Error(`the image-preparation worker stopped unexpectedly (exit code ${code})`));
    });
  }).finally(() => void worker.terminate());
}
