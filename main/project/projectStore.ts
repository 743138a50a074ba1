/**
 * An open project: the folder, its `ld-project.json` in memory, and autosave. Every change goes
 * through `change()`, which schedules an atomic write (temp file + rename) 300 ms after the last
 * change, and at most 1 s after the first unsaved one, so a burst of edits is one write and nothing
 * older than a second is lost in a crash. `flush()` writes at once (the app calls it on close and
 * exit; review corrections call it straight away).
 */
import { existsSync, type Stats } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, isAbsolute, join, relative, resolve, sep, win32 } from 'node:path';
import { removeStaleTempFiles, writeFileAtomic, writeFileAtomicAsync } from '../io/atomicWrite';
import { createFolder } from '../io/createFolder';
import { InputFileError, readInputFile } from '../io/inputFile';
import { emptyProjectFile, parseProjectFile, PROJECT_FILE_NAME, ProjectFileError, serializeProjectFile, type ProjectFile, type StoredImage } from './projectFile';
import { ConflictError, NotFoundError, PreconditionError } from '../../common/errors';

export interface ProjectStoreOptions {
  /** Quiet time after a change before it is written (default 300 ms). */
  autosaveMs?: number;
  /** Longest an unsaved change waits while changes keep coming (default 1000 ms). */
  maxWaitMs?: number;
  /** After each successful write, with the reasons of the changes it holds. */
  onSaved?: (reason: string, savedAt: string) => void;
  /** A write failed (disk full, folder gone); the changes stay in memory and the next change retries. */
  onSaveError?: (err: Error) => void;
}

/** A project file is a few MB even with thousands of images; anything far larger is not one. */
const MAX_PROJECT_FILE_BYTES = 256 * 1024 ** 2;

const statOrUndefined = (path: string): Promise<Stats | undefined> => stat(path).catch(() => undefined);

/** A stored image path (relative with forward slashes, or absolute) → an absolute path. */
export function resolveStoredPath(projectDir: string, stored: string): string {
  if (isAbsolute(stored) || win32.isAbsolute(stored)) return stored;
  return resolve(projectDir, ...stored.split('/'));
}

/**
 * An absolute path → what the project stores: relative to the project folder with forward slashes
 * (`../images/a.png` included); absolute only when no relative path exists (another Windows drive).
 */
export function toStoredPath(projectDir: string, absolutePath: string): string {
  const rel = relative(resolve(projectDir), resolve(absolutePath));
  if (rel === '' || isAbsolute(rel)) return resolve(absolutePath).split(sep).join('/');
  return rel.split(sep).join('/');
}

/** The message shown for an image whose file is not where the project says. */
export function missingImageReason(path: string): string {
  return `file not found at ${path}: move it back to this path, or remove the image from the project and import it again from where it is now`;
}

export class ProjectStore {
  readonly file: string;
  private timer: NodeJS.Timeout | undefined;
  private firstUnsavedAt = 0;
  private reasons = new Set<string>();
  private dirty = false;
  private closed = false;

  private constructor(
    readonly dir: string,
    readonly data: ProjectFile,
    private readonly options: ProjectStoreOptions,
  ) {
    this.file = join(dir, PROJECT_FILE_NAME);
  }

  /**
   * A new project in `dir` (created when absent); refused where a project already exists. All of its
   * file-system work is asynchronous: a hung or failing file system (a network share, /proc) makes
   * this call fail or wait, never the event loop (the browser-mode server's only thread).
   */
  static async create(dir: string, name: string | undefined, options: ProjectStoreOptions = {}): Promise<ProjectStore> {
    const abs = resolve(dir);
    const file = join(abs, PROJECT_FILE_NAME);
    const folder = await statOrUndefined(abs);
    // each refusal is the user's to fix (another folder), so it travels as a user-error code, not `internal`
    if (folder && !folder.isDirectory()) throw new ConflictError(`${abs}: this is a file; choose a folder for the project`);
    if (folder && (await statOrUndefined(file))) throw new ConflictError(`${file}: this folder already holds a project; open it instead, or choose an empty folder`);
    try {
      await createFolder(abs);
    } catch (err) {
      throw new PreconditionError(`${abs}: cannot create the project folder here (${(err as Error).message}); choose another folder`);
    }
    const data = emptyProjectFile(name?.trim() || basename(abs) || 'Project');
    data.savedAt = new Date().toISOString();
    try {
      await writeFileAtomicAsync(file, serializeProjectFile(data));
    } catch (err) {
      throw new PreconditionError(`${file}: the project file cannot be written (${(err as Error).message}); choose another folder`);
    }
    options.onSaved?.('project created', data.savedAt);
    return new ProjectStore(abs, data, options);
  }

  /** Open the project in `dir` (or `dir` may name the ld-project.json itself). Stale temporary files of killed saves are removed. */
  static async open(dir: string, options: ProjectStoreOptions = {}): Promise<ProjectStore> {
    let abs = resolve(dir);
    if (basename(abs) === PROJECT_FILE_NAME && (await statOrUndefined(abs))?.isFile()) abs = resolve(abs, '..');
    const file = join(abs, PROJECT_FILE_NAME);
    if (!(await statOrUndefined(abs))) throw new NotFoundError(`${abs}: folder not found; it may have been moved or deleted`);
    if (!(await statOrUndefined(file))) throw new NotFoundError(`${abs}: no LD Studio project here (${PROJECT_FILE_NAME} is missing); create a project or choose the folder that holds one`);
    let text: string;
    try {
      text = (await readInputFile(file, MAX_PROJECT_FILE_BYTES)).toString('utf8');
    } catch (err) {
      throw new ProjectFileError(file, `cannot be read (${err instanceof InputFileError ? err.reason : (err as Error).message})`);
    }
    const store = new ProjectStore(abs, parseProjectFile(text, file), options);
    await removeStaleTempFiles(abs, (target) => target === PROJECT_FILE_NAME);
    return store;
  }

  get name(): string {
    return this.data.name;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  get hasUnsavedChanges(): boolean {
    return this.dirty;
  }

  /** Absolute path of a stored image. */
  imagePath(image: Pick<StoredImage, 'path'>): string {
    return resolveStoredPath(this.dir, image.path);
  }

  storedPath(absolutePath: string): string {
    return toStoredPath(this.dir, absolutePath);
  }

  image(imageId: string): StoredImage {
    const image = this.data.images.find((im) => im.id === imageId);
    if (!image) throw new NotFoundError(`no image '${imageId}' in this project`);
    return image;
  }

  /** Why an image's file is missing, or undefined when it is where the project says. */
  missingReason(image: StoredImage): string | undefined {
    const path = this.imagePath(image);
    return existsSync(path) ? undefined : missingImageReason(path);
  }

  /** Run `mutate` on the project data and schedule the autosave. */
  change<T>(reason: string, mutate: (data: ProjectFile) => T): T {
    if (this.closed) throw new PreconditionError('the project is closed');
    const result = mutate(this.data);
    this.markDirty(reason);
    return result;
  }

  private markDirty(reason: string): void {
    this.reasons.add(reason);
    const now = Date.now();
    if (!this.dirty) this.firstUnsavedAt = now;
    this.dirty = true;
    if (this.timer) clearTimeout(this.timer);
    const autosaveMs = this.options.autosaveMs ?? 300;
    const maxWaitMs = this.options.maxWaitMs ?? 1000;
    const wait = Math.max(0, Math.min(autosaveMs, this.firstUnsavedAt + maxWaitMs - now));
    this.timer = setTimeout(() => {
      this.timer = undefined;
      try {
        this.flush();
      } catch {
        // reported through onSaveError; retried on the next change or flush
      }
    }, wait);
    this.timer.unref?.();
  }

  /** Write now if anything changed since the last write. Returns whether it wrote. */
  flush(): boolean {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (!this.dirty) return false;
    const savedAt = new Date().toISOString();
    const previous = this.data.savedAt;
    this.data.savedAt = savedAt;
    try {
      writeFileAtomic(this.file, serializeProjectFile(this.data));
    } catch (err) {
      this.data.savedAt = previous;
      const error = new Error(`${this.file}: the project could not be saved (${(err as Error).message}); your changes are kept in memory and saved at the next change`);
      this.options.onSaveError?.(error);
      throw error;
    }
    this.dirty = false;
    const reason = [...this.reasons].join(', ') || 'saved';
    this.reasons.clear();
    this.options.onSaved?.(reason, savedAt);
    return true;
  }

  /** Flush and stop autosaving; further changes are refused. */
  close(): void {
    if (this.closed) return;
    try {
      this.flush();
    } finally {
      this.closed = true;
    }
  }
}
