/**
 * One way to run a task of workerTasks.ts off the caller's event loop: `startInWorker` starts it in
 * a worker thread (the bundled out/cli/trainer-worker.js) and returns its result and a cancel;
 * `runInWorker` does the same for a caller holding a cancel token. Where the bundle is absent (sources
 * under test before a build) the task runs in the calling thread, except training, which refuses.
 * An exit before a result or an error is an error, and the worker is terminated once settled.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { cancelTokenOf, workerTasks, type CancelToken, type TaskEvent, type TaskRequest, type TaskResult, type WorkerInput, type WorkerMessage, type WorkerTask, type WorkerTaskKind } from './workerTasks';

/** The bundled worker sits next to the bundled caller (out/cli); tests point at the same file. */
export function defaultWorkerPath(): string {
  const beside = join(__dirname, 'trainer-worker.js');
  if (existsSync(beside)) return beside;
  return join(__dirname, '..', '..', 'out', 'cli', 'trainer-worker.js');
}

const DESCRIPTIONS: Record<WorkerTaskKind, string> = {
  train: 'training worker',
  prepare: 'image-preparation worker',
  propagate: 'landmark-propagation worker',
  segment: 'segmentation worker',
};

export interface WorkerOptions<K extends WorkerTaskKind> {
  onEvent?: (event: TaskEvent<K>) => void;
  /** The caller's token: polled into the worker's flag, read directly when the task runs in this thread. */
  cancel?: CancelToken;
  workerPath?: string;
  /** What an unexpected exit means to the user (default: the task's name and the exit code). */
  exitMessage?: (code: number) => string;
}

export interface StartedTask<K extends WorkerTaskKind> {
  result: Promise<TaskResult<K>>;
  cancel(): void;
}

export function startInWorker<K extends WorkerTaskKind>(kind: K, request: TaskRequest<K>, opts: WorkerOptions<K> = {}): StartedTask<K> {
  const workerPath = opts.workerPath ?? defaultWorkerPath();
  const cancelFlag = new SharedArrayBuffer(4);
  const cancel = () => Atomics.store(new Int32Array(cancelFlag), 0, 1);
  if (!existsSync(workerPath)) {
    if (kind === 'train') throw new Error(`trainer worker not built (${workerPath} is missing); run \`npm run build:cli\``);
    const t = workerTasks[kind] as unknown as WorkerTask<TaskRequest<K>, TaskEvent<K>, TaskResult<K>>;
    const own = cancelTokenOf(cancelFlag);
    const token = { get cancelled() { return own.cancelled || !!opts.cancel?.cancelled; } };
    return { result: t.run(request, (e) => opts.onEvent?.(e), token), cancel };
  }
  const input: WorkerInput<K> = { task: kind, request, cancelFlag };
  const worker = new Worker(workerPath, { workerData: input });
  const exitMessage = opts.exitMessage ?? ((code: number) => `the ${DESCRIPTIONS[kind]} stopped unexpectedly (exit code ${code})`);
  const result = new Promise<TaskResult<K>>((resolve, reject) => {
    let settled = false;
    worker.on('message', (msg: WorkerMessage) => {
      if (msg.kind === 'event') opts.onEvent?.(msg.event as TaskEvent<K>);
      else {
        settled = true;
        if (msg.kind === 'result') resolve(msg.result as TaskResult<K>);
        else reject(new Error(msg.message));
      }
    });
    worker.on('error', (err) => {
      settled = true;
      reject(err);
    });
    worker.on('exit', (code) => {
      if (!settled) reject(new Error(exitMessage(code)));
    });
  }).finally(() => void worker.terminate());
  return { result, cancel };
}

/** startInWorker, awaited, for a caller that cancels through `opts.cancel`. */
export async function runInWorker<K extends WorkerTaskKind>(kind: K, request: TaskRequest<K>, opts: WorkerOptions<K> = {}): Promise<TaskResult<K>> {
  const started = startInWorker(kind, request, opts);
  const mirror = opts.cancel ? setInterval(() => opts.cancel!.cancelled && started.cancel(), 50) : undefined;
  try {
    return await started.result;
  } finally {
    clearInterval(mirror);
  }
}
