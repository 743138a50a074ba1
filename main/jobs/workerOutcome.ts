/**
 * The outcome of a one-shot worker thread that talks in `{ kind: 'event' | 'error' | <result kind> }`
 * messages: events are passed on, the result or error settles the promise, and an exit before either
 * is an error. The worker is terminated once settled.
 */
import type { Worker } from 'node:worker_threads';

interface WorkerMessage {
  kind: string;
  event?: unknown;
  message?: string;
  [payload: string]: unknown;
}

export function workerOutcome<T>(
  worker: Worker,
  result: { kind: string; key: string },
  onEvent: (event: unknown) => void,
  exitMessage: (code: number) => string,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    worker.on('message', (msg: WorkerMessage) => {
      if (msg.kind === 'event' && msg.event) onEvent(msg.event);
      else if (msg.kind === result.kind) {
        settled = true;
        resolve(msg[result.key] as T);
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
      if (!settled) reject(new Error(exitMessage(code)));
    });
  }).finally(() => void worker.terminate());
}
