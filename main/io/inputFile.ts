/**
 * Opening a path a user typed or picked. Special files hang or exhaust the process: reading a named
 * pipe waits for a writer forever (and holds one of libuv's four file-I/O threads while it waits, so
 * a few of them stall every other file operation), /dev/zero never ends, and a huge file is read
 * whole into memory. So every reader of a user path stats it first and opens only regular files
 * under a size cap. The open itself is non-blocking too, in case the path became a pipe between the
 * stat and the open; the handle is checked again before reading.
 *
 * File-system errors (ENOENT, EACCES …) pass through unchanged: each reader words those its own way.
 * Refusals are InputFileErrors, whose `reason` the readers put into their own error types.
 */
import { closeSync, constants, fstatSync, openSync, readFileSync, statSync, type Stats } from 'node:fs';
import { open, stat, type FileHandle } from 'node:fs/promises';

/** Larger than any radiograph or multi-frame DICOM we read; a bigger "image" is a mistake or an attack. */
export const MAX_INPUT_FILE_BYTES = 2 * 1024 ** 3;

/** O_NONBLOCK makes opening a FIFO return at once; Windows has no FIFOs (and no such flag). */
const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0);

export class InputFileError extends Error {
  constructor(
    readonly file: string,
    readonly reason: string,
    /** `folder` lets readers keep their own advice for a folder ("open it as a folder instead"). */
    readonly kind: 'folder' | 'not-regular' | 'too-large',
  ) {
    super(`${file}: ${reason}`);
    this.name = 'InputFileError';
  }
}

function formatBytes(bytes: number): string {
  return bytes >= 1024 ** 3 ? `${Number((bytes / 1024 ** 3).toFixed(1))} GiB` : `${Number((bytes / 1024 ** 2).toFixed(1))} MiB`;
}

/** What a non-regular file is, in words, or undefined for a regular file. */
function specialKind(st: Stats): string | undefined {
  if (st.isFile()) return undefined;
  if (st.isFIFO()) return 'a named pipe (FIFO)';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

/** Throws an InputFileError unless `st` is a regular file of at most `maxBytes`. */
export function checkInputStats(file: string, st: Stats, maxBytes = MAX_INPUT_FILE_BYTES): void {
  if (st.isDirectory()) throw new InputFileError(file, 'this is a folder, not a file', 'folder');
  const kind = specialKind(st);
  if (kind) throw new InputFileError(file, `this is ${kind}, not a regular file; choose the file itself`, 'not-regular');
  if (st.size > maxBytes) {
    throw new InputFileError(file, `the file is ${formatBytes(st.size)} (${st.size} bytes); files over ${formatBytes(maxBytes)} are not read`, 'too-large');
  }
}

/** A handle on a regular file of at most `maxBytes`; the caller closes it. */
export async function openInputFile(file: string, maxBytes = MAX_INPUT_FILE_BYTES): Promise<FileHandle> {
  checkInputStats(file, await stat(file), maxBytes);
  const handle = await open(file, OPEN_FLAGS);
  try {
    checkInputStats(file, await handle.stat(), maxBytes);
  } catch (err) {
    await handle.close();
    throw err;
  }
  return handle;
}

/** The whole content of a regular file of at most `maxBytes`. */
export async function readInputFile(file: string, maxBytes = MAX_INPUT_FILE_BYTES): Promise<Buffer> {
  const handle = await openInputFile(file, maxBytes);
  try {
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}

/** readInputFile for the synchronous readers (checkpoints, schemes), which run off the main thread or at startup. */
export function readInputFileSync(file: string, maxBytes = MAX_INPUT_FILE_BYTES): Buffer {
  checkInputStats(file, statSync(file), maxBytes);
  const fd = openSync(file, OPEN_FLAGS);
  try {
    checkInputStats(file, fstatSync(fd), maxBytes);
    return readFileSync(fd);
  } finally {
    closeSync(fd);
  }
}
