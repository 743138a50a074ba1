/**
 * Handlers for browsing the file system: `fs:list` (browser mode has no native dialog, so the
 * renderer shows its own folder browser) and `dialog:open` (Electron's native dialogs, passed in by
 * main/app.ts; browser mode answers `{ paths: null, unsupported: true }`).
 */
import type { Dirent } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { FolderListing } from '../../common/api';
import { formatFromExtension } from '../io/sniffFormat';
import type { DomainHandlers } from './types';
import { NotFoundError } from '../../common/errors';

function folderError(dir: string, err: unknown): Error {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT') return new NotFoundError(`${dir}: folder not found; check the path or choose another folder`);
  if (code === 'ENOTDIR') return new Error(`${dir}: this is a file, not a folder`);
  if (code === 'EACCES' || code === 'EPERM') return new Error(`${dir}: the folder cannot be read (permission denied)`);
  return new Error(`${dir}: the folder cannot be read (${(err as Error)?.message ?? String(err)})`);
}

/** Folders first, then files, each in natural name order (IMG2 before IMG10). */
const byName = (a: { name: string }, b: { name: string }) => a.name.localeCompare(b.name, 'en', { numeric: true }) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

export async function listFolder(dir: string | undefined): Promise<FolderListing> {
  const abs = resolve(dir ?? homedir());
  let entries: Dirent[];
  try {
    entries = await readdir(abs, { withFileTypes: true });
  } catch (err) {
    throw folderError(abs, err);
  }
  const dirs: FolderListing['entries'] = [];
  const files: FolderListing['entries'] = [];
  for (const entry of entries) {
    if (entry.name.startsWith('.')) continue; // hidden files and folders
    let isDir = entry.isDirectory();
    let isFile = entry.isFile();
    if (entry.isSymbolicLink()) {
      const target = await stat(join(abs, entry.name)).catch(() => undefined);
      isDir = target?.isDirectory() ?? false;
      isFile = target?.isFile() ?? false;
    }
    if (isDir) dirs.push({ name: entry.name, kind: 'dir', image: false });
    else if (isFile) files.push({ name: entry.name, kind: 'file', image: formatFromExtension(entry.name) !== undefined });
  }
  const parent = dirname(abs);
  return { dir: abs, parent: parent === abs ? null : parent, entries: [...dirs.sort(byName), ...files.sort(byName)] };
}

export const fsHandlers: DomainHandlers<'fs:list' | 'dialog:open'> = {
  'fs:list': async ({ dir }) => listFolder(dir),
  'dialog:open': async (request, { session }) => {
    if (!session.dialogs) return { paths: null, unsupported: true };
    return { paths: await session.dialogs.open(request) };
  },
};
