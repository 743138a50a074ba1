/**
 * The state behind one handler table: the open project, the running jobs (import, propagation,
 * segmentation) with their cancel tokens, the training run, and the pixel / thumbnail caches.
 * Transport-free: the Electron app and browser mode each create one through `createHandlerTable`.
 */
import type { ProjectSnapshot, RequestOf } from '../../common/api';
import { defaultConfigDir, defaultSampleImagesDir, RecentProjects } from '../project/appConfig';
import type { PixelsPayload } from '../io/imagePreview';
import { LruCache } from '../jobs/lruCache';
import { CancelSource, type JobHost } from '../jobs/runJob';
import { ProjectStore, type ProjectStoreOptions } from '../project/projectStore';
import { snapshotOf } from './snapshot';
import type { EventSink, JobHandle, JobKind, TrainingState } from './sessionState';
import { PreconditionError } from '../../common/errors';

/** Native dialogs (Electron); browser mode has none. */
export interface Dialogs {
  /** The chosen paths, or null when the user cancelled. */
  open(request: RequestOf<'dialog:open'>): Promise<string[] | null>;
}

export interface SessionOptions {
  /** Where handlers' events go; dropped when omitted. */
  emit?: EventSink;
  /** Settings folder (recent projects, sample project); default `defaultConfigDir(userDataDir)`. */
  configDir?: string;
  /** Electron's app.getPath('userData'), used when LD_STUDIO_CONFIG_DIR is not set. */
  userDataDir?: string;
  /** Images the sample project imports; default LD_STUDIO_SAMPLE_IMAGES or the team's hand set; null = none. */
  sampleImagesDir?: string | null;
  /** Native dialogs; absent in browser mode (`dialog:open` answers unsupported). */
  dialogs?: Dialogs;
  /** Autosave quiet time in ms (default 300). */
  autosaveMs?: number;
}

export type { JobHandle, JobKind, TrainingState } from './sessionState';

export class Session {
  readonly emit: EventSink;
  readonly configDir: string;
  readonly sampleImagesDir: string | null;
  readonly dialogs?: Dialogs;
  readonly recent: RecentProjects;
  readonly autosaveMs?: number;
  project: ProjectStore | null = null;
  readonly jobs = new Map<string, JobHandle>();
  training: TrainingState | null = null;
  /** Set while train:start / train:resume prepare a run (finding Python), so a second start is refused. */
  startingTraining = false;
  /** Decoded viewer pixels (by project, image, file identity): a few large images. */
  readonly pixels = new LruCache<PixelsPayload>(8, 512 * 1024 * 1024);
  readonly pixelsInFlight = new Map<string, Promise<PixelsPayload>>();
  /** Thumbnail data URLs (small). */
  readonly thumbnails = new LruCache<string>(2000, 64 * 1024 * 1024);

  constructor(options: SessionOptions = {}) {
    this.emit = options.emit ?? (() => undefined);
    this.configDir = options.configDir ?? defaultConfigDir(options.userDataDir);
    this.sampleImagesDir = options.sampleImagesDir === undefined ? defaultSampleImagesDir() : options.sampleImagesDir;
    this.dialogs = options.dialogs;
    this.autosaveMs = options.autosaveMs;
    this.recent = new RecentProjects(this.configDir);
  }

  /** Options for a ProjectStore of this session: autosave reports as events. */
  storeOptions(): ProjectStoreOptions {
    return {
      autosaveMs: this.autosaveMs,
      onSaved: (reason, savedAt) => this.emit('project:changed', { reason, savedAt }),
      onSaveError: (err) => this.emit('app:notice', { level: 'error', message: err.message }),
    };
  }

  requireProject(): ProjectStore {
    if (!this.project) throw new PreconditionError('no project is open: create or open a project first');
    return this.project;
  }

  /** Make `store` the open project (the previous one is saved and closed) and list it as recent. */
  setProject(store: ProjectStore): void {
    if (this.project && this.project !== store) this.closeProject();
    this.project = store;
    try {
      this.recent.touch(store.dir, store.name);
    } catch (err) {
      this.emit('app:notice', { level: 'warning', message: `could not update the recent-projects list in ${this.configDir}: ${(err as Error).message}` });
    }
  }

  /** Save and close the open project; running imports and propagations are cancelled. Training goes on. */
  closeProject(): boolean {
    const store = this.project;
    if (!store) return false;
    for (const job of this.jobs.values()) if (job.kind !== 'export') job.token.cancel();
    this.project = null;
    this.pixels.clear();
    this.thumbnails.clear();
    store.close();
    return true;
  }

  snapshot(): ProjectSnapshot | null {
    return this.project ? snapshotOf(this, this.project) : null;
  }

  /** Register a job under the client's id; refused while another job has that id. */
  beginJob(jobId: string, kind: JobKind): JobHandle {
    if (this.jobs.has(jobId)) throw new PreconditionError(`a job with id '${jobId}' is already running; use a new id for each job`);
    const handle: JobHandle = {
      jobId,
      kind,
      token: new CancelSource(),
      end: () => {
        if (this.jobs.get(jobId) === handle) this.jobs.delete(jobId);
      },
    };
    this.jobs.set(jobId, handle);
    return handle;
  }

  /** Where a runJob job of this session registers and reports: `job:progress` events under its id. */
  jobHost(jobId: string, kind: JobKind): JobHost {
    return {
      begin: () => this.beginJob(jobId, kind),
      progress: (p) => this.emit('job:progress', { jobId, kind, ...p }),
    };
  }

  cancelJob(jobId: string): boolean {
    const job = this.jobs.get(jobId);
    if (!job) return false;
    job.token.cancel();
    return true;
  }

  /** Flush synchronously (for process exit handlers). */
  flushSync(): void {
    try {
      this.project?.flush();
    } catch {
      // reported through the store's onSaveError
    }
  }

  /**
   * End of the session (app quit, server stop, test teardown): cancel jobs, stop the training run
   * (it checkpoints; waited for up to `trainingWaitMs`), save and close the project.
   */
  async dispose(trainingWaitMs = 15_000): Promise<void> {
    for (const job of this.jobs.values()) job.token.cancel();
    const training = this.training;
    if (training) {
      training.token.cancel();
      await Promise.race([training.settled, new Promise((r) => setTimeout(r, trainingWaitMs).unref())]);
    }
    this.closeProject();
  }
}
