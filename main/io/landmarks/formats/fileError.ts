/**
 * Errors from reading landmark files. The message always starts with where the problem is (file,
 * then line and column for text formats) so a user can open the file and fix it.
 */
import type { z } from 'zod';
import { writeFileAtomic } from '../../atomicWrite';
import { InputFileError, readInputFile } from '../../inputFile';

export interface TextPlace {
  file?: string;
  line?: number;
  column?: number;
}

export class LandmarkFileError extends Error {
  readonly file?: string;
  readonly line?: number;
  readonly column?: number;

  constructor(
    readonly reason: string,
    place: TextPlace = {},
  ) {
    super(placePrefix(place) + reason);
    this.name = new.target.name;
    this.file = place.file;
    this.line = place.line;
    this.column = place.column;
  }
}

/** "a.csv, line 3, column 7: " / "a.csv: " / "line 3: " / "". */
export function placePrefix({ file, line, column }: TextPlace): string {
  const parts: string[] = [];
  if (file !== undefined) parts.push(file);
  if (line !== undefined) parts.push(`line ${line}`);
  if (line !== undefined && column !== undefined) parts.push(`column ${column}`);
  return parts.length ? `${parts.join(', ')}: ` : '';
}

/** A zod failure as one readable sentence: "markups[0].controlPoints[2].position: expected array". */
export function schemaError(error: z.ZodError, place: TextPlace, what: string): LandmarkFileError {
  const issues = error.issues.slice(0, 3).map((issue) => {
    const path = issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('');
    return path ? `${path.replace(/^\./, '')}: ${issue.message}` : issue.message;
  });
  const more = error.issues.length > 3 ? ` (and ${error.issues.length - 3} more problems)` : '';
  return new LandmarkFileError(`not a valid ${what}: ${issues.join('; ')}${more}`, place);
}

/** Text of a landmark file given as a string or raw bytes (UTF-8; a byte-order mark is dropped). */
export function decodeText(input: string | Uint8Array): string {
  const text = typeof input === 'string' ? input : new TextDecoder('utf-8').decode(input);
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/** Below V8's longest string (just under 512 MiB): a larger file could not be decoded anyway. */
const MAX_TEXT_FILE_BYTES = 500 * 1024 ** 2;

/** Read a whole text file; a missing or unreadable file is a LandmarkFileError naming it. */
export async function readTextFile(path: string): Promise<string> {
  try {
    return decodeText(await readInputFile(path, MAX_TEXT_FILE_BYTES));
  } catch (err) {
    throw fileSystemError(err, path);
  }
}

/** Write a text file atomically, creating no folders (a missing folder is the caller's mistake). */
export async function writeTextFile(path: string, text: string): Promise<void> {
  try {
    writeFileAtomic(path, text);
  } catch (err) {
    throw fileSystemError(err, path);
  }
}

export function fileSystemError(err: unknown, path: string): LandmarkFileError {
  if (err instanceof InputFileError) return new LandmarkFileError(err.reason, { file: path });
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT') return new LandmarkFileError('file or folder not found', { file: path });
  if (code === 'EISDIR') return new LandmarkFileError('is a folder, not a file', { file: path });
  if (code === 'EACCES' || code === 'EPERM') return new LandmarkFileError('permission denied', { file: path });
  return new LandmarkFileError(err instanceof Error ? err.message : String(err), { file: path });
}
