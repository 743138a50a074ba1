/**
 * Atomic file writes: readers see either the old or the new content, never half of it, and after a
 * power cut the file is one or the other too. That takes three things: write a temporary file beside
 * it, fsync it, rename it over the file, and fsync the folder (the rename is a change to the folder,
 * and until the folder is synced the file system may come back with neither name or a cut file).
 *
 * A process killed between the open and the rename leaves its temporary file behind; its name says
 * whose it was (`<name>.tmp-<pid>-<ms>`), so `removeStaleTempFiles` can clean up later.
 */
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { open, readdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';

const tempName = (path: string) => `${path}.tmp-${process.pid}-${Date.now()}`;
const chunksOf = (data: string | Uint8Array | Uint8Array[]) => (Array.isArray(data) ? data : [data]);

/** Make a rename in `dir` durable. Windows cannot open a folder; there the rename is durable anyway (NTFS journals it). */
function syncFolder(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // best effort: EISDIR/EPERM on Windows, EINVAL on file systems that cannot sync a folder
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

async function syncFolderAsync(dir: string): Promise<void> {
  const handle = await open(dir, 'r').catch(() => undefined);
  if (!handle) return;
  try {
    await handle.sync();
  } catch {
    // best effort, as in syncFolder
  } finally {
    await handle.close();
  }
}

/** Write a file so that readers see either the old or the new content, never half of it. */
export function writeFileAtomic(path: string, data: string | Uint8Array | Uint8Array[]): void {
  const tmp = tempName(path);
  const fd = openSync(tmp, 'w');
  try {
    for (const chunk of chunksOf(data)) {
      if (typeof chunk === 'string') writeSync(fd, chunk);
      else writeSync(fd, chunk, 0, chunk.length);
    }
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw err;
  }
  closeSync(fd);
  renameSync(tmp, path);
  syncFolder(dirname(path));
}

/** writeFileAtomic on the file-I/O threads: a slow or hung file system does not block the event loop. */
export async function writeFileAtomicAsync(path: string, data: string | Uint8Array | Uint8Array[]): Promise<void> {
  const tmp = tempName(path);
  const handle = await open(tmp, 'w');
  try {
    for (const chunk of chunksOf(data)) await handle.writeFile(chunk); // writeFile: no short writes
    await handle.sync();
  } catch (err) {
    await handle.close();
    await rm(tmp, { force: true });
    throw err;
  }
  await handle.close();
  await rename(tmp, path);
  await syncFolderAsync(dirname(path));
}

/** A temporary file older than this is stale even when its pid is running again (pids are reused). */
export const STALE_TEMP_MS = 60_000;

/** The file a temporary file was for, and its writer's pid: ours are `x.tmp-<pid>-<ms>`, the PyTorch engine's `.x.<pid>.tmp`. */
function parseTempName(name: string): { target: string; pid: number } | undefined {
  const m = /^(.+)\.tmp-(\d+)-\d+$/.exec(name) ?? /^\.(.+)\.(\d+)\.tmp$/.exec(name);
  return m ? { target: m[1], pid: Number(m[2]) } : undefined;
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0); // signal 0: only asks whether the process exists
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // exists, but is someone else's
  }
}

/**
 * Remove the temporary files in `dir` that killed writers left, for the files `isOurs` accepts (so a
 * user's own files in a project folder are never touched): those whose writer is no longer running,
 * and any older than STALE_TEMP_MS (no atomic write takes that long between its last write and its
 * rename). A live writer's fresh file is left alone. Returns the names removed.
 */
export async function removeStaleTempFiles(dir: string, isOurs: (target: string) => boolean, now = Date.now()): Promise<string[]> {
  const names = await readdir(dir).catch(() => [] as string[]); // no folder: nothing to clean
  const removed: string[] = [];
  for (const name of names) {
    const temp = parseTempName(name);
    if (!temp || !isOurs(temp.target)) continue;
    const path = join(dir, name);
    try {
      const st = await stat(path);
      if (!st.isFile() || (isRunning(temp.pid) && now - st.mtimeMs < STALE_TEMP_MS)) continue;
      await rm(path, { force: true });
      removed.push(name);
    } catch {
      // gone already, or not ours to remove: cleaning up is best effort
    }
  }
  return removed;
}
