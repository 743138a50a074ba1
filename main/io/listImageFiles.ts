/** Finds the image files in a folder, by extension, or by content for files without one. */
import type { Dirent } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import { ImageReadError } from './imageRecord';
import { openInputFile } from './inputFile';
import { formatFromExtension, hasNoExtension, sniffFormat } from './sniffFormat';

export interface ListOptions {
  /** Include subfolders (default false). */
  recursive?: boolean;
}

export interface ImageFile {
  /** Absolute path. */
  path: string;
  /** Path relative to the folder, with '/' separators: the record id. */
  id: string;
}

export interface FolderScan {
  files: ImageFile[];
  /** Files that are not images by name or content. */
  ignored: number;
  /** Subfolders not searched (recursive off). */
  subfolders: number;
}

/** Natural order, so IMG2 comes before IMG10; a fixed locale keeps it the same on every machine. */
const byName = (a: ImageFile, b: ImageFile) => a.id.localeCompare(b.id, 'en', { numeric: true }) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

async function startsLikeImage(path: string): Promise<boolean> {
  const handle = await openInputFile(path);
  try {
    const head = new Uint8Array(132);
    const { bytesRead } = await handle.read(head, 0, 132, 0);
    return sniffFormat(head.subarray(0, bytesRead)) !== undefined;
  } finally {
    await handle.close();
  }
}

function folderError(dir: string, err: unknown): ImageReadError {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT') return new ImageReadError(dir, 'folder not found; check the path or choose another folder', 'missing');
  if (code === 'ENOTDIR') return new ImageReadError(dir, 'this is a file, not a folder; choose the folder that holds the images', 'unsupported-format');
  if (code === 'EACCES' || code === 'EPERM') {
    return new ImageReadError(dir, 'folder cannot be read (permission denied); check its permissions or copy the images elsewhere', 'missing');
  }
  return new ImageReadError(dir, `folder cannot be read (${(err as Error)?.message ?? String(err)})`, 'missing');
}

/** Lists the image files and counts what was left out; throws ImageReadError when the folder cannot be read. */
export async function scanFolder(dir: string, options: ListOptions = {}): Promise<FolderScan> {
  const root = resolve(dir);
  const scan: FolderScan = { files: [], ignored: 0, subfolders: 0 };
  const visit = async (folder: string, top: boolean): Promise<void> => {
    let entries: Dirent[];
    try {
      entries = await readdir(folder, { withFileTypes: true });
    } catch (err) {
      if (top) throw folderError(root, err);
      scan.ignored++; // an unreadable subfolder is skipped, not fatal
      return;
    }
    for (const entry of entries) {
      const path = join(folder, entry.name);
      // hidden files (.DS_Store, AppleDouble ._x) and DICOMDIR index files are never images
      if (entry.name.startsWith('.') || entry.name.toUpperCase() === 'DICOMDIR') continue;
      let isDir = entry.isDirectory();
      let isFile = entry.isFile();
      if (entry.isSymbolicLink()) {
        const target = await stat(path).catch(() => undefined);
        isFile = target?.isFile() ?? false;
        isDir = false; // do not follow linked folders: they can loop
      }
      if (isDir) {
        if (options.recursive) await visit(path, false);
        else scan.subfolders++;
        continue;
      }
      if (!isFile) continue;
      const image = formatFromExtension(entry.name) !== undefined || (hasNoExtension(entry.name) && (await startsLikeImage(path).catch(() => false)));
      if (image) scan.files.push({ path, id: relative(root, path).split(sep).join('/') });
      else scan.ignored++;
    }
  };
  await visit(root, true);
  scan.files.sort(byName);
  return scan;
}

/** Absolute paths of the image files in a folder, in natural name order. */
export async function listImageFiles(dir: string, options: ListOptions = {}): Promise<string[]> {
  return (await scanFolder(dir, options)).files.map((f) => f.path);
}
