/**
 * The shape every long operation of the app has (VS Code's call + progress events + cancellation
 * token): register under the caller's id, report progress with an ETA, stop between units of work
 * when cancelled, save the project when it ends however it ends. main/ipc runs its import,
 * propagation and segmentation jobs through it; `host` says where the progress goes.
 */
import type { CancelToken } from './workerTasks';

export interface JobProgress {
  done: number;
  total: number;
  message: string;
  /** Seconds left at the pace so far; absent before the first unit is done. */
  etaSeconds?: number;
}

export interface JobHost {
  /** Registers the job (refused while another has its id); `end` unregisters it. */
  begin(): { token: CancelToken; end(): void };
  progress(p: JobProgress): void;
}

export class Job {
  readonly started = Date.now();
  /** Units of work, once known (progress events carry it). */
  total = 0;

  constructor(
    readonly token: CancelToken,
    private readonly report: (p: JobProgress) => void,
  ) {}

  get cancelled(): boolean {
    return this.token.cancelled;
  }

  /** Seconds since the job began. */
  get seconds(): number {
    return (Date.now() - this.started) / 1000;
  }

  progress(done: number, message: string): void {
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
export async function runJob<T>(host: JobHost, work: (job: Job) => Promise<T>, store?: JobStore): Promise<T> {
  const handle = host.begin();
  const save = () => void (store && !store.isClosed && store.flush());
  let succeeded = false;
  try {
    const result = await work(new Job(handle.token, (p) => host.progress(p)));
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
