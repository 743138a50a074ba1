/**
 * Training images read and prepared in a worker thread (the trainer worker's bundle), so that the
 * caller's event loop — the app's main process while the PyTorch engine starts — never stalls on
 * decoding multi-megabyte radiographs. Falls back to the calling thread when the bundle is absent.
 */
import { existsSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { defaultWorkerPath } from './trainJob';
import { loadTrainingImages, type LoadedImages, type TrainingImageOptions } from './trainingImages';
import { workerOutcome } from './workerOutcome';

export function loadTrainingImagesInWorker(
  dir: string,
  options: TrainingImageOptions,
  onProgress?: (done: number, total: number, file: string) => void,
  workerPath = defaultWorkerPath(),
): Promise<LoadedImages> {
  if (!existsSync(workerPath)) return loadTrainingImages(dir, options, onProgress);
  const worker = new Worker(workerPath, { workerData: { prepare: { dir, options: { ...options, files: options.files ? [...options.files] : undefined } } } });
  return workerOutcome<LoadedImages>(
    worker,
    { kind: 'prepared', key: 'loaded' },
    (event) => {
      const e = event as { type: string; done: number; total: number; file: string };
      if (e.type === 'loading') onProgress?.(e.done, e.total, e.file);
    },
    (code) => `the image-preparation worker stopped unexpectedly (exit code ${code})`,
  );
}
