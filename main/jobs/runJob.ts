/**
 * The shape every long operation of the app has (VS Code's call + progress events + cancellation
 * token): register under the caller's id, report progress with an ETA, stop between units of work
 * when cancelled, save the project when it ends however it ends. main/ipc runs its import,
 * propagation, segmentation and training jobs through it; `host` says where the progress goes.
 * A job reports `JobProgress` (done of total, ETA computed here) unless its host takes another
 * shape: training reports steps, losses and the engine's own ETA.
 */
import type { CancelToken } from './workerTasks';

export interface JobProgress {
  done: number;
  total: number;
  message: string;
  /** Seconds left at the pace so far; absent before the first unit is done. */
  etaSeconds?: number;
}

export interface JobHandle {
  readonly token: CancelToken;
  /** Unregisters the job. */
  end(): void;
}

export interface JobHost<P = JobProgress> {
  /** Registers the job (refused while another has its id). */
  begin(): JobHandle;
  progress(p: P): void;
}

/**
 * A cancel token its owner cancels. Work that polls reads `cancelled` between units; work that runs
 * elsewhere and stops on a call (a training worker, which checkpoints first) hears it via `onCancel`.
 */
export class CancelSource implements CancelToken {
  #cancelled = false;
  readonly #listeners: Array<() => void> = [];

  get cancelled(): boolean {
    return this.#cancelled;
  }

  cancel(): void {
    if (this.#cancelled) return;
    this.#cancelled = true;
    for (const listener of this.#listeners.splice(0)) listener();
  }

  /** Runs `listener` once when cancelled (at once if it already is). */
  onCancel(listener: () => void): void {
    if (this.#cancelled) listener();
    else this.#listeners.push(listener);
  }
}

export class Job<P = JobProgress> {
  readonly started = Date.now();
  /** Units of work, once known (progress events carry it). */
  total = 0;

  constructor(
    readonly token: CancelToken,
    /** Passes a progress report to the host as it is (jobs with their own progress shape). */
    readonly report: (p: P) => void,
  ) {}

  get cancelled(): boolean {
    return this.token.cancelled;
  }

  /** Seconds since the job began. */
  get seconds(): number {
    return (Date.now() - this.started) / 1000;
  }

  /** `done` of `total` units, with the ETA at the pace so far. */
  progress(this: Job<JobProgress>, done: number, message: string): void {
    const total = this.total;
    const etaSeconds = done > 0 ? (done < total ? (this.seconds / done) * (total - done) : 0) : undefined;
    this.report(etaSeconds === undefined ? { done, total, message } : { done, total, message, etaSeconds });
  }
}

/** What a job saves when it ends: the open project (a project closed meanwhile is not saved). */
export interface JobStore {
  readonly isClosed: boolean;
  flush(): unknown;
}

/** Runs `work` as a job; `store` is saved when it ends (a failed save fails a job that succeeded). */
export async function runJob<T, P = JobProgress>(host: JobHost<P>, work: (job: Job<P>) => Promise<T>, store?: JobStore): Promise<T> {
  const handle = host.begin();
  const save = () => void (store && !store.isClosed && store.flush());
  let succeeded = false;
  try {
    const result = await work(new Job<P>(handle.token, (p) => host.progress(p)));
    succeeded = true;
    return result;
  } finally {
    handle.end();
    // a batch is saved when it ends, not a debounce later
    if (succeeded) save();
    else {
      try {
        save();
      } catch {
        // the job's own error is the one to report; the changes stay in memory for the next save
      }
    }
  }
}
