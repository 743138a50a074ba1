/**
 * Exports write into folders that already hold the user's files; an atomic rename replaces whatever
 * has the same name without a word. Before writing, exporters ask which of their planned files exist
 * and refuse unless the request said `overwrite`, naming the files, so the user decides.
 */
import { existsSync } from 'node:fs';
import { ConflictError } from '../../common/errors';

/** The planned files that already exist (a folder in the way counts: the write would fail on it). */
export function existingFiles(files: readonly string[]): string[] {
  return files.filter((f) => existsSync(f));
}

/** Throws a ConflictError naming the existing files among `files`, unless `overwrite`. */
export function refuseToReplace(files: readonly string[], overwrite: boolean | undefined, fix = 'choose another folder or file, or allow overwriting'): void {
  if (overwrite) return;
  const taken = existingFiles(files);
  if (taken.length === 0) return;
  const named = taken.slice(0, 5).join(', ') + (taken.length > 5 ? ` and ${taken.length - 5} more` : '');
  throw new ConflictError(`${taken.length === 1 ? 'a file' : `${taken.length} files`} already exist${taken.length === 1 ? 's' : ''} and would be replaced: ${named}; ${fix}`);
}
